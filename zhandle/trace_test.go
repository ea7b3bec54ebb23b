package zhandle

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/zkloop/zkloop/internal/zktest"
)

// traceLog is a Tracer of every kind that records what it is told.
type traceLog struct {
	mu       sync.Mutex
	starts   map[int64]RequestStart // by request key
	ends     map[int64]RequestEnd
	twice    []string // a start or end seen twice, or an end without a start
	conn     []string // "connecting", "connected", "disconnected", in order
	sessions []State
	watches  []WatchDelivery
}

func newTraceLog() *traceLog {
	return &traceLog{starts: map[int64]RequestStart{}, ends: map[int64]RequestEnd{}}
}

func (l *traceLog) TraceRequestStart(s RequestStart) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := int64(s.Xid) // unique per handle but for AddAuth's -4: the test adds one
	if _, ok := l.starts[k]; ok {
		l.twice = append(l.twice, fmt.Sprintf("start of %v %d twice", s.Op, s.Xid))
	}
	l.starts[k] = s
}

func (l *traceLog) TraceRequestEnd(e RequestEnd) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := int64(e.Xid)
	if _, ok := l.starts[k]; !ok {
		l.twice = append(l.twice, fmt.Sprintf("end of %v %d without a start", e.Op, e.Xid))
	}
	if _, ok := l.ends[k]; ok {
		l.twice = append(l.twice, fmt.Sprintf("end of %v %d twice", e.Op, e.Xid))
	}
	l.ends[k] = e
}

func (l *traceLog) TraceConnecting(ConnEvent) { l.connStep("connecting") }
func (l *traceLog) TraceConnected(ConnEvent)  { l.connStep("connected") }
func (l *traceLog) TraceDisconnected(e ConnEvent) {
	l.connStep("disconnected")
}

func (l *traceLog) connStep(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.conn = append(l.conn, s)
}

func (l *traceLog) TraceSessionState(e SessionEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sessions = append(l.sessions, e.State)
}

func (l *traceLog) TraceWatchDelivered(d WatchDelivery) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.watches = append(l.watches, d)
}

// check reports requests that did not get exactly one start and one end.
func (l *traceLog) check(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.twice {
		t.Error(s)
	}
	for k, s := range l.starts {
		if _, ok := l.ends[k]; !ok {
			t.Errorf("%v %q (xid %d) started and never ended", s.Op, s.Path, s.Xid)
		}
	}
}

// errorCounts tallies the ends by error.
func (l *traceLog) errorCounts() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := map[string]int{}
	for _, e := range l.ends {
		n[fmt.Sprint(e.Err)]++
	}
	return n
}

// Every request gets exactly one start and one end, whatever ends it:
// its reply, a connection cut by the fault proxy, the session's expiry, or
// Close. Checked over 10,000 requests.
func TestTraceEveryRequestOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 requests through a fault proxy: not in -short")
	}
	owner := newRealClient(t)
	proxy := zktest.NewProxy(t, owner.srv.Addr())
	trace := newTraceLog()
	h := connConnected(t, proxy.Addr()+owner.connect[len(owner.srv.Addr()):], nil, sessionTimeout, WithTracer(trace))
	ctx := testContext(t)

	const total, rounds = 10000, 10
	var wg sync.WaitGroup
	for round := range rounds {
		for i := range total / rounds {
			p := fmt.Sprintf("/n%d", i%50)
			wg.Add(1)
			var err error
			switch i % 4 {
			case 0:
				err = h.ACreate(p, nil, OpenACLUnsafe, Ephemeral, func(error, string) { wg.Done() })
			case 1:
				err = h.AGet(p, true, func(error, []byte, *Stat) { wg.Done() })
			case 2:
				err = h.ADelete(p, -1, func(error) { wg.Done() })
			default:
				go func() {
					defer wg.Done()
					_, _ = h.Exists(ctx, p, false) // any outcome: only the trace counts
				}()
			}
			if err != nil {
				t.Fatalf("round %d request %d not queued: %v", round, i, err)
			}
			if i == total/rounds/2 && round%3 == 0 {
				proxy.Reset() // a cut with requests in flight
			}
		}
		wg.Wait()
	}
	if err := h.AddAuth(ctx, "digest", []byte("u:p")); err != nil {
		t.Fatalf("AddAuth: %v", err)
	}

	// Requests queued while the handle is cut off fail when it learns that
	// its session expired meanwhile (another handle resumed and closed
	// it); then Close.
	proxy.Refuse(true)
	proxy.Reset()
	waitFor(t, "the cut", func() bool { return h.State() == StateConnecting })
	for i := range 20 {
		wg.Add(1)
		if err := h.AGet(fmt.Sprintf("/n%d", i), false, func(error, []byte, *Stat) { wg.Done() }); err != nil {
			t.Fatal(err)
		}
	}
	thief := connConnected(t, owner.srv.Addr(), nil, sessionTimeout, WithClientID(h.ClientID()))
	connClose(t, thief)
	proxy.Refuse(false)
	wg.Wait()
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	trace.check(t)
	counts := trace.errorCounts()
	if counts["<nil>"] == 0 || counts[ErrConnectionLoss.Error()] == 0 || counts[ErrSessionExpired.Error()] == 0 {
		t.Errorf("ends by error %v: want replies, connection losses and ends of the session", counts)
	}
	if n := len(trace.starts); n < total {
		t.Errorf("%d requests traced, want at least %d", n, total)
	}
}

