package zhandle

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/zkloop/zkloop/internal/zktest"
	"github.com/zkloop/zkloop/serialize"
)

// Real-server tests of the features of issue 7 beyond the C client:
// persistent and recursive watches and their restoration (SetWatches2),
// RemoveWatches, MultiRead, GetEphemerals, GetAllChildrenNumber and WhoAmI.
// Read-only mode is in readonly_test.go, SetServers and client-side expiry
// in failover_test.go. Helpers of these three files are prefixed ft.
//
// Nothing here sleeps to synchronise. That a watcher got no event is shown
// with a fence (ftFence): the watcher is armed on a fresh node which is then
// created, and its next event must be that creation. The server sends
// notifications to a session in commit order and the handle delivers them
// in order, so an event that should not have fired would come first.

// ftWait bounds every wait of these tests.
const ftWait = 30 * time.Second

// ftTimeout is the session timeout of the handles of these tests.
const ftTimeout = 10 * time.Second

func ftCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), ftWait)
	t.Cleanup(cancel)
	return ctx
}

var ftSeq atomic.Int64

// ftPath returns a top-level path no other ft test uses.
func ftPath(name string) string { return fmt.Sprintf("/ft-%s-%d", name, ftSeq.Add(1)) }

// ftWatcher records events: watch events and session events on separate
// channels. It is a pointer, so it has an identity (see Watcher).
type ftWatcher struct {
	watch, session chan Event
	overflow       atomic.Bool
}

func newFtWatcher() *ftWatcher {
	return &ftWatcher{watch: make(chan Event, 4096), session: make(chan Event, 256)}
}

func (w *ftWatcher) Process(ev Event) {
	ch := w.watch
	if ev.Type == EventSession {
		ch = w.session
	}
	select {
	case ch <- ev:
	default:
		w.overflow.Store(true)
	}
}

// ftRecv waits at most ftWait for a value from ch.
func ftRecv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	timer := time.NewTimer(ftWait)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		t.Fatalf("no %s within %v", what, ftWait)
		var zero T
		return zero
	}
}

// expect checks that the next watch events are want (type and path).
func (w *ftWatcher) expect(t testing.TB, want ...Event) {
	t.Helper()
	for _, e := range want {
		got := ftRecv(t, w.watch, fmt.Sprintf("watch event (want %v %s)", e.Type, e.Path))
		if got.Type != e.Type || got.Path != e.Path {
			t.Fatalf("watch event = %v %s; want %v %s", got.Type, got.Path, e.Type, e.Path)
		}
	}
	if w.overflow.Load() {
		t.Fatal("ftWatcher overflowed")
	}
}

// expectSession checks that the next session events have the states want.
func (w *ftWatcher) expectSession(t testing.TB, want ...State) {
	t.Helper()
	for _, s := range want {
		got := ftRecv(t, w.session, "session event "+s.String())
		if got.State != s || got.Path != "" {
			t.Fatalf("session event = %v; want state %v", got, s)
		}
	}
}

// drainSession returns the session events received so far.
func (w *ftWatcher) drainSession() []State {
	var out []State
	for {
		select {
		case ev := <-w.session:
			out = append(out, ev.State)
		default:
			return out
		}
	}
}

func ftEv(typ EventType, path string) Event { return Event{Type: typ, Path: path} }

// ftInit makes a handle that is closed when the test ends, without waiting.
func ftInit(t testing.TB, hosts string, w Watcher, timeout time.Duration, opts ...Option) *Handle {
	t.Helper()
	h, err := Init(hosts, w, timeout, opts...)
	if err != nil {
		t.Fatalf("Init(%q): %v", hosts, err)
	}
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return h
}

// ftConnect makes a handle and waits for its session.
func ftConnect(t testing.TB, hosts string, w Watcher, opts ...Option) *Handle {
	t.Helper()
	h := ftInit(t, hosts, w, ftTimeout, opts...)
	if err := h.WaitConnected(ftCtx(t)); err != nil {
		t.Fatalf("WaitConnected(%q): %v", hosts, err)
	}
	return h
}

func ftCreate(t testing.TB, h *Handle, p string, data []byte, mode CreateMode) {
	t.Helper()
	if _, err := h.Create(ftCtx(t), p, data, OpenACLUnsafe, mode); err != nil {
		t.Fatalf("Create(%s): %v", p, err)
	}
}

func ftSet(t testing.TB, h *Handle, p string, data []byte) {
	t.Helper()
	if _, err := h.Set(ftCtx(t), p, data, -1); err != nil {
		t.Fatalf("Set(%s): %v", p, err)
	}
}

func ftDelete(t testing.TB, h *Handle, p string) {
	t.Helper()
	if err := h.Delete(ftCtx(t), p, -1); err != nil {
		t.Fatalf("Delete(%s): %v", p, err)
	}
}

