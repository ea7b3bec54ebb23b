package cache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zkloop/zkloop/zhandle"
	"github.com/zkloop/zkloop/zktest"
)

// TestRealServer runs the tests that need ZooKeeper against one standalone
// server, each in a chroot of its own.
func TestRealServer(t *testing.T) {
	srv := zktest.NewServer(t)
	t.Run("reference", func(t *testing.T) { testReference(t, srv) })
	t.Run("priming-during-changes", func(t *testing.T) { testPrimingDuringChanges(t, srv) })
	t.Run("options", func(t *testing.T) { testOptions(t, srv) })
	t.Run("max-bytes", func(t *testing.T) { testMaxBytes(t, srv) })
	t.Run("changes-while-disconnected", func(t *testing.T) { testChangesWhileDisconnected(t, srv) })
	t.Run("renewal", func(t *testing.T) { testRenewal(t, srv) })
	t.Run("root-lifecycle", func(t *testing.T) { testRootLifecycle(t, srv) })
	t.Run("close", func(t *testing.T) { testClose(t, srv) })
	t.Run("large-tree", func(t *testing.T) { testLargeTree(t, srv) })
	t.Run("large-data", func(t *testing.T) { testLargeData(t, srv) })
	t.Run("too-large-to-read", func(t *testing.T) { testTooLargeToRead(t, srv) })
}

// A treeSpec is a tree to create: path → data, parents first.
var smallTree = []struct{ path, data string }{
	{"/r", "root"}, {"/r/a", "aaaa"}, {"/r/a/x", "x"}, {"/r/a/x/deep", "d"},
	{"/r/b", "bb"}, {"/r/b/y", "yy"}, {"/r/c", ""},
}

// createSmallTree creates smallTree through h.
func createSmallTree(t *testing.T, h *zhandle.Handle) {
	t.Helper()
	for _, n := range smallTree {
		_, err := h.Create(testContext(t), n.path, []byte(n.data), zhandle.OpenACLUnsafe, zhandle.Persistent)
		must(t, "Create "+n.path, err)
	}
}

// changeSmallTree creates, sets and deletes a few nodes of smallTree.
func changeSmallTree(t *testing.T, h *zhandle.Handle) {
	t.Helper()
	ctx := testContext(t)
	_, err := h.Create(ctx, "/r/b/z", []byte("zz"), zhandle.OpenACLUnsafe, zhandle.Persistent)
	must(t, "Create", err)
	_, err = h.Set(ctx, "/r/a", []byte("AAAA"), -1)
	must(t, "Set", err)
	must(t, "Delete", h.Delete(ctx, "/r/a/x/deep", -1))
	_, err = h.Set(ctx, "/r/b/y", []byte("YY"), -1)
	must(t, "Set", err)
}

// testOptions checks the depth limit, the filter and WithoutData, after
// the priming and after changes: the cache holds exactly the nodes kept,
// with the server's Stat (which counts every child), and lists only the
// children kept.
func testOptions(t *testing.T, srv *zktest.Server) {
	for _, tc := range []struct {
		name     string
		opts     []Option
		kept     func(p string) bool
		keepData bool
	}{
		{name: "default", kept: func(string) bool { return true }, keepData: true},
		{name: "depth-0", opts: []Option{WithMaxDepth(0)}, kept: func(p string) bool { return p == "/r" }, keepData: true},
		{name: "depth-1", opts: []Option{WithMaxDepth(1)}, kept: func(p string) bool { return depthBelow("/r", p) <= 1 }, keepData: true},
		{name: "filter", opts: []Option{WithFilter(func(p string) bool { return p != "/r/b" })},
			kept: func(p string) bool { return p != "/r/b" && !strings.HasPrefix(p, "/r/b/") }, keepData: true},
		{name: "without-data", opts: []Option{WithoutData()}, kept: func(string) bool { return true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := chroot(t, srv.Addr())
			w := dial(t, addr)
			createSmallTree(t, w)
			c := primed(t, dial(t, addr), "/r", tc.opts...)
			expect := func() map[string]znodeState {
				want := map[string]znodeState{}
				for p, n := range serverTree(t, w, "/r") {
					if !tc.kept(p) {
						continue
					}
					var children []string
					for _, name := range n.Children {
						if tc.kept(childPath(p, name)) {
							children = append(children, name)
						}
					}
					n.Children = children
					if !tc.keepData {
						n.Data = ""
					}
					want[p] = n
				}
				return want
			}
			if diff := cmp.Diff(expect(), cacheTree(c, "/r")); diff != "" {
				t.Errorf("primed (-want +cache):\n%s", diff)
			}
			changeSmallTree(t, w)
			must(t, "Sync", c.Sync(testContext(t)))
			if diff := cmp.Diff(expect(), cacheTree(c, "/r")); diff != "" {
				t.Errorf("after changes (-want +cache):\n%s", diff)
			}
		})
	}
}

