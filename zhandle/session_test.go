package zhandle

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zkloop/zkloop/serialize"
	"github.com/zkloop/zkloop/zktest"
)

// Session tests against a real ZooKeeper server: restarts, expiry forced
// by the server, auth and watches carried over reconnects. The handle
// under test reaches the server through a zktest.Proxy, so that a test can
// keep it away from the server (Refuse), cut it off (Cut), or keep its
// requests in flight (Stall) at exactly the moment it needs.

// serverBehindProxy starts a server and a handle that reaches it through a
// proxy, with a recorder as its watcher.
func serverBehindProxy(t *testing.T) (*zktest.Server, *zktest.Proxy, *recorder, *Handle) {
	t.Helper()
	srv := startServer(t)
	proxy := zktest.NewProxy(t, srv.Addr())
	rec := newRecorder()
	return srv, proxy, rec, connectHandle(t, proxy.Addr(), rec, sessionTimeout)
}

// TestSessionRestartRestoresWatches kills the server while data, exists
// and child watches are set and requests are in flight. The requests fail
// with ErrConnectionLoss, exactly once. While the handle is kept away, the
// server comes back and a second handle changes half of the watched nodes;
// then the handle reconnects with the same session, SetWatches fires the
// watches of the nodes changed while it was away, and the other watches,
// restored, fire on changes made after.
func TestSessionRestartRestoresWatches(t *testing.T) {
	srv, proxy, rec, h := serverBehindProxy(t)
	ctx := testContext(t)
	for _, p := range []string{"/r", "/r/d1", "/r/d2", "/r/c1", "/r/c2"} {
		_, err := h.Create(ctx, p, []byte("v0"), OpenACLUnsafe, Persistent)
		must(t, "Create "+p, err)
	}
	for _, p := range []string{"/r/d1", "/r/d2"} {
		_, _, err := h.Get(ctx, p, true)
		must(t, "Get "+p, err)
	}
	for _, p := range []string{"/r/e1", "/r/e2"} {
		if _, err := h.Exists(ctx, p, true); !errors.Is(err, ErrNoNode) {
			t.Fatalf("Exists %s: %v, want %v", p, err, ErrNoNode)
		}
	}
	for _, p := range []string{"/r/c1", "/r/c2"} {
		_, err := h.GetChildren(ctx, p, true)
		must(t, "GetChildren "+p, err)
	}
	id := h.ClientID()

	// Requests in flight: written by the handle, held by the proxy.
	const inFlight = 100
	held := holdInFlight(t, h, proxy, "/r/d1", inFlight)

	// The kill ends the stalled connection: a crash is not held.
	proxy.Refuse(true)
	srv.Kill()
	held.expectLost(t)
	rec.waitSession(t, StateConnecting)
	proxy.Resume()

	srv.Start()
	other := connectHandle(t, srv.Addr(), nil, sessionTimeout)
	_, err := other.Set(ctx, "/r/d1", []byte("v1"), -1)
	must(t, "Set /r/d1", err)
	_, err = other.Create(ctx, "/r/e1", nil, OpenACLUnsafe, Persistent)
	must(t, "Create /r/e1", err)
	_, err = other.Create(ctx, "/r/c1/new", nil, OpenACLUnsafe, Persistent)
	must(t, "Create /r/c1/new", err)

	proxy.Refuse(false)
	rec.waitSession(t, StateConnected)
	if got := h.ClientID(); got != id {
		t.Errorf("session after the restart %#x, want %#x", got.SessionID, id.SessionID)
	}
	rec.waitAll(t, watchEvent(EventChanged, "/r/d1"), watchEvent(EventCreated, "/r/e1"), watchEvent(EventChild, "/r/c1"))

	_, err = other.Set(ctx, "/r/d2", []byte("v1"), -1)
	must(t, "Set /r/d2", err)
	_, err = other.Create(ctx, "/r/e2", nil, OpenACLUnsafe, Persistent)
	must(t, "Create /r/e2", err)
	_, err = other.Create(ctx, "/r/c2/new", nil, OpenACLUnsafe, Persistent)
	must(t, "Create /r/c2/new", err)
	rec.waitAll(t, watchEvent(EventChanged, "/r/d2"), watchEvent(EventCreated, "/r/e2"), watchEvent(EventChild, "/r/c2"))

	// Any second completion of a failed request would have come before
	// the reply to a later request.
	_, _, err = h.Get(ctx, "/r/d1", false)
	must(t, "Get after the reconnect", err)
	if n := held.results.completed(); n != inFlight {
		t.Errorf("%d of %d requests completed", n, inFlight)
	}
}