func ftAddWatch(t testing.TB, h *Handle, p string, mode AddWatchMode, w Watcher) {
	t.Helper()
	if err := h.AddWatch(ftCtx(t), p, mode, w); err != nil {
		t.Fatalf("AddWatch(%s, %v): %v", p, mode, err)
	}
}

// ftFence shows that w received nothing more than what was checked so far:
// through h it arms w on a new node, writer creates the node, and w's next
// watch event must be that creation.
func ftFence(t testing.TB, h, writer *Handle, w *ftWatcher) {
	t.Helper()
	p := ftPath("fence")
	if _, err := h.WExists(ftCtx(t), p, w); !errors.Is(err, ErrNoNode) {
		t.Fatalf("WExists(%s) = %v; want ErrNoNode", p, err)
	}
	ftCreate(t, writer, p, nil, Persistent)
	w.expect(t, ftEv(EventCreated, p))
}

// ftAsyncBarrier waits for an asynchronous round trip on h: its callback
// runs on the completion goroutine after every event queued before it.
func ftAsyncBarrier(t testing.TB, h *Handle) {
	t.Helper()
	done := make(chan error, 1)
	if err := h.AExists("/", false, func(err error, _ *Stat) { done <- err }); err != nil {
		t.Fatalf("AExists: %v", err)
	}
	if err := ftRecv(t, done, "AExists callback"); err != nil {
		t.Fatalf("AExists callback: %v", err)
	}
}

// ftWatchedPaths returns the paths the server has data watches on
// (four-letter word wchp; persistent and recursive watches are data
// watches there, child watches are not listed).
func ftWatchedPaths(t testing.TB, srv *zktest.Server) map[string]bool {
	t.Helper()
	out, err := srv.FourLetter("wchp")
	if err != nil {
		t.Fatalf("wchp: %v", err)
	}
	paths := make(map[string]bool)
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "/") {
			paths[strings.TrimSpace(line)] = true
		}
	}
	return paths
}

// TestFeatures runs the features of issue 7 that need no server restart
// against one standalone server.
func TestFeatures(t *testing.T) {
	srv := zktest.Standalone(t)
	h := ftConnect(t, srv.Addr(), nil)
	wr := ftConnect(t, srv.Addr(), nil) // the writer: another session

	// Item 1: a persistent watch sees created, changed, deleted and child
	// events on its path, every time, and nothing of grandchildren.
	t.Run("PersistentWatch", func(t *testing.T) {
		p := ftPath("persistent")
		w := newFtWatcher()
		ftAddWatch(t, h, p, AddWatchPersistent, w) // on a node that does not exist yet
		ftCreate(t, wr, p, nil, Persistent)
		w.expect(t, ftEv(EventCreated, p))
		for i := range 3 {
			ftSet(t, wr, p, []byte{byte(i)})
			w.expect(t, ftEv(EventChanged, p))
		}
		ftCreate(t, wr, p+"/c", nil, Persistent)
		w.expect(t, ftEv(EventChild, p))
		ftCreate(t, wr, p+"/c/d", nil, Persistent) // a grandchild: nothing
		ftSet(t, wr, p+"/c", []byte("x"))          // a child's data: nothing
		ftDelete(t, wr, p+"/c/d")
		ftDelete(t, wr, p+"/c")
		w.expect(t, ftEv(EventChild, p))
		ftDelete(t, wr, p)
		w.expect(t, ftEv(EventDeleted, p))
		ftCreate(t, wr, p, nil, Persistent) // still armed after a deletion
		w.expect(t, ftEv(EventCreated, p))

		// A second watcher through the asynchronous twin: both fire.
		w2 := newFtWatcher()
		done := make(chan error, 1)
		if err := h.AAddWatch(p, AddWatchPersistent, w2, func(err error) { done <- err }); err != nil {
			t.Fatalf("AAddWatch: %v", err)
		}
		if err := ftRecv(t, done, "AAddWatch callback"); err != nil {
			t.Fatalf("AAddWatch callback: %v", err)
		}
		ftSet(t, wr, p, []byte("both"))
		w.expect(t, ftEv(EventChanged, p))
		w2.expect(t, ftEv(EventChanged, p))
		ftFence(t, h, wr, w)
		ftFence(t, h, wr, w2)
	})

	// Item 1: a persistent-recursive watch sees created, changed and
	// deleted for the path and every descendant, never child events, even
	// when the server sends child events for a one-shot child watch of the
	// same session below it.
	t.Run("RecursiveWatch", func(t *testing.T) {
		r := ftPath("recursive")
		w := newFtWatcher()
		ftAddWatch(t, h, r, AddWatchPersistentRecursive, w)
		ftCreate(t, wr, r, nil, Persistent)
		w.expect(t, ftEv(EventCreated, r))
		ftCreate(t, wr, r+"/a", nil, Persistent)
		w.expect(t, ftEv(EventCreated, r+"/a"))
		ftCreate(t, wr, r+"/a/b", nil, Persistent)
		w.expect(t, ftEv(EventCreated, r+"/a/b"))
		ftSet(t, wr, r+"/a/b", []byte("1"))
		w.expect(t, ftEv(EventChanged, r+"/a/b"))
		ftSet(t, wr, r, []byte("1"))
		w.expect(t, ftEv(EventChanged, r))

		wc := newFtWatcher()
		if _, err := h.WGetChildren(ftCtx(t), r+"/a", wc); err != nil {
			t.Fatalf("WGetChildren: %v", err)
		}
		ftCreate(t, wr, r+"/a/c", nil, Persistent)
		w.expect(t, ftEv(EventCreated, r+"/a/c")) // and not the child event of r/a
		wc.expect(t, ftEv(EventChild, r+"/a"))
		ftDelete(t, wr, r+"/a/c")
		w.expect(t, ftEv(EventDeleted, r+"/a/c"))
		ftDelete(t, wr, r+"/a/b")
		w.expect(t, ftEv(EventDeleted, r+"/a/b"))
		ftDelete(t, wr, r+"/a")
		w.expect(t, ftEv(EventDeleted, r+"/a"))
		ftCreate(t, wr, r+"/again", nil, Persistent) // still armed
		w.expect(t, ftEv(EventCreated, r+"/again"))
		ftFence(t, h, wr, w)
		ftFence(t, h, wr, wc)
	})

	t.Run("AddWatchBadArguments", func(t *testing.T) {
		ctx := ftCtx(t)
		if err := h.AddWatch(ctx, "/x", AddWatchMode(7), nil); !errors.Is(err, ErrBadArguments) {
			t.Errorf("AddWatch(mode 7) = %v; want ErrBadArguments", err)
		}
		if err := h.AddWatch(ctx, "no-slash", AddWatchPersistent, nil); !errors.Is(err, ErrBadArguments) {
			t.Errorf("AddWatch(bad path) = %v; want ErrBadArguments", err)
		}
	})

	t.Run("RemoveWatches", func(t *testing.T) { ftTestRemoveWatches(t, srv, h, wr) })
	t.Run("MultiRead", func(t *testing.T) { ftTestMultiRead(t, srv, h, wr) })
	t.Run("GetEphemerals", func(t *testing.T) { ftTestGetEphemerals(t, srv, wr) })
	t.Run("GetAllChildrenNumber", func(t *testing.T) { ftTestGetAllChildrenNumber(t, srv, h, wr) })
	t.Run("WhoAmI", func(t *testing.T) { ftTestWhoAmI(t, srv) })
}