// testMaxBytes checks WithMaxBytes: the data kept stays within the bound,
// a node without its data says how long it is, and Stats counts both.
func testMaxBytes(t *testing.T, srv *zktest.Server) {
	addr := chroot(t, srv.Addr())
	w := dial(t, addr)
	createSmallTree(t, w)
	const limit = 5
	c := primed(t, dial(t, addr), "/r", WithMaxBytes(limit))
	check := func(when string) {
		server := serverTree(t, w, "/r")
		var kept int64
		dataless := 0
		for p, n := range cacheTree(c, "/r") {
			want := server[p]
			switch {
			case n.Data == want.Data:
				kept += int64(len(n.Data))
			case n.Data == "" && n.Stat.DataLength == int32(len(want.Data)):
				dataless++
			default:
				t.Errorf("%s: %s holds %q, want %q or nothing", when, p, n.Data, want.Data)
			}
		}
		stats := c.Stats()
		if kept > limit || stats.DataBytes != kept || stats.Dataless != dataless || dataless == 0 {
			t.Errorf("%s: %d bytes kept (Stats %d), %d nodes without data (Stats %d); want at most %d bytes and some without",
				when, kept, stats.DataBytes, dataless, stats.Dataless, limit)
		}
	}
	check("primed")
	changeSmallTree(t, w)
	must(t, "Sync", c.Sync(testContext(t)))
	check("after changes")
}

// testChangesWhileDisconnected makes changes while the cache's connection
// is down: a node deleted and created again under the same name, a set, a
// deletion and a creation. The cache says it is stale at once, and after
// the reconnect reports exactly what changed, deletions first, then
// EventResynced with a staleness covering the time it was cut off.
func testChangesWhileDisconnected(t *testing.T, srv *zktest.Server) {
	addr := chroot(t, srv.Addr())
	ctx := testContext(t)
	w := dial(t, addr)
	for _, p := range []string{"/r", "/r/x", "/r/y", "/r/z"} {
		_, err := w.Create(ctx, p, []byte(p), zhandle.OpenACLUnsafe, zhandle.Persistent)
		must(t, "Create "+p, err)
	}
	proxy := zktest.NewProxy(t, srv.Addr())
	h := dial(t, proxy.Addr()+addr[len(srv.Addr()):])
	rec := newRecorder()
	c := primed(t, h, "/r", WithListener(rec.listen))
	must(t, "Sync", c.Sync(ctx))
	n := len(rec.all())
	oldX, _, _ := c.Get("/r/x")

	cut := time.Now()
	proxy.Refuse(true)
	proxy.Cut()
	rec.waitType(t, EventStale, n)
	if c.Fresh() || c.Staleness() <= 0 {
		t.Errorf("cut off: Fresh() = %v, Staleness() = %v; want false, > 0", c.Fresh(), c.Staleness())
	}
	must(t, "Delete", w.Delete(ctx, "/r/x", -1))
	_, err := w.Create(ctx, "/r/x", []byte("again"), zhandle.OpenACLUnsafe, zhandle.Persistent)
	must(t, "Create", err)
	_, err = w.Set(ctx, "/r/y", []byte("changed"), -1)
	must(t, "Set", err)
	must(t, "Delete", w.Delete(ctx, "/r/z", -1))
	_, err = w.Create(ctx, "/r/w", []byte("new"), zhandle.OpenACLUnsafe, zhandle.Persistent)
	must(t, "Create", err)
	if data, _, _ := c.Get("/r/x"); string(data) != string(oldX) {
		t.Errorf("cut off: Get(/r/x) = %q, want the last state %q", data, oldX)
	}
	proxy.Refuse(false)
	cutOff := time.Since(cut)
	end := rec.waitType(t, EventResynced, n)

	type brief struct {
		Type EventType
		Path string
		Data string
	}
	var got []brief
	for _, ev := range rec.all()[n:end] {
		got = append(got, brief{ev.Type, ev.Path, string(ev.New.Data)})
	}
	want := []brief{
		{Type: EventStale},
		{EventDeleted, "/r/x", ""}, {EventDeleted, "/r/z", ""},
		{EventCreated, "/r/x", "again"}, {EventChanged, "/r/y", "changed"}, {EventCreated, "/r/w", "new"},
		{Type: EventResynced},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events from the cut to the re-read (-want +got):\n%s", diff)
	}
	// The cache last knew everything before the cut, and re-read after
	// the proxy let it reconnect.
	if stale := rec.all()[end-1].Stale; stale < cutOff {
		t.Errorf("EventResynced.Stale = %v; the cache was cut off for %v", stale, cutOff)
	}
	if !c.Fresh() || c.Staleness() != 0 {
		t.Errorf("after the re-read: Fresh() = %v, Staleness() = %v; want true, 0", c.Fresh(), c.Staleness())
	}
	if diff := cmp.Diff(serverTree(t, w, "/r"), cacheTree(c, "/r")); diff != "" {
		t.Errorf("cache (-server +cache):\n%s", diff)
	}
}

