package bench

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zkloop/zkloop/loop"
	"github.com/zkloop/zkloop/serialize"
	"github.com/zkloop/zkloop/zhandle"
	"github.com/zkloop/zkloop/zktest"
)

var realZK = flag.Bool("zk.real", false, "run BenchmarkReal against a real standalone ZooKeeper (zktest)")

const (
	benchPath      = "/zkloop-bench/node"
	seqPrefix      = "/zkloop-bench/seq-"
	sessionTimeout = 30 * time.Second
	connectTimeout = 10 * time.Second
	// drainTimeout bounds the wait for the last callback of an async
	// benchmark, so that a lost reply fails instead of hanging.
	drainTimeout = time.Minute
)

var (
	sizes = []struct {
		name string
		n    int
	}{{"100B", 100}, {"10KiB", 10 << 10}}
	windows    = []int{1, 8, 64, 256}
	goroutines = []int{1, 4, 16}
)

func payload(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return b
}

// fakeHandle starts a fake server whose nodes hold data and returns a
// handle connected to it; both end in tb's cleanup.
func fakeHandle(tb testing.TB, data []byte) *zhandle.Handle {
	tb.Helper()
	srv, err := NewFakeServer(data)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(srv.Close)
	return connect(tb, srv.Addr())
}

// connect returns a connected handle to addr, closed in tb's cleanup.
func connect(tb testing.TB, addr string, opts ...zhandle.Option) *zhandle.Handle {
	tb.Helper()
	h, err := zhandle.Init(addr, nil, sessionTimeout, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = h.Close() }) // Close always returns nil
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	if err := h.WaitConnected(ctx); err != nil {
		tb.Fatalf("connecting to %s: %v", addr, err)
	}
	return h
}

// The workloads, shared by the fake-server and the real-server benchmarks.
// Each runs b.N operations on h against benchPath.