// ftArm registers watches of w on the node p (which exists) or on p+"/k"
// (which does not).
type ftArm struct {
	name string
	arm  func(t *testing.T, h *Handle, w Watcher, p string)
}

var (
	ftArmData = ftArm{"data", func(t *testing.T, h *Handle, w Watcher, p string) {
		if _, _, err := h.WGet(ftCtx(t), p, w); err != nil {
			t.Fatalf("WGet: %v", err)
		}
	}}
	ftArmExist = ftArm{"exist", func(t *testing.T, h *Handle, w Watcher, p string) {
		if _, err := h.WExists(ftCtx(t), p+"/k", w); !errors.Is(err, ErrNoNode) {
			t.Fatalf("WExists = %v; want ErrNoNode", err)
		}
	}}
	ftArmChild = ftArm{"child", func(t *testing.T, h *Handle, w Watcher, p string) {
		if _, err := h.WGetChildren(ftCtx(t), p, w); err != nil {
			t.Fatalf("WGetChildren: %v", err)
		}
	}}
	ftArmDataChild = ftArm{"data+child", func(t *testing.T, h *Handle, w Watcher, p string) {
		ftArmData.arm(t, h, w, p)
		ftArmChild.arm(t, h, w, p)
	}}
	ftArmPersistent = ftArm{"persistent", func(t *testing.T, h *Handle, w Watcher, p string) {
		ftAddWatch(t, h, p, AddWatchPersistent, w)
	}}
	ftArmRecursive = ftArm{"recursive", func(t *testing.T, h *Handle, w Watcher, p string) {
		ftAddWatch(t, h, p, AddWatchPersistentRecursive, w)
	}}
)

