// Command compare runs the same workloads against the same servers with
// zkloop, github.com/go-zookeeper/zk, the Apache C client (libzookeeper_mt)
// and two floors, interleaving the clients over several rounds, and
// writes a Markdown table of the medians (issues 5 and 16). From the
// repository root:
//
//	make bench     # installs gcc and libzookeeper-mt-dev, writes bench/RESULTS.md
//	cd bench/compare && go run . -rounds 5 -out ../RESULTS.md
//
// The floors are what a client cannot do without. The C floor
// (cdriver/floor.c), which every ratio is taken against, is one C thread
// on a blocking socket: one write per request, one read per reply, no
// client library. The Go floor (bench.RawClient) is the same in Go, a
// second reference that pays the Go runtime's costs too.
//
// The servers are bench.FakeServer, in a process of its own as a real
// server would be (one with 100 B nodes, one with 10 KiB nodes), and a
// real standalone ZooKeeper started with zktest (-real=false
// skips it, -zk host:port uses a running one instead). Every measurement
// runs in a child process — this binary with the "child" subcommand, or a
// C program — so that its CPU time and context switches (getrusage), its
// allocations and its peak RSS are the client's own.
//
// The C programs (cdriver/: harness.c measures, floor.c and driver.c are
// the clients) are built with gcc (or $CC) at start and take the child's
// flags; driver.c is built against libzookeeper-mt-dev, and
// -capache=false leaves the Apache C client out. The library itself stays
// cgo-free: nothing of the main module is built with cgo.
//
// The ab subcommand compares builds of zkloop for benchstat (ab.go).
package main

import (
	"fmt"
	"os"
)

func main() {
	var err error
	switch {
	case len(os.Args) > 1 && os.Args[1] == "child":
		err = childMain(os.Args[2:])
	case len(os.Args) > 1 && os.Args[1] == "fakeserver":
		err = fakeServerMain(os.Args[2:])
	case len(os.Args) > 1 && os.Args[1] == "ab":
		err = abMain(os.Args[2:])
	default:
		err = driverMain(os.Args[1:])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}
