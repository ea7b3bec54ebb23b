package zktest_test

import (
	"slices"
	"testing"
	"time"

	"github.com/zkloop/zkloop/zktest"
)

// BenchmarkNewServer measures how long NewServer takes to return a
// standalone server that answers srvr, reported as the median
// (p50-ms): go test -run '^$' -bench NewServer -benchtime 20x ./zktest/
func BenchmarkNewServer(b *testing.B) {
	reportStarts(b, func() func() {
		srv := zktest.NewServer(b)
		return srv.Stop
	})
}

// BenchmarkNewEnsemble is the same for a 3-server ensemble with a quorum:
// go test -run '^$' -bench NewEnsemble -benchtime 5x ./zktest/
func BenchmarkNewEnsemble(b *testing.B) {
	reportStarts(b, func() func() {
		ens := zktest.NewEnsemble(b, 3)
		return ens.StopAll
	})
}

// reportStarts times start b.N times, stopping what each made before the
// next, and reports the median and the slowest.
func reportStarts(b *testing.B, start func() (stop func())) {
	var took []time.Duration
	for b.Loop() {
		began := time.Now()
		stop := start()
		took = append(took, time.Since(began))
		b.StopTimer()
		stop()
		b.StartTimer()
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2])/float64(time.Millisecond), "p50-ms")
	b.ReportMetric(float64(took[len(took)-1])/float64(time.Millisecond), "max-ms")
}