// ftTestRemoveWatches is item 2: RemoveWatches and RemoveAllWatches for
// every watcher type, server-side and local.
func ftTestRemoveWatches(t *testing.T, srv *zktest.Server, h, wr *Handle) {
	// The changes made after a removal: data of p, a child k created and
	// deleted. What still fires afterwards is in after.
	trigger := func(t *testing.T, p string) {
		ftSet(t, wr, p, []byte("changed"))
		ftCreate(t, wr, p+"/k", nil, Persistent)
		ftDelete(t, wr, p+"/k")
	}
	cases := []struct {
		arm     ftArm
		wt      WatcherType
		path    string // relative to p: "" or "/k"
		removed []EventType
		after   []Event // still fired by trigger, paths relative to p
	}{
		{arm: ftArmData, wt: WatcherData, removed: []EventType{EventDataWatchRemoved}},
		{arm: ftArmExist, wt: WatcherData, path: "/k", removed: []EventType{EventDataWatchRemoved}},
		{arm: ftArmChild, wt: WatcherChildren, removed: []EventType{EventChildWatchRemoved}},
		{arm: ftArmDataChild, wt: WatcherAny, removed: []EventType{EventDataWatchRemoved, EventChildWatchRemoved}},
		{arm: ftArmDataChild, wt: WatcherChildren, removed: []EventType{EventChildWatchRemoved},
			after: []Event{ftEv(EventChanged, "")}},
		{arm: ftArmDataChild, wt: WatcherData, removed: []EventType{EventDataWatchRemoved},
			after: []Event{ftEv(EventChild, "")}},
		{arm: ftArmPersistent, wt: WatcherPersistent, removed: []EventType{EventPersistentWatchRemoved}},
		{arm: ftArmPersistent, wt: WatcherAny, removed: []EventType{EventPersistentWatchRemoved}},
		{arm: ftArmRecursive, wt: WatcherPersistentRecursive, removed: []EventType{EventPersistentWatchRemoved}},
		{arm: ftArmRecursive, wt: WatcherAny, removed: []EventType{EventPersistentWatchRemoved}},
	}
	for _, tc := range cases {
		for _, all := range []bool{false, true} {
			for _, local := range []bool{false, true} {
				name := fmt.Sprintf("%s/%v/all=%v/local=%v", tc.arm.name, tc.wt, all, local)
				t.Run(name, func(t *testing.T) {
					p := ftPath("rm")
					ftCreate(t, wr, p, nil, Persistent)
					w := newFtWatcher()
					tc.arm.arm(t, h, w, p)
					other := newFtWatcher() // a second watcher on the path: RemoveWatches(w) keeps it
					if !all {
						tc.arm.arm(t, h, other, p)
					}
					target := p + tc.path
					var err error
					if all {
						err = h.RemoveAllWatches(ftCtx(t), target, tc.wt, local)
					} else {
						err = h.RemoveWatches(ftCtx(t), target, tc.wt, w, local)
					}
					if err != nil {
						t.Fatalf("remove: %v", err)
					}
					for _, typ := range tc.removed {
						w.expect(t, ftEv(typ, target))
					}
					if all && !local && len(tc.after) == 0 && tc.arm.name != "child" {
						// The server forgot its data-side watches too.
						if paths := ftWatchedPaths(t, srv); paths[p] || paths[p+"/k"] {
							t.Errorf("wchp still lists %s after a server-side removal: %v", p, paths)
						}
					}
					if local && tc.arm.name != "child" {
						if paths := ftWatchedPaths(t, srv); !paths[target] {
							t.Errorf("wchp lost %s after a local removal: %v", target, paths)
						}
					}
					trigger(t, p)
					for _, e := range tc.after {
						w.expect(t, ftEv(e.Type, p+e.Path))
					}
					ftFence(t, h, wr, w)
					if !all {
						// The other watcher was not removed: it fired for the trigger.
						if len(other.watch) == 0 {
							t.Errorf("the watcher left in place got no event")
						}
					}
				})
			}
		}
	}

	t.Run("DefaultWatcher", func(t *testing.T) {
		dw := newFtWatcher()
		hd := ftConnect(t, srv.Addr(), dw)
		p := ftPath("rm-default")
		ftCreate(t, wr, p, nil, Persistent)
		if _, _, err := hd.Get(ftCtx(t), p, true); err != nil {
			t.Fatalf("Get: %v", err)
		}
		if err := hd.RemoveAllWatches(ftCtx(t), p, WatcherData, false); err != nil {
			t.Fatalf("RemoveAllWatches: %v", err)
		}
		dw.expect(t, ftEv(EventDataWatchRemoved, p))
		ftSet(t, wr, p, []byte("x"))
		ftFence(t, hd, wr, dw)
	})

	t.Run("NoWatcher", func(t *testing.T) {
		p := ftPath("rm-none")
		ftCreate(t, wr, p, nil, Persistent)
		w, stranger := newFtWatcher(), newFtWatcher()
		ftArmData.arm(t, h, w, p)
		fn := WatcherFunc(func(Event) {})
		if _, _, err := h.WGet(ftCtx(t), p, fn); err != nil {
			t.Fatalf("WGet: %v", err)
		}
		for _, local := range []bool{false, true} {
			for _, tc := range []struct {
				name string
				path string
				wt   WatcherType
				w    Watcher
			}{
				{"no watch on path", p + "/none", WatcherAny, nil},
				{"other type", p, WatcherChildren, nil},
				{"persistent type", p, WatcherPersistent, nil},
				{"recursive type", p, WatcherPersistentRecursive, w},
				{"other watcher", p, WatcherData, stranger},
				{"watcher without identity", p, WatcherData, fn},
			} {
				err := h.RemoveWatches(ftCtx(t), tc.path, tc.wt, tc.w, local)
				if !errors.Is(err, ErrNoWatcher) {
					t.Errorf("local=%v %s: RemoveWatches = %v; want ErrNoWatcher", local, tc.name, err)
				}
			}
		}
		if err := h.RemoveWatches(ftCtx(t), p, WatcherType(9), nil, false); !errors.Is(err, ErrBadArguments) {
			t.Errorf("RemoveWatches(type 9) = %v; want ErrBadArguments", err)
		}
		// Nothing was removed: the watch still fires.
		ftSet(t, wr, p, []byte("x"))
		w.expect(t, ftEv(EventChanged, p))
		ftFence(t, h, wr, w)
	})
}

