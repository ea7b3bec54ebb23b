package cache

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zkloop/zkloop/internal/curator"
	"github.com/zkloop/zkloop/zhandle"
	"github.com/zkloop/zkloop/zktest"
)

// readers is the number of goroutines reading in the parallel read
// benchmarks.
const readers = 8

// syntheticCache returns a cache of n nodes under /r (in directories of
// 100) built without a server, and its tree, for the read benchmarks.
func syntheticCache(n int) (*Cache, *tree, []string) {
	t := newTree(true, -1)
	c := &Cache{idx: t.idx}
	root := &view{}
	t.set("/r", root, 1, true)
	var paths []string
	for i := range n {
		dir := fmt.Sprintf("/r/d%03d", i/100)
		if i%100 == 0 {
			t.set(dir, &view{}, 1, false)
		}
		p := fmt.Sprintf("%s/n%05d", dir, i)
		t.set(p, &view{data: []byte(p), stat: zhandle.Stat{Czxid: int64(i + 2), Mzxid: int64(i + 2)}}, 1, false)
		paths = append(paths, p)
	}
	t.publish()
	return c, t, paths
}

// BenchmarkGetSerial is the cost of one Get of a random node of a
// 10,000-node cache, from one goroutine: the lookup alone, without the
// contention of BenchmarkGet.
func BenchmarkGetSerial(b *testing.B) {
	c, _, paths := syntheticCache(10_000)
	rng := rand.New(rand.NewPCG(1, 3))
	b.ReportAllocs()
	cpu := cpuTime(b)
	for b.Loop() {
		if _, _, ok := c.Get(paths[rng.IntN(len(paths))]); !ok {
			b.Fatal("a cached node missing")
		}
	}
	b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N), "cpu-ns/op")
}

