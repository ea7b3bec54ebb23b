package zhandle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/zkloop/zkloop/internal/testwait"
	"github.com/zkloop/zkloop/zktest"
)

// The vocabulary of zhandle's tests, shared by every test file:
//
//   - waitTimeout bounds every wait; sessionTimeout is the session timeout
//     of handles whose test does not depend on it; lateness is the room
//     an upper timing bound leaves.
//   - testContext bounds a test's calls; recv receives from a channel,
//     await queues an asynchronous call and receives its callback, and
//     poll waits for a state that nothing signals.
//   - recorder is the one Watcher that records events: expect (exactly
//     these next), expectNone (nothing more, after a fence), waitFor and
//     waitSession (skip to a match), waitAll (these, in any order).
//   - barrier is the fence: a round trip on a handle, after which every
//     event due before it has been delivered. Nothing waits a fixed time
//     to show that something did not happen.
//   - initHandle, connectHandle and closeHandle make and end handles;
//     must and its siblings make a call or fail the test.
//   - outcomes counts the completions of many requests, holdInFlight has a
//     proxy hold requests in flight, and a leakBaseline checks that Close
//     leaves no goroutine or descriptor behind.
//   - startServer and startEnsemble start the servers of a test's own,
//     which -short skips; sharedServer is the one the others share.
//
// Timing is asserted only where it is the promise: a lower bound exactly,
// an upper bound with lateness to spare, or tied to what makes it matter
// (a session timeout, a receive deadline).
//
// Files of helpers for one kind of test: sharedserver_test.go (the
// standalone server most real-server tests share, and realClient),
// calls_test.go (every operation in its sync and async forms),
// fakeserver_test.go (frames and serving loops of internal/fakeserver).

const (
	// waitTimeout bounds every wait of these tests for something that
	// should happen soon: a reply, a callback, an event, a script step, a
	// server's change. On loopback each takes milliseconds; the rest is
	// slack for a loaded 2-core machine under -race with JVMs beside.
	waitTimeout = 20 * time.Second
	// sessionTimeout is the session timeout of handles whose test does
	// not depend on it: long enough to outlive a server restart, and that
	// no ping or receive deadline interferes with a scripted exchange.
	sessionTimeout = 20 * time.Second
	// lateness is how much later than promised a timer-driven action may
	// come (a poll that wakes late, a goroutine scheduled late on a loaded
	// machine) in the upper timing bounds the tests keep. Lower bounds,
	// the promises, take none.
	lateness = 2 * time.Second
)

// testContext bounds the calls of a test by waitTimeout.
func testContext(t testing.TB) context.Context { return testwait.Context(t, waitTimeout) }

// recv receives from ch, failing the test after waitTimeout; what names
// the value in the failure.
func recv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	return testwait.Receive(t, ch, what, waitTimeout)
}

// await queues an asynchronous call and waits for its callback. It fails
// the test if the call is refused or the callback does not come.
func await[T any](t testing.TB, queue func(done func(T)) error) T {
	t.Helper()
	ch := make(chan T, 1)
	if err := queue(func(v T) { ch <- v }); err != nil {
		t.Fatalf("asynchronous call not queued: %v", err)
	}
	return recv(t, ch, "callback")
}

// barrier waits for an asynchronous round trip on h. Callbacks and
// watchers run in reply order on one goroutine, and a server sends a
// notification before any later reply on the connection, so once barrier
// returns every event due for what was done before it has been
// delivered: a change made by h itself, or by another session of the
// same server whose call has returned.
func barrier(t testing.TB, h *Handle) {
	t.Helper()
	if err := await(t, func(done func(error)) error {
		return h.ASync("/", func(err error, _ string) { done(err) })
	}); err != nil {
		t.Fatalf("barrier: ASync: %v", err)
	}
}

// recorder is a Watcher that records every event in order. A test reads
// the events with a cursor: next, expect and waitFor take them in order;
// expectNone says that nothing is past the cursor. It is a pointer type,
// so a registration of the same recorder twice is one registration.
type recorder struct {
	mu     sync.Mutex
	events []Event
	cursor int           // events before it were taken by next, expect or waitFor
	notify chan struct{} // signalled after each event
}

func newRecorder() *recorder { return &recorder{notify: make(chan struct{}, 1)} }