// ftReadResult is a ReadResult with the Stat reduced to what the test
// can predict.
type ftReadResult struct {
	Op       serialize.OpCode
	Err      error
	Data     string
	Version  int32
	Children []string
}

func ftReadResults(rs []ReadResult) []ftReadResult {
	out := make([]ftReadResult, len(rs))
	for i, r := range rs {
		children := slices.Clone(r.Children)
		slices.Sort(children)
		out[i] = ftReadResult{Op: r.Op, Err: r.Err, Data: string(r.Data), Version: r.Stat.Version, Children: children}
	}
	return out
}

var ftErrCmp = cmp.Comparer(func(a, b error) bool { return errors.Is(a, b) && errors.Is(b, a) || a == b })

// ftTestMultiRead is item 3.
func ftTestMultiRead(t *testing.T, srv *zktest.Server, h, wr *Handle) {
	base := ftPath("multiread")
	ftCreate(t, wr, base, nil, Persistent)
	ftCreate(t, wr, base+"/a", []byte("alpha"), Persistent)
	ftSet(t, wr, base+"/a", []byte("alpha2")) // version 1
	ftCreate(t, wr, base+"/b", nil, Persistent)
	ftCreate(t, wr, base+"/b/c2", nil, Persistent)
	ftCreate(t, wr, base+"/b/c1", nil, Persistent)
	ops := []ReadOp{
		GetDataOp{base + "/a"},
		GetChildrenOp{base + "/b"},
		GetDataOp{base + "/missing"},
		GetChildrenOp{base + "/missing"},
		GetChildrenOp{base + "/a"},
		GetDataOp{base + "/b/c1"},
	}
	want := []ftReadResult{
		{Op: serialize.OpGetData, Data: "alpha2", Version: 1},
		{Op: serialize.OpGetChildren, Children: []string{"c1", "c2"}},
		{Op: serialize.OpError, Err: ErrNoNode},
		{Op: serialize.OpError, Err: ErrNoNode},
		{Op: serialize.OpGetChildren},
		{Op: serialize.OpGetData},
	}
	opts := cmp.Options{ftErrCmp, cmpopts.EquateEmpty()}

	got, err := h.MultiRead(ftCtx(t), ops...)
	if err != nil {
		t.Fatalf("MultiRead: %v", err)
	}
	if diff := cmp.Diff(want, ftReadResults(got), opts); diff != "" {
		t.Errorf("MultiRead (-want +got):\n%s", diff)
	}
	stat, err := h.Exists(ftCtx(t), base+"/a", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) > 0 && got[0].Stat != stat {
		t.Errorf("MultiRead stat = %+v; Exists stat = %+v", got[0].Stat, stat)
	}

	type asyncResult struct {
		err error
		rs  []ftReadResult
	}
	done := make(chan asyncResult, 1)
	if err := h.AMultiRead(ops, func(err error, rs []ReadResult) { done <- asyncResult{err, ftReadResults(rs)} }); err != nil {
		t.Fatalf("AMultiRead: %v", err)
	}
	r := ftRecv(t, done, "AMultiRead callback")
	if r.err != nil {
		t.Fatalf("AMultiRead callback: %v", r.err)
	}
	if diff := cmp.Diff(want, r.rs, opts); diff != "" {
		t.Errorf("AMultiRead (-want +got):\n%s", diff)
	}

	// Under a chroot the paths are relative to it.
	hc := ftConnect(t, srv.Addr()+base, nil)
	got, err = hc.MultiRead(ftCtx(t), GetDataOp{"/a"}, GetChildrenOp{"/b"}, GetChildrenOp{"/"})
	if err != nil {
		t.Fatalf("MultiRead under chroot: %v", err)
	}
	wantChroot := []ftReadResult{want[0], want[1], {Op: serialize.OpGetChildren, Children: []string{"a", "b"}}}
	if diff := cmp.Diff(wantChroot, ftReadResults(got), opts); diff != "" {
		t.Errorf("MultiRead under chroot (-want +got):\n%s", diff)
	}

	// A bad path refuses the whole request before anything is queued.
	if _, err := h.MultiRead(ftCtx(t), GetDataOp{base + "/a"}, GetDataOp{"bad"}); !errors.Is(err, ErrBadArguments) {
		t.Errorf("MultiRead(bad path) = %v; want ErrBadArguments", err)
	}
	if _, err := h.MultiRead(ftCtx(t), GetDataOp{base + "/a"}, nil); !errors.Is(err, ErrBadArguments) {
		t.Errorf("MultiRead(nil op) = %v; want ErrBadArguments", err)
	}
	got, err = h.MultiRead(ftCtx(t))
	if err != nil || len(got) != 0 {
		t.Errorf("MultiRead() = %v, %v; want no results, nil", got, err)
	}
	if got, err := h.MultiRead(ftCtx(t), ops[0]); err != nil || len(got) != 1 {
		t.Errorf("MultiRead after the refused ones = %v, %v", got, err)
	}
}

