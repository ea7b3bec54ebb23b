package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/zkloop/zkloop/cache"
	"github.com/zkloop/zkloop/zhandle"
)

// cmdCache mirrors a subtree with package cache. With -stats it primes
// the cache and prints its figures; otherwise it primes, says how much it
// holds, and prints each change as the cache sees it until interrupted
// (Ctrl-C on a terminal, SIGINT in a script): a live tail of the subtree.
func cmdCache(ctx context.Context, s *shell, h *zhandle.Handle, o opts) error {
	root := nodePath(o.args[1])
	var opts []cache.Option
	if !o.has("stats") {
		opts = append(opts, cache.WithListener(tailPrinter(s.out)))
	}
	c, err := cache.New(h, root, opts...)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.WaitInitialized(ctx); err != nil {
		return fail(err, root)
	}
	if o.has("stats") {
		st := c.Stats()
		fmt.Fprintf(s.out, "nodes = %d\ndataBytes = %d\nprimeTime = %v\nrequests = %d\n", st.Nodes, st.DataBytes, st.PrimeTime, st.Requests)
		return nil
	}
	<-ctx.Done()
	if errors.Is(ctx.Err(), context.Canceled) {
		return nil // the tail ends when the user interrupts it
	}
	return ctx.Err()
}

// tailPrinter returns a listener that prints the changes after the
// priming, one line each: "created /a/b hello", "changed /a/b world",
// "deleted /a/b", "stale: zk: connection loss", "resynced after 1.2s".
func tailPrinter(out io.Writer) cache.Listener {
	nodes := 0
	primed := false
	return func(ev cache.Event) {
		switch ev.Type {
		case cache.EventCreated:
			if !primed {
				nodes++
				return
			}
			fmt.Fprintf(out, "created %s %s\n", ev.Path, formatData(ev.New.Data, dataText))
		case cache.EventChanged:
			fmt.Fprintf(out, "changed %s %s\n", ev.Path, formatData(ev.New.Data, dataText))
		case cache.EventDeleted:
			fmt.Fprintf(out, "deleted %s\n", ev.Path)
		case cache.EventInitialized:
			primed = true
			fmt.Fprintf(out, "cached %d nodes; changes follow\n", nodes)
		case cache.EventStale, cache.EventResynced:
			fmt.Fprintln(out, ev)
		}
	}
}
