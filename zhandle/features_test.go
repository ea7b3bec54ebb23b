package zhandle

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/zkloop/zkloop/serialize"
	"github.com/zkloop/zkloop/zktest"
)

// Real-server tests of the features beyond the C client: persistent and
// recursive watches and their restoration (SetWatches2), RemoveWatches,
// MultiRead, GetEphemerals, GetAllChildrenNumber and WhoAmI. Read-only
// mode is in readonly_test.go, SetServers and client-side expiry in
// failover_test.go.
//
// That a watcher got no event is shown with a fence: a barrier on the
// handle that holds the watch, after the writer's change has returned. The
// server queues a notification on the watching session's connection before
// it answers the change, and the handle delivers events and replies in
// order, so an event that should have fired would have come before the
// barrier's reply.

// dataWatchPaths returns the paths the server has data watches on
// (four-letter word wchp; persistent and recursive watches are data
// watches there, child watches are not listed).
func dataWatchPaths(t testing.TB, srv *zktest.Server) map[string]bool {
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

// TestFeatures runs the features that need no server restart against the
// shared server.
func TestFeatures(t *testing.T) {
	srv := sharedServer(t)
	h := connectHandle(t, srv.Addr(), nil, sessionTimeout)
	wr := connectHandle(t, srv.Addr(), nil, sessionTimeout) // the writer: another session

	// A persistent watch sees created, changed, deleted and child events
	// on its path, every time, and nothing of grandchildren.
	t.Run("PersistentWatch", func(t *testing.T) {
		p := uniquePath("persistent")
		w := newRecorder()
		mustAddWatch(t, h, p, AddWatchPersistent, w) // on a node that does not exist yet
		mustCreate(t, wr, p, nil, Persistent)
		w.expect(t, watchEvent(EventCreated, p))
		for i := range 3 {
			mustSet(t, wr, p, []byte{byte(i)})
			w.expect(t, watchEvent(EventChanged, p))
		}
		mustCreate(t, wr, p+"/c", nil, Persistent)
		w.expect(t, watchEvent(EventChild, p))
		mustCreate(t, wr, p+"/c/d", nil, Persistent) // a grandchild: nothing
		mustSet(t, wr, p+"/c", []byte("x"))          // a child's data: nothing
		mustDelete(t, wr, p+"/c/d")
		mustDelete(t, wr, p+"/c")
		w.expect(t, watchEvent(EventChild, p))
		mustDelete(t, wr, p)
		w.expect(t, watchEvent(EventDeleted, p))
		mustCreate(t, wr, p, nil, Persistent) // still armed after a deletion
		w.expect(t, watchEvent(EventCreated, p))

		// A second watcher through the asynchronous twin: both fire.
		w2 := newRecorder()
		if err := await(t, func(done func(error)) error { return h.AAddWatch(p, AddWatchPersistent, w2, done) }); err != nil {
			t.Fatalf("AAddWatch callback: %v", err)
		}
		mustSet(t, wr, p, []byte("both"))
		w.expect(t, watchEvent(EventChanged, p))
		w2.expect(t, watchEvent(EventChanged, p))
		barrier(t, h)
		w.expectNone(t)
		w2.expectNone(t)
	})

	// A persistent-recursive watch sees created, changed and
	// deleted for the path and every descendant, never child events, even
	// when the server sends child events for a one-shot child watch of the
	// same session below it.
	t.Run("RecursiveWatch", func(t *testing.T) {
		r := uniquePath("recursive")
		w := newRecorder()
		mustAddWatch(t, h, r, AddWatchPersistentRecursive, w)
		mustCreate(t, wr, r, nil, Persistent)
		w.expect(t, watchEvent(EventCreated, r))
		mustCreate(t, wr, r+"/a", nil, Persistent)
		w.expect(t, watchEvent(EventCreated, r+"/a"))
		mustCreate(t, wr, r+"/a/b", nil, Persistent)
		w.expect(t, watchEvent(EventCreated, r+"/a/b"))
		mustSet(t, wr, r+"/a/b", []byte("1"))
		w.expect(t, watchEvent(EventChanged, r+"/a/b"))
		mustSet(t, wr, r, []byte("1"))
		w.expect(t, watchEvent(EventChanged, r))

		wc := newRecorder()
		if _, err := h.WGetChildren(testContext(t), r+"/a", wc); err != nil {
			t.Fatalf("WGetChildren: %v", err)
		}
		mustCreate(t, wr, r+"/a/c", nil, Persistent)
		w.expect(t, watchEvent(EventCreated, r+"/a/c")) // and not the child event of r/a
		wc.expect(t, watchEvent(EventChild, r+"/a"))
		mustDelete(t, wr, r+"/a/c")
		w.expect(t, watchEvent(EventDeleted, r+"/a/c"))
		mustDelete(t, wr, r+"/a/b")
		w.expect(t, watchEvent(EventDeleted, r+"/a/b"))
		mustDelete(t, wr, r+"/a")
		w.expect(t, watchEvent(EventDeleted, r+"/a"))
		mustCreate(t, wr, r+"/again", nil, Persistent) // still armed
		w.expect(t, watchEvent(EventCreated, r+"/again"))
		barrier(t, h)
		w.expectNone(t)
		wc.expectNone(t)
	})

	t.Run("AddWatchBadArguments", func(t *testing.T) {
		ctx := testContext(t)
		if err := h.AddWatch(ctx, "/x", AddWatchMode(7), nil); !errors.Is(err, ErrBadArguments) {
			t.Errorf("AddWatch(mode 7) = %v; want ErrBadArguments", err)
		}
		if err := h.AddWatch(ctx, "no-slash", AddWatchPersistent, nil); !errors.Is(err, ErrBadArguments) {
			t.Errorf("AddWatch(bad path) = %v; want ErrBadArguments", err)
		}
	})

	t.Run("RemoveWatches", func(t *testing.T) { testRemoveWatches(t, srv, h, wr) })
	t.Run("MultiRead", func(t *testing.T) { testMultiRead(t, srv, h, wr) })
	t.Run("GetEphemerals", func(t *testing.T) { testGetEphemerals(t, srv, wr) })
	t.Run("GetAllChildrenNumber", func(t *testing.T) { testGetAllChildrenNumber(t, srv, h, wr) })
	t.Run("WhoAmI", func(t *testing.T) { testWhoAmI(t, srv) })
}

// watchArm registers watches of w on the node p (which exists) or on p+"/k"
// (which does not).
type watchArm struct {
	name string
	arm  func(t *testing.T, h *Handle, w Watcher, p string)
}

var (
	armData = watchArm{"data", func(t *testing.T, h *Handle, w Watcher, p string) {
		if _, _, err := h.WGet(testContext(t), p, w); err != nil {
			t.Fatalf("WGet: %v", err)
		}
	}}
	armExist = watchArm{"exist", func(t *testing.T, h *Handle, w Watcher, p string) {
		if _, err := h.WExists(testContext(t), p+"/k", w); !errors.Is(err, ErrNoNode) {
			t.Fatalf("WExists = %v; want ErrNoNode", err)
		}
	}}
	armChild = watchArm{"child", func(t *testing.T, h *Handle, w Watcher, p string) {
		if _, err := h.WGetChildren(testContext(t), p, w); err != nil {
			t.Fatalf("WGetChildren: %v", err)
		}
	}}
	armDataChild = watchArm{"data+child", func(t *testing.T, h *Handle, w Watcher, p string) {
		armData.arm(t, h, w, p)
		armChild.arm(t, h, w, p)
	}}
	armPersistent = watchArm{"persistent", func(t *testing.T, h *Handle, w Watcher, p string) {
		mustAddWatch(t, h, p, AddWatchPersistent, w)
	}}
	armRecursive = watchArm{"recursive", func(t *testing.T, h *Handle, w Watcher, p string) {
		mustAddWatch(t, h, p, AddWatchPersistentRecursive, w)
	}}
)

// testRemoveWatches checks RemoveWatches and RemoveAllWatches for
// every watcher type, server-side and local.
func testRemoveWatches(t *testing.T, srv *zktest.Server, h, wr *Handle) {
	// The changes made after a removal: data of p, a child k created and
	// deleted. What still fires afterwards is in after.
	trigger := func(t *testing.T, p string) {
		mustSet(t, wr, p, []byte("changed"))
		mustCreate(t, wr, p+"/k", nil, Persistent)
		mustDelete(t, wr, p+"/k")
	}
	cases := []struct {
		arm     watchArm
		wt      WatcherType
		path    string // relative to p: "" or "/k"
		removed []EventType
		after   []Event // still fired by trigger, paths relative to p
	}{
		{arm: armData, wt: WatcherData, removed: []EventType{EventDataWatchRemoved}},
		{arm: armExist, wt: WatcherData, path: "/k", removed: []EventType{EventDataWatchRemoved}},
		{arm: armChild, wt: WatcherChildren, removed: []EventType{EventChildWatchRemoved}},
		{arm: armDataChild, wt: WatcherAny, removed: []EventType{EventDataWatchRemoved, EventChildWatchRemoved}},
		{arm: armDataChild, wt: WatcherChildren, removed: []EventType{EventChildWatchRemoved},
			after: []Event{watchEvent(EventChanged, "")}},
		{arm: armDataChild, wt: WatcherData, removed: []EventType{EventDataWatchRemoved},
			after: []Event{watchEvent(EventChild, "")}},
		{arm: armPersistent, wt: WatcherPersistent, removed: []EventType{EventPersistentWatchRemoved}},
		{arm: armPersistent, wt: WatcherAny, removed: []EventType{EventPersistentWatchRemoved}},
		{arm: armRecursive, wt: WatcherPersistentRecursive, removed: []EventType{EventPersistentWatchRemoved}},
		{arm: armRecursive, wt: WatcherAny, removed: []EventType{EventPersistentWatchRemoved}},
	}
	for _, tc := range cases {
		for _, all := range []bool{false, true} {
			for _, local := range []bool{false, true} {
				name := fmt.Sprintf("%s/%v/all=%v/local=%v", tc.arm.name, tc.wt, all, local)
				t.Run(name, func(t *testing.T) {
					p := uniquePath("rm")
					mustCreate(t, wr, p, nil, Persistent)
					w := newRecorder()
					tc.arm.arm(t, h, w, p)
					other := newRecorder() // a second watcher on the path: RemoveWatches(w) keeps it
					if !all {
						tc.arm.arm(t, h, other, p)
					}
					target := p + tc.path
					var err error
					if all {
						err = h.RemoveAllWatches(testContext(t), target, tc.wt, local)
					} else {
						err = h.RemoveWatches(testContext(t), target, tc.wt, w, local)
					}
					if err != nil {
						t.Fatalf("remove: %v", err)
					}
					for _, typ := range tc.removed {
						w.expect(t, watchEvent(typ, target))
					}
					if all && !local && len(tc.after) == 0 && tc.arm.name != "child" {
						// The server forgot its data-side watches too.
						if paths := dataWatchPaths(t, srv); paths[p] || paths[p+"/k"] {
							t.Errorf("wchp still lists %s after a server-side removal: %v", p, paths)
						}
					}
					if local && tc.arm.name != "child" {
						if paths := dataWatchPaths(t, srv); !paths[target] {
							t.Errorf("wchp lost %s after a local removal: %v", target, paths)
						}
					}
					trigger(t, p)
					for _, e := range tc.after {
						w.expect(t, watchEvent(e.Type, p+e.Path))
					}
					barrier(t, h)
					w.expectNone(t)
					if !all {
						// The other watcher was not removed: it fired for the trigger.
						if len(other.all()) == 0 {
							t.Errorf("the watcher left in place got no event")
						}
					}
				})
			}
		}
	}

	t.Run("DefaultWatcher", func(t *testing.T) {
		dw := newRecorder()
		hd := connectHandle(t, srv.Addr(), dw, sessionTimeout)
		dw.expect(t, sessionEvent(StateConnected))
		p := uniquePath("rm-default")
		mustCreate(t, wr, p, nil, Persistent)
		if _, _, err := hd.Get(testContext(t), p, true); err != nil {
			t.Fatalf("Get: %v", err)
		}
		if err := hd.RemoveAllWatches(testContext(t), p, WatcherData, false); err != nil {
			t.Fatalf("RemoveAllWatches: %v", err)
		}
		dw.expect(t, watchEvent(EventDataWatchRemoved, p))
		mustSet(t, wr, p, []byte("x"))
		barrier(t, hd)
		dw.expectNone(t)
	})

	t.Run("NoWatcher", func(t *testing.T) {
		p := uniquePath("rm-none")
		mustCreate(t, wr, p, nil, Persistent)
		w, stranger := newRecorder(), newRecorder()
		armData.arm(t, h, w, p)
		fn := WatcherFunc(func(Event) {})
		if _, _, err := h.WGet(testContext(t), p, fn); err != nil {
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
				err := h.RemoveWatches(testContext(t), tc.path, tc.wt, tc.w, local)
				if !errors.Is(err, ErrNoWatcher) {
					t.Errorf("local=%v %s: RemoveWatches = %v; want ErrNoWatcher", local, tc.name, err)
				}
			}
		}
		if err := h.RemoveWatches(testContext(t), p, WatcherType(9), nil, false); !errors.Is(err, ErrBadArguments) {
			t.Errorf("RemoveWatches(type 9) = %v; want ErrBadArguments", err)
		}
		// Nothing was removed: the watch still fires.
		mustSet(t, wr, p, []byte("x"))
		w.expect(t, watchEvent(EventChanged, p))
		barrier(t, h)
		w.expectNone(t)
	})
}