// cpuTime returns the CPU time the process has used, user and system, in
// nanoseconds: per operation, a cost that other processes' load on the
// machine inflates less than the wall time of ns/op.
func cpuTime(b *testing.B) int64 {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkGet reads random nodes of a 10,000-node cache from 8
// goroutines while another goroutine changes a node's data and publishes
// as fast as it can (the applier's path, without a server).
func BenchmarkGet(b *testing.B) {
	for _, updating := range []bool{false, true} {
		b.Run(fmt.Sprintf("updating=%v", updating), func(b *testing.B) {
			c, t, paths := syntheticCache(10_000)
			stop := make(chan struct{})
			var updates atomic.Int64
			var wg sync.WaitGroup
			if updating {
				wg.Go(func() {
					rng := rand.New(rand.NewPCG(1, 2))
					for seq := uint64(2); ; seq++ {
						select {
						case <-stop:
							return
						default:
						}
						p := paths[rng.IntN(len(paths))]
						cur, _ := t.get(p)
						st := cur.stat
						st.Mzxid++
						t.set(p, &view{data: cur.data, stat: st}, seq, false)
						t.publish()
						updates.Add(1)
					}
				})
			}
			elapsed := readInParallel(b, c, paths, 0)
			close(stop)
			wg.Wait()
			if updating {
				b.ReportMetric(float64(updates.Load())/elapsed.Seconds(), "updates/s")
			}
		})
	}
}

// BenchmarkGetWhileServerChanges reads a cache of 1,000 nodes from 8
// goroutines while another handle sets random nodes of it on a real
// server, 16 at a time in flight. The readers yield their processor every
// yieldEvery Gets: eight goroutines that never do would leave the handles'
// goroutines, and so the changes, waiting for the scheduler's preemption.
func BenchmarkGetWhileServerChanges(b *testing.B) {
	const yieldEvery = 256
	addr, w := benchTree(b, 10, 99)
	var changes atomic.Int64
	c := primed(b, dial(b, addr), "/r", WithListener(func(ev Event) {
		if ev.Type == EventChanged {
			changes.Add(1)
		}
	}))
	var paths []string
	for p := range cacheTree(c, "/r") {
		paths = append(paths, p)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { setLoop(b, w, paths, stop) })
	elapsed := readInParallel(b, c, paths, yieldEvery)
	close(stop)
	wg.Wait()
	b.ReportMetric(float64(changes.Load())/elapsed.Seconds(), "changes/s")
}

// benchTree starts a server and makes a chroot there holding /r with
// parents nodes of children children under it; it returns the chroot's
// connect string and a handle on it.
func benchTree(b *testing.B, parents, children int) (string, *zhandle.Handle) {
	srv := zktest.NewServer(b)
	addr := chroot(b, srv.Addr())
	w := dial(b, addr)
	_, err := w.Create(testContext(b), "/r", nil, zhandle.OpenACLUnsafe, zhandle.Persistent)
	must(b, "Create", err)
	createTree(b, w, "/r", parents, children)
	return addr, w
}

// readInParallel runs b.N Gets of random paths from readers goroutines,
// each yielding its processor every yieldEvery Gets if not 0, and returns
// how long they took. It reports the CPU time per Get too, including
// whatever else the process did meanwhile (an updater).
func readInParallel(b *testing.B, c *Cache, paths []string, yieldEvery int) time.Duration {
	b.ReportAllocs()
	b.SetParallelism((readers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	start, cpu := time.Now(), cpuTime(b)
	defer func() { b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N), "cpu-ns/op") }()
	b.RunParallel(func(pb *testing.PB) {
		rng := rand.New(rand.NewPCG(rand.Uint64(), 3))
		for i := 1; pb.Next(); i++ {
			if _, _, ok := c.Get(paths[rng.IntN(len(paths))]); !ok {
				b.Error("a cached node missing")
				return
			}
			if i == yieldEvery {
				i = 0
				runtime.Gosched()
			}
		}
	})
	return time.Since(start)
}

// setLoop sets random nodes of paths, 16 at a time in flight, until stop.
func setLoop(b testing.TB, h *zhandle.Handle, paths []string, stop chan struct{}) {
	sem := make(chan struct{}, 16)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := 0; ; i++ {
		select {
		case <-stop:
			for range cap(sem) {
				sem <- struct{}{}
			}
			return
		case sem <- struct{}{}:
		}
		err := h.ASet(paths[rng.IntN(len(paths))], fmt.Appendf(nil, "%d", i), -1, func(error, *zhandle.Stat) { <-sem })
		if err != nil {
			b.Errorf("ASet: %v", err)
			<-sem
		}
	}
}

// BenchmarkPropagation measures the time from a Set on another handle to
// the new value in the cache, on a real server, one Set at a time:
// p50/p99 until a listener sees the change (the cache publishes a change
// before its listeners hear of it, so Get sees it by then), and for
// reference the Set's own round trip (set-p50-µs).
func BenchmarkPropagation(b *testing.B) {
	addr, w := benchTree(b, 0, 0)
	_, err := w.Create(testContext(b), "/r/n", []byte("0"), zhandle.OpenACLUnsafe, zhandle.Persistent)
	must(b, "Create", err)
	seen := make(chan int32, 1)
	primed(b, dial(b, addr), "/r", WithListener(func(ev Event) {
		if ev.Type == EventChanged {
			seen <- ev.New.Stat.Version
		}
	}))
	set := func(version int32) (visible, replied time.Duration) {
		start := time.Now()
		reply := make(chan time.Duration, 1)
		if err := w.ASet("/r/n", []byte("x"), -1, func(error, *zhandle.Stat) { reply <- time.Since(start) }); err != nil {
			b.Fatalf("ASet: %v", err)
		}
		for v := <-seen; v != version; v = <-seen {
		}
		visible = time.Since(start)
		return visible, <-reply
	}
	b.ReportAllocs()
	timeSets(b, set, "", "set-")
}

// BenchmarkPropagationVsCurator measures, for the same Sets on another
// handle, the time until zkloop's cache and Curator's CuratorCache (Apache
// Curator 5.4 in a JVM, curator.Start), both on the same server,
// report the change to a listener: from just before the Set is sent to the
// listener's call, both on CLOCK_MONOTONIC (curator.MonotonicNanos, Java's
// System.nanoTime). One Set at a time; 2,000 Sets warm both up first.
func BenchmarkPropagationVsCurator(b *testing.B) {
	addr, w := benchTree(b, 0, 0)
	ctx := context.Background()
	_, err := w.Create(ctx, "/r/n", []byte("0"), zhandle.OpenACLUnsafe, zhandle.Persistent)
	must(b, "Create", err)
	type sighting struct {
		version int32
		nanos   int64
	}
	seen := make(chan sighting, 1)
	primed(b, dial(b, addr), "/r", WithListener(func(ev Event) {
		if ev.Type == EventChanged {
			seen <- sighting{ev.New.Stat.Version, curator.MonotonicNanos()}
		}
	}))
	cur := curator.Start(b)
	cur.NewClient("client", addr, sessionTimeout)
	if _, err := cur.Do(ctx, "cache.start", "cache", "client", "/r"); err != nil {
		b.Fatalf("cache.start: %v", err)
	}
	wctx := testContext(b)
	if _, err := cur.WaitEvent(wctx, "cache", "initialized"); err != nil {
		b.Fatalf("CuratorCache not initialized: %v", err)
	}
	set := func(version int32) (zk, java time.Duration) {
		start := curator.MonotonicNanos()
		if err := w.ASet("/r/n", []byte("x"), -1, func(error, *zhandle.Stat) {}); err != nil {
			b.Fatalf("ASet: %v", err)
		}
		s := <-seen
		for s.version != version {
			s = <-seen
		}
		for {
			ev, err := cur.WaitEvent(wctx, "cache", "changed")
			if err != nil {
				b.Fatalf("CuratorCache event for version %d: %v", version, err)
			}
			var node struct{ Version int32 }
			if err := json.Unmarshal(ev.Data, &node); err != nil {
				b.Fatalf("CuratorCache event %s: %v", ev.Data, err)
			}
			if node.Version == version {
				return time.Duration(s.nanos - start), time.Duration(ev.Nanos - start)
			}
		}
	}
	timeSets(b, set, "zkloop-", "curator-")
}

// timeSets warms up with 2,000 calls of set, then times b.N more and
// reports the percentiles of the two durations each returns, named with
// the prefixes given. set makes the Set that brings the node to version.
func timeSets(b *testing.B, set func(version int32) (time.Duration, time.Duration), first, second string) {
	const warmup = 2000
	for i := range warmup {
		set(int32(i + 1))
	}
	lat1 := make([]time.Duration, 0, b.N)
	lat2 := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		d1, d2 := set(int32(warmup + i + 1))
		lat1 = append(lat1, d1)
		lat2 = append(lat2, d2)
	}
	b.StopTimer()
	reportPercentiles(b, lat1, first)
	reportPercentiles(b, lat2, second)
	b.ReportMetric(0, "ns/op")
}

