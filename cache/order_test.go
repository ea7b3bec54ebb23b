package cache

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zkloop/zkloop/zhandle"
	"github.com/zkloop/zkloop/zktest"
)

// testPrimingDuringChanges starts a cache of a tree of 3,000 nodes while a
// writer keeps changing it. The changes made while the cache primes are
// neither lost nor applied twice (the events replay to the server's tree,
// each consistent with the last), EventInitialized comes once, and the
// node events come in zxid order.
func testPrimingDuringChanges(t *testing.T, srv *zktest.Server) {
	addr := chroot(t, srv.Addr())
	w := dial(t, addr)
	ctx := testContext(t)
	for _, p := range []string{"/r", "/r/big", "/probe"} {
		_, err := w.Create(ctx, p, nil, zhandle.OpenACLUnsafe, zhandle.Persistent)
		must(t, "Create "+p, err)
	}
	createTree(t, w, "/r/big", 30, 100)

	ch := newChurner(t, w, "/r", 7)
	ch.probe = "/probe"
	rec := newRecorder()
	var c *Cache
	startedAt, initializedAt := -1, -1
	ch.run(2000, churnWindow, func(i int) {
		switch {
		case i == 200:
			c = newCache(t, dial(t, addr), "/r", WithListener(rec.listen))
			startedAt = i
		case c != nil && initializedAt < 0 && isClosed(c.initialized):
			initializedAt = i
		}
	})
	must(t, "WaitInitialized", c.WaitInitialized(ctx))
	must(t, "Sync", c.Sync(ctx))
	if initializedAt < 0 {
		initializedAt = 2000
	}
	t.Logf("operations sent while the cache primed: %d; stats %+v", initializedAt-startedAt, c.Stats())
	if initializedAt-startedAt < churnWindow {
		t.Errorf("only %d operations while the cache primed: the test shows nothing", initializedAt-startedAt)
	}

	want := serverTree(t, w, "/r")
	if diff := cmp.Diff(want, cacheTree(c, "/r")); diff != "" {
		t.Errorf("cache (-server +cache):\n%s", diff)
	}
	events := rec.all()
	checkReplay(t, events, want)
	checkZxidOrder(t, events, ch.records)
}

// checkZxidOrder checks that the node events come in zxid order (a multi's
// operations share one zxid): a creation at its Czxid, a change at its
// Mzxid, a deletion at the zxid the writer recorded for it (the first
// deletion of the path after the deleted node's creation), except the
// deletions a re-read found, which come first between EventStale and
// EventResynced.
func checkZxidOrder(t *testing.T, events []Event, records []opRecord) {
	t.Helper()
	var last int64
	var lastEv Event
	rereading := false
	for _, ev := range events {
		var zxid int64
		switch ev.Type {
		case EventStale:
			rereading = true
			continue
		case EventResynced:
			rereading = false
			continue
		case EventCreated:
			zxid = ev.New.Stat.Czxid
		case EventChanged:
			zxid = ev.New.Stat.Mzxid
		case EventDeleted:
			if rereading {
				continue
			}
			zxid = deletionZxid(records, ev.Path, ev.Old.Stat.Czxid, last)
			if zxid == 0 {
				t.Errorf("%v: the writer made no such deletion", ev)
				continue
			}
		default:
			continue
		}
		if zxid < last {
			t.Errorf("%v (zxid %#x) after %v (zxid %#x)", ev, zxid, lastEv, last)
		}
		last, lastEv = zxid, ev
	}
}

// deletionZxid returns the zxid of the deletion of p after czxid (the
// deleted node's creation): the first one at or after atLeast if there is
// one (the node may have been deleted while the cache was cut off, then
// created and deleted again before the cache read it, which it then
// reports at the second deletion), else the first one, or 0 if there is
// none.
func deletionZxid(records []opRecord, p string, czxid, atLeast int64) int64 {
	var first, fitting int64
	for _, r := range records {
		if r.kind != EventDeleted || r.path != p || r.zxid <= czxid {
			continue
		}
		if first == 0 || r.zxid < first {
			first = r.zxid
		}
		if r.zxid >= atLeast && (fitting == 0 || r.zxid < fitting) {
			fitting = r.zxid
		}
	}
	if fitting != 0 {
		return fitting
	}
	return first
}

// createTree creates parents nodes under root, each with children
// children, in multis of at most 1,000 creates.
func createTree(t testing.TB, h *zhandle.Handle, root string, parents, children int) {
	t.Helper()
	var ops []zhandle.Op
	flush := func() {
		if len(ops) > 0 {
			_, err := h.Multi(testContext(t), ops...)
			must(t, "Multi create", err)
			ops = ops[:0]
		}
	}
	add := func(p string) {
		ops = append(ops, zhandle.CreateOp{Path: p, Data: []byte(p), ACL: zhandle.OpenACLUnsafe, Mode: zhandle.Persistent})
		if len(ops) == 1000 {
			flush()
		}
	}
	for i := range parents {
		parent := fmt.Sprintf("%s/p%03d", root, i)
		add(parent)
		for j := range children {
			add(fmt.Sprintf("%s/c%05d", parent, j))
		}
	}
	flush()
}
