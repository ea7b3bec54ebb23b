package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

// target is one server the workloads run against.
type target struct {
	name string
	addr func(workload) string
}

type runKey struct{ target, workload, client string }

// driverMain starts the servers, runs every (target, workload, client) in
// a child process once per round, interleaving the clients, and writes the
// Markdown report.
func driverMain(args []string) error {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	rounds := fs.Int("rounds", 5, "rounds; the report shows the medians")
	real := fs.Bool("real", true, "also run against a real standalone ZooKeeper")
	zkAddr := fs.String("zk", "", "host:port of a running ZooKeeper to use instead of starting one")
	scale := fs.Float64("scale", 1, "multiplies every workload's operations per run")
	out := fs.String("out", "", "write the report here instead of standard output")
	cSource := fs.String("cdriver", "cdriver/driver.c", "C client driver to build with gcc (libzookeeper-mt-dev); empty skips the C client")
	if err := fs.Parse(args); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	clients := slices.Clone(clientNames)
	cDriver, cVersion := "", ""
	if *cSource == "" {
		clients = slices.DeleteFunc(clients, func(c string) bool { return c == cName })
	} else {
		dir, err := os.MkdirTemp("", "zkcompare-cdriver")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if cDriver, cVersion, err = buildCDriver(*cSource, dir); err != nil {
			return err
		}
	}
	fake100, stop100, err := startFake(self, 100)
	if err != nil {
		return err
	}
	defer stop100()
	fake10k, stop10k, err := startFake(self, 10<<10)
	if err != nil {
		return err
	}
	defer stop10k()
	targets := []target{{"fake server", func(w workload) string {
		if w.size > 100 {
			return fake10k
		}
		return fake100
	}}}
	if *real {
		addr := *zkAddr
		if addr == "" {
			var stop func()
			if addr, stop, err = startZooKeeper(); err != nil {
				return err
			}
			defer stop()
		}
		if err := prepare(addr); err != nil {
			return err
		}
		targets = append(targets, target{"real ZooKeeper", func(workload) string { return addr }})
	}

	results := make(map[runKey][]result)
	for round := range *rounds {
		for _, t := range targets {
			for _, w := range workloads {
				for i := range clients {
					c := clients[(i+round)%len(clients)] // who goes first rotates
					ops := max(int(float64(w.ops)**scale), 1)
					prog := self
					if c == cName {
						prog = cDriver
					}
					res, err := runChild(prog, c, w, t.addr(w), ops)
					if err != nil {
						return err
					}
					k := runKey{t.name, w.key, c}
					results[k] = append(results[k], res)
				}
			}
		}
		log.Printf("round %d of %d done", round+1, *rounds)
	}

	var buf bytes.Buffer
	writeReport(&buf, report{
		targets: targets, clients: clients, results: results,
		rounds: *rounds, args: strings.Join(os.Args[1:], " "), cVersion: cVersion,
	})
	if *out == "" {
		_, err = os.Stdout.Write(buf.Bytes())
		return err
	}
	return os.WriteFile(*out, buf.Bytes(), 0o644)
}

// startFake starts a fake server process whose nodes hold size bytes and
// returns its address and the function that stops it. The process is
// killed with the driver (Pdeathsig) and stops when its stdin closes.
func startFake(self string, size int) (string, func(), error) {
	cmd := exec.Command(self, "fakeserver", "-data", fmt.Sprint(size))
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() {
		_ = stdin.Close() // the server's signal to stop
		_ = cmd.Wait()    // its exit status is of no interest
	}
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		stop()
		return "", nil, fmt.Errorf("fake server: %w", err)
	}
	return strings.TrimSpace(addr), stop, nil
}

// buildCDriver compiles the C client driver into dir with $CC (gcc by
// default) and returns the program's path and the C client's version.
func buildCDriver(source, dir string) (prog, version string, err error) {
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "gcc"
	}
	prog = filepath.Join(dir, "cdriver")
	cmd := exec.Command(cc, "-O2", "-std=c11", "-Wall", "-o", prog, source, "-lzookeeper_mt", "-lpthread")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", "", fmt.Errorf("building the C client driver %s (needs gcc and libzookeeper-mt-dev: scripts/deps.sh bench; -cdriver '' skips it): %w", source, err)
	}
	out, err := exec.Command(prog, "-version").Output()
	if err != nil {
		return "", "", fmt.Errorf("C client driver: %w", err)
	}
	return prog, strings.TrimSpace(string(out)), nil
}

// runChild runs one measurement: prog is this binary, whose child
// subcommand runs the Go clients, or the C driver, which takes the same
// flags after the subcommand.
func runChild(prog, client string, w workload, addr string, ops int) (result, error) {
	args := []string{"-client", client, "-workload", w.key, "-addr", addr, "-ops", fmt.Sprint(ops)}
	if client != cName {
		args = append([]string{"child"}, args...)
	}
	cmd := exec.Command(prog, args...)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	outb, err := cmd.Output()
	if err != nil {
		return result{}, fmt.Errorf("%s %s on %s: %w", client, w.key, addr, err)
	}
	var res result
	if err := json.Unmarshal(outb, &res); err != nil {
		return result{}, fmt.Errorf("%s %s: result: %w", client, w.key, err)
	}
	return res, nil
}

// summary is the median of each figure over the rounds.
type summary struct {
	opsPerSec, p50, p99, cpuPerOp, allocsPerOp, bytesPerOp, rssMiB float64
}