// readSummary is a ReadResult with the Stat reduced to what the test
// can predict.
type readSummary struct {
	Op       serialize.OpCode
	Err      error
	Data     string
	Version  int32
	Children []string
}

func readSummaries(rs []ReadResult) []readSummary {
	out := make([]readSummary, len(rs))
	for i, r := range rs {
		children := slices.Clone(r.Children)
		slices.Sort(children)
		out[i] = readSummary{Op: r.Op, Err: r.Err, Data: string(r.Data), Version: r.Stat.Version, Children: children}
	}
	return out
}

var sameError = cmp.Comparer(func(a, b error) bool { return errors.Is(a, b) && errors.Is(b, a) || a == b })

// testMultiRead checks MultiRead and AMultiRead: each result in order, an
// error in place of a failed read, paths under a chroot, bad arguments
// refused before anything is queued.
func testMultiRead(t *testing.T, srv *zktest.Server, h, wr *Handle) {
	base := uniquePath("multiread")
	mustCreate(t, wr, base, nil, Persistent)
	mustCreate(t, wr, base+"/a", []byte("alpha"), Persistent)
	mustSet(t, wr, base+"/a", []byte("alpha2")) // version 1
	mustCreate(t, wr, base+"/b", nil, Persistent)
	mustCreate(t, wr, base+"/b/c2", nil, Persistent)
	mustCreate(t, wr, base+"/b/c1", nil, Persistent)
	ops := []ReadOp{
		GetDataOp{base + "/a"},
		GetChildrenOp{base + "/b"},
		GetDataOp{base + "/missing"},
		GetChildrenOp{base + "/missing"},
		GetChildrenOp{base + "/a"},
		GetDataOp{base + "/b/c1"},
	}
	want := []readSummary{
		{Op: serialize.OpGetData, Data: "alpha2", Version: 1},
		{Op: serialize.OpGetChildren, Children: []string{"c1", "c2"}},
		{Op: serialize.OpError, Err: ErrNoNode},
		{Op: serialize.OpError, Err: ErrNoNode},
		{Op: serialize.OpGetChildren},
		{Op: serialize.OpGetData},
	}
	opts := cmp.Options{sameError, cmpopts.EquateEmpty()}

	got, err := h.MultiRead(testContext(t), ops...)
	if err != nil {
		t.Fatalf("MultiRead: %v", err)
	}
	if diff := cmp.Diff(want, readSummaries(got), opts); diff != "" {
		t.Errorf("MultiRead (-want +got):\n%s", diff)
	}
	stat, err := h.Exists(testContext(t), base+"/a", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) > 0 && got[0].Stat != stat {
		t.Errorf("MultiRead stat = %+v; Exists stat = %+v", got[0].Stat, stat)
	}

	type asyncResult struct {
		err error
		rs  []readSummary
	}
	done := make(chan asyncResult, 1)
	if err := h.AMultiRead(ops, func(err error, rs []ReadResult) { done <- asyncResult{err, readSummaries(rs)} }); err != nil {
		t.Fatalf("AMultiRead: %v", err)
	}
	r := recv(t, done, "AMultiRead callback")
	if r.err != nil {
		t.Fatalf("AMultiRead callback: %v", r.err)
	}
	if diff := cmp.Diff(want, r.rs, opts); diff != "" {
		t.Errorf("AMultiRead (-want +got):\n%s", diff)
	}

	// Under a chroot the paths are relative to it.
	hc := connectHandle(t, srv.Addr()+base, nil, sessionTimeout)
	got, err = hc.MultiRead(testContext(t), GetDataOp{"/a"}, GetChildrenOp{"/b"}, GetChildrenOp{"/"})
	if err != nil {
		t.Fatalf("MultiRead under chroot: %v", err)
	}
	wantChroot := []readSummary{want[0], want[1], {Op: serialize.OpGetChildren, Children: []string{"a", "b"}}}
	if diff := cmp.Diff(wantChroot, readSummaries(got), opts); diff != "" {
		t.Errorf("MultiRead under chroot (-want +got):\n%s", diff)
	}

	// A bad path refuses the whole request before anything is queued.
	if _, err := h.MultiRead(testContext(t), GetDataOp{base + "/a"}, GetDataOp{"bad"}); !errors.Is(err, ErrBadArguments) {
		t.Errorf("MultiRead(bad path) = %v; want ErrBadArguments", err)
	}
	if _, err := h.MultiRead(testContext(t), GetDataOp{base + "/a"}, nil); !errors.Is(err, ErrBadArguments) {
		t.Errorf("MultiRead(nil op) = %v; want ErrBadArguments", err)
	}
	got, err = h.MultiRead(testContext(t))
	if err != nil || len(got) != 0 {
		t.Errorf("MultiRead() = %v, %v; want no results, nil", got, err)
	}
	if got, err := h.MultiRead(testContext(t), ops[0]); err != nil || len(got) != 1 {
		t.Errorf("MultiRead after the refused ones = %v, %v", got, err)
	}
}

