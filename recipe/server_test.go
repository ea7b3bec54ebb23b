package recipe

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/zkloop/zkloop/internal/recipetest"
	"github.com/zkloop/zkloop/serialize"
	"github.com/zkloop/zkloop/zhandle"
	"github.com/zkloop/zkloop/zktest"
)

// TestRealServer runs the real-server tests of the package on one server.
func TestRealServer(t *testing.T) {
	srv := recipetest.Start(t)
	for _, tt := range []struct {
		name string
		test func(*testing.T, *zktest.Server)
	}{
		{"CreateProtected", testCreateProtected},
		{"CreateProtectedParentsComeBack", testCreateProtectedParentsComeBack},
		{"CreateProtectedLostReply", testCreateProtectedLostReply},
		{"CreateProtectedCancelledInFlight", testCreateProtectedCancelledInFlight},
		{"CreateProtectedDoneContext", testCreateProtectedDoneContext},
		{"CreateProtectedDeadSession", testCreateProtectedDeadSession},
		{"DeleteGuaranteed", testDeleteGuaranteed},
		{"DeleteGuaranteedAcrossReconnect", testDeleteGuaranteedAcrossReconnect},
		{"TrackerStates", testTrackerStates},
		{"TrackerReconnect", testTrackerReconnect},
		{"TrackerLostBeforeServerExpiry", testTrackerLostBeforeServerExpiry},
		{"TrackerLatent", testTrackerLatent},
	} {
		t.Run(tt.name, func(t *testing.T) { tt.test(t, srv) })
	}
}

// proxied connects a handle to a new chroot through a fault proxy that
// records the requests; the second handle is a direct one on the chroot.
func proxied(t *testing.T, srv *zktest.Server, timeout time.Duration) (h, direct *zhandle.Handle, p *zktest.Proxy) {
	t.Helper()
	chroot := recipetest.Chroot(t, srv.Addr())
	p = zktest.NewProxy(t, srv.Addr())
	h = recipetest.ConnectTimeout(t, p.Addr()+chroot, timeout)
	return h, recipetest.Connect(t, srv.Addr()+chroot), p
}

// A protected node has Curator's name and the caller's data, mode and
// ACL, under parents made as containers.
func testCreateProtected(t *testing.T, srv *zktest.Server) {
	h := recipetest.Connect(t, srv.Addr()+recipetest.Chroot(t, srv.Addr()))
	ctx := recipetest.Context(t)
	created, stat, err := CreateProtected(ctx, h, "/a/b/lock-", []byte("data"), zhandle.OpenACLUnsafe, zhandle.EphemeralSequential)
	if err != nil {
		t.Fatalf("CreateProtected: %v", err)
	}
	dir, name, _ := strings.Cut(created[1:], "/b/")
	if dir != "a" || !IsProtected(name) || StripProtection(name) != "lock-0000000000" {
		t.Errorf("created %q, want /a/b/_c_<uuid>-lock-0000000000", created)
	}
	if stat.EphemeralOwner != h.ClientID().SessionID {
		t.Errorf("ephemeralOwner %#x, want the session %#x", stat.EphemeralOwner, h.ClientID().SessionID)
	}
	data, _, err := h.Get(ctx, created, false)
	if err != nil || string(data) != "data" {
		t.Errorf("Get(%s) = %q, %v; want \"data\"", created, data, err)
	}
	for _, parent := range []string{"/a", "/a/b"} {
		if data, stat, err := h.Get(ctx, parent, false); err != nil || len(data) != 0 || stat.EphemeralOwner != 0 {
			t.Errorf("parent %s: data %q, owner %#x, %v; want an empty persistent kind", parent, data, stat.EphemeralOwner, err)
		}
	}
}

// Parents are containers: the server removes them once empty, and the
// next create makes them again.
func testCreateProtectedParentsComeBack(t *testing.T, srv *zktest.Server) {
	h := recipetest.Connect(t, srv.Addr()+recipetest.Chroot(t, srv.Addr()))
	ctx := recipetest.Context(t)
	for round := range 2 {
		created, _, err := CreateProtected(ctx, h, "/a/b/c/item-", nil, zhandle.OpenACLUnsafe, zhandle.PersistentSequential)
		if err != nil {
			t.Fatalf("round %d: CreateProtected: %v", round, err)
		}
		if !strings.HasSuffix(created, "-item-0000000000") {
			t.Errorf("round %d: created %s; a new container's sequence starts at 0", round, created)
		}
		if err := h.Delete(ctx, created, -1); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		recipetest.WaitGone(t, h, "/a") // the sweeper removes c, then b, then a
	}
}

