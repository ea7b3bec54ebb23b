package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkloop/zkloop/bench"
	"github.com/zkloop/zkloop/zhandle"
)

const (
	sessionTimeout = 30 * time.Second
	connectTimeout = 10 * time.Second
)

// client is one ZooKeeper client under test. Each method is one workload
// step; latencies are written to lat, one per request, when lat is not nil.
type client interface {
	// Get reads path synchronously.
	Get(path string) error
	// Set writes data to path synchronously, any version.
	Set(path string, data []byte) error
	// GetWindow reads path len(lat) times keeping window requests in
	// flight (or the client's nearest equivalent).
	GetWindow(path string, window int, lat []time.Duration) error
	// Watch leaves a data watch on every path, fires each with a set, and
	// returns once every watch has fired.
	Watch(paths []string, data []byte) error
	Close()
}

// clientNames are the clients in the order of the table: zkloop, the
// clients it is compared with, then the floors the ratios are taken
// against.
var clientNames = []string{"zkloop", tracedName, goZKName, cClientName, cFloorName, goFloorName}

const (
	// tracedName is zkloop with a tracer whose per-request hooks do
	// nothing: what a tracer costs, side by side with zkloop without one.
	tracedName = "zkloop, no-op tracer"
	goZKName   = "go-zookeeper"
	// cClientName is the Apache C client, run by the program built from
	// cdriver/driver.c rather than by this binary's child subcommand.
	cClientName = "C client"
	// cFloorName is the physical floor, cdriver/floor.c: one thread,
	// blocking syscalls, no client library. Every ratio is taken against it.
	cFloorName = "C floor"
	// goFloorName is bench.RawClient, the same blocking client in Go: the
	// second reference, which pays the Go runtime's costs too.
	goFloorName = "Go floor"
)

func dial(name, addr string) (client, error) {
	switch name {
	case "zkloop":
		return dialZkloop(addr)
	case tracedName:
		return dialZkloop(addr, zhandle.WithTracer(nopTracer{}))
	case goZKName:
		return dialGoZK(addr)
	case goFloorName:
		r, err := bench.DialRaw(addr, sessionTimeout)
		if err != nil {
			return nil, err
		}
		return rawClient{r}, nil
	}
	return nil, fmt.Errorf("unknown client %q", name)
}

// nopTracer implements the hooks called per request and per event, and
// does nothing.
type nopTracer struct{}

func (nopTracer) TraceRequestStart(zhandle.RequestStart)    {}
func (nopTracer) TraceRequestEnd(zhandle.RequestEnd)        {}
func (nopTracer) TraceWatchDelivered(zhandle.WatchDelivery) {}

// zkloopClient uses the sync API, and AGet for the window.
type zkloopClient struct{ h *zhandle.Handle }

func dialZkloop(addr string, opts ...zhandle.Option) (*zkloopClient, error) {
	h, err := zhandle.Init(addr, nil, sessionTimeout, opts...)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	if err := h.WaitConnected(ctx); err != nil {
		_ = h.Close() // Close always returns nil
		return nil, err
	}
	return &zkloopClient{h}, nil
}

// Get uses Get, which returns a copy of the data as go-zookeeper's does
// (GetInto would read it into a reused buffer).
func (c *zkloopClient) Get(path string) error {
	_, _, err := c.h.Get(context.Background(), path, false)
	return err
}

func (c *zkloopClient) Set(path string, data []byte) error {
	_, err := c.h.Set(context.Background(), path, data, -1)
	return err
}

func (c *zkloopClient) GetWindow(path string, window int, lat []time.Duration) error {
	var (
		starts    = make([]time.Time, len(lat))
		issued    atomic.Int64
		completed int // callbacks run on one goroutine
		firstErr  error
		done      = make(chan struct{})
		cb        zhandle.DataCompletion
	)
	n := int64(len(lat))
	issue := func() error {
		i := issued.Add(1) - 1
		if i >= n {
			return nil
		}
		starts[i] = time.Now()
		return c.h.AGet(path, false, cb)
	}
	cb = func(err error, _ []byte, _ *zhandle.Stat) {
		lat[completed] = time.Since(starts[completed])
		completed++
		if err == nil {
			err = issue()
		}
		if err != nil || completed == len(lat) {
			firstErr = err
			close(done)
		}
	}
	for range min(window, len(lat)) {
		if err := issue(); err != nil {
			return err
		}
	}
	<-done
	return firstErr
}