// testRenewal expires the cache's session; WithRenewal's function gives
// it a new handle, on which it rebuilds and follows the changes again.
func testRenewal(t *testing.T, srv *zktest.Server) {
	addr := chroot(t, srv.Addr())
	ctx := testContext(t)
	w := dial(t, addr)
	createSmallTree(t, w)
	h := dial(t, addr)
	renewed := make(chan *zhandle.Handle, 1)
	rec := newRecorder()
	c := primed(t, h, "/r", WithListener(rec.listen), WithRenewal(func(ctx context.Context) (*zhandle.Handle, error) {
		nh, err := zhandle.Init(addr, nil, sessionTimeout)
		if err == nil {
			t.Cleanup(func() { nh.Close() })
			renewed <- nh
		}
		return nh, err
	}))
	n := len(rec.all())
	zktest.ExpireSession(t, h)
	changeSmallTree(t, w)
	// ExpireSession may cut the handle's connection before the server
	// expires the session, and the cache resyncs on that reconnect: the
	// renewal's resync is the one after the expiry's EventStale.
	expired := rec.waitExpired(t, n)
	rec.waitType(t, EventResynced, expired)
	select {
	case <-renewed:
	default:
		t.Fatalf("resynced without a renewed handle")
	}
	must(t, "Sync", c.Sync(ctx))
	if diff := cmp.Diff(serverTree(t, w, "/r"), cacheTree(c, "/r")); diff != "" {
		t.Errorf("cache (-server +cache):\n%s", diff)
	}
}

