package cache

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zkloop/zkloop/zhandle"
	"github.com/zkloop/zkloop/zktest"
)

// A reference run makes churnOps random operations (a fifth as many under
// -short), churnWindow at a time in flight.
const (
	churnOps    = 5000
	churnWindow = 16
)

// referenceOps is the number of operations of a reference run.
func referenceOps() int {
	if testing.Short() {
		return churnOps / 5
	}
	return churnOps
}

// A refRun is one reference run: a writer churning a tree while a cache,
// connected through a fault proxy, follows it.
type refRun struct {
	t      *testing.T
	srv    *zktest.Server
	proxy  *zktest.Proxy
	chroot string // the chroot part of the connect strings
	h      *zhandle.Handle
	c      *Cache
	rec    *recorder
}

// A fault is what a reference run does to the cache before operation i.
type fault func(r *refRun, i int)

// testReference has a second handle make 5,000 (under -short 1,000) random
// creates, sets and deletes in a three-level tree while the cache follows; after a Sync the
// cache equals a fresh read of the tree, node for node (data, the whole
// Stat, children), its events, replayed on an empty tree, make the same
// tree, and they come in zxid order. The same holds with 20 cuts of the cache's connection, a
// server restart, and a session expiry followed by Rebuild.
func testReference(t *testing.T, srv *zktest.Server) {
	ops := referenceOps()
	for _, tc := range []struct {
		name    string
		fault   fault
		resyncs int // re-reads completed at least (none if 0)
	}{
		{name: "quiet"},
		{name: "proxy-cuts", fault: cutEvery(ops / 20), resyncs: 20},
		{name: "server-restart", fault: restartAt(ops / 2), resyncs: 1},
		{name: "session-expiry", fault: expireAt(ops / 2), resyncs: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := startRef(t, srv)
			ch := newChurner(t, dial(t, srv.Addr()+r.chroot), "/r", uint64(len(tc.name)))
			ch.probe = "/probe"
			ch.run(ops, churnWindow, func(i int) {
				if tc.fault != nil {
					tc.fault(r, i)
				}
			})
			t.Logf("%d operations succeeded", ch.ops)
			r.check()
			checkZxidOrder(t, r.rec.all(), ch.records)
			stats := r.c.Stats()
			if stats.Resyncs < tc.resyncs || tc.resyncs == 0 && stats.Resyncs > 0 {
				t.Errorf("%d re-reads, want at least %d (none if 0)", stats.Resyncs, tc.resyncs)
			}
			t.Logf("stats %+v", stats)
		})
	}
}

// startRef creates /r (and /probe, see churner) in a new chroot and
// starts a cache of /r through a proxy.
func startRef(t *testing.T, srv *zktest.Server) *refRun {
	addr := chroot(t, srv.Addr())
	r := &refRun{t: t, srv: srv, chroot: addr[len(srv.Addr()):], rec: newRecorder()}
	for _, p := range []string{"/r", "/probe"} {
		_, err := dial(t, addr).Create(testContext(t), p, nil, zhandle.OpenACLUnsafe, zhandle.Persistent)
		must(t, "Create "+p, err)
	}
	r.proxy = zktest.NewProxy(t, srv.Addr())
	r.h = dial(t, r.proxy.Addr()+r.chroot)
	r.c = newCache(t, r.h, "/r", WithListener(r.rec.listen))
	return r
}

// check syncs the cache and compares it with the server's tree, and its
// events with the cache.
func (r *refRun) check() {
	t := r.t
	must(t, "Sync", r.c.Sync(testContext(t)))
	want := serverTree(t, dial(t, r.srv.Addr()+r.chroot), "/r")
	if diff := cmp.Diff(want, cacheTree(r.c, "/r")); diff != "" {
		t.Errorf("cache after Sync (-server +cache):\n%s", diff)
	}
	checkReplay(t, r.rec.all(), want)
}

// cutEvery cuts the cache's connection every n operations, resetting it
// and cutting a reply in the middle by turns. Half-way between cuts it
// waits for the cache to have re-read the tree, so that every cut hits a
// cache that follows the changes as they come.
func cutEvery(n int) fault {
	return func(r *refRun, i int) {
		switch {
		case i%n == 0:
			must(r.t, "Sync", r.c.Sync(testContext(r.t)))
		case i%n != n/2:
		case i/n%2 == 0:
			r.proxy.Cut()
		default:
			r.proxy.CutMidFrame()
		}
	}
}

// restartAt kills the server and starts it again before operation at.
func restartAt(at int) fault {
	return func(r *refRun, i int) {
		if i == at {
			r.srv.Kill()
			r.srv.Start()
		}
	}
}

// expireAt expires the cache's session before operation at, checks that
// the cache says so at once, and rebuilds it on a new handle.
func expireAt(at int) fault {
	return func(r *refRun, i int) {
		if i != at {
			return
		}
		t := r.t
		n := len(r.rec.all())
		zktest.ExpireSession(t, r.h)
		r.rec.waitExpired(t, n)
		if r.c.Fresh() || r.c.Staleness() <= 0 {
			t.Errorf("after the expiry: Fresh() = %v, Staleness() = %v; want false, > 0", r.c.Fresh(), r.c.Staleness())
		}
		if _, _, ok := r.c.Get("/r"); !ok {
			t.Errorf("the expired cache no longer serves /r")
		}
		must(t, "Rebuild", r.c.Rebuild(dial(t, r.proxy.Addr()+r.chroot)))
	}
}