func (c *zkloopClient) Watch(paths []string, data []byte) error {
	var fired sync.WaitGroup
	fired.Add(len(paths))
	w := zhandle.WatcherFunc(func(ev zhandle.Event) {
		if ev.Type == zhandle.EventChanged {
			fired.Done()
		}
	})
	ctx := context.Background()
	for _, p := range paths {
		if _, _, err := c.h.WGet(ctx, p, w); err != nil {
			return err
		}
	}
	for _, p := range paths {
		if _, err := c.h.Set(ctx, p, data, -1); err != nil {
			return err
		}
	}
	fired.Wait()
	return nil
}

func (c *zkloopClient) Close() { _ = c.h.Close() } // Close always returns nil

// goZKClient has no async API: the window is as many goroutines.
type goZKClient struct{ c *zk.Conn }

type quietLogger struct{}

func (quietLogger) Printf(string, ...any) {}

func dialGoZK(addr string) (*goZKClient, error) {
	c, events, err := zk.Connect([]string{addr}, sessionTimeout, zk.WithLogger(quietLogger{}))
	if err != nil {
		return nil, err
	}
	timeout := time.After(connectTimeout)
	for {
		select {
		case ev := <-events:
			if ev.State == zk.StateHasSession {
				go func() { // go-zookeeper blocks when nobody reads its session events
					for range events {
					}
				}()
				return &goZKClient{c}, nil
			}
		case <-timeout:
			c.Close()
			return nil, errors.New("go-zookeeper: no session")
		}
	}
}

func (c *goZKClient) Get(path string) error {
	_, _, err := c.c.Get(path)
	return err
}

func (c *goZKClient) Set(path string, data []byte) error {
	_, err := c.c.Set(path, data, -1)
	return err
}

func (c *goZKClient) GetWindow(path string, window int, lat []time.Duration) error {
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		errs = make(chan error, window)
	)
	for range window {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(len(lat)); i = next.Add(1) - 1 {
				start := time.Now()
				if _, _, err := c.c.Get(path); err != nil {
					errs <- err
					return
				}
				lat[i] = time.Since(start)
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func (c *goZKClient) Watch(paths []string, data []byte) error {
	fired := make([]<-chan zk.Event, len(paths))
	for i, p := range paths {
		_, _, ch, err := c.c.GetW(p)
		if err != nil {
			return err
		}
		fired[i] = ch
	}
	for _, p := range paths {
		if _, err := c.c.Set(p, data, -1); err != nil {
			return err
		}
	}
	for _, ch := range fired {
		<-ch
	}
	return nil
}

func (c *goZKClient) Close() { c.c.Close() }

// rawClient is the floor: the window is a batch written at once.
type rawClient struct{ r *bench.RawClient }

func (c rawClient) Get(path string) error {
	_, err := c.r.GetData(path, false)
	return err
}

func (c rawClient) Set(path string, data []byte) error { return c.r.SetData(path, data) }

// GetWindow sends batches of window requests; each request's latency is
// its batch's.
func (c rawClient) GetWindow(path string, window int, lat []time.Duration) error {
	for i := 0; i < len(lat); i += window {
		n := min(window, len(lat)-i)
		start := time.Now()
		if err := c.r.GetDataPipelined(path, n); err != nil {
			return err
		}
		d := time.Since(start)
		for j := range n {
			lat[i+j] = d
		}
	}
	return nil
}

func (c rawClient) Watch(paths []string, data []byte) error {
	base := c.r.Events()
	for _, p := range paths {
		if _, err := c.r.GetData(p, true); err != nil {
			return err
		}
	}
	for _, p := range paths {
		if err := c.r.SetData(p, data); err != nil {
			return err
		}
	}
	return c.r.WaitEvents(base + len(paths))
}

func (c rawClient) Close() { _ = c.r.Close() } // teardown: the error is of no interest