// Process records ev; it runs on the completion goroutine.
func (r *recorder) Process(ev Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// all returns a copy of every event so far, whatever the cursor.
func (r *recorder) all() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// waitFor waits for the first event past the cursor that match accepts,
// moves the cursor past it and returns it; what names it in the failure.
func (r *recorder) waitFor(t testing.TB, what string, match func(Event) bool) Event {
	t.Helper()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for {
		r.mu.Lock()
		for i := r.cursor; i < len(r.events); i++ {
			if ev := r.events[i]; match(ev) {
				r.cursor = i + 1
				r.mu.Unlock()
				return ev
			}
		}
		r.mu.Unlock()
		select {
		case <-r.notify:
		case <-timer.C:
			t.Fatalf("no %s within %v; events: %v", what, waitTimeout, r.all())
		}
	}
}

// next waits for the event at the cursor and takes it.
func (r *recorder) next(t testing.TB) Event {
	t.Helper()
	return r.waitFor(t, "event", func(Event) bool { return true })
}

// expect checks that the next events are exactly want, in order.
func (r *recorder) expect(t testing.TB, want ...Event) {
	t.Helper()
	for _, w := range want {
		if diff := cmp.Diff(w, r.next(t)); diff != "" {
			t.Fatalf("event mismatch (-want +got):\n%s", diff)
		}
	}
}

// expectNone checks that no event is past the cursor. Call it after a
// fence (barrier, or Close, which returns once every event is delivered).
func (r *recorder) expectNone(t testing.TB) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cursor < len(r.events) {
		t.Fatalf("unexpected events %v", r.events[r.cursor:])
	}
}

// waitSession waits for the next session event with state s, skipping
// any other event.
func (r *recorder) waitSession(t testing.TB, s State) {
	t.Helper()
	r.waitFor(t, "session event "+s.String(), func(ev Event) bool { return ev == sessionEvent(s) })
}

// waitAll waits until every event of want has been recorded, in any order
// and whatever the cursor.
func (r *recorder) waitAll(t testing.TB, want ...Event) {
	t.Helper()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for {
		got := r.all()
		missing := missingEvents(want, got)
		if len(missing) == 0 {
			return
		}
		select {
		case <-r.notify:
		case <-timer.C:
			t.Fatalf("events %v missing after %v; got %v", missing, waitTimeout, got)
		}
	}
}

// missingEvents returns the events of want that got lacks (as multisets).
func missingEvents(want, got []Event) []Event {
	count := map[Event]int{}
	for _, ev := range got {
		count[ev]++
	}
	var missing []Event
	for _, ev := range want {
		if count[ev] == 0 {
			missing = append(missing, ev)
			continue
		}
		count[ev]--
	}
	return missing
}

// sessionEvent is the event of a session's move to state s.
func sessionEvent(s State) Event { return Event{Type: EventSession, State: s} }

// watchEvent is the event a watch delivers while connected.
func watchEvent(typ EventType, p string) Event {
	return Event{Type: typ, State: StateConnected, Path: p}
}

// initHandle starts a handle on hosts and closes it when the test ends
// (closeHandle). Cleanups run last first: a server or proxy made before
// the handle is still there when the handle says goodbye.
func initHandle(t testing.TB, hosts string, w Watcher, timeout time.Duration, opts ...Option) *Handle {
	t.Helper()
	h, err := Init(hosts, w, timeout, opts...)
	if err != nil {
		t.Fatalf("Init(%q): %v", hosts, err)
	}
	t.Cleanup(func() { closeHandle(t, h) })
	return h
}

// connectHandle starts a handle as initHandle does and waits for its
// session.
func connectHandle(t testing.TB, hosts string, w Watcher, timeout time.Duration, opts ...Option) *Handle {
	t.Helper()
	h := initHandle(t, hosts, w, timeout, opts...)
	if err := h.WaitConnected(testContext(t)); err != nil {
		t.Fatalf("WaitConnected(%q): %v", hosts, err)
	}
	return h
}

// closeHandle closes h, failing the test when Close errs or takes over
// waitTimeout, and returns how long Close took.
func closeHandle(t testing.TB, h *Handle) time.Duration {
	t.Helper()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- h.Close() }()
	if err := recv(t, done, "return from Close"); err != nil {
		t.Errorf("Close: %v", err)
	}
	return time.Since(start)
}

// poll waits until done reports true, checking it every 10 ms, and fails
// the test after waitTimeout with what done said last. It is for states
// that nothing signals: another process's, or a handle's internals.
func poll(t testing.TB, done func() (ok bool, state string)) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		ok, state := done()
		if ok {
			return
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("after %v: %s", waitTimeout, state)
		}
	}
}