// A create whose reply is lost is found by its prefix: one node, one
// create sent, and the listing that found it.
func testCreateProtectedLostReply(t *testing.T, srv *zktest.Server) {
	// A long session: no ping reply is due while the cut waits for one.
	h, direct, p := proxied(t, srv, 30*time.Second)
	ctx := recipetest.Context(t)
	if err := CreateParents(ctx, h, "/dir/x"); err != nil {
		t.Fatal(err)
	}
	p.RecordClientFrames()
	cut := p.CutMidFrame()
	created, stat, err := CreateProtected(ctx, h, "/dir/lock-", nil, zhandle.OpenACLUnsafe, zhandle.EphemeralSequential)
	if err != nil {
		t.Fatalf("CreateProtected: %v", err)
	}
	recipetest.Receive(t, cut, "cut")
	if diff := cmp.Diff([]string{created[len("/dir/"):]}, recipetest.Children(t, direct, "/dir")); diff != "" {
		t.Errorf("children after the recovery (-want +got):\n%s", diff)
	}
	if stat.EphemeralOwner != h.ClientID().SessionID {
		t.Errorf("ephemeralOwner %#x, want %#x", stat.EphemeralOwner, h.ClientID().SessionID)
	}
	reqs := recipetest.Requests(p)
	if n := recipetest.Count(reqs, serialize.OpCreate2); n != 1 {
		t.Errorf("%d creates sent, want 1: %v", n, reqs)
	}
	if n := recipetest.Count(reqs, serialize.OpGetChildren); n != 1 {
		t.Errorf("%d listings sent, want the 1 of the recovery: %v", n, reqs)
	}
}

// A create that the caller gave up on while it was in flight is deleted
// in the background once it has been applied.
func testCreateProtectedCancelledInFlight(t *testing.T, srv *zktest.Server) {
	h, direct, p := proxied(t, srv, recipetest.SessionTimeout)
	ctx := recipetest.Context(t)
	// Persistent: the sweeper would remove a container emptied by the cleanup.
	if _, err := h.Create(ctx, "/dir", nil, zhandle.OpenACLUnsafe, zhandle.Persistent); err != nil {
		t.Fatal(err)
	}
	_, before, err := direct.GetChildren2(ctx, "/dir", false)
	if err != nil {
		t.Fatal(err)
	}
	p.Stall() // the create waits in the proxy
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, _, err := CreateProtected(short, h, "/dir/lock-", nil, zhandle.OpenACLUnsafe, zhandle.EphemeralSequential); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("CreateProtected = %v, want the deadline", err)
	}
	p.Resume()
	// The create and the cleanup's delete each change the children once.
	children := waitCversion(t, direct, "/dir", before.Cversion+2)
	if len(children) != 0 {
		t.Errorf("children %q left behind", children)
	}
}

// waitCversion waits until dir's cversion reaches want and returns its
// children then.
func waitCversion(t *testing.T, h *zhandle.Handle, dir string, want int32) []string {
	t.Helper()
	var children []string
	recipetest.WatchUntil(t, "the children's changes", func(ctx context.Context, w zhandle.Watcher) (bool, error) {
		var stat zhandle.Stat
		var err error
		children, stat, err = h.WGetChildren2(ctx, dir, w)
		return stat.Cversion >= want, err
	})
	return children
}

// A context already done sends nothing.
func testCreateProtectedDoneContext(t *testing.T, srv *zktest.Server) {
	h, _, p := proxied(t, srv, recipetest.SessionTimeout)
	p.RecordClientFrames()
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := CreateProtected(done, h, "/dir/lock-", nil, zhandle.OpenACLUnsafe, zhandle.EphemeralSequential); !errors.Is(err, context.Canceled) {
		t.Errorf("CreateProtected = %v, want context.Canceled", err)
	}
	if err := CreateParents(done, h, "/dir/x"); !errors.Is(err, context.Canceled) {
		t.Errorf("CreateParents = %v, want context.Canceled", err)
	}
	recipetest.SentNothing(t, h, p)
}