func summarize(rs []result) summary {
	med := func(f func(r result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return summary{
		opsPerSec:   med(func(r result) float64 { return float64(r.Ops) / r.Seconds }),
		p50:         med(func(r result) float64 { return r.P50us }),
		p99:         med(func(r result) float64 { return r.P99us }),
		cpuPerOp:    med(func(r result) float64 { return r.CPUus / float64(r.Ops) }),
		allocsPerOp: med(func(r result) float64 { return float64(r.Allocs) / float64(r.Ops) }),
		bytesPerOp:  med(func(r result) float64 { return float64(r.Bytes) / float64(r.Ops) }),
		rssMiB:      med(func(r result) float64 { return float64(r.MaxRSSKiB) / 1024 }),
	}
}

// report is what a run measured, and how.
type report struct {
	targets  []target
	clients  []string
	results  map[runKey][]result
	rounds   int
	args     string // the driver's command line
	cVersion string // of the C client, when it ran
}

func writeReport(w io.Writer, r report) {
	fmt.Fprintf(w, "# zkloop comparison\n\n")
	fmt.Fprintf(w, "%s on %s; %s; medians of %d interleaved rounds.\n", time.Now().UTC().Format("2006-01-02"), machine(), runtime.Version(), r.rounds)
	fmt.Fprintf(w, "Reproduce: `make bench`, or `cd bench/compare && go run . %s`.\n", r.args)
	fmt.Fprintf(w, "CPU is the client process's user+system time (getrusage) per operation; allocations are the Go runtime's, whole process; RSS is the peak.\n")
	fmt.Fprintf(w, "The floor (raw) is a blocking write-then-read client; in the async row it writes batches of 64.\n")
	if slices.Contains(r.clients, cName) {
		fmt.Fprintf(w, "C is the Apache C client (libzookeeper_mt %s, built from cdriver/driver.c) with routine host resolution off (zoo_set_servers_resolution_delay -1); it has no allocation counts.\n", r.cVersion)
	}
	targets, results := r.targets, r.results
	for _, t := range targets {
		fmt.Fprintf(w, "\n## %s\n\n", t.name)
		fmt.Fprintln(w, "| workload | client | ops/s | p50 µs | p99 µs | CPU µs/op | allocs/op | B/op | peak RSS MiB | ops/s ÷ go-zk | CPU ÷ go-zk | CPU ÷ floor |")
		fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
		for _, wl := range workloads {
			goZK := summarize(results[runKey{t.name, wl.key, goZKName}])
			floor := summarize(results[runKey{t.name, wl.key, floorName}])
			for _, c := range r.clients {
				s := summarize(results[runKey{t.name, wl.key, c}])
				allocs, bytes := fmt.Sprintf("%.2f", s.allocsPerOp), fmt.Sprintf("%.0f", s.bytesPerOp)
				if c == cName {
					allocs, bytes = "—", "—" // not a Go heap
				}
				fmt.Fprintf(w, "| %s | %s | %.0f | %s | %s | %.1f | %s | %s | %.1f | %.2f | %.2f | %.2f |\n",
					wl.name, c, s.opsPerSec, latency(s.p50), latency(s.p99), s.cpuPerOp, allocs, bytes, s.rssMiB,
					s.opsPerSec/goZK.opsPerSec, s.cpuPerOp/goZK.cpuPerOp, s.cpuPerOp/floor.cpuPerOp)
			}
		}
	}
	writeTargets(w, targets[0].name, results)
}

func latency(us float64) string {
	if us == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f", us)
}

// writeTargets states issue 5's targets, measured on the fake server, as
// met or missed.
func writeTargets(w io.Writer, fake string, results map[runKey][]result) {
	get := func(wl, c string) summary { return summarize(results[runKey{fake, wl, c}]) }
	getZ, getG, getF := get("get100", "zkloop"), get("get100", goZKName), get("get100", floorName)
	aZ, aG, aF := get("aget64", "zkloop"), get("aget64", goZKName), get("aget64", floorName)
	fmt.Fprintf(w, "\n## Targets (%s, 100 B)\n\n", fake)
	fmt.Fprintln(w, "| target | measured | |")
	fmt.Fprintln(w, "|---|--:|---|")
	check := func(name string, value float64, ok bool) {
		verdict := "missed"
		if ok {
			verdict = "met"
		}
		fmt.Fprintf(w, "| %s | %.2f | %s |\n", name, value, verdict)
	}
	check("sync get CPU µs/op ≤ 1.5 × floor", getZ.cpuPerOp/getF.cpuPerOp, getZ.cpuPerOp <= 1.5*getF.cpuPerOp)
	check("sync get p50 ≤ go-zookeeper's (ratio)", getZ.p50/getG.p50, getZ.p50 <= getG.p50)
	check("async get 64 ops/s ≥ 2 × go-zookeeper's", aZ.opsPerSec/aG.opsPerSec, aZ.opsPerSec >= 2*aG.opsPerSec)
	check("async get 64 ops/s ≥ 0.7 × floor's", aZ.opsPerSec/aF.opsPerSec, aZ.opsPerSec >= 0.7*aF.opsPerSec)
}

// machine describes the host: CPU model (/proc/cpuinfo), the CPUs this
// process may use (as nproc counts them), kernel.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if name, ok := strings.CutPrefix(line, "model name"); ok {
				model = strings.TrimSpace(strings.TrimLeft(name, "\t :"))
				break
			}
		}
	}
	var u syscall.Utsname
	kernel := ""
	if syscall.Uname(&u) == nil {
		kernel = ", Linux " + utsString(u.Release[:])
	}
	return fmt.Sprintf("%s, nproc %d%s", model, runtime.NumCPU(), kernel)
}

func utsString(b []int8) string {
	var s strings.Builder
	for _, c := range b {
		if c == 0 {
			break
		}
		s.WriteByte(byte(c))
	}
	return s.String()
}