// ftTestGetEphemerals is item 4: prefix filtering, other sessions left
// out, chroot stripped; sync and async.
func ftTestGetEphemerals(t *testing.T, srv *zktest.Server, wr *Handle) {
	base := ftPath("eph")
	ftCreate(t, wr, base, nil, Persistent)
	ftCreate(t, wr, base+"/y", nil, Persistent)
	ftCreate(t, wr, base+"/theirs", nil, Ephemeral) // another session's
	he := ftConnect(t, srv.Addr(), nil)
	for _, p := range []string{base + "/x1", base + "/x2", base + "/y/z"} {
		ftCreate(t, he, p, nil, Ephemeral)
	}
	hc := ftConnect(t, srv.Addr()+base, nil)
	ftCreate(t, hc, "/c1", nil, Ephemeral)
	ftCreate(t, hc, "/y/c2", nil, Ephemeral)

	sorted := func(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }
	for _, tc := range []struct {
		h      *Handle
		prefix string
		want   []string
	}{
		{he, "/", []string{base + "/x1", base + "/x2", base + "/y/z"}},
		{he, base + "/x", []string{base + "/x1", base + "/x2"}},
		{he, base + "/y", []string{base + "/y/z"}},
		{he, base + "/none", nil},
		{hc, "/", []string{"/c1", "/y/c2"}},
		{hc, "/y", []string{"/y/c2"}},
		{hc, "/c", []string{"/c1"}},
	} {
		got, err := tc.h.GetEphemerals(ftCtx(t), tc.prefix)
		if err != nil {
			t.Errorf("GetEphemerals(%q): %v", tc.prefix, err)
			continue
		}
		if diff := cmp.Diff(tc.want, sorted(got), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("GetEphemerals(%q) (-want +got):\n%s", tc.prefix, diff)
		}
		done := make(chan []string, 1)
		errc := make(chan error, 1)
		if err := tc.h.AGetEphemerals(tc.prefix, func(err error, paths []string) {
			errc <- err
			done <- sorted(paths)
		}); err != nil {
			t.Fatalf("AGetEphemerals: %v", err)
		}
		if err := ftRecv(t, errc, "AGetEphemerals callback"); err != nil {
			t.Errorf("AGetEphemerals(%q): %v", tc.prefix, err)
		}
		if diff := cmp.Diff(tc.want, <-done, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("AGetEphemerals(%q) (-want +got):\n%s", tc.prefix, diff)
		}
	}
	if _, err := he.GetEphemerals(ftCtx(t), "bad"); !errors.Is(err, ErrBadArguments) {
		t.Errorf("GetEphemerals(bad) = %v; want ErrBadArguments", err)
	}
}

// ftTestGetAllChildrenNumber is item 4.
func ftTestGetAllChildrenNumber(t *testing.T, srv *zktest.Server, h, wr *Handle) {
	base := ftPath("count")
	for _, p := range []string{"", "/a", "/a/b", "/a/b/c", "/d"} {
		ftCreate(t, wr, base+p, nil, Persistent)
	}
	hc := ftConnect(t, srv.Addr()+base, nil)
	for _, tc := range []struct {
		h       *Handle
		path    string
		want    int32
		wantErr error
	}{
		{h, base, 4, nil},
		{h, base + "/a", 2, nil},
		{h, base + "/d", 0, nil},
		{h, base + "/missing", 0, ErrNoNode},
		{hc, "/", 4, nil},
		{hc, "/a/b", 1, nil},
	} {
		n, err := tc.h.GetAllChildrenNumber(ftCtx(t), tc.path)
		if n != tc.want || !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
			t.Errorf("GetAllChildrenNumber(%s) = %d, %v; want %d, %v", tc.path, n, err, tc.want, tc.wantErr)
		}
		type result struct {
			n   int32
			err error
		}
		done := make(chan result, 1)
		if err := tc.h.AGetAllChildrenNumber(tc.path, func(err error, n int32) { done <- result{n, err} }); err != nil {
			t.Fatalf("AGetAllChildrenNumber: %v", err)
		}
		if r := ftRecv(t, done, "AGetAllChildrenNumber callback"); r.n != tc.want || !errors.Is(r.err, tc.wantErr) || (r.err == nil) != (tc.wantErr == nil) {
			t.Errorf("AGetAllChildrenNumber(%s) = %d, %v; want %d, %v", tc.path, r.n, r.err, tc.want, tc.wantErr)
		}
	}
}