// testGetEphemerals checks prefix filtering, other sessions left
// out, chroot stripped; sync and async.
func testGetEphemerals(t *testing.T, srv *zktest.Server, wr *Handle) {
	base := uniquePath("eph")
	mustCreate(t, wr, base, nil, Persistent)
	mustCreate(t, wr, base+"/y", nil, Persistent)
	mustCreate(t, wr, base+"/theirs", nil, Ephemeral) // another session's
	he := connectHandle(t, srv.Addr(), nil, sessionTimeout)
	for _, p := range []string{base + "/x1", base + "/x2", base + "/y/z"} {
		mustCreate(t, he, p, nil, Ephemeral)
	}
	hc := connectHandle(t, srv.Addr()+base, nil, sessionTimeout)
	mustCreate(t, hc, "/c1", nil, Ephemeral)
	mustCreate(t, hc, "/y/c2", nil, Ephemeral)

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
		got, err := tc.h.GetEphemerals(testContext(t), tc.prefix)
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
		if err := recv(t, errc, "AGetEphemerals callback"); err != nil {
			t.Errorf("AGetEphemerals(%q): %v", tc.prefix, err)
		}
		if diff := cmp.Diff(tc.want, recv(t, done, "AGetEphemerals paths"), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("AGetEphemerals(%q) (-want +got):\n%s", tc.prefix, diff)
		}
	}
	if _, err := he.GetEphemerals(testContext(t), "bad"); !errors.Is(err, ErrBadArguments) {
		t.Errorf("GetEphemerals(bad) = %v; want ErrBadArguments", err)
	}
}

