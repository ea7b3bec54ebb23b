// Command compare runs the same workloads against the same servers with
// zkloop, github.com/go-zookeeper/zk, the Apache C client (libzookeeper_mt)
// and a raw floor client (bench.RawClient: a blocking write-then-read
// client with no queues), interleaving the clients over several rounds,
// and writes a Markdown table of the medians (issue 5). From the
// repository root:
//
//	make bench     # installs gcc and libzookeeper-mt-dev, writes bench/RESULTS.md
//	cd bench/compare && go run . -rounds 5 -out ../RESULTS.md
//
// The servers are bench.FakeServer, in a process of its own (one with 100 B
// nodes, one with 10 KiB nodes), and a real standalone ZooKeeper started
// with zktest (-real=false skips it, -zk host:port uses a running
// one instead). Every measurement runs in a child process — this binary
// with the "child" subcommand — so that its CPU time (getrusage), its
// allocations and its peak RSS are the client's own.
//
// The C client is driven by cdriver/driver.c, which the driver builds with
// gcc (or $CC) against libzookeeper-mt-dev at start; it takes the child's
// flags and prints the same JSON result. -cdriver "" leaves it out. The
// library itself stays cgo-free: nothing of the main module is built with
// cgo.
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
	default:
		err = driverMain(os.Args[1:])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}