// must fails the test on err.
func must(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// mustCreate makes a node or fails the test.
func mustCreate(t testing.TB, h *Handle, p string, data []byte, mode CreateMode) {
	t.Helper()
	_, err := h.Create(testContext(t), p, data, OpenACLUnsafe, mode)
	must(t, fmt.Sprintf("Create(%q, %v)", p, mode), err)
}

// mustSet writes a node's data or fails the test.
func mustSet(t testing.TB, h *Handle, p string, data []byte) {
	t.Helper()
	_, err := h.Set(testContext(t), p, data, -1)
	must(t, fmt.Sprintf("Set(%q)", p), err)
}

// mustDelete deletes a node or fails the test.
func mustDelete(t testing.TB, h *Handle, p string) {
	t.Helper()
	must(t, fmt.Sprintf("Delete(%q)", p), h.Delete(testContext(t), p, -1))
}

// mustStat returns a node's Stat or fails the test.
func mustStat(t testing.TB, h *Handle, p string) Stat {
	t.Helper()
	st, err := h.Exists(testContext(t), p, false)
	must(t, fmt.Sprintf("Exists(%q)", p), err)
	return st
}

// mustAddWatch adds a persistent watch or fails the test.
func mustAddWatch(t testing.TB, h *Handle, p string, mode AddWatchMode, w Watcher) {
	t.Helper()
	must(t, fmt.Sprintf("AddWatch(%q, %v)", p, mode), h.AddWatch(testContext(t), p, mode, w))
}

// startServer starts a standalone server of the test's own, or skips t
// under -short: a JVM takes seconds to start, so the inner loop keeps to
// the fake server and the shared server (sharedServer). A test needs a
// server of its own to stop or kill it, or for a configuration of its own
// (TLS, SASL).
func startServer(t *testing.T, opts ...zktest.Option) *zktest.Server {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a ZooKeeper server of its own")
	}
	return zktest.NewServer(t, opts...)
}

// startEnsemble starts a 3-server ensemble, or skips t under -short:
// ensembles (about 10 s each to start and to take apart) run in make
// test, not in the inner loop.
func startEnsemble(t *testing.T, opts ...zktest.Option) *zktest.Ensemble {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a 3-server ensemble")
	}
	return zktest.NewEnsemble(t, 3, opts...)
}

// pathSeq makes the paths of uniquePath unique across tests and -count
// repetitions.
var pathSeq atomic.Int64

// uniquePath returns a top-level path new to the server: name, with what
// a node name cannot hold replaced, and a sequence number.
func uniquePath(name string) string {
	name = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, name)
	return fmt.Sprintf("/%s-%d", name, pathSeq.Add(1))
}

// deadAddr returns a loopback address where nothing listens.
func deadAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// logTap is a slog.Handler that passes the time of the records whose
// message is msg and whose "server" attribute is server to ch, which holds
// one: a record made while it is full is dropped, so each receive from ch
// after the first is a record made after the one before. It shows what a
// handle does that no event shows, such as a connection attempt.
type logTap struct {
	msg, server string
	ch          chan time.Time
}

func newLogTap(msg, server string) *logTap {
	return &logTap{msg: msg, server: server, ch: make(chan time.Time, 1)}
}

func (l *logTap) Enabled(context.Context, slog.Level) bool { return true }

func (l *logTap) Handle(_ context.Context, r slog.Record) error {
	if r.Message != l.msg {
		return nil
	}
	match := false
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "server" && a.Value.String() == l.server {
			match = true
		}
		return !match
	})
	if match {
		select {
		case l.ch <- r.Time:
		default:
		}
	}
	return nil
}

func (l *logTap) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logTap) WithGroup(string) slog.Handler      { return l }

// waitAfter waits for a record made after since, skipping older ones.
func (l *logTap) waitAfter(t testing.TB, since time.Time, what string) time.Time {
	t.Helper()
	for {
		if at := recv(t, l.ch, what); at.After(since) {
			return at
		}
	}
}

// outcomes records the completion of each of n requests, to check that
// every request completes exactly once.
type outcomes struct {
	slots []atomic.Int32
	done  sync.WaitGroup
	errs  sync.Map // error text ("ok" for nil) → *atomic.Int64
}

func newOutcomes(n int) *outcomes { return &outcomes{slots: make([]atomic.Int32, n)} }

// expect announces one more request to complete; call it before the
// request is made, so that its completion cannot come first.
func (o *outcomes) expect() { o.done.Add(1) }