// ftTestWhoAmI is item 4: the ip identity, and the digest one after
// AddAuth; sync and async.
func ftTestWhoAmI(t *testing.T, srv *zktest.Server) {
	hw := ftConnect(t, srv.Addr(), nil)
	whoAmI := func(t *testing.T) []ClientInfo {
		t.Helper()
		ids, err := hw.WhoAmI(ftCtx(t))
		if err != nil {
			t.Fatalf("WhoAmI: %v", err)
		}
		type result struct {
			err error
			ids []ClientInfo
		}
		done := make(chan result, 1)
		if err := hw.AWhoAmI(func(err error, ids []ClientInfo) { done <- result{err, slices.Clone(ids)} }); err != nil {
			t.Fatalf("AWhoAmI: %v", err)
		}
		r := ftRecv(t, done, "AWhoAmI callback")
		if r.err != nil {
			t.Fatalf("AWhoAmI callback: %v", r.err)
		}
		if diff := cmp.Diff(ids, r.ids); diff != "" {
			t.Errorf("AWhoAmI differs from WhoAmI (-sync +async):\n%s", diff)
		}
		slices.SortFunc(ids, func(a, b ClientInfo) int { return strings.Compare(a.AuthScheme, b.AuthScheme) })
		return ids
	}
	ip := ClientInfo{AuthScheme: "ip", User: "127.0.0.1"}
	if diff := cmp.Diff([]ClientInfo{ip}, whoAmI(t)); diff != "" {
		t.Errorf("WhoAmI before AddAuth (-want +got):\n%s", diff)
	}
	if err := hw.AddAuth(ftCtx(t), "digest", []byte("alice:secret")); err != nil {
		t.Fatalf("AddAuth: %v", err)
	}
	if diff := cmp.Diff([]ClientInfo{{AuthScheme: "digest", User: "alice"}, ip}, whoAmI(t)); diff != "" {
		t.Errorf("WhoAmI after AddAuth (-want +got):\n%s", diff)
	}
}