// A node found under our prefix but owned by another session belongs to
// a dead session: it is deleted, and a node with a new prefix made.
func testCreateProtectedDeadSession(t *testing.T, srv *zktest.Server) {
	hosts := srv.Addr() + recipetest.Chroot(t, srv.Addr())
	h, other := recipetest.Connect(t, hosts), recipetest.Connect(t, hosts)
	ctx := recipetest.Context(t)
	id := RandomUUID()
	name, _ := protectedPath("/dir", id, "member")
	stale, _, err := Create(ctx, other, name, nil, zhandle.OpenACLUnsafe, zhandle.Ephemeral)
	if err != nil {
		t.Fatal(err)
	}
	// The same name, as a retry after a lost reply would send it: taken.
	created, stat, err := createProtected(ctx, h, "/dir", "member", id, nil, zhandle.OpenACLUnsafe, zhandle.Ephemeral)
	if err != nil {
		t.Fatalf("createProtected: %v", err)
	}
	if created == stale || !IsProtected(created[len("/dir/"):]) || stat.EphemeralOwner != h.ClientID().SessionID {
		t.Errorf("created %s owned by %#x; want a new protected node of %#x", created, stat.EphemeralOwner, h.ClientID().SessionID)
	}
	recipetest.WaitGone(t, h, stale)
	if diff := cmp.Diff([]string{created[len("/dir/"):]}, recipetest.Children(t, h, "/dir")); diff != "" {
		t.Errorf("children (-want +got):\n%s", diff)
	}
}

func testDeleteGuaranteed(t *testing.T, srv *zktest.Server) {
	hosts := srv.Addr() + recipetest.Chroot(t, srv.Addr())
	h := recipetest.Connect(t, hosts)
	ctx := recipetest.Context(t)
	for _, p := range []string{"/full", "/full/child", "/node"} {
		if _, err := h.Create(ctx, p, nil, zhandle.OpenACLUnsafe, zhandle.Persistent); err != nil {
			t.Fatal(err)
		}
	}
	closed := recipetest.Connect(t, hosts)
	closed.Close()
	tests := []struct {
		name string
		h    *zhandle.Handle
		path string
		want error
	}{
		{"existing", h, "/node", nil},
		{"missing", h, "/missing", nil},
		{"not empty", h, "/full", zhandle.ErrNotEmpty},
		{"closed handle", closed, "/node", zhandle.ErrClosing},
	}
	for _, tt := range tests {
		done := make(chan error, 1)
		DeleteGuaranteed(tt.h, tt.path, func(err error) { done <- err })
		if err := recipetest.Receive(t, done, tt.name+" outcome"); !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
			t.Errorf("%s: done(%v), want %v", tt.name, err, tt.want)
		}
	}
	if _, err := h.Exists(ctx, "/node", false); !errors.Is(err, zhandle.ErrNoNode) {
		t.Errorf("Exists(/node) after the delete: %v", err)
	}
}

// A delete lost with the connection is sent again once the handle is
// connected again.
func testDeleteGuaranteedAcrossReconnect(t *testing.T, srv *zktest.Server) {
	h, direct, p := proxied(t, srv, recipetest.SessionTimeout)
	if _, err := direct.Create(recipetest.Context(t), "/node", nil, zhandle.OpenACLUnsafe, zhandle.Persistent); err != nil {
		t.Fatal(err)
	}
	p.RecordClientFrames()
	p.Stall() // the delete waits in the proxy ...
	done := make(chan error, 1)
	DeleteGuaranteed(h, "/node", func(err error) { done <- err })
	if err := p.WaitFor(recipetest.Context(t), func() bool { return len(p.ClientFrames()) > 0 }); err != nil {
		t.Fatal(err)
	}
	p.Cut() // ... and is dropped with the connection
	p.Resume()
	if err := recipetest.Receive(t, done, "delete outcome"); err != nil {
		t.Fatalf("done(%v), want nil", err)
	}
	recipetest.WaitGone(t, direct, "/node")
	if n := recipetest.Count(recipetest.Requests(p), serialize.OpDelete); n != 2 {
		t.Errorf("%d deletes sent, want 2", n)
	}
}

// stateLog records what a Tracker delivers.
type stateLog chan ConnectionState

func newStateLog() stateLog { return make(stateLog, 64) }

func (l stateLog) listen(s ConnectionState) { l <- s }

// expect waits for want, in order, then checks that nothing else came.
func (l stateLog) expect(t *testing.T, want ...ConnectionState) {
	t.Helper()
	var got []ConnectionState
	for range want {
		got = append(got, recipetest.Receive(t, l, "connection state"))
	}
	for len(l) > 0 {
		got = append(got, <-l)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("states (-want +got):\n%s", diff)
	}
}

