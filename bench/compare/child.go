package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/zkloop/zkloop/bench"
)

// A workload is what one child runs; ops is the default number of
// operations of a run.
type workload struct {
	key  string
	name string
	ops  int
	size int // the node's data
}

var workloads = []workload{
	{"get100", "sync get 100 B", 5000, 100},
	{"get10k", "sync get 10 KiB", 5000, 10 << 10},
	{"set", "sync set 100 B", 5000, 100},
	{"aget64", "async get 100 B, 64 in flight", 50000, 100},
	{"watch1000", "1,000 watches set and fired", 1000, 100},
}

const (
	asyncWindow = 64
	watchBatch  = 1000
	nodeRoot    = "/zkcompare"
)

func lookupWorkload(key string) (workload, error) {
	for _, w := range workloads {
		if w.key == key {
			return w, nil
		}
	}
	return workload{}, fmt.Errorf("unknown workload %q", key)
}

// path is the node a workload reads or writes on a real server; the fake
// server answers any path.
func (w workload) path() string {
	switch w.key {
	case "get10k":
		return nodeRoot + "/n10k"
	case "set":
		return nodeRoot + "/set"
	}
	return nodeRoot + "/n100"
}

// watchPaths are the nodes of the watch workload.
func watchPaths() []string {
	paths := make([]string, watchBatch)
	for i := range paths {
		paths[i] = fmt.Sprintf("%s/w/%04d", nodeRoot, i)
	}
	return paths
}

func payload(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return b
}

// result is what a child reports: totals over the measured operations.
type result struct {
	Ops       int
	Seconds   float64
	P50us     float64 // 0 when the workload has no per-operation latency
	P99us     float64
	CPUus     float64 // user + system time of the process
	Allocs    uint64
	Bytes     uint64
	MaxRSSKiB int64 // the process's peak RSS (VmHWM)
	// Context switches of the process (getrusage): voluntary ones (a
	// thread blocked) and involuntary ones (a thread was preempted).
	VolCtxSw, InvolCtxSw int64
}

// childMain connects one client, warms it up with a tenth of the
// operations, then measures a run and prints the result as JSON.
func childMain(args []string) error {
	fs := flag.NewFlagSet("child", flag.ContinueOnError)
	name := fs.String("client", "zkloop", "client: zkloop, "+tracedName+", "+goZKName+" or "+goFloorName+" (the C programs run on their own)")
	key := fs.String("workload", "get100", "workload key")
	addr := fs.String("addr", "", "server host:port")
	ops := fs.Int("ops", 0, "operations (0: the workload's default)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	w, err := lookupWorkload(*key)
	if err != nil {
		return err
	}
	if *ops <= 0 {
		*ops = w.ops
	}
	c, err := dial(*name, *addr)
	if err != nil {
		return fmt.Errorf("%s: connecting to %s: %w", *name, *addr, err)
	}
	defer c.Close()
	data := payload(w.size)
	paths := watchPaths()
	if err := run(c, w, data, paths, make([]time.Duration, max(*ops/10, 1))); err != nil {
		return fmt.Errorf("%s: warm-up: %w", *name, err)
	}
	lat := make([]time.Duration, *ops)
	runtime.GC()
	var m0, m1 runtime.MemStats
	var r0, r1 syscall.Rusage
	runtime.ReadMemStats(&m0)
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &r0); err != nil {
		return err
	}
	start := time.Now()
	err = run(c, w, data, paths, lat)
	elapsed := time.Since(start)
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &r1); err != nil {
		return err
	}
	runtime.ReadMemStats(&m1)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", *name, w.key, err)
	}
	res := result{
		Ops:        *ops,
		Seconds:    elapsed.Seconds(),
		CPUus:      float64(cpuTime(r1)-cpuTime(r0)) / float64(time.Microsecond),
		Allocs:     m1.Mallocs - m0.Mallocs,
		Bytes:      m1.TotalAlloc - m0.TotalAlloc,
		MaxRSSKiB:  peakRSSKiB(r1),
		VolCtxSw:   r1.Nvcsw - r0.Nvcsw,
		InvolCtxSw: r1.Nivcsw - r0.Nivcsw,
	}
	if w.key != "watch1000" {
		slices.Sort(lat)
		res.P50us = float64(lat[len(lat)/2]) / float64(time.Microsecond)
		res.P99us = float64(lat[len(lat)*99/100]) / float64(time.Microsecond)
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// peakRSSKiB is the peak resident set of this process's memory, VmHWM in
// /proc/self/status. getrusage's ru_maxrss is not: Linux keeps it across
// execve, and a child started with vfork (as os/exec does) begins with
// the parent's peak, the driver's. r's is the fallback.
func peakRSSKiB(r syscall.Rusage) int64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return r.Maxrss
	}
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			if kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64); err == nil {
				return kib
			}
		}
	}
	return r.Maxrss
}

func cpuTime(r syscall.Rusage) time.Duration {
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}

// run runs len(lat) operations of w on c, recording latencies (the watch
// workload, in batches of watchBatch, records none).
func run(c client, w workload, data []byte, paths []string, lat []time.Duration) error {
	path := w.path()
	switch w.key {
	case "get100", "get10k":
		return timed(lat, func() error { return c.Get(path) })
	case "set":
		return timed(lat, func() error { return c.Set(path, data) })
	case "aget64":
		return c.GetWindow(path, asyncWindow, lat)
	case "watch1000":
		for done := 0; done < len(lat); done += watchBatch {
			if err := c.Watch(paths[:min(watchBatch, len(lat)-done)], data); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("no runner for %q", w.key)
}

func timed(lat []time.Duration, op func() error) error {
	for i := range lat {
		start := time.Now()
		if err := op(); err != nil {
			return err
		}
		lat[i] = time.Since(start)
	}
	return nil
}

// fakeServerMain serves bench.FakeServer until its standard input closes,
// after printing its address on a line.
func fakeServerMain(args []string) error {
	fs := flag.NewFlagSet("fakeserver", flag.ContinueOnError)
	size := fs.Int("data", 100, "bytes of data in every node")
	if err := fs.Parse(args); err != nil {
		return err
	}
	srv, err := bench.NewFakeServer(payload(*size))
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Println(srv.Addr())
	_, err = io.Copy(io.Discard, os.Stdin) // the driver closes it to stop us
	return err
}