// TestFeaturesWatchRestore is item 1 across reconnections: persistent and
// recursive watches come back through SetWatches2 (split over packets of
// at most 128 KiB) after a server restart, and after a disconnection
// during which other sessions changed the watched nodes.
func TestFeaturesWatchRestore(t *testing.T) {
	// The server refuses packets over 150000 bytes: one SetWatches2 with
	// every path of ServerRestart (about 160 KB) would be turned away.
	srv := zktest.Standalone(t, zktest.WithJVMFlags("-Djute.maxbuffer=150000"))

	t.Run("ServerRestart", func(t *testing.T) {
		w, ww := newFtWatcher(), newFtWatcher()
		h := ftConnect(t, srv.Addr(), nil)
		wr := ftConnect(t, srv.Addr(), ww)
		ww.expectSession(t, StateConnected)
		sid := h.ClientID().SessionID
		p, r, many := ftPath("restore-p"), ftPath("restore-r"), ftPath("restore-many")
		ftCreate(t, wr, p, nil, Persistent)
		ftCreate(t, wr, many, nil, Persistent)
		ftAddWatch(t, h, p, AddWatchPersistent, w)
		ftAddWatch(t, h, r, AddWatchPersistentRecursive, w)
		// Enough recursive watches that SetWatches2 needs two packets:
		// 1200 paths of about 135 bytes.
		pad := strings.Repeat("x", 110)
		manyPaths := make([]string, 1200)
		errs := make(chan error, len(manyPaths))
		for i := range manyPaths {
			manyPaths[i] = fmt.Sprintf("%s/%s-%04d", many, pad, i)
			if err := h.AAddWatch(manyPaths[i], AddWatchPersistentRecursive, w, func(err error) { errs <- err }); err != nil {
				t.Fatalf("AAddWatch: %v", err)
			}
		}
		for range manyPaths {
			if err := ftRecv(t, errs, "AAddWatch callback"); err != nil {
				t.Fatalf("AAddWatch callback: %v", err)
			}
		}

		srv.Stop()
		w.expectSession(t, StateConnecting)
		srv.Start()
		w.expectSession(t, StateConnected)
		// The writer too: a request queued while it retries would fail
		// with the attempt that the starting server turns away.
		ww.expectSession(t, StateConnecting, StateConnected)
		if got := h.ClientID().SessionID; got != sid {
			t.Fatalf("session %#x after the restart; want %#x", got, sid)
		}
		// SetWatches2 went before this request on the same connection.
		if _, err := h.Exists(ftCtx(t), "/", false); err != nil {
			t.Fatalf("Exists: %v", err)
		}
		paths := ftWatchedPaths(t, srv)
		for _, want := range []string{p, r, manyPaths[0], manyPaths[len(manyPaths)-1]} {
			if !paths[want] {
				t.Errorf("the server has no watch on %s after the restart", want)
			}
		}
		ftSet(t, wr, p, []byte("after"))
		w.expect(t, ftEv(EventChanged, p))
		ftCreate(t, wr, p+"/c", nil, Persistent)
		w.expect(t, ftEv(EventChild, p))
		ftCreate(t, wr, r, nil, Persistent)
		w.expect(t, ftEv(EventCreated, r))
		ftCreate(t, wr, r+"/x", nil, Persistent)
		w.expect(t, ftEv(EventCreated, r+"/x"))
		ftCreate(t, wr, manyPaths[0], nil, Persistent)
		w.expect(t, ftEv(EventCreated, manyPaths[0]))
		ftCreate(t, wr, manyPaths[len(manyPaths)-1], nil, Persistent)
		w.expect(t, ftEv(EventCreated, manyPaths[len(manyPaths)-1]))
		ftFence(t, h, wr, w)
	})

	t.Run("ChangedWhileDisconnected", func(t *testing.T) {
		px := zktest.NewProxy(t, srv.Addr())
		w := newFtWatcher()
		h := ftConnect(t, px.Addr(), nil)
		wr := ftConnect(t, srv.Addr(), nil)
		base := ftPath("missed")
		md, me, mp, mr := base+"/md", base+"/me", base+"/mp", base+"/mr"
		ftCreate(t, wr, base, nil, Persistent)
		for _, p := range []string{md, mp, mr} {
			ftCreate(t, wr, p, nil, Persistent)
		}
		if _, _, err := h.WGet(ftCtx(t), md, w); err != nil {
			t.Fatal(err)
		}
		if _, err := h.WExists(ftCtx(t), me, w); !errors.Is(err, ErrNoNode) {
			t.Fatal(err)
		}
		ftAddWatch(t, h, mp, AddWatchPersistent, w)
		ftAddWatch(t, h, mr, AddWatchPersistentRecursive, w)

		px.Refuse(true)
		px.Reset()
		w.expectSession(t, StateConnecting)
		ftSet(t, wr, md, []byte("missed"))
		ftCreate(t, wr, me, nil, Persistent)
		ftCreate(t, wr, mp+"/c", nil, Persistent) // a child event of mp
		ftCreate(t, wr, mr+"/x", nil, Persistent) // a created event below mr
		px.Refuse(false)
		w.expectSession(t, StateConnected)

		// The one-shot watches of the same SetWatches2 fire for what
		// changed after the last zxid the handle saw.
		var got []Event
		for range 2 {
			ev := ftRecv(t, w.watch, "event for a change made while disconnected")
			got = append(got, Event{Type: ev.Type, Path: ev.Path})
		}
		want := []Event{ftEv(EventChanged, md), ftEv(EventCreated, me)}
		less := func(a, b Event) int { return strings.Compare(a.Path, b.Path) }
		slices.SortFunc(got, less)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("events for changes while disconnected (-want +got):\n%s", diff)
		}
		// The persistent watches are back: a change now fires them. A
		// 3.8 server re-adds persistent watches without comparing zxids,
		// so the changes made while disconnected are not replayed to
		// them; accept them if a server does.
		ftSet(t, wr, mp, []byte("now"))
		ftCreate(t, wr, mr+"/y", nil, Persistent)
		replayable := map[Event]bool{ftEv(EventChild, mp): true, ftEv(EventCreated, mr+"/x"): true}
		for _, next := range []Event{ftEv(EventChanged, mp), ftEv(EventCreated, mr+"/y")} {
			for {
				ev := ftRecv(t, w.watch, "event after the reconnection")
				ev = Event{Type: ev.Type, Path: ev.Path}
				if ev == next {
					break
				}
				if !replayable[ev] {
					t.Fatalf("unexpected event %v %s; want %v %s", ev.Type, ev.Path, next.Type, next.Path)
				}
				t.Logf("the server replayed %v %s to a persistent watch", ev.Type, ev.Path)
			}
		}
		ftFence(t, h, wr, w)
	})
}