// runSync runs op b.N times and fails at its first error.
func runSync(b *testing.B, op func(ctx context.Context) error) {
	ctx := context.Background() // Done() == nil: the calls register no AfterFunc
	b.ReportAllocs()
	for b.Loop() {
		if err := op(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func runGet(b *testing.B, h *zhandle.Handle) {
	runSync(b, func(ctx context.Context) error {
		_, _, err := h.Get(ctx, benchPath, false)
		return err
	})
}

func runGetInto(b *testing.B, h *zhandle.Handle) {
	buf := make([]byte, 0, 16<<10)
	runSync(b, func(ctx context.Context) (err error) {
		buf, _, err = h.GetInto(ctx, benchPath, buf, false)
		return err
	})
}

func runExists(b *testing.B, h *zhandle.Handle) {
	runSync(b, func(ctx context.Context) error {
		_, err := h.Exists(ctx, benchPath, false)
		return err
	})
}

func runSet(b *testing.B, h *zhandle.Handle) {
	data := payload(100)
	runSync(b, func(ctx context.Context) error {
		_, err := h.Set(ctx, benchPath, data, -1)
		return err
	})
}

// runCreate creates ephemeral sequential nodes: a real server keeps them
// only for the session. The returned path is one allocation.
func runCreate(b *testing.B, h *zhandle.Handle) {
	data := payload(100)
	runSync(b, func(ctx context.Context) error {
		_, err := h.Create(ctx, seqPrefix, data, zhandle.OpenACLUnsafe, zhandle.EphemeralSequential)
		return err
	})
}

// runAGet keeps window AGet requests outstanding: each callback issues the
// next request until b.N have been issued.
func runAGet(b *testing.B, h *zhandle.Handle, window int) {
	b.ReportAllocs()
	var (
		issued    atomic.Int64
		completed int // touched only by callbacks, which run on one goroutine
		firstErr  error
		done      = make(chan struct{})
		n         = int64(b.N)
		cb        zhandle.DataCompletion
	)
	finish := func(err error) {
		firstErr = err
		close(done)
	}
	cb = func(err error, _ []byte, _ *zhandle.Stat) {
		completed++
		switch {
		case err != nil:
			finish(err)
		case completed == b.N:
			finish(nil)
		case issued.Add(1) <= n:
			if err := h.AGet(benchPath, false, cb); err != nil {
				finish(err)
			}
		}
	}
	b.ResetTimer()
	for range min(window, b.N) {
		issued.Add(1)
		if err := h.AGet(benchPath, false, cb); err != nil {
			b.Fatal(err)
		}
	}
	if err := waitDone(done, func() error { return firstErr }); err != nil {
		b.Fatal(err)
	}
}

// waitDone waits for done, then returns err(); a benchmark that never
// finishes fails after drainTimeout.
func waitDone(done <-chan struct{}, err func() error) error {
	select {
	case <-done:
		return err()
	case <-time.After(drainTimeout):
		return errors.New("timed out waiting for the last completion")
	}
}

// runParallelGet runs b.N GetInto calls spread over g goroutines sharing h.
func runParallelGet(b *testing.B, h *zhandle.Handle, g int) {
	b.ReportAllocs()
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		errs = make(chan error, g)
	)
	b.ResetTimer()
	for range g {
		wg.Go(func() {
			ctx := context.Background()
			buf := make([]byte, 0, 16<<10)
			for next.Add(1) <= int64(b.N) {
				var err error
				if buf, _, err = h.GetInto(ctx, benchPath, buf, false); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
}

func BenchmarkGet(b *testing.B) {
	for _, sz := range sizes {
		b.Run(sz.name, func(b *testing.B) { runGet(b, fakeHandle(b, payload(sz.n))) })
	}
}

func BenchmarkGetInto(b *testing.B) {
	for _, sz := range sizes {
		b.Run(sz.name, func(b *testing.B) { runGetInto(b, fakeHandle(b, payload(sz.n))) })
	}
}

// BenchmarkTLS runs the sync and async workloads over TLS (1.3, with
// ECDSA P-256 certificates made by zktest) against the fake server.
func BenchmarkTLS(b *testing.B) {
	ca := zktest.NewCA(b, "bench CA")
	cert := ca.ServerCert(b, zktest.CertOptions{Hosts: []string{"127.0.0.1"}})
	srv, err := NewTLSFakeServer(payload(100), &tls.Config{Certificates: []tls.Certificate{cert.TLSCertificate()}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Close)
	h := connect(b, srv.Addr(), zhandle.WithTLS(&tls.Config{RootCAs: ca.Pool()}))
	b.Run("Get", func(b *testing.B) { runGet(b, h) })
	b.Run("GetInto", func(b *testing.B) { runGetInto(b, h) })
	b.Run("Exists", func(b *testing.B) { runExists(b, h) })
	b.Run("AGet/inflight=64", func(b *testing.B) { runAGet(b, h, 64) })
}

// BenchmarkTraced runs the sync and async workloads with a tracer whose
// per-request hooks do nothing: the cost of the hooks themselves, beside
// BenchmarkGetInto/100B and BenchmarkAGet/inflight=64.
func BenchmarkTraced(b *testing.B) {
	srv, err := NewFakeServer(payload(100))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Close)
	h := connect(b, srv.Addr(), zhandle.WithTracer(nopTracer{}))
	b.Run("GetInto", func(b *testing.B) { runGetInto(b, h) })
	b.Run("AGet/inflight=64", func(b *testing.B) { runAGet(b, h, 64) })
}

// nopTracer implements every hook of zhandle.Tracer and does nothing.
type nopTracer struct{}

func (nopTracer) TraceRequestStart(zhandle.RequestStart)    {}
func (nopTracer) TraceRequestEnd(zhandle.RequestEnd)        {}
func (nopTracer) TraceConnecting(zhandle.ConnEvent)         {}
func (nopTracer) TraceConnected(zhandle.ConnEvent)          {}
func (nopTracer) TraceDisconnected(zhandle.ConnEvent)       {}
func (nopTracer) TraceSessionState(zhandle.SessionEvent)    {}
func (nopTracer) TraceWatchDelivered(zhandle.WatchDelivery) {}

func BenchmarkExists(b *testing.B) { runExists(b, fakeHandle(b, payload(100))) }

func BenchmarkSet(b *testing.B) { runSet(b, fakeHandle(b, payload(100))) }

func BenchmarkCreate(b *testing.B) { runCreate(b, fakeHandle(b, payload(100))) }

func BenchmarkAGet(b *testing.B) {
	for _, w := range windows {
		b.Run(fmt.Sprintf("inflight=%d", w), func(b *testing.B) { runAGet(b, fakeHandle(b, payload(100)), w) })
	}
}

func BenchmarkParallelGet(b *testing.B) {
	for _, g := range goroutines {
		b.Run(fmt.Sprintf("goroutines=%d", g), func(b *testing.B) { runParallelGet(b, fakeHandle(b, payload(100)), g) })
	}
}

// BenchmarkWatchCycle measures one watch fire-and-re-arm: a getData with a
// watcher, its reply, the NodeDataChanged event the fake server sends
// after it, and the watcher's re-arming getData.
func BenchmarkWatchCycle(b *testing.B) {
	h := fakeHandle(b, payload(100))
	b.ReportAllocs()
	var (
		fired    int // touched only by the watcher, on the completion goroutine
		firstErr error
		done     = make(chan struct{})
		w        zhandle.WatcherFunc
	)
	w = func(ev zhandle.Event) {
		if ev.Type != zhandle.EventChanged {
			return // session events
		}
		fired++
		if fired == b.N {
			close(done)
			return
		}
		if err := h.AWGet(benchPath, w, nil); err != nil {
			firstErr = err
			close(done)
		}
	}
	b.ResetTimer()
	if err := h.AWGet(benchPath, w, nil); err != nil {
		b.Fatal(err)
	}
	if err := waitDone(done, func() error { return firstErr }); err != nil {
		b.Fatal(err)
	}
}

// wakeHandler is a loop.Handler with no socket: Process answers a wakeup
// the caller asked for on back.
type wakeHandler struct {
	asked atomic.Bool
	stop  atomic.Bool
	back  chan struct{}
}

func (w *wakeHandler) Interest() (int, int16, time.Duration) { return -1, 0, time.Hour }

func (w *wakeHandler) Process(int16) bool {
	if w.asked.Swap(false) {
		w.back <- struct{}{}
	}
	return !w.stop.Load()
}

// BenchmarkLoopWakeup measures a wakeup round trip through loop.Loop
// alone: the caller wakes the loop (self-pipe), the loop runs Process,
// which signals the caller back.
func BenchmarkLoopWakeup(b *testing.B) {
	l, err := loop.New()
	if err != nil {
		b.Fatal(err)
	}
	h := &wakeHandler{back: make(chan struct{}, 1)}
	ran := make(chan error, 1)
	go func() { ran <- l.Run(h) }()
	b.ReportAllocs()
	for b.Loop() {
		h.asked.Store(true)
		l.Wake()
		<-h.back
	}
	b.StopTimer()
	h.stop.Store(true)
	l.Wake()
	if err := <-ran; err != nil {
		b.Error(err)
	}
	if err := l.Close(); err != nil {
		b.Error(err)
	}
}

// BenchmarkEncodeGetData measures what queueing a getData writes: the
// frame, the RequestHeader and the GetDataRequest, as the handle builds it.
func BenchmarkEncodeGetData(b *testing.B) {
	out := make([]byte, 0, 4<<10)
	xid := int32(0)
	b.ReportAllocs()
	for b.Loop() {
		xid++
		var start int
		out, start = serialize.BeginFrame(out[:0])
		hdr := serialize.RequestHeader{Xid: xid, Type: int32(serialize.OpGetData)}
		out = hdr.Encode(out)
		req := serialize.GetDataRequest{Path: benchPath, Watch: false}
		out = req.Encode(out)
		var err error
		if out, err = serialize.FinishFrame(out, start, serialize.DefaultMaxBuffer); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeGetDataReply measures what the handle does with a getData
// reply frame: the length, the ReplyHeader, the data (aliased) and the
// Stat.
func BenchmarkDecodeGetDataReply(b *testing.B) {
	for _, sz := range sizes {
		b.Run(sz.name, func(b *testing.B) {
			frame, start := serialize.BeginFrame(nil)
			hdr := serialize.ReplyHeader{Xid: 7, Zxid: 1 << 33}
			frame = hdr.Encode(frame)
			resp := serialize.GetDataResponse{Data: payload(sz.n), Stat: serialize.Stat{DataLength: int32(sz.n)}}
			frame = resp.Encode(frame)
			frame, _ = serialize.FinishFrame(frame, start, serialize.DefaultMaxBuffer)
			b.SetBytes(int64(len(frame)))
			b.ReportAllocs()
			for b.Loop() {
				if err := decodeGetDataReply(frame); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func decodeGetDataReply(frame []byte) error {
	n, err := serialize.FrameLen(frame, serialize.DefaultMaxBuffer)
	if err != nil {
		return err
	}
	body := frame[serialize.FrameHeaderLen : serialize.FrameHeaderLen+n]
	var hdr serialize.ReplyHeader
	off, err := hdr.Decode(body)
	if err != nil {
		return err
	}
	rd := serialize.NewReader(body[off:])
	if data := rd.BufferAlias(); data == nil {
		return rd.Err()
	}
	var stat serialize.Stat
	_, err = stat.Decode(body[off+rd.Offset():])
	return err
}

// BenchmarkReal runs the workloads against a real standalone ZooKeeper
// started by zktest; it is skipped unless -zk.real is given.
func BenchmarkReal(b *testing.B) {
	if !*realZK {
		b.Skip("needs -zk.real")
	}
	srv := zktest.NewServer(b)
	h := connect(b, srv.Addr())
	ctx := context.Background()
	for _, p := range []string{"/zkloop-bench", benchPath} {
		if _, err := h.Create(ctx, p, payload(100), zhandle.OpenACLUnsafe, zhandle.Persistent); err != nil && !errors.Is(err, zhandle.ErrNodeExists) {
			b.Fatal(err)
		}
	}
	b.Run("Get", func(b *testing.B) { runGet(b, h) })
	b.Run("GetInto", func(b *testing.B) { runGetInto(b, h) })
	b.Run("Exists", func(b *testing.B) { runExists(b, h) })
	b.Run("Set", func(b *testing.B) { runSet(b, h) })
	b.Run("Create", func(b *testing.B) { runCreate(b, h) })
	b.Run("AGet/inflight=64", func(b *testing.B) { runAGet(b, h, 64) })
	b.Run("ParallelGet/goroutines=16", func(b *testing.B) { runParallelGet(b, h, 16) })
}

// rawClient returns a RawClient connected to a fake server holding data.
func rawClient(b *testing.B, data []byte) *RawClient {
	srv, err := NewFakeServer(data)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Close)
	r, err := DialRaw(srv.Addr(), sessionTimeout)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = r.Close() }) // teardown: the error is of no interest
	return r
}

// BenchmarkRawGet is the floor of BenchmarkGet: one blocking getData round
// trip with no loop and no queues.
func BenchmarkRawGet(b *testing.B) {
	r := rawClient(b, payload(100))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.GetData(benchPath, false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRawGetPipelined is the floor of BenchmarkAGet/inflight=64:
// batches of 64 getData requests written at once.
func BenchmarkRawGetPipelined(b *testing.B) {
	const batch = 64
	r := rawClient(b, payload(100))
	b.ReportAllocs()
	for i := 0; i < b.N; i += batch {
		if err := r.GetDataPipelined(benchPath, min(batch, b.N-i)); err != nil {
			b.Fatal(err)
		}
	}
}
