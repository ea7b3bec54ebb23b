package zhandle

import (
	"bufio"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Tests of watches against the shared server (sharedserver_test.go):
// one-shot delivery, table routing as zk_hashtable.c, the default watcher,
// and RemoveWatches.

// watchCase is a watch set by a read call on p, the change that fires it,
// and a second change that must not fire it again.
type watchCase struct {
	name    string
	call    func(w Watcher) call
	exists  bool // p exists when the watch is set
	trigger func(t *testing.T, c *realClient, p string)
	again   func(t *testing.T, c *realClient, p string)
	want    EventType
}

func setNode(t *testing.T, c *realClient, p string)    { mustSet(t, c.Handle, p, nodeData) }
func createNode(t *testing.T, c *realClient, p string) { mustCreate(t, c.Handle, p, nil, Persistent) }
func addChild(t *testing.T, c *realClient, p string) {
	mustCreate(t, c.Handle, p+"/c-", nil, PersistentSequential)
}

func deleteNode(t *testing.T, c *realClient, p string) {
	t.Helper()
	if err := c.Delete(testContext(t), p, -1); err != nil {
		t.Fatalf("Delete(%q): %v", p, err)
	}
}

var watchCases = []watchCase{
	{"Exists/changed", existsCall, true, setNode, setNode, EventChanged},
	{"Exists/created", existsCall, false, createNode, setNode, EventCreated},
	{"Exists/deleted", existsCall, true, deleteNode, createNode, EventDeleted},
	{"Get/changed", getCall, true, setNode, setNode, EventChanged},
	{"Get/deleted", getCall, true, deleteNode, createNode, EventDeleted},
	{"GetChildren/child", childrenCall, true, addChild, addChild, EventChild},
	{"GetChildren/deleted", childrenCall, true, deleteNode, createNode, EventDeleted},
	{"GetChildren2/child", children2Call, true, addChild, addChild, EventChild},
	{"GetChildren2/deleted", children2Call, true, deleteNode, createNode, EventDeleted},
}

// Every read call sets a watch, in every form: watch=true for the default
// watcher, the W... form for a watcher of the caller's; sync and async. The
// watch fires once, with the client path and the connected state.
func TestWatchFires(t *testing.T) {
	t.Parallel()
	c := newRealClient(t)
	for _, tc := range watchCases {
		for _, byDefault := range []bool{true, false} {
			name := tc.name + "/custom"
			if byDefault {
				name = tc.name + "/default"
			}
			t.Run(name, func(t *testing.T) {
				forms(t, func(t *testing.T, async bool, form string) {
					p := "/" + strings.ReplaceAll(name, "/", "-") + "-" + form
					if tc.exists {
						mustCreate(t, c.Handle, p, nil, Persistent)
					}
					log, w := c.events, Watcher(viaDefault)
					if !byDefault {
						log = newRecorder()
						w = log
					}
					var want error
					if !tc.exists {
						want = ErrNoNode
					}
					if r := tc.call(w).run(t, c.Handle, async, p); !errors.Is(r.Err, want) {
						t.Fatalf("setting the watch: %v, want %v", r.Err, want)
					}
					tc.trigger(t, c, p)
					log.expect(t, watchEvent(tc.want, p))
					tc.again(t, c, p)
					barrier(t, c.Handle)
					log.expectNone(t)
					c.events.expectNone(t)
				})
			})
		}
	}
}

// A read call that fails sets no watch, except exists on a missing node.
func TestFailedReadSetsNoWatch(t *testing.T) {
	t.Parallel()
	c := newRealClient(t)
	w := newRecorder()
	for _, cl := range []call{getCall(w), childrenCall(w), children2Call(w)} {
		if r := cl.run(t, c.Handle, false, "/n"); !errors.Is(r.Err, ErrNoNode) {
			t.Fatalf("read of a missing node: %v, want ErrNoNode", r.Err)
		}
	}
	createNode(t, c, "/n")
	addChild(t, c, "/n")
	barrier(t, c.Handle)
	w.expectNone(t)
	if err := c.RemoveAllWatches(testContext(t), "/n", WatcherAny, true); !errors.Is(err, ErrNoWatcher) {
		t.Errorf("RemoveAllWatches = %v, want ErrNoWatcher", err)
	}
}

// A delete fires EventDeleted to the data, exists and child watchers of
// the node, once to a watcher that sits in several tables.
func TestDeleteFiresEveryWatcher(t *testing.T) {
	t.Parallel()
	c := newRealClient(t)
	mustCreate(t, c.Handle, "/n", nil, Persistent)
	data, exists, child, both := newRecorder(), newRecorder(), newRecorder(), newRecorder()
	for _, cl := range []call{getCall(data), existsCall(exists), childrenCall(child), getCall(both), children2Call(both), getCall(viaDefault)} {
		if r := cl.run(t, c.Handle, false, "/n"); r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	deleteNode(t, c, "/n")
	barrier(t, c.Handle)
	for _, log := range []*recorder{data, exists, child, both, c.events} {
		log.expect(t, watchEvent(EventDeleted, "/n"))
		log.expectNone(t)
	}
}

// A watcher with identity (a pointer) registered several times on a path
// fires once; a WatcherFunc has none and fires once per registration.
func TestWatcherRegisteredTwice(t *testing.T) {
	t.Parallel()
	c := newRealClient(t)
	mustCreate(t, c.Handle, "/n", nil, Persistent)
	w := newRecorder()
	funcEvents := make(chan Event, 8)
	fn := WatcherFunc(func(ev Event) { funcEvents <- ev })
	for _, async := range []bool{false, true} {
		for _, cl := range []call{getCall(w), existsCall(w), getCall(fn)} {
			if r := cl.run(t, c.Handle, async, "/n"); r.Err != nil {
				t.Fatal(r.Err)
			}
		}
	}
	setNode(t, c, "/n")
	barrier(t, c.Handle)
	w.expect(t, watchEvent(EventChanged, "/n"))
	w.expectNone(t)
	if n := len(funcEvents); n != 2 {
		t.Errorf("a WatcherFunc registered twice fired %d times, want 2", n)
	}
}

// Watchers and callbacks share one queue: the event of a change comes
// before the reply of the request that made it.
func TestEventBeforeReply(t *testing.T) {
	t.Parallel()
	c := newRealClient(t)
	mustCreate(t, c.Handle, "/n", nil, Persistent)
	order := make(chan string, 3)
	w := WatcherFunc(func(Event) { order <- "event" })
	if err := c.AWGet("/n", w, func(error, []byte, *Stat) { order <- "get" }); err != nil {
		t.Fatal(err)
	}
	if err := c.ASet("/n", nodeData, -1, func(error, *Stat) { order <- "set" }); err != nil {
		t.Fatal(err)
	}
	var got []string
	for range 3 {
		got = append(got, recv(t, order, fmt.Sprintf("callback or event after %v", got)))
	}
	if diff := cmp.Diff([]string{"get", "event", "set"}, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

// watch=true registers the default watcher, which is whatever SetWatcher
// installed last when the event comes.
func TestSetWatcher(t *testing.T) {
	t.Parallel()
	c := newRealClient(t)
	mustCreate(t, c.Handle, "/n", nil, Persistent)
	if _, _, err := c.Get(testContext(t), "/n", true); err != nil {
		t.Fatal(err)
	}
	next := newRecorder()
	if old := c.SetWatcher(next); old != Watcher(c.events) {
		t.Errorf("SetWatcher returned %v, want the watcher given to Init", old)
	}
	setNode(t, c, "/n")
	next.expect(t, watchEvent(EventChanged, "/n"))
	barrier(t, c.Handle)
	c.events.expectNone(t)
}

// A session event goes to the default watcher and to every registered
// watcher.
func TestSessionEventReachesWatchers(t *testing.T) {
	t.Parallel()
	c := newRealClient(t)
	mustCreate(t, c.Handle, "/n", nil, Persistent)
	data, child := newRecorder(), newRecorder()
	for _, cl := range []call{getCall(data), childrenCall(child)} {
		if r := cl.run(t, c.Handle, false, "/n"); r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	// An auth the server rejects ends the session with a session event.
	if err := c.AddAuth(testContext(t), "nosuch", nil); !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("AddAuth = %v, want ErrAuthFailed", err)
	}
	for _, log := range []*recorder{c.events, data, child} {
		log.expect(t, Event{Type: EventSession, State: StateAuthFailed})
	}
}

// RemoveWatches removes one watcher, RemoveAllWatches all of a type;
// each removed watcher gets a watch-removed event and no other.
func TestRemoveWatches(t *testing.T) {
	t.Parallel()
	c := newRealClient(t)
	ctx := testContext(t)
	w1, w2 := newRecorder(), newRecorder()
	watch := func(p string, calls ...call) {
		t.Helper()
		for _, cl := range calls {
			if r := cl.run(t, c.Handle, false, p); r.Err != nil {
				t.Fatalf("setting a watch on %s: %v", p, r.Err)
			}
		}
	}
	removed := func(typ EventType, p string) Event { return watchEvent(typ, p) }
	for _, local := range []bool{false, true} {
		p := "/remote"
		if local {
			p = "/local"
		}
		t.Run(p[1:], func(t *testing.T) {
			mustCreate(t, c.Handle, p, nil, Persistent)
			watch(p, getCall(w1), getCall(w2), childrenCall(w1), childrenCall(w2))

			// One watcher of one type.
			if err := c.RemoveWatches(ctx, p, WatcherData, w1, local); err != nil {
				t.Fatalf("RemoveWatches(data, w1): %v", err)
			}
			w1.expect(t, removed(EventDataWatchRemoved, p))
			setNode(t, c, p)
			w2.expect(t, watchEvent(EventChanged, p))

			// Every watcher of one type.
			if err := c.RemoveAllWatches(ctx, p, WatcherChildren, local); err != nil {
				t.Fatalf("RemoveAllWatches(children): %v", err)
			}
			w1.expect(t, removed(EventChildWatchRemoved, p))
			w2.expect(t, removed(EventChildWatchRemoved, p))
			addChild(t, c, p)

			// Nothing left to remove.
			for _, tc := range []struct {
				wt WatcherType
				w  Watcher
			}{{WatcherAny, nil}, {WatcherData, w1}, {WatcherChildren, nil}, {WatcherAny, w2}} {
				if err := c.RemoveWatches(ctx, p, tc.wt, tc.w, local); !errors.Is(err, ErrNoWatcher) {
					t.Errorf("RemoveWatches(%v) with nothing to remove = %v, want ErrNoWatcher", tc.wt, err)
				}
			}

			// Any type: one event per table the watcher leaves.
			watch(p, existsCall(w1), children2Call(w1))
			if err := c.RemoveWatches(ctx, p, WatcherAny, w1, local); err != nil {
				t.Fatalf("RemoveWatches(any, w1): %v", err)
			}
			w1.expect(t, removed(EventDataWatchRemoved, p), removed(EventChildWatchRemoved, p))
			setNode(t, c, p)
			addChild(t, c, p)
			barrier(t, c.Handle)
			w1.expectNone(t)
			w2.expectNone(t)
		})
	}
}

// The server's side of RemoveWatches: a remote removal that leaves the
// path with no watcher of the type (every watcher, or the only one)
// removes the server's watch (removeWatches). A remote removal of one
// watcher among others only checks that the server watches (checkWatches,
// as the Java client), and a local one does not ask. A kept server watch
// still fires; its event, finding no watcher of the removed ones, is not
// theirs.
func TestRemoveWatchesOnServer(t *testing.T) {
	t.Parallel()
	c := newRealClient(t)
	ctx := testContext(t)
	chroot := c.chroot()
	w, other := newRecorder(), newRecorder()
	tests := []struct {
		name      string
		watcher   Watcher
		local     bool
		others    bool // another watcher watches the data too
		serverHas bool // the server still watches afterwards
	}{
		{"one-local", w, true, false, true},
		{"one-remote-sole", w, false, false, false},
		{"one-remote-among-others", w, false, true, true},
		{"all-local", nil, true, false, true},
		{"all-remote", nil, false, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := "/" + tc.name
			mustCreate(t, c.Handle, p, nil, Persistent)
			if _, _, err := c.WGet(ctx, p, w); err != nil {
				t.Fatal(err)
			}
			if tc.others {
				if _, _, err := c.WGet(ctx, p, other); err != nil {
					t.Fatal(err)
				}
			}
			if !serverWatches(t, c)[chroot+p] {
				t.Fatalf("the server has no watch on %s", chroot+p)
			}
			if err := c.RemoveWatches(ctx, p, WatcherData, tc.watcher, tc.local); err != nil {
				t.Fatalf("RemoveWatches: %v", err)
			}
			w.expect(t, watchEvent(EventDataWatchRemoved, p))
			if got := serverWatches(t, c)[chroot+p]; got != tc.serverHas {
				t.Errorf("the server watches %s: %v, want %v", chroot+p, got, tc.serverHas)
			}
			setNode(t, c, p)
			barrier(t, c.Handle)
			if tc.others {
				other.expect(t, watchEvent(EventChanged, p))
			}
			w.expectNone(t)
			other.expectNone(t)
			c.events.expectNone(t)
		})
	}
}

// serverWatches returns the server paths the server watches for c's
// session, from the four-letter command wchc.
func serverWatches(t *testing.T, c *realClient) map[string]bool {
	t.Helper()
	out, err := c.srv.FourLetter("wchc")
	if err != nil {
		t.Fatalf("wchc: %v", err)
	}
	session := "0x" + strconv.FormatUint(uint64(c.ClientID().SessionID), 16)
	paths := map[string]bool{}
	ours := false
	for sc := bufio.NewScanner(strings.NewReader(out)); sc.Scan(); {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "\t"); ok {
			if ours {
				paths[p] = true
			}
			continue
		}
		ours = strings.TrimSpace(line) == session
	}
	return paths
}
