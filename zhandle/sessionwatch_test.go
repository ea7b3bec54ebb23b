package zhandle

import (
	"testing"
	"time"

	"github.com/zkloop/zkloop/zktest"
)

// proxied connects a second handle to c's chroot through a new fault proxy.
func proxied(t *testing.T, c *realClient, opts ...Option) (*realClient, *zktest.Proxy) {
	t.Helper()
	proxy := zktest.NewProxy(t, c.srv.Addr())
	return dial(t, c.srv, proxy.Addr()+c.chroot(), opts...), proxy
}

// A session watcher sees every session event, in order with watch events,
// once even when it also watches nodes, and nothing after its removal.
func TestAddSessionWatcher(t *testing.T) {
	owner := newRealClient(t)
	c, proxy := proxied(t, owner)
	mustCreate(t, owner.Handle, "/n", nil, Persistent)

	session, other := newRecorder(), newRecorder()
	remove := c.AddSessionWatcher(session)
	c.AddSessionWatcher(other)
	if _, err := c.WExists(testContext(t), "/n", session); err != nil {
		t.Fatalf("WExists: %v", err)
	}
	proxy.Cut()
	mustSet(t, owner.Handle, "/n", []byte("x"))
	session.expect(t, sessionEvent(StateConnecting), sessionEvent(StateConnected), watchEvent(EventChanged, "/n"))
	other.expect(t, sessionEvent(StateConnecting), sessionEvent(StateConnected))

	remove()
	remove() // idempotent
	proxy.Cut()
	other.expect(t, sessionEvent(StateConnecting), sessionEvent(StateConnected))
	barrier(t, c.Handle)
	session.expectNone(t)
}

// A watcher may remove itself while it runs.
func TestAddSessionWatcherRemovedFromItself(t *testing.T) {
	owner := newRealClient(t)
	c, proxy := proxied(t, owner)
	calls := make(chan Event, 4)
	removers := make(chan func(), 1)
	removers <- c.AddSessionWatcher(WatcherFunc(func(ev Event) {
		calls <- ev
		(<-removers)()
	}))
	proxy.Cut()
	if ev := recv(t, calls, "the watcher's first event"); ev != sessionEvent(StateConnecting) {
		t.Fatalf("first event %v, want the connection loss", ev)
	}
	if err := c.WaitConnected(testContext(t)); err != nil {
		t.Fatalf("WaitConnected: %v", err)
	}
	barrier(t, c.Handle)
	if len(calls) != 0 {
		t.Fatalf("the watcher ran again after removing itself: %v", <-calls)
	}
}

// SessionAliveUntil is zero before a session, a timeout after the
// handshake once connected, and advances with pings even while requests
// keep the connection busy.
func TestSessionAliveUntilAdvances(t *testing.T) {
	srv := sharedServer(t)
	const timeout = 2 * time.Second // pings every 667 ms
	beforeInit := time.Now()
	h := connectHandle(t, srv.Addr(), nil, timeout)
	first := h.SessionAliveUntil()
	if negotiated := h.RecvTimeout(); first.Before(beforeInit.Add(negotiated)) || first.After(time.Now().Add(negotiated)) {
		t.Fatalf("SessionAliveUntil after the handshake = %v, not a timeout (%v) after the handshake", first, negotiated)
	}
	// Busy: requests back to back, so the handle is never idle for a
	// third of the timeout, yet pings go on.
	ctx := testContext(t)
	deadline := time.Now().Add(waitTimeout)
	for h.SessionAliveUntil().Equal(first) {
		if time.Now().After(deadline) {
			t.Fatalf("SessionAliveUntil stuck at %v for %v of requests", first, waitTimeout)
		}
		if _, err := h.Exists(ctx, "/", false); err != nil {
			t.Fatalf("Exists: %v", err)
		}
	}
	if got := h.SessionAliveUntil(); !got.After(first) {
		t.Fatalf("SessionAliveUntil went from %v to %v", first, got)
	}
}

// The server never expires a session before SessionAliveUntil: a handle
// cut off by a black hole has its ephemeral node removed by the server,
// and the removal is seen no earlier than the handle's promise.
func TestSessionAliveUntilPrecedesServerExpiry(t *testing.T) {
	owner := newRealClient(t)
	proxy := zktest.NewProxy(t, owner.srv.Addr())
	const timeout = 2 * time.Second
	h := connectHandle(t, proxy.Addr()+owner.chroot(), nil, timeout)
	if _, err := h.Create(testContext(t), "/eph", nil, OpenACLUnsafe, Ephemeral); err != nil {
		t.Fatalf("Create: %v", err)
	}
	gone := newRecorder()
	if _, err := owner.WExists(testContext(t), "/eph", gone); err != nil {
		t.Fatalf("WExists: %v", err)
	}

	cutAt := time.Now()
	proxy.Stall()
	gone.expect(t, watchEvent(EventDeleted, "/eph"))
	expiredBy := time.Now()
	promise := h.SessionAliveUntil()
	if expiredBy.Before(promise) {
		t.Errorf("the server expired the session by %v, before SessionAliveUntil %v", expiredBy, promise)
	}
	// The promise is useful, too: pings every third of the timeout keep
	// it at least half a timeout beyond the cut.
	if promise.Before(cutAt.Add(h.RecvTimeout() / 2)) {
		t.Errorf("SessionAliveUntil %v is less than half the timeout (%v) after the cut at %v", promise, h.RecvTimeout(), cutAt)
	}
}

// Close ends with a StateClosed event for the session watchers, after
// every callback of the requests it failed; other watchers get nothing.
func TestAddSessionWatcherToldOfClose(t *testing.T) {
	owner := newRealClient(t)
	h := connectHandle(t, owner.connect, nil, sessionTimeout)
	// WaitConnected can return before the handshake's session event is
	// queued; once a round trip is back it has been delivered, and a
	// session watcher added now does not get it.
	barrier(t, h)
	session, node := newRecorder(), newRecorder()
	h.AddSessionWatcher(session)
	if _, err := h.WExists(testContext(t), "/", node); err != nil {
		t.Fatalf("WExists: %v", err)
	}
	failed := make(chan error, 1)
	if err := h.ASync("/", func(err error, _ string) { failed <- err }); err != nil {
		t.Fatal(err)
	}
	closeHandle(t, h)
	recv(t, failed, "callback of the request queued before Close") // Close failed it
	session.expect(t, sessionEvent(StateClosed))
	node.expectNone(t)
}
