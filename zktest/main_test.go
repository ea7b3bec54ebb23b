package zktest

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"
	"testing"
)

// TestMain runs the tests and the examples, then kills any server they
// left running. Examples cannot skip: where no server can be started here
// and CI is not set, it says why and leaves the examples out (with
// -test.skip), as the tests skip themselves.
func TestMain(m *testing.M) {
	flag.Parse()
	if err := Available(); err != nil && os.Getenv("CI") == "" {
		fmt.Printf("zktest: the examples are skipped: %v\n", err)
		skip := flag.Lookup("test.skip")
		pattern := "^Example"
		if s := skip.Value.String(); s != "" {
			pattern = s + "|" + pattern
		}
		if err := skip.Value.Set(pattern); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	code := m.Run()
	KillAll()
	os.Exit(code)
}

// tbRecorder is a testing.TB that records failures, for tests of what this
// package reports: Fatalf ends the goroutine, as t.Fatalf does, and the
// cleanups run when the test says.
type tbRecorder struct {
	testing.TB
	mu       sync.Mutex
	failures []string
	cleanups []func()
}

func (r *tbRecorder) Helper() {}

func (r *tbRecorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

func (r *tbRecorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *tbRecorder) Cleanup(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cleanups = append(r.cleanups, f)
}

// run runs f on a goroutine of its own, which Fatalf may end, and waits
// for it.
func (r *tbRecorder) run(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
}

// runCleanups runs the cleanups registered so far, last first.
func (r *tbRecorder) runCleanups() {
	r.mu.Lock()
	cleanups := r.cleanups
	r.cleanups = nil
	r.mu.Unlock()
	for _, f := range slices.Backward(cleanups) {
		f()
	}
}

func (r *tbRecorder) recorded() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.failures)
}