// reportPercentiles reports the p50 and p99 of lat in microseconds, the
// units named with prefix.
func reportPercentiles(b *testing.B, lat []time.Duration, prefix string) {
	slices.Sort(lat)
	at := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Nanoseconds()) / 1e3 }
	b.ReportMetric(at(0.50), prefix+"p50-µs")
	b.ReportMetric(at(0.99), prefix+"p99-µs")
}

// BenchmarkPrime primes a cache of a tree of 10,000 nodes (100
// directories of 99 children, 16 bytes of data each) on a real server:
// wall time, requests, and the heap: at its peak while priming (sampled
// every millisecond) and kept once primed, per node.
func BenchmarkPrime(b *testing.B) {
	addr, _ := benchTree(b, 100, 99)
	h := dial(b, addr)
	b.ReportAllocs()
	var requests int64
	var peak, kept uint64
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		runtime.GC()
		base := heapBytes()
		b.StartTimer()
		sampler := sampleHeap()
		c, err := New(h, "/r")
		must(b, "New", err)
		must(b, "WaitInitialized", c.WaitInitialized(context.Background()))
		b.StopTimer()
		peak = max(peak, sampler()-base)
		runtime.GC()
		kept = heapBytes() - base
		requests = c.Stats().Requests
		if n := c.Stats().Nodes; n != 10_001 {
			b.Fatalf("%d nodes cached, want 10,001", n)
		}
		c.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(requests), "requests")
	b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
	b.ReportMetric(float64(kept)/10_001, "B/node")
}

// heapBytes returns the bytes of live and not yet swept heap objects.
func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// sampleHeap samples heapBytes every millisecond until the returned
// function is called, which returns the largest sample.
func sampleHeap() func() uint64 {
	stop := make(chan struct{})
	done := make(chan uint64)
	go func() {
		peak := heapBytes()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				done <- max(peak, heapBytes())
				return
			case <-tick.C:
				peak = max(peak, heapBytes())
			}
		}
	}()
	return func() uint64 {
		close(stop)
		return <-done
	}
}