// testGetAllChildrenNumber checks the count of all descendants, under a
// chroot too; sync and async.
func testGetAllChildrenNumber(t *testing.T, srv *zktest.Server, h, wr *Handle) {
	base := uniquePath("count")
	for _, p := range []string{"", "/a", "/a/b", "/a/b/c", "/d"} {
		mustCreate(t, wr, base+p, nil, Persistent)
	}
	hc := connectHandle(t, srv.Addr()+base, nil, sessionTimeout)
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
		n, err := tc.h.GetAllChildrenNumber(testContext(t), tc.path)
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
		if r := recv(t, done, "AGetAllChildrenNumber callback"); r.n != tc.want || !errors.Is(r.err, tc.wantErr) || (r.err == nil) != (tc.wantErr == nil) {
			t.Errorf("AGetAllChildrenNumber(%s) = %d, %v; want %d, %v", tc.path, r.n, r.err, tc.want, tc.wantErr)
		}
	}
}

// testWhoAmI checks the ip identity, and the digest one after
// AddAuth; sync and async.
func testWhoAmI(t *testing.T, srv *zktest.Server) {
	hw := connectHandle(t, srv.Addr(), nil, sessionTimeout)
	whoAmI := func(t *testing.T) []ClientInfo {
		t.Helper()
		ids, err := hw.WhoAmI(testContext(t))
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
		r := recv(t, done, "AWhoAmI callback")
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
	if err := hw.AddAuth(testContext(t), "digest", []byte("alice:secret")); err != nil {
		t.Fatalf("AddAuth: %v", err)
	}
	if diff := cmp.Diff([]ClientInfo{{AuthScheme: "digest", User: "alice"}, ip}, whoAmI(t)); diff != "" {
		t.Errorf("WhoAmI after AddAuth (-want +got):\n%s", diff)
	}
}

// TestFeaturesWatchRestore: persistent and recursive watches come back through SetWatches2 (split over packets of
// at most 128 KiB) after a server restart, and after a disconnection
// during which other sessions changed the watched nodes.
func TestFeaturesWatchRestore(t *testing.T) {
	// The server refuses packets over 150000 bytes: one SetWatches2 with
	// every path of ServerRestart (about 160 KB) would be turned away.
	srv := startServer(t, zktest.WithSystemProperty("jute.maxbuffer", "150000"))

	t.Run("ServerRestart", func(t *testing.T) {
		w, ww := newRecorder(), newRecorder()
		h := connectHandle(t, srv.Addr(), nil, sessionTimeout)
		wr := connectHandle(t, srv.Addr(), ww, sessionTimeout)
		ww.expect(t, sessionEvent(StateConnected))
		sid := h.ClientID().SessionID
		p, r, many := uniquePath("restore-p"), uniquePath("restore-r"), uniquePath("restore-many")
		mustCreate(t, wr, p, nil, Persistent)
		mustCreate(t, wr, many, nil, Persistent)
		mustAddWatch(t, h, p, AddWatchPersistent, w)
		mustAddWatch(t, h, r, AddWatchPersistentRecursive, w)
		// Enough recursive watches that SetWatches2 needs two packets:
		// 1200 paths of about 135 bytes.
		pad := strings.Repeat("x", 110)
		manyPaths := make([]string, 1200)
		errs := make(chan error, len(manyPaths))
		for i := range manyPaths {
			manyPaths[i] = fmt.Sprintf("%s/%s-%04d", many, pad, i)
			must(t, "AAddWatch", h.AAddWatch(manyPaths[i], AddWatchPersistentRecursive, w, func(err error) { errs <- err }))
		}
		for range manyPaths {
			must(t, "AAddWatch callback", recv(t, errs, "AAddWatch callback"))
		}

		srv.Stop()
		w.expect(t, sessionEvent(StateConnecting))
		srv.Start()
		w.expect(t, sessionEvent(StateConnected))
		// The writer too: a request queued while it retries would fail
		// with the attempt that the starting server turns away.
		ww.expect(t, sessionEvent(StateConnecting), sessionEvent(StateConnected))
		if got := h.ClientID().SessionID; got != sid {
			t.Fatalf("session %#x after the restart; want %#x", got, sid)
		}
		// SetWatches2 went before this request on the same connection.
		if _, err := h.Exists(testContext(t), "/", false); err != nil {
			t.Fatalf("Exists: %v", err)
		}
		paths := dataWatchPaths(t, srv)
		for _, want := range []string{p, r, manyPaths[0], manyPaths[len(manyPaths)-1]} {
			if !paths[want] {
				t.Errorf("the server has no watch on %s after the restart", want)
			}
		}
		mustSet(t, wr, p, []byte("after"))
		w.expect(t, watchEvent(EventChanged, p))
		mustCreate(t, wr, p+"/c", nil, Persistent)
		w.expect(t, watchEvent(EventChild, p))
		mustCreate(t, wr, r, nil, Persistent)
		w.expect(t, watchEvent(EventCreated, r))
		mustCreate(t, wr, r+"/x", nil, Persistent)
		w.expect(t, watchEvent(EventCreated, r+"/x"))
		mustCreate(t, wr, manyPaths[0], nil, Persistent)
		w.expect(t, watchEvent(EventCreated, manyPaths[0]))
		mustCreate(t, wr, manyPaths[len(manyPaths)-1], nil, Persistent)
		w.expect(t, watchEvent(EventCreated, manyPaths[len(manyPaths)-1]))
		barrier(t, h)
		w.expectNone(t)
	})

	t.Run("ChangedWhileDisconnected", func(t *testing.T) {
		px := zktest.NewProxy(t, srv.Addr())
		w := newRecorder()
		h := connectHandle(t, px.Addr(), nil, sessionTimeout)
		wr := connectHandle(t, srv.Addr(), nil, sessionTimeout)
		base := uniquePath("missed")
		md, me, mp, mr := base+"/md", base+"/me", base+"/mp", base+"/mr"
		mustCreate(t, wr, base, nil, Persistent)
		for _, p := range []string{md, mp, mr} {
			mustCreate(t, wr, p, nil, Persistent)
		}
		if _, _, err := h.WGet(testContext(t), md, w); err != nil {
			t.Fatal(err)
		}
		if _, err := h.WExists(testContext(t), me, w); !errors.Is(err, ErrNoNode) {
			t.Fatal(err)
		}
		mustAddWatch(t, h, mp, AddWatchPersistent, w)
		mustAddWatch(t, h, mr, AddWatchPersistentRecursive, w)

		px.Refuse(true)
		px.Cut()
		w.expect(t, sessionEvent(StateConnecting))
		mustSet(t, wr, md, []byte("missed"))
		mustCreate(t, wr, me, nil, Persistent)
		mustCreate(t, wr, mp+"/c", nil, Persistent) // a child event of mp
		mustCreate(t, wr, mr+"/x", nil, Persistent) // a created event below mr
		px.Refuse(false)
		w.expect(t, sessionEvent(StateConnected))

		// The one-shot watches of the same SetWatches2 fire for what
		// changed after the last zxid the handle saw.
		got := []Event{w.next(t), w.next(t)}
		want := []Event{watchEvent(EventChanged, md), watchEvent(EventCreated, me)}
		less := func(a, b Event) int { return strings.Compare(a.Path, b.Path) }
		slices.SortFunc(got, less)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("events for changes while disconnected (-want +got):\n%s", diff)
		}
		// The persistent watches are back: a change now fires them. A
		// 3.8 server re-adds persistent watches without comparing zxids,
		// so the changes made while disconnected are not replayed to
		// them; accept them if a server does.
		mustSet(t, wr, mp, []byte("now"))
		mustCreate(t, wr, mr+"/y", nil, Persistent)
		replayable := map[Event]bool{watchEvent(EventChild, mp): true, watchEvent(EventCreated, mr+"/x"): true}
		for _, next := range []Event{watchEvent(EventChanged, mp), watchEvent(EventCreated, mr+"/y")} {
			for {
				ev := w.next(t)
				if ev == next {
					break
				}
				if !replayable[ev] {
					t.Fatalf("unexpected event %v %s; want %v %s", ev.Type, ev.Path, next.Type, next.Path)
				}
				t.Logf("the server replayed %v %s to a persistent watch", ev.Type, ev.Path)
			}
		}
		barrier(t, h)
		w.expectNone(t)
	})
}