// The counters agree with the fault proxy: every byte the handle wrote and
// read crossed the proxy, and one reconnect follows each cut.
func TestStatsAgreeWithProxy(t *testing.T) {
	owner := newRealClient(t)
	proxy := zktest.NewProxy(t, owner.srv.Addr())
	const timeout = 30 * time.Second // pings every 10 s: none in the way
	h := connConnected(t, proxy.Addr()+owner.connect[len(owner.srv.Addr()):], nil, timeout)
	ctx := testContext(t)
	settled := func(what string) Stats {
		t.Helper()
		err := proxy.WaitFor(ctx, func() bool {
			st := h.Stats()
			return st.BytesSent == uint64(proxy.ClientBytes()) && st.BytesReceived == uint64(proxy.ServerBytes())
		})
		st := h.Stats()
		if err != nil {
			t.Fatalf("%s: handle sent %d and received %d bytes, the proxy saw %d and %d",
				what, st.BytesSent, st.BytesReceived, proxy.ClientBytes(), proxy.ServerBytes())
		}
		return st
	}

	const cuts = 5
	for cut := range cuts {
		for i := range 20 {
			if _, err := h.Create(ctx, fmt.Sprintf("/c%d-%d", cut, i), make([]byte, 100*i), OpenACLUnsafe, Persistent); err != nil {
				t.Fatalf("Create: %v", err)
			}
		}
		st := settled(fmt.Sprintf("before cut %d", cut))
		if st.Pending != 0 || st.Outstanding != 0 {
			t.Errorf("idle handle: %d pending, %d outstanding", st.Pending, st.Outstanding)
		}
		if st.Reconnects != uint64(cut) {
			t.Errorf("after %d cuts: %d reconnects", cut, st.Reconnects)
		}
		proxy.Reset()
		if err := h.WaitConnected(ctx); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the reconnect", func() bool { return h.Stats().Reconnects == uint64(cut+1) })
	}
	st := settled("at the end")
	if st.RequestsSent < cuts*20 || st.RepliesReceived < cuts*20 {
		t.Errorf("%d requests sent, %d replies received; want at least %d of each", st.RequestsSent, st.RepliesReceived, cuts*20)
	}
	if st.Server != proxy.Addr() {
		t.Errorf("Server = %q, want the proxy %q", st.Server, proxy.Addr())
	}
}

// Pending and Outstanding count requests before and after they are
// written; PingRTT is the last ping's round trip.
func TestStatsQueues(t *testing.T) {
	owner := newRealClient(t)
	proxy := zktest.NewProxy(t, owner.srv.Addr())
	h := connConnected(t, proxy.Addr()+owner.connect[len(owner.srv.Addr()):], nil, 2*time.Second)
	waitFor(t, "a ping's round trip", func() bool { return h.Stats().PingRTT > 0 })

	proxy.Blackhole() // written, never answered: outstanding
	var wg sync.WaitGroup
	for range 5 {
		wg.Add(1)
		if err := h.AExists("/", false, func(error, *Stat) { wg.Done() }); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "5 outstanding", func() bool { st := h.Stats(); return st.Outstanding == 5 && st.Pending == 0 })
	wg.Wait() // the silent server is dropped: the requests fail
	waitFor(t, "the connection loss", func() bool { return h.State() == StateConnecting })
	for range 3 { // no connection: queued, not sent
		wg.Add(1)
		if err := h.AExists("/", false, func(error, *Stat) { wg.Done() }); err != nil {
			t.Fatal(err)
		}
	}
	if st := h.Stats(); st.Pending != 3 || st.Outstanding != 0 {
		t.Errorf("while disconnected: %d pending, %d outstanding; want 3 and 0", st.Pending, st.Outstanding)
	}
	proxy.Resume()
	wg.Wait()
}

// The tracer hears of the connection, the session and watch deliveries.
func TestTraceConnectionSessionWatch(t *testing.T) {
	owner := newRealClient(t)
	proxy := zktest.NewProxy(t, owner.srv.Addr())
	trace := newTraceLog()
	rec := newConnRecorder()
	h := connConnected(t, proxy.Addr()+owner.connect[len(owner.srv.Addr()):], rec, sessionTimeout, WithTracer(trace))
	owner.create(t, "/w", nil, Persistent)
	if _, err := h.Exists(testContext(t), "/w", true); err != nil {
		t.Fatal(err)
	}
	owner.set(t, "/w", []byte("x"))
	proxy.Reset()
	rec.waitSession(t, StateConnecting)
	rec.waitSession(t, StateConnected)
	barrier := &realClient{Handle: h}
	barrier.barrier(t)
	trace.mu.Lock()
	defer trace.mu.Unlock()
	if got, want := fmt.Sprint(trace.conn), "[connecting connected disconnected connecting connected]"; got != want {
		t.Errorf("connection steps %s, want %s", got, want)
	}
	if got, want := fmt.Sprint(trace.sessions), fmt.Sprint([]State{StateConnected, StateConnecting, StateConnected}); got != want {
		t.Errorf("session states %s, want %s", got, want)
	}
	if len(trace.watches) != 1 || trace.watches[0].Event.Path != "/w" || trace.watches[0].Watchers != 1 || trace.watches[0].Delay < 0 {
		t.Errorf("watch deliveries %+v, want one for /w to one watcher", trace.watches)
	}
}

// waitFor polls cond until it holds, failing the test after waitTimeout.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not within %v", what, waitTimeout)
		case <-tick.C:
		}
	}
}
