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
	cDir := fs.String("csrc", "cdriver", "directory of the C programs, built with gcc (or $CC): the C floor, and the Apache C client's driver")
	apache := fs.Bool("capache", true, "also run the Apache C client (its driver is built against libzookeeper-mt-dev: scripts/deps.sh bench)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	clients := slices.Clone(clientNames)
	if !*apache {
		clients = slices.DeleteFunc(clients, func(c string) bool { return c == cClientName })
	}
	cProgs, cVersion, removeC, err := buildC(*cDir, *apache)
	if err != nil {
		return err
	}
	defer removeC()
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

	load := [2]string{loadAverage()}
	results := make(map[runKey][]result)
	for round := range *rounds {
		for _, t := range targets {
			for _, w := range workloads {
				for i := range clients {
					c := clients[(i+round)%len(clients)] // who goes first rotates
					ops := max(int(float64(w.ops)**scale), 1)
					res, err := runChild(self, cProgs[c], c, w, t.addr(w), ops)
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
		load: [2]string{load[0], loadAverage()},
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

// buildC compiles the C programs of srcDir into a temporary directory
// with $CC (gcc by default): the C floor, and with apache the Apache C
// client's driver. It returns each program's path by client name, the C
// client's version and the function that removes the programs.
func buildC(srcDir string, apache bool) (progs map[string]string, version string, remove func(), err error) {
	dir, err := os.MkdirTemp("", "zkcompare-c")
	if err != nil {
		return nil, "", nil, err
	}
	remove = func() { _ = os.RemoveAll(dir) } // a temporary directory: best effort
	defer func() {
		if err != nil {
			remove()
		}
	}()
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "gcc"
	}
	type program struct {
		client, name, source string
		libs                 []string
	}
	programs := []program{{cFloorName, "cfloor", "floor.c", nil}}
	if apache {
		programs = append(programs, program{cClientName, "cdriver", "driver.c", []string{"-lzookeeper_mt", "-lpthread"}})
	}
	progs = make(map[string]string)
	for _, p := range programs {
		prog := filepath.Join(dir, p.name)
		args := []string{"-O2", "-std=c11", "-Wall", "-o", prog, filepath.Join(srcDir, p.source), filepath.Join(srcDir, "harness.c")}
		cmd := exec.Command(cc, append(args, p.libs...)...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, "", nil, fmt.Errorf("building %s from %s (needs gcc, and libzookeeper-mt-dev for the C client: scripts/deps.sh bench; -capache=false leaves the C client out): %w", p.name, p.source, err)
		}
		progs[p.client] = prog
	}
	if apache {
		out, err := exec.Command(progs[cClientName], "-version").Output()
		if err != nil {
			return nil, "", nil, fmt.Errorf("C client driver: %w", err)
		}
		version = strings.TrimSpace(string(out))
	}
	return progs, version, remove, nil
}

// runChild runs one measurement: a C program (cProg) takes the child's
// flags; otherwise self runs the Go client with its child subcommand.
func runChild(self, cProg, client string, w workload, addr string, ops int) (result, error) {
	args := []string{"-client", client, "-workload", w.key, "-addr", addr, "-ops", fmt.Sprint(ops)}
	prog := cProg
	if prog == "" {
		prog, args = self, append([]string{"child"}, args...)
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
	opsPerSec, p50, p99, cpuPerOp, allocsPerOp, bytesPerOp, rssMiB, ctxSwPerOp float64
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
		ctxSwPerOp:  med(func(r result) float64 { return float64(r.VolCtxSw+r.InvolCtxSw) / float64(r.Ops) }),
	}
}

// report is what a run measured, and how.
type report struct {
	targets  []target
	clients  []string
	results  map[runKey][]result
	rounds   int
	args     string    // the driver's command line
	cVersion string    // of the C client, when it ran
	load     [2]string // /proc/loadavg when the run began and ended
}

// isC reports whether a client is a C program, which has no Go heap.
func isC(client string) bool { return client == cClientName || client == cFloorName }

func writeReport(w io.Writer, r report) {
	fmt.Fprintf(w, "# zkloop comparison\n\n")
	fmt.Fprintf(w, "%s on %s; %s; medians of %d interleaved rounds.\n", time.Now().UTC().Format("2006-01-02"), machine(), runtime.Version(), r.rounds)
	fmt.Fprintf(w, "Load average (1, 5, 15 min) at the start: %s; at the end: %s.\n", r.load[0], r.load[1])
	fmt.Fprintf(w, "Reproduce: `make bench`, or `cd bench/compare && go run . %s`.\n\n", r.args)
	fmt.Fprintf(w, "CPU is the client process's user+system time (getrusage) per operation, ctx sw its context switches (voluntary and involuntary) per operation; allocations are the Go runtime's, whole process; RSS is the peak.\n")
	fmt.Fprintf(w, "Every ratio (÷ C floor) is against the C floor (cdriver/floor.c, built with gcc): one thread, a blocking socket, the handshake, then one write of each request and one read of its reply (64 requests kept in flight in the async row), no client library. ")
	fmt.Fprintf(w, "The last column is against the Go floor (bench.RawClient: the same blocking client in Go, on net.Conn, reading a frame's length and body with two reads; in the async row it writes batches of 64), a second reference that pays the Go runtime's costs too.\n")
	if slices.Contains(r.clients, cClientName) {
		fmt.Fprintf(w, "The C client is the Apache C client (libzookeeper_mt %s, built from cdriver/driver.c) with routine host resolution off (zoo_set_servers_resolution_delay -1).\n", r.cVersion)
	}
	fmt.Fprintf(w, "The C programs have no allocation counts (—). The fake server (bench.FakeServer) runs in a process of its own, as a real server would.\n")
	for _, t := range r.targets {
		fmt.Fprintf(w, "\n## %s\n\n", t.name)
		fmt.Fprintln(w, "| workload | client | ops/s | p50 µs | p99 µs | CPU µs/op | ctx sw/op | allocs/op | B/op | peak RSS MiB | ops/s ÷ C floor | p50 ÷ C floor | CPU ÷ C floor | CPU ÷ Go floor |")
		fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
		for _, wl := range workloads {
			cFloor := summarize(r.results[runKey{t.name, wl.key, cFloorName}])
			goFloor := summarize(r.results[runKey{t.name, wl.key, goFloorName}])
			for _, c := range r.clients {
				s := summarize(r.results[runKey{t.name, wl.key, c}])
				allocs, bytes := fmt.Sprintf("%.2f", s.allocsPerOp), fmt.Sprintf("%.0f", s.bytesPerOp)
				if isC(c) {
					allocs, bytes = "—", "—"
				}
				fmt.Fprintf(w, "| %s | %s | %.0f | %s | %s | %.1f | %.2f | %s | %s | %.1f | %.2f | %s | %.2f | %.2f |\n",
					wl.name, c, s.opsPerSec, latency(s.p50), latency(s.p99), s.cpuPerOp, s.ctxSwPerOp, allocs, bytes, s.rssMiB,
					s.opsPerSec/cFloor.opsPerSec, ratio(s.p50, cFloor.p50), s.cpuPerOp/cFloor.cpuPerOp, s.cpuPerOp/goFloor.cpuPerOp)
			}
		}
	}
	writeTargets(w, r.targets[0].name, r.results)
}

func latency(us float64) string {
	if us == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f", us)
}

// ratio is a ÷ b, or a dash for a workload without latencies.
func ratio(a, b float64) string {
	if a == 0 || b == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", a/b)
}

// writeTargets states the targets of issue 16 (against the C floor) and
// of issue 5 (against go-zookeeper and the Go floor), measured on the fake
// server, as met or missed.
func writeTargets(w io.Writer, fake string, results map[runKey][]result) {
	get := func(wl, c string) summary { return summarize(results[runKey{fake, wl, c}]) }
	z, cf, gf, gz := get("get100", "zkloop"), get("get100", cFloorName), get("get100", goFloorName), get("get100", goZKName)
	az, acf, agf, agz := get("aget64", "zkloop"), get("aget64", cFloorName), get("aget64", goFloorName), get("aget64", goZKName)
	fmt.Fprintf(w, "\n## Targets (%s, 100 B)\n\n", fake)
	fmt.Fprintln(w, "| target | against | zkloop ÷ it | |")
	fmt.Fprintln(w, "|---|---|--:|---|")
	check := func(name, against string, value float64, ok bool) {
		verdict := "missed"
		if ok {
			verdict = "met"
		}
		fmt.Fprintf(w, "| %s | %s | %.2f | %s |\n", name, against, value, verdict)
	}
	check("sync get CPU µs/op ≤ 1.5 ×", cFloorName, z.cpuPerOp/cf.cpuPerOp, z.cpuPerOp <= 1.5*cf.cpuPerOp)
	check("sync get p50 ≤ 1.2 ×", cFloorName, z.p50/cf.p50, z.p50 <= 1.2*cf.p50)
	check("async get 64 ops/s ≥ 1.0 ×", cFloorName, az.opsPerSec/acf.opsPerSec, az.opsPerSec >= acf.opsPerSec)
	check("sync get CPU µs/op ≤ 1.5 × (issue 5)", goFloorName, z.cpuPerOp/gf.cpuPerOp, z.cpuPerOp <= 1.5*gf.cpuPerOp)
	check("sync get p50 ≤ 1.0 × (issue 5)", goZKName, z.p50/gz.p50, z.p50 <= gz.p50)
	check("async get 64 ops/s ≥ 2 × (issue 5)", goZKName, az.opsPerSec/agz.opsPerSec, az.opsPerSec >= 2*agz.opsPerSec)
	check("async get 64 ops/s ≥ 0.7 × (issue 5)", goFloorName, az.opsPerSec/agf.opsPerSec, az.opsPerSec >= 0.7*agf.opsPerSec)
}

// loadAverage is the first three fields of /proc/loadavg.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
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