// testRootLifecycle caches a root that does not exist yet: the priming
// finds nothing; its creation, its children's, and the deletion of the
// whole tree are reported, deletions deepest first.
func testRootLifecycle(t *testing.T, srv *zktest.Server) {
	addr := chroot(t, srv.Addr())
	w := dial(t, addr)
	rec := newRecorder()
	c := primed(t, dial(t, addr), "/r", WithListener(rec.listen))
	if _, _, ok := c.Get("/r"); ok {
		t.Errorf("Get(/r) found a node that does not exist")
	}
	createSmallTree(t, w)
	ctx := testContext(t)
	must(t, "Sync", c.Sync(ctx))
	if diff := cmp.Diff(serverTree(t, w, "/r"), cacheTree(c, "/r")); diff != "" {
		t.Errorf("after the creation (-server +cache):\n%s", diff)
	}
	for _, p := range []string{"/r/a/x/deep", "/r/a/x", "/r/a", "/r/b/y", "/r/b", "/r/c", "/r"} {
		must(t, "Delete "+p, w.Delete(ctx, p, -1))
	}
	must(t, "Sync", c.Sync(ctx))
	var got []string
	for _, ev := range rec.all() {
		got = append(got, ev.Type.String()+" "+ev.Path)
	}
	want := []string{"initialized "}
	for _, n := range smallTree {
		want = append(want, "created "+n.path)
	}
	for _, p := range []string{"/r/a/x/deep", "/r/a/x", "/r/a", "/r/b/y", "/r/b", "/r/c", "/r"} {
		want = append(want, "deleted "+p)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if nodes := c.Stats().Nodes; nodes != 0 {
		t.Errorf("%d nodes cached after the deletion of the tree", nodes)
	}
}

// testClose checks Close: idempotent, possible from a listener, the calls
// after it return ErrClosed, reads keep the last state, and no goroutine
// of the cache is left; and a cache whose handle is closed under it.
func testClose(t *testing.T, srv *zktest.Server) {
	addr := chroot(t, srv.Addr())
	w := dial(t, addr)
	createSmallTree(t, w)
	h := dial(t, addr)
	before := runtime.NumGoroutine()

	c, err := New(h, "/r")
	must(t, "New", err)
	must(t, "WaitInitialized", c.WaitInitialized(testContext(t)))
	must(t, "Close", c.Close())
	must(t, "Close again", c.Close())
	if err := c.Sync(testContext(t)); !errors.Is(err, ErrClosed) {
		t.Errorf("Sync after Close: %v, want %v", err, ErrClosed)
	}
	if err := c.Rebuild(h); !errors.Is(err, ErrClosed) {
		t.Errorf("Rebuild after Close: %v, want %v", err, ErrClosed)
	}
	if data, _, ok := c.Get("/r/a"); !ok || string(data) != "aaaa" {
		t.Errorf("Get after Close = %q, %v; want the last state", data, ok)
	}
	if c.Fresh() {
		t.Errorf("Fresh after Close")
	}

	// A listener may call the handle, and Close the cache.
	closed := make(chan error, 1)
	var self *Cache
	ready := make(chan struct{})
	self, err = New(h, "/r", WithListener(func(ev Event) {
		<-ready
		if ev.Type == EventInitialized {
			if _, err := h.Exists(testContext(t), "/r", false); err != nil {
				t.Errorf("Exists from a listener: %v", err)
			}
			closed <- self.Close()
		}
	}))
	must(t, "New", err)
	close(ready)
	select {
	case err := <-closed:
		must(t, "Close from a listener", err)
	case <-time.After(waitTimeout):
		t.Fatalf("Close from a listener did not return")
	}
	must(t, "Close again", self.Close())

	// A handle closed under a cache makes it stale, for good.
	other := dial(t, addr)
	rec := newRecorder()
	orphan := primed(t, other, "/r", WithListener(rec.listen))
	other.Close()
	rec.waitFor(t, "EventStale for the handle's Close", func(evs []Event) bool {
		return len(evs) > 0 && evs[len(evs)-1].Type == EventStale && errors.Is(evs[len(evs)-1].Err, zhandle.ErrClosing)
	})
	if orphan.Fresh() {
		t.Errorf("Fresh on a closed handle")
	}
	must(t, "Close", orphan.Close())

	deadline := time.Now().Add(waitTimeout)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines after Close, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		runtime.Gosched()
	}
}

// testLargeTree primes a cache of 100,000 nodes (200 directories of 499
// children, 16 bytes of data each) and checks the heap it keeps against
// the budget: 384 bytes per node, path and data included.
func testLargeTree(t *testing.T, srv *zktest.Server) {
	if testing.Short() {
		t.Skip("creates 100,000 nodes")
	}
	const (
		dirs, children = 200, 499
		nodes          = 1 + dirs*(children+1)
		budget         = 384 // bytes per node
	)
	addr := chroot(t, srv.Addr())
	w := dial(t, addr)
	_, err := w.Create(testContext(t), "/r", nil, zhandle.OpenACLUnsafe, zhandle.Persistent)
	must(t, "Create", err)
	createTree(t, w, "/r", dirs, children)
	h := dial(t, addr)
	runtime.GC()
	base := heapBytes()
	start := time.Now()
	c := primed(t, h, "/r")
	took := time.Since(start)
	runtime.GC()
	kept := heapBytes() - base
	stats := c.Stats()
	t.Logf("%d nodes primed in %v with %d requests; heap kept %.1f MiB, %.0f B/node",
		stats.Nodes, took, stats.Requests, float64(kept)/(1<<20), float64(kept)/nodes)
	if stats.Nodes != nodes {
		t.Errorf("%d nodes cached, want %d", stats.Nodes, nodes)
	}
	if kept > budget*nodes {
		t.Errorf("the cache keeps %d bytes, over the budget of %d bytes per node (%d)", kept, budget, budget*nodes)
	}
	if data, _, ok := c.Get("/r/p123/c00456"); !ok || string(data) != "/r/p123/c00456" {
		t.Errorf("Get(/r/p123/c00456) = %q, %v", data, ok)
	}
	if names, _ := c.Children("/r/p007"); len(names) != children {
		t.Errorf("Children(/r/p007) has %d names, want %d", len(names), children)
	}
}

