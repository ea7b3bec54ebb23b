// Command compare runs the same workloads against the same servers with
// zkloop, github.com/go-zookeeper/zk and a raw floor client (bench.RawClient:
// a blocking write-then-read client with no queues), interleaving the
// clients over several rounds, and writes a Markdown table of the medians
// (issue 5). From the repository root:
//
//	cd bench/compare && go run . -rounds 5 -out ../RESULTS.md
//
// The servers are bench.FakeServer, in a process of its own (one with 100 B
// nodes, one with 10 KiB nodes), and a real standalone ZooKeeper started
// with internal/zktest (-real=false skips it, -zk host:port uses a running
// one instead). Every measurement runs in a child process — this binary
// with the "child" subcommand — so that its CPU time (getrusage), its
// allocations and its peak RSS are the client's own.
//
// The Apache C client is not driven yet.
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