// TestSessionExpiredByServer has a second handle resume the session of a
// first one, kept away from the server, and close it. When the first comes
// back the server tells it the session has expired: StateExpiredSession,
// a session event with that state to its watchers, ErrSessionExpired for
// what it queued meanwhile and at once for later calls.
func TestSessionExpiredByServer(t *testing.T) {
	srv, proxy, rec, h := serverBehindProxy(t)
	ctx := testContext(t)
	_, err := h.Create(ctx, "/x", nil, OpenACLUnsafe, Persistent)
	must(t, "Create", err)
	watcher := newRecorder()
	_, _, err = h.WGet(ctx, "/x", watcher)
	must(t, "WGet", err)

	proxy.Refuse(true)
	proxy.Cut()
	rec.waitSession(t, StateConnecting)
	id := h.ClientID()
	thief := connectHandle(t, srv.Addr(), nil, sessionTimeout, WithClientID(id))
	if got := thief.ClientID().SessionID; got != id.SessionID {
		t.Fatalf("second handle has session %#x, want %#x", got, id.SessionID)
	}
	closeHandle(t, thief) // CloseSession: the server ends the session

	// Let the handle connect, but hold its ConnectRequest until it has
	// queued requests behind the handshake.
	proxy.Stall()
	proxy.Refuse(false)
	waitProxy(t, proxy, "a connection", func() bool { return proxy.Connections() > 0 })
	const pending = 3
	count := newOutcomes(pending)
	for i := range pending {
		count.expect()
		must(t, "AExists", h.AExists("/x", false, func(err error, _ *Stat) { count.complete(t, i, err) }))
	}
	syncErr := make(chan error, 1)
	go func() {
		_, _, err := h.Get(ctx, "/x", false)
		syncErr <- err
	}()
	proxy.Resume()

	rec.waitSession(t, StateExpiredSession)
	count.wait(t)
	if diff := cmp.Diff(map[string]int64{ErrSessionExpired.Error(): pending}, count.tally()); diff != "" {
		t.Errorf("requests pending at the expiry (-want +got):\n%s", diff)
	}
	if err := recv(t, syncErr, "Get"); !errors.Is(err, ErrSessionExpired) {
		t.Errorf("Get pending at the expiry: %v, want %v", err, ErrSessionExpired)
	}
	if got := h.State(); got != StateExpiredSession {
		t.Errorf("State() = %v, want %v", got, StateExpiredSession)
	}
	if err := h.WaitConnected(ctx); !errors.Is(err, ErrSessionExpired) {
		t.Errorf("WaitConnected: %v, want %v", err, ErrSessionExpired)
	}
	if _, err := h.Exists(ctx, "/x", false); !errors.Is(err, ErrSessionExpired) {
		t.Errorf("Exists after expiry: %v, want %v", err, ErrSessionExpired)
	}
	if err := h.AGet("/x", false, func(error, []byte, *Stat) { t.Error("callback of a refused request") }); !errors.Is(err, ErrSessionExpired) {
		t.Errorf("AGet after expiry: %v, want %v", err, ErrSessionExpired)
	}
	closeHandle(t, h)
	want := []Event{sessionEvent(StateConnected), sessionEvent(StateConnecting), sessionEvent(StateExpiredSession)}
	if diff := cmp.Diff(want, rec.all()); diff != "" {
		t.Errorf("default watcher's events (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want[1:], watcher.all()); diff != "" {
		t.Errorf("data watcher's events (-want +got):\n%s", diff)
	}
}

// TestSessionAuthSurvivesRestart checks that the identities of a session
// are sent again after a reconnect, before anything else: one added while
// connected and one added while the server was down.
func TestSessionAuthSurvivesRestart(t *testing.T) {
	srv := startServer(t)
	rec := newRecorder()
	h := connectHandle(t, srv.Addr(), rec, sessionTimeout)
	ctx := testContext(t)
	must(t, "AddAuth alice", h.AddAuth(ctx, "digest", []byte("alice:secret")))
	_, err := h.Create(ctx, "/alice", []byte("for alice"), CreatorAllACL, Persistent)
	must(t, "Create /alice", err)
	stranger := connectHandle(t, srv.Addr(), nil, sessionTimeout)
	if _, _, err := stranger.Get(ctx, "/alice", false); !errors.Is(err, ErrNoAuth) {
		t.Fatalf("Get /alice without auth: %v, want %v", err, ErrNoAuth)
	}
	closeHandle(t, stranger)
	id := h.ClientID()

	srv.Stop()
	rec.waitSession(t, StateConnecting)
	bob := make(chan error, 1)
	go func() { bob <- h.AddAuth(ctx, "digest", []byte("bob:pw")) }()
	srv.Start()
	rec.waitSession(t, StateConnected)
	if err := recv(t, bob, "AddAuth bob"); err != nil {
		t.Errorf("AddAuth while disconnected: %v", err)
	}
	if got := h.ClientID(); got != id {
		t.Errorf("session after the restart %#x, want %#x", got.SessionID, id.SessionID)
	}
	data, _, err := h.Get(ctx, "/alice", false)
	if err != nil || string(data) != "for alice" {
		t.Errorf("Get /alice after the restart: %q, %v", data, err)
	}
	_, err = h.Create(ctx, "/both", nil, CreatorAllACL, Persistent)
	must(t, "Create /both", err)
	acl, _, err := h.GetACL(ctx, "/both")
	must(t, "GetACL /both", err)
	var ids []string
	for _, a := range acl {
		ids = append(ids, a.ID.Scheme+" "+a.ID.ID)
	}
	slices.Sort(ids)
	want := []string{"digest " + digestID("alice", "secret"), "digest " + digestID("bob", "pw")}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("identities of the session after the restart (-want +got):\n%s", diff)
	}
}