// testLargeData primes and follows nodes whose data, batched, makes a
// reply larger than the handle accepts (1 MiB): the first such batch fails
// with ErrMarshalling; the cache then reads those nodes one per batch, and
// batches the later reads by the lengths it learnt.
func testLargeData(t *testing.T, srv *zktest.Server) {
	addr := chroot(t, srv.Addr())
	w := dial(t, addr)
	ctx := testContext(t)
	_, err := w.Create(ctx, "/r", nil, zhandle.OpenACLUnsafe, zhandle.Persistent)
	must(t, "Create", err)
	big := bytes.Repeat([]byte("x"), 600<<10)
	for i := range 8 {
		_, err := w.Create(ctx, fmt.Sprintf("/r/n%d", i), big, zhandle.OpenACLUnsafe, zhandle.Persistent)
		must(t, "Create", err)
	}
	c := primed(t, dial(t, addr), "/r")
	for i := range 8 {
		_, err := w.Set(ctx, fmt.Sprintf("/r/n%d", i), big[i:], -1)
		must(t, "Set", err)
	}
	must(t, "Sync", c.Sync(ctx))
	digest := func(tree map[string]znodeState) map[string]znodeState {
		for p, n := range tree {
			n.Data = fmt.Sprintf("%d bytes, sha256 %x", len(n.Data), sha256.Sum256([]byte(n.Data)))
			tree[p] = n
		}
		return tree
	}
	if diff := cmp.Diff(digest(serverTree(t, w, "/r")), digest(cacheTree(c, "/r"))); diff != "" {
		t.Errorf("cache (-server +cache):\n%s", diff)
	}
}

// testTooLargeToRead caches a subtree with a node whose data is larger
// than the cache's handle accepts (WithMaxFrame): that node is left out,
// the others are cached, and the cache goes on following changes on the
// same connection.
func testTooLargeToRead(t *testing.T, srv *zktest.Server) {
	const maxFrame = 64 << 10
	addr := chroot(t, srv.Addr())
	w := dial(t, addr)
	ctx := testContext(t)
	for _, n := range []struct {
		path string
		data []byte
	}{{"/r", nil}, {"/r/small", []byte("s")}, {"/r/big", bytes.Repeat([]byte("b"), 2*maxFrame)}} {
		_, err := w.Create(ctx, n.path, n.data, zhandle.OpenACLUnsafe, zhandle.Persistent)
		must(t, "Create "+n.path, err)
	}
	h := dial(t, addr, zhandle.WithMaxFrame(maxFrame))
	rec := newRecorder()
	c := primed(t, h, "/r", WithListener(rec.listen))
	if _, _, ok := c.Get("/r/big"); ok {
		t.Error("Get(/r/big): cached a node too large for the handle")
	}
	if data, _, ok := c.Get("/r/small"); !ok || string(data) != "s" {
		t.Errorf("Get(/r/small) = %q, %v; want %q", data, ok, "s")
	}
	n := len(rec.all())
	_, err := w.Set(ctx, "/r/small", []byte("changed"), -1)
	must(t, "Set", err)
	rec.waitType(t, EventChanged, n)
	if data, _, _ := c.Get("/r/small"); string(data) != "changed" || !c.Fresh() {
		t.Errorf("after a change: Get(/r/small) = %q, Fresh() = %v; want %q, true", data, c.Fresh(), "changed")
	}
	if s := h.Stats(); s.Reconnects != 0 {
		t.Errorf("Stats().Reconnects = %d, want 0", s.Reconnects)
	}
}