// The state machine over the handle's session events.
func testTrackerStates(t *testing.T, srv *zktest.Server) {
	h := recipetest.Connect(t, srv.Addr())
	tests := []struct {
		name   string
		events []zhandle.State
		want   []ConnectionState
	}{
		{"suspended", []zhandle.State{zhandle.StateConnecting}, []ConnectionState{Suspended}},
		{"reconnected", []zhandle.State{zhandle.StateConnecting, zhandle.StateConnected}, []ConnectionState{Suspended, Reconnected}},
		{"suspended once", []zhandle.State{zhandle.StateConnecting, zhandle.StateConnecting}, []ConnectionState{Suspended}},
		{"expired", []zhandle.State{zhandle.StateConnecting, zhandle.StateExpiredSession, zhandle.StateExpiredSession}, []ConnectionState{Suspended, Lost}},
		{"auth failed", []zhandle.State{zhandle.StateAuthFailed}, []ConnectionState{Lost}},
		{"read-only", []zhandle.State{zhandle.StateConnecting, zhandle.StateReadOnly, zhandle.StateConnected}, []ConnectionState{Suspended, ReadOnly, Reconnected}},
		{"connected again", []zhandle.State{zhandle.StateConnected}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := newStateLog()
			tr := NewTracker(h, log.listen)
			defer tr.Stop()
			if s := tr.State(); s != Connected {
				t.Fatalf("initial state %v", s)
			}
			for _, ev := range tt.events {
				tr.sessionEvent(ev)
			}
			log.expect(t, tt.want...)
		})
	}
}

// A connection reset is a suspension the reconnection ends; after Stop
// nothing is delivered.
func testTrackerReconnect(t *testing.T, srv *zktest.Server) {
	h, _, p := proxied(t, srv, recipetest.SessionTimeout)
	log := newStateLog()
	tr := NewTracker(h, log.listen)
	p.Cut()
	log.expect(t, Suspended, Reconnected)
	tr.Stop()
	tr.Stop()
	after := make(chan zhandle.Event, 8)
	defer h.AddSessionWatcher(zhandle.WatcherFunc(func(ev zhandle.Event) { after <- ev }))()
	p.Cut()
	for _, want := range []zhandle.State{zhandle.StateConnecting, zhandle.StateConnected} {
		if ev := recipetest.Receive(t, after, "session event"); ev.State != want {
			t.Fatalf("session event %v, want %v", ev, want)
		}
	}
	log.expect(t) // delivered to the Tracker's watcher first, had it still been there
}

// With the connection down, Lost comes once the server may expire the
// session and no later than it does: a second session watching an
// ephemeral node of ours sees it go no earlier than Lost.
func testTrackerLostBeforeServerExpiry(t *testing.T, srv *zktest.Server) {
	const timeout = 2 * time.Second
	h, direct, p := proxied(t, srv, timeout)
	ctx := recipetest.Context(t)
	if _, err := h.Create(ctx, "/eph", nil, zhandle.OpenACLUnsafe, zhandle.Ephemeral); err != nil {
		t.Fatal(err)
	}
	log := newStateLog()
	tr := NewTracker(h, log.listen)
	defer tr.Stop()
	events := make(chan zhandle.Event, 8)
	defer h.AddSessionWatcher(zhandle.WatcherFunc(func(ev zhandle.Event) { events <- ev }))()
	gone := make(chan time.Time, 1)
	if _, err := direct.WExists(ctx, "/eph", zhandle.WatcherFunc(func(ev zhandle.Event) {
		if ev.Type == zhandle.EventDeleted {
			gone <- time.Now()
		}
	})); err != nil {
		t.Fatal(err)
	}

	p.Stall()
	log.expect(t, Suspended)
	if s := recipetest.Receive(t, log, "LOST"); s != Lost {
		t.Fatalf("state %v, want LOST", s)
	}
	lostAt := time.Now()
	if promise := h.SessionAliveUntil(); lostAt.Before(promise) {
		t.Errorf("LOST at %v, before SessionAliveUntil %v", lostAt, promise)
	}
	if deletedAt := recipetest.Receive(t, gone, "the ephemeral node's deletion"); deletedAt.Before(lostAt) {
		t.Errorf("the server removed the session's node at %v, before LOST at %v", deletedAt, lostAt)
	}
	p.Resume() // the handle hears that its session expired: no second LOST
	for recipetest.Receive(t, events, "the expiry").State != zhandle.StateExpiredSession {
	}
	log.expect(t)
	if s := tr.State(); s != Lost {
		t.Errorf("final state %v", s)
	}
}

// Before the first session a Tracker is Latent, then Connected.
func testTrackerLatent(t *testing.T, srv *zktest.Server) {
	p := zktest.NewProxy(t, srv.Addr())
	p.Stall()
	h, err := zhandle.Init(p.Addr(), nil, recipetest.SessionTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	log := newStateLog()
	tr := NewTracker(h, log.listen)
	defer tr.Stop()
	if s := tr.State(); s != Latent {
		t.Errorf("state before the session %v, want LATENT", s)
	}
	p.Resume()
	log.expect(t, Connected)
}