// TestSessionSetWatchesSplit sets watches on 3,000 long paths (over
// 200 KiB of them), restarts the server and checks the SetWatches the
// handle sends: several packets, none much over 128 KiB, together every
// watched path once; then a change to a path of the last packet fires.
func TestSessionSetWatchesSplit(t *testing.T) {
	const nodes = 3000
	srv, proxy, rec, h := serverBehindProxy(t)
	ctx := testContext(t)
	_, err := h.Create(ctx, "/sw", nil, OpenACLUnsafe, Persistent)
	must(t, "Create /sw", err)
	name := func(i int) string { return fmt.Sprintf("/sw/node-%04d-%s", i, strings.Repeat("x", 64)) }
	created := newOutcomes(nodes)
	for i := range nodes {
		created.expect()
		must(t, "ACreate", h.ACreate(name(i), nil, OpenACLUnsafe, Persistent, func(err error, _ string) { created.complete(t, i, err) }))
	}
	created.wait(t)
	watched := newOutcomes(nodes + 2)
	var want []string // server paths of every watch
	for i := range nodes {
		watched.expect()
		must(t, "AGet", h.AGet(name(i), true, func(err error, _ []byte, _ *Stat) { watched.complete(t, i, err) }))
		want = append(want, name(i))
	}
	watched.expect()
	must(t, "AExists", h.AExists("/sw/absent", true, func(err error, _ *Stat) {
		if errors.Is(err, ErrNoNode) {
			err = nil
		}
		watched.complete(t, nodes, err)
	}))
	watched.expect()
	must(t, "AGetChildren", h.AGetChildren("/sw", true, func(err error, _ []string) { watched.complete(t, nodes+1, err) }))
	want = append(want, "/sw/absent", "/sw")
	watched.wait(t)
	for what, n := range watched.tally() {
		if what != "ok" {
			t.Fatalf("%d watches failed: %s", n, what)
		}
	}

	proxy.RecordClientFrames()
	srv.Stop()
	rec.waitSession(t, StateConnecting)
	srv.Start()
	rec.waitSession(t, StateConnected)
	_, err = h.Exists(ctx, "/sw", false) // after the SetWatches, in session order
	must(t, "Exists", err)

	var packets []serialize.SetWatches
	longest := len(name(0))
	for _, frame := range proxy.ClientFrames() {
		var hdr serialize.RequestHeader
		n, err := hdr.Decode(frame)
		if err != nil || hdr.Xid != serialize.XidSetWatches {
			continue
		}
		if hdr.Type != int32(serialize.OpSetWatches) {
			t.Fatalf("SetWatches with op %v", serialize.OpCode(hdr.Type))
		}
		if max := maxSetWatchesBytes + longest + 64; len(frame) > max {
			t.Errorf("SetWatches packet of %d bytes, want at most %d", len(frame), max)
		}
		var sw serialize.SetWatches
		if _, err := sw.Decode(frame[n:]); err != nil {
			t.Fatalf("SetWatches: %v", err)
		}
		packets = append(packets, sw)
	}
	if len(packets) < 2 {
		t.Fatalf("%d SetWatches packets for %d watches, want them split", len(packets), len(want))
	}
	var got []string
	for _, sw := range packets {
		if sw.RelativeZxid != packets[0].RelativeZxid || sw.RelativeZxid == 0 {
			t.Errorf("relativeZxid %#x, first packet %#x", sw.RelativeZxid, packets[0].RelativeZxid)
		}
		got = append(append(append(got, sw.DataWatches...), sw.ExistWatches...), sw.ChildWatches...)
	}
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("paths in the SetWatches packets (-want +got):\n%s", diff)
	}
	t.Logf("%d watches restored in %d SetWatches packets", len(got), len(packets))

	last := packets[len(packets)-1]
	lastPath := slices.Concat(last.DataWatches, last.ExistWatches, last.ChildWatches)[0]
	other := connectHandle(t, srv.Addr(), nil, sessionTimeout)
	changed := []Event{watchEvent(EventCreated, "/sw/absent"), watchEvent(EventChild, "/sw")}
	for _, p := range slices.Compact([]string{lastPath, name(nodes - 1)}) {
		if p == "/sw" || p == "/sw/absent" {
			continue // changed below
		}
		_, err := other.Set(ctx, p, []byte("changed"), -1)
		must(t, "Set "+p, err)
		changed = append(changed, watchEvent(EventChanged, p))
	}
	_, err = other.Create(ctx, "/sw/absent", nil, OpenACLUnsafe, Persistent)
	must(t, "Create /sw/absent", err)
	rec.waitAll(t, changed...)
}
