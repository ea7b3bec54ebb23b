package zhandle

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/zkloop/zkloop/zktest"
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
	h := connectHandle(t, proxy.Addr()+owner.chroot(), nil, sessionTimeout, WithTracer(trace))
	ctx := testContext(t)

	const total, rounds, late = 10000, 10, 20
	done := newOutcomes(total + late) // any outcome: only the trace counts
	for round := range rounds {
		for i := range total / rounds {
			p := fmt.Sprintf("/n%d", i%50)
			idx := round*(total/rounds) + i
			complete := func(err error) { done.complete(t, idx, err) }
			done.expect()
			var err error
			switch i % 4 {
			case 0:
				err = h.ACreate(p, nil, OpenACLUnsafe, Ephemeral, func(err error, _ string) { complete(err) })
			case 1:
				err = h.AGet(p, true, func(err error, _ []byte, _ *Stat) { complete(err) })
			case 2:
				err = h.ADelete(p, -1, complete)
			default:
				go func() {
					_, err := h.Exists(ctx, p, false)
					complete(err)
				}()
			}
			if err != nil {
				t.Fatalf("round %d request %d not queued: %v", round, i, err)
			}
			if i == total/rounds/2 && round%3 == 0 {
				proxy.Cut() // a cut with requests in flight
			}
		}
		done.wait(t)
	}
	if err := h.AddAuth(ctx, "digest", []byte("u:p")); err != nil {
		t.Fatalf("AddAuth: %v", err)
	}

	// Requests queued while the handle is cut off fail when it learns that
	// its session expired meanwhile (another handle resumed and closed
	// it); then Close. A refused connection attempt would fail them with
	// ErrConnectionLoss first, so they are queued once the handle's next
	// attempt has connected and its handshake is held.
	proxy.Refuse(true)
	proxy.Cut()
	waitState(t, h, StateConnecting)
	thief := connectHandle(t, owner.srv.Addr(), nil, sessionTimeout, WithClientID(h.ClientID()))
	closeHandle(t, thief)
	proxy.Stall()
	proxy.Refuse(false)
	waitProxy(t, proxy, "a connection", func() bool { return proxy.Connections() > 0 })
	for i := range late {
		done.expect()
		if err := h.AGet(fmt.Sprintf("/n%d", i), false, func(err error, _ []byte, _ *Stat) { done.complete(t, total+i, err) }); err != nil {
			t.Fatal(err)
		}
	}
	proxy.Resume()
	done.wait(t)
	closeHandle(t, h)
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
	h := connectHandle(t, proxy.Addr()+owner.chroot(), nil, timeout)
	ctx := testContext(t)
	settled := func(what string) Stats {
		t.Helper()
		err := proxy.WaitFor(ctx, func() bool {
			st := h.Stats()
			return st.BytesSent == uint64(proxy.BytesIn()) && st.BytesReceived == uint64(proxy.BytesOut())
		})
		st := h.Stats()
		if err != nil {
			t.Fatalf("%s: handle sent %d and received %d bytes, the proxy saw %d and %d",
				what, st.BytesSent, st.BytesReceived, proxy.BytesIn(), proxy.BytesOut())
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
		proxy.Cut()
		if err := h.WaitConnected(ctx); err != nil {
			t.Fatal(err)
		}
		poll(t, func() (bool, string) {
			n := h.Stats().Reconnects
			return n == uint64(cut+1), fmt.Sprintf("%d reconnects after cut %d", n, cut)
		})
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
	h := connectHandle(t, proxy.Addr()+owner.chroot(), nil, 2*time.Second)
	poll(t, func() (bool, string) { return h.Stats().PingRTT > 0, "no ping round trip" })

	proxy.Stall() // written, never answered: outstanding
	done := newOutcomes(5 + 3)
	exists := func(i int) {
		done.expect()
		must(t, "AExists", h.AExists("/", false, func(err error, _ *Stat) { done.complete(t, i, err) }))
	}
	for i := range 5 {
		exists(i)
	}
	poll(t, func() (bool, string) {
		st := h.Stats()
		return st.Outstanding == 5 && st.Pending == 0, fmt.Sprintf("%d outstanding, %d pending; want 5 and 0", st.Outstanding, st.Pending)
	})
	done.wait(t) // the silent server is dropped: the requests fail
	waitState(t, h, StateConnecting)
	for i := range 3 { // no connection: queued, not sent
		exists(5 + i)
	}
	if st := h.Stats(); st.Pending != 3 || st.Outstanding != 0 {
		t.Errorf("while disconnected: %d pending, %d outstanding; want 3 and 0", st.Pending, st.Outstanding)
	}
	proxy.Resume()
	done.wait(t)
}

// The tracer hears of the connection, the session and watch deliveries.
func TestTraceConnectionSessionWatch(t *testing.T) {
	owner := newRealClient(t)
	proxy := zktest.NewProxy(t, owner.srv.Addr())
	trace := newTraceLog()
	rec := newRecorder()
	h := connectHandle(t, proxy.Addr()+owner.chroot(), rec, sessionTimeout, WithTracer(trace))
	mustCreate(t, owner.Handle, "/w", nil, Persistent)
	if _, err := h.Exists(testContext(t), "/w", true); err != nil {
		t.Fatal(err)
	}
	mustSet(t, owner.Handle, "/w", []byte("x"))
	proxy.Cut()
	rec.waitSession(t, StateConnecting)
	rec.waitSession(t, StateConnected)
	barrier(t, h)
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

// waitState waits until h is in state s: the handle has no watcher to tell.
func waitState(t *testing.T, h *Handle, s State) {
	t.Helper()
	poll(t, func() (bool, string) {
		got := h.State()
		return got == s, fmt.Sprintf("state %v, want %v", got, s)
	})
}
