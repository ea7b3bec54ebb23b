package cache

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zkloop/zkloop/internal/testwait"
	"github.com/zkloop/zkloop/zhandle"
	"github.com/zkloop/zkloop/zktest"
)

// The vocabulary of this package's tests: handles on a chroot of their own,
// a cache closed at the end of the test, an event recorder, and the tree
// as ZooKeeper and as the cache hold it.

const (
	// waitTimeout bounds every wait: an event, a sync, a priming.
	waitTimeout = 30 * time.Second
	// sessionTimeout is what test handles ask for.
	sessionTimeout = 10 * time.Second
)

func TestMain(m *testing.M) {
	code := m.Run()
	zktest.KillAll()
	os.Exit(code)
}

// testContext bounds the calls of a test.
func testContext(t testing.TB) context.Context { return testwait.Context(t, waitTimeout) }

// dial connects a handle to hosts, waits for its session and closes it at
// the end of the test.
func dial(t testing.TB, hosts string, opts ...zhandle.Option) *zhandle.Handle {
	t.Helper()
	h, err := zhandle.Init(hosts, nil, sessionTimeout, opts...)
	if err != nil {
		t.Fatalf("Init(%q): %v", hosts, err)
	}
	t.Cleanup(func() { h.Close() })
	if err := h.WaitConnected(testContext(t)); err != nil {
		t.Fatalf("WaitConnected(%q): %v", hosts, err)
	}
	return h
}

// chroot makes a new top-level node named after the test on srv and
// returns the connect string of a chroot there.
func chroot(t testing.TB, addr string) string {
	t.Helper()
	name := "/" + strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	h := dial(t, addr)
	if _, err := h.Create(testContext(t), name, nil, zhandle.OpenACLUnsafe, zhandle.Persistent); err != nil && !errors.Is(err, zhandle.ErrNodeExists) {
		t.Fatalf("Create %s: %v", name, err)
	}
	return addr + name
}