// complete records the completion of request i with err; a second
// completion of the same request is reported to t.
func (o *outcomes) complete(t testing.TB, i int, err error) {
	if n := o.slots[i].Add(1); n != 1 {
		t.Errorf("request %d completed %d times (last: %v)", i, n, err)
		return
	}
	key := "ok"
	if err != nil {
		key = err.Error()
	}
	v, _ := o.errs.LoadOrStore(key, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
	o.done.Done()
}

// allDone is closed once every expected completion has happened.
func (o *outcomes) allDone() <-chan struct{} {
	done := make(chan struct{})
	go func() {
		o.done.Wait()
		close(done)
	}()
	return done
}

// wait waits until every expected completion has happened.
func (o *outcomes) wait(t testing.TB) {
	t.Helper()
	recv(t, o.allDone(), "completion of every request")
}

// tally returns how many requests completed with each result ("ok" or
// the error's text).
func (o *outcomes) tally() map[string]int64 {
	m := map[string]int64{}
	o.errs.Range(func(k, v any) bool {
		m[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	return m
}

// completed returns how many requests completed at least once.
func (o *outcomes) completed() int {
	n := 0
	for i := range o.slots {
		if o.slots[i].Load() > 0 {
			n++
		}
	}
	return n
}

// heldRequests is a batch of getData requests that a stalled proxy
// holds: written by the handle, answered by nobody.
type heldRequests struct {
	n       int
	results *outcomes
	syncErr chan error
}

// holdInFlight stalls proxy, through which h is connected, makes n
// asynchronous getData requests of path and a synchronous one, and waits
// until the proxy has read every one of them.
func holdInFlight(t *testing.T, h *Handle, proxy *zktest.Proxy, path string, n int) *heldRequests {
	t.Helper()
	proxy.Stall()
	base := proxy.BytesIn()
	held := &heldRequests{n: n, results: newOutcomes(n), syncErr: make(chan error, 1)}
	for i := range n {
		held.results.expect()
		must(t, "AGet", h.AGet(path, false, func(err error, _ []byte, _ *Stat) { held.results.complete(t, i, err) }))
	}
	ctx := testContext(t)
	go func() {
		_, _, err := h.Get(ctx, path, false)
		held.syncErr <- err
	}()
	frameLen := int64(4 + 8 + 4 + len(path) + 1) // a getData request
	waitProxy(t, proxy, "request bytes", func() bool { return proxy.BytesIn() >= base+int64(n+1)*frameLen })
	return held
}

// expectLost waits until every held request has completed, each once and
// with ErrConnectionLoss.
func (held *heldRequests) expectLost(t *testing.T) {
	t.Helper()
	held.results.wait(t)
	if diff := cmp.Diff(map[string]int64{ErrConnectionLoss.Error(): int64(held.n)}, held.results.tally()); diff != "" {
		t.Errorf("requests in flight (-want +got):\n%s", diff)
	}
	if err := recv(t, held.syncErr, "Get in flight"); !errors.Is(err, ErrConnectionLoss) {
		t.Errorf("Get in flight: %v, want %v", err, ErrConnectionLoss)
	}
}

// waitProxy waits until cond holds, rechecking it at every change the
// proxy sees; what names the condition in the failure.
func waitProxy(t testing.TB, p *zktest.Proxy, what string, cond func() bool) {
	t.Helper()
	if err := p.WaitFor(testContext(t), cond); err != nil {
		t.Fatalf("proxy: no %s within %v", what, waitTimeout)
	}
}

// leakBaseline is what a test owns before Init: goroutines and open
// descriptors.
type leakBaseline struct{ goroutines, fds int }

func takeBaseline(t testing.TB) leakBaseline {
	t.Helper()
	return leakBaseline{goroutines: runtime.NumGoroutine(), fds: countFDs(t)}
}

// countFDs counts the entries of /proc/self/fd.
func countFDs(t testing.TB) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("count descriptors: %v", err)
	}
	return len(entries)
}

// check waits (a settling loop bounded by waitTimeout: goroutines and
// descriptors give nothing to wait on) until the goroutine and descriptor
// counts are back to the baseline, and fails the test with a goroutine
// dump and the descriptor list when they do not come back. It returns
// the counts it saw last.
func (b leakBaseline) check(t testing.TB) (goroutines, fds int) {
	t.Helper()
	ticker := time.NewTicker(5 * time.Millisecond)
	defer ticker.Stop()
	deadline := time.Now().Add(waitTimeout)
	for {
		goroutines, fds = runtime.NumGoroutine(), countFDs(t)
		if goroutines <= b.goroutines && fds <= b.fds {
			return goroutines, fds
		}
		if time.Now().After(deadline) {
			break
		}
		<-ticker.C
	}
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var links []string
	if entries, err := os.ReadDir("/proc/self/fd"); err == nil {
		for _, e := range entries {
			target, _ := os.Readlink("/proc/self/fd/" + e.Name()) // a descriptor closed meanwhile has none
			links = append(links, e.Name()+"→"+target)
		}
	}
	t.Errorf("leak after Close: %d goroutines (before Init %d), %d descriptors (before Init %d)\ndescriptors: %v\n%s",
		goroutines, b.goroutines, fds, b.fds, links, buf)
	return goroutines, fds
}

// closeAndCheck closes h and runs the leak check against b.
func closeAndCheck(t *testing.T, h *Handle, b leakBaseline) {
	t.Helper()
	took := closeHandle(t, h)
	goroutines, fds := b.check(t)
	t.Logf("Close took %v; goroutines %d→%d, descriptors %d→%d", took.Round(time.Millisecond), b.goroutines, goroutines, b.fds, fds)
}
