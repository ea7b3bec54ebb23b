package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// abMain compares builds of zkloop (each a build of this command from
// another commit) on the fake server, for benchstat: every round runs
// each build's zkloop child and the C floor once per workload, in an
// order that rotates, and appends a line in the format of Go benchmarks
// to a file per build (and cfloor.txt). Then
//
//	benchstat old=DIR/old.txt new=DIR/new.txt
//
// reports the change with its significance:
//
//	go build -o /tmp/old . # at the old commit
//	go build -o /tmp/new . # at the new one
//	go run . ab -builds old=/tmp/old,new=/tmp/new -rounds 10 -out /tmp/ab
func abMain(args []string) error {
	fs := flag.NewFlagSet("ab", flag.ContinueOnError)
	builds := fs.String("builds", "", "name=path,...: builds of this command to compare")
	keys := fs.String("workloads", "get100,aget64", "workload keys")
	rounds := fs.Int("rounds", 10, "rounds")
	scale := fs.Float64("scale", 4, "multiplies every workload's operations per run")
	out := fs.String("out", "", "directory of the result files (name.txt per build, cfloor.txt)")
	cDir := fs.String("csrc", "cdriver", "directory of the C programs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *builds == "" || *out == "" {
		return fmt.Errorf("ab: -builds and -out are required")
	}
	type build struct{ name, prog string }
	var progs []build
	for b := range strings.SplitSeq(*builds, ",") {
		name, prog, ok := strings.Cut(b, "=")
		if !ok {
			return fmt.Errorf("ab: build %q is not name=path", b)
		}
		progs = append(progs, build{name, prog})
	}
	var wls []workload
	for key := range strings.SplitSeq(*keys, ",") {
		w, err := lookupWorkload(key)
		if err != nil {
			return err
		}
		wls = append(wls, w)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	cProgs, _, removeC, err := buildC(*cDir, false)
	if err != nil {
		return err
	}
	defer removeC()
	self, err := os.Executable()
	if err != nil {
		return err
	}
	fake, stop, err := startFake(self, 100)
	if err != nil {
		return err
	}
	defer stop()

	runners := []build{{"cfloor", ""}}
	runners = append(runners, progs...)
	files := make(map[string]io.Writer)
	for _, r := range runners {
		f, err := os.Create(filepath.Join(*out, r.name+".txt"))
		if err != nil {
			return err
		}
		defer f.Close()
		fmt.Fprintf(f, "goos: %s\ngoarch: %s\npkg: github.com/zkloop/zkloop/bench/compare\n", runtime.GOOS, runtime.GOARCH)
		files[r.name] = f
	}
	for round := range *rounds {
		for _, w := range wls {
			ops := max(int(float64(w.ops)**scale), 1)
			for i := range runners {
				r := runners[(i+round)%len(runners)]
				var res result
				if r.prog == "" {
					res, err = runChild(self, cProgs[cFloorName], cFloorName, w, fake, ops)
				} else {
					res, err = runChild(r.prog, "", "zkloop", w, fake, ops)
				}
				if err != nil {
					return err
				}
				n := float64(res.Ops)
				fmt.Fprintf(files[r.name], "BenchmarkCompare/%s %d %.0f ns/op %.0f cpu-ns/op %.0f p50-ns %.0f p99-ns %.3f ctxsw/op\n",
					w.key, res.Ops, res.Seconds*1e9/n, res.CPUus*1e3/n, res.P50us*1e3, res.P99us*1e3, float64(res.VolCtxSw+res.InvolCtxSw)/n)
			}
		}
		log.Printf("round %d of %d done (load %s)", round+1, *rounds, loadAverage())
	}
	return nil
}