// newCache starts a cache and closes it at the end of the test.
func newCache(t testing.TB, h *zhandle.Handle, root string, opts ...Option) *Cache {
	t.Helper()
	c, err := New(h, root, opts...)
	if err != nil {
		t.Fatalf("New(%q): %v", root, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// primed starts a cache and waits for its first priming.
func primed(t testing.TB, h *zhandle.Handle, root string, opts ...Option) *Cache {
	t.Helper()
	c := newCache(t, h, root, opts...)
	if err := c.WaitInitialized(testContext(t)); err != nil {
		t.Fatalf("WaitInitialized: %v", err)
	}
	return c
}

// must fails the test on err.
func must(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// A recorder is a listener that keeps every event.
type recorder struct {
	mu     sync.Mutex
	events []Event
	wake   chan struct{}
}

func newRecorder() *recorder { return &recorder{wake: make(chan struct{}, 1)} }

func (r *recorder) listen(ev Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *recorder) all() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// waitFor waits until the events recorded satisfy cond.
func (r *recorder) waitFor(t testing.TB, what string, cond func([]Event) bool) []Event {
	t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		if evs := r.all(); cond(evs) {
			return evs
		}
		select {
		case <-r.wake:
		case <-deadline.C:
			t.Fatalf("no %s within %v; events: %v", what, waitTimeout, r.all())
		}
	}
}

// waitType waits for an event of type typ after the first n events and
// returns the number of events up to and including it.
func (r *recorder) waitType(t testing.TB, typ EventType, n int) int {
	t.Helper()
	var at int
	r.waitFor(t, typ.String(), func(evs []Event) bool {
		for i := n; i < len(evs); i++ {
			if evs[i].Type == typ {
				at = i + 1
				return true
			}
		}
		return false
	})
	return at
}

// waitExpired waits for the EventStale of a session expiry after the
// first n events and returns the number of events up to and including it.
func (r *recorder) waitExpired(t testing.TB, n int) int {
	t.Helper()
	var at int
	r.waitFor(t, "EventStale with "+zhandle.ErrSessionExpired.Error(), func(evs []Event) bool {
		for i := n; i < len(evs); i++ {
			if evs[i].Type == EventStale && errors.Is(evs[i].Err, zhandle.ErrSessionExpired) {
				at = i + 1
				return true
			}
		}
		return false
	})
	return at
}

// A znode is one node as a test compares it.
type znodeState struct {
	Data     string
	Stat     zhandle.Stat
	Children []string
}

// serverTree reads the tree under root through h, node by node.
func serverTree(t testing.TB, h *zhandle.Handle, root string) map[string]znodeState {
	t.Helper()
	ctx := testContext(t)
	out := map[string]znodeState{}
	var walk func(p string)
	walk = func(p string) {
		data, stat, err := h.Get(ctx, p, false)
		if errors.Is(err, zhandle.ErrNoNode) {
			return
		}
		must(t, "Get "+p, err)
		children, _, err := h.GetChildren2(ctx, p, false)
		if errors.Is(err, zhandle.ErrNoNode) {
			return
		}
		must(t, "GetChildren "+p, err)
		slices.Sort(children)
		if len(children) == 0 {
			children = nil
		}
		out[p] = znodeState{Data: string(data), Stat: stat, Children: children}
		for _, name := range children {
			walk(childPath(p, name))
		}
	}
	walk(root)
	return out
}

// cacheTree reads the tree under root from c.
func cacheTree(c *Cache, root string) map[string]znodeState {
	out := map[string]znodeState{}
	var walk func(p string)
	walk = func(p string) {
		data, stat, ok := c.Get(p)
		if !ok {
			return
		}
		children, _ := c.Children(p)
		out[p] = znodeState{Data: string(data), Stat: stat, Children: children}
		for _, name := range children {
			walk(childPath(p, name))
		}
	}
	walk(root)
	return out
}

// A replay applies a listener's events to a model of the tree, checking
// each against what came before: a creation of an absent node, a change
// or deletion of a present one whose Old is the state last reported.
type replay struct {
	nodes map[string]Node
}

func newReplay() *replay { return &replay{nodes: map[string]Node{}} }

// apply checks and applies ev, returning what is wrong with it, or "".
func (r *replay) apply(ev Event) string {
	cur, present := r.nodes[ev.Path]
	switch ev.Type {
	case EventCreated:
		if present {
			return fmt.Sprintf("%v of a node present", ev)
		}
		r.nodes[ev.Path] = ev.New
	case EventChanged:
		switch {
		case !present:
			return fmt.Sprintf("%v of an absent node", ev)
		case ev.Old.Stat.Mzxid != cur.Stat.Mzxid || string(ev.Old.Data) != string(cur.Data):
			return fmt.Sprintf("%v: old mzxid %#x, last reported %#x", ev, ev.Old.Stat.Mzxid, cur.Stat.Mzxid)
		case ev.New.Stat.Mzxid <= cur.Stat.Mzxid:
			return fmt.Sprintf("%v does not move mzxid forward from %#x", ev, cur.Stat.Mzxid)
		}
		r.nodes[ev.Path] = ev.New
	case EventDeleted:
		if !present {
			return fmt.Sprintf("%v of an absent node", ev)
		}
		if ev.Old.Stat.Czxid != cur.Stat.Czxid {
			return fmt.Sprintf("%v: old czxid %#x, last reported %#x", ev, ev.Old.Stat.Czxid, cur.Stat.Czxid)
		}
		for p := range r.nodes {
			if p != ev.Path && depthBelow(ev.Path, p) > 0 {
				return fmt.Sprintf("%v before its descendant %s", ev, p)
			}
		}
		delete(r.nodes, ev.Path)
	}
	return ""
}

// checkReplay replays events on an empty tree: each must be consistent
// with the ones before, EventInitialized must come once, and the nodes
// must end with the data of want.
func checkReplay(t *testing.T, events []Event, want map[string]znodeState) {
	t.Helper()
	replayed := newReplay()
	initialized := 0
	for _, ev := range events {
		if ev.Type == EventInitialized {
			initialized++
		}
		if why := replayed.apply(ev); why != "" {
			t.Errorf("event: %s", why)
		}
	}
	if initialized != 1 {
		t.Errorf("%d EventInitialized, want 1", initialized)
	}
	if diff := cmp.Diff(dataOf(want), replayed.data()); diff != "" {
		t.Errorf("events replayed (-server +replayed):\n%s", diff)
	}
}

// data returns the path → data of the model.
func (r *replay) data() map[string]string {
	out := map[string]string{}
	for p, n := range r.nodes {
		out[p] = string(n.Data)
	}
	return out
}

// dataOf returns the path → data of a tree.
func dataOf(tree map[string]znodeState) map[string]string {
	out := map[string]string{}
	for p, n := range tree {
		out[p] = n.Data
	}
	return out
}

// isClosed reports whether ch is closed, without waiting.
func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
