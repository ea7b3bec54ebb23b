package leader_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/zkloop/zkloop/internal/recipetest"
	"github.com/zkloop/zkloop/recipe"
	"github.com/zkloop/zkloop/recipe/leader"
	"github.com/zkloop/zkloop/serialize"
	"github.com/zkloop/zkloop/zhandle"
	"github.com/zkloop/zkloop/zktest"
)

const dir = "/election"

// leaderships follows the leaderships of Go latches from the latches
// themselves (leader.SetObserver), at the moment each begins and ends, so
// that it counts exactly how many believe they lead at once.
type leaderships struct {
	mu      sync.Mutex
	leading int
	most    int
	begun   chan string // the node of every leadership begun
}

func newLeaderships() *leaderships {
	return &leaderships{begun: make(chan string, 256)}
}

// follow has r follow l; call it before l.Start.
func (r *leaderships) follow(t *testing.T, l *leader.Latch) {
	leader.SetObserver(l, func(leading bool, node string) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if !leading {
			r.leading--
			return
		}
		r.leading++
		r.most = max(r.most, r.leading)
		select {
		case r.begun <- node:
		default:
			t.Errorf("more than %d leaderships", cap(r.begun))
		}
	})
}

func (r *leaderships) mostAtOnce() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.most
}

// An election is what a Latch and a Selector observe alike.
type election interface {
	Participants(context.Context) ([]leader.Participant, error)
	Leader(context.Context) (leader.Participant, error)
}

// checkViews checks e's Participants and Leader against the participants
// wanted.
func checkViews(t *testing.T, e election, want []leader.Participant) {
	t.Helper()
	ctx := recipetest.Context(t)
	got, err := e.Participants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("participants (-want +got):\n%s", diff)
	}
	if got, err := e.Leader(ctx); got != want[0] || err != nil {
		t.Errorf("Leader = %+v, %v, want %+v", got, err, want[0])
	}
}

// start starts a latch, closed when the test ends.
func start(t *testing.T, l *leader.Latch) *leader.Latch {
	t.Helper()
	if err := l.Start(recipetest.Context(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// await waits for l to lead.
func await(t *testing.T, l *leader.Latch) <-chan struct{} {
	t.Helper()
	term, err := l.Await(recipetest.Context(t))
	if err != nil {
		t.Fatal(err)
	}
	return term
}

// elected sends the time at which l's Await returned a leadership.
func elected(t *testing.T, l *leader.Latch) <-chan time.Time {
	at := make(chan time.Time, 1)
	go func() {
		if _, err := l.Await(recipetest.Context(t)); err == nil {
			at <- time.Now()
		}
	}()
	return at
}

// deletion watches path from h and sends when h sees it deleted.
func deletion(t *testing.T, h *zhandle.Handle, path string) <-chan time.Time {
	t.Helper()
	at := make(chan time.Time, 1)
	if _, err := h.WExists(recipetest.Context(t), path, zhandle.WatcherFunc(func(ev zhandle.Event) {
		if ev.Type == zhandle.EventDeleted {
			at <- time.Now()
		}
	})); err != nil {
		t.Fatal(err)
	}
	return at
}

// isClosed reports whether ch is closed.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// Four sessions; in each round the leader closes its latch and joins
// again at the end of the queue. Never two leaders at once, the
// leadership passes in the order of the nodes, and an observer agrees on
// the leader.
func testLatchSingleLeader(t *testing.T, s *recipetest.Site) {
	const n, rounds = 4, 50
	ctx := recipetest.Context(t)
	r := newLeaderships()
	handles := make([]*zhandle.Handle, n)
	latches := make([]*leader.Latch, n)
	join := func(i int) {
		l := leader.NewLatch(handles[i], dir, fmt.Sprintf("go-%d", i))
		r.follow(t, l)
		latches[i] = start(t, l)
	}
	for i := range n {
		handles[i] = s.Connect(t)
		join(i)
	}
	observer := leader.NewLatch(s.Connect(t), dir, "")
	var order []int
	last := ""
	for range rounds {
		node := recipetest.Receive(t, r.begun, "the next leadership")
		i := -1
		for j, l := range latches {
			switch {
			case l.Node() == node:
				i = j
			case l.IsLeader():
				t.Errorf("go-%d leads beside the leader of %s", j, node)
			}
		}
		if i < 0 {
			t.Fatalf("no latch has the leader's node %s", node)
		}
		order = append(order, i)
		if last != "" && recipe.SequenceKey(node, "latch-") <= recipe.SequenceKey(last, "latch-") {
			t.Errorf("%s leads after %s", node, last)
		}
		got, err := observer.Leader(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(leader.Participant{ID: fmt.Sprintf("go-%d", i), IsLeader: true, Node: node}, got); diff != "" {
			t.Errorf("the observer's leader (-want +got):\n%s", diff)
		}
		if err := latches[i].Close(); err != nil {
			t.Fatal(err)
		}
		join(i)
		last = node
	}
	var want []int
	for k := range rounds {
		want = append(want, k%n) // each leader joins again behind the others
	}
	if diff := cmp.Diff(want, order); diff != "" {
		t.Errorf("order of the leaders (-want +got):\n%s", diff)
	}
	if most := r.mostAtOnce(); most != 1 {
		t.Errorf("%d leaders at once", most)
	}
	for _, l := range latches {
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	recipetest.WaitChildren(t, handles[0], dir, 0)
}

// Participants and Leader read the ids of the members, also on a latch
// that never joins, which creates nothing.
func testLatchObserver(t *testing.T, s *recipetest.Site) {
	ctx := recipetest.Context(t)
	h := s.Connect(t)
	observer := leader.NewLatch(h, dir, "observer")
	if got, err := observer.Participants(ctx); len(got) != 0 || err != nil {
		t.Errorf("Participants of a missing election = %v, %v", got, err)
	}
	if got, err := observer.Leader(ctx); got != (leader.Participant{}) || err != nil {
		t.Errorf("Leader of a missing election = %+v, %v", got, err)
	}
	if _, err := observer.Await(ctx); !errors.Is(err, leader.ErrNotStarted) {
		t.Errorf("Await before Start = %v, want ErrNotStarted", err)
	}
	var want []leader.Participant
	var member *leader.Latch
	for i, id := range []string{"go-a", "", "go-c"} { // Curator's default id is empty
		member = start(t, leader.NewLatch(s.Connect(t), dir, id))
		want = append(want, leader.Participant{ID: id, IsLeader: i == 0, Node: member.Node()})
		name := member.Node()[len(dir)+1:]
		if !recipe.IsProtected(name) || !strings.HasPrefix(recipe.StripProtection(name), "latch-") {
			t.Errorf("node %s is not named _c_<uuid>-latch-N", name)
		}
	}
	for _, l := range []*leader.Latch{observer, member} {
		checkViews(t, l, want)
	}
	if got := recipetest.Children(t, h, dir); len(got) != len(want) {
		t.Errorf("nodes %q: the observer made one", got)
	}
}

// Close ends the leadership before the node goes, and then the next
// participant leads.
func testLatchClose(t *testing.T, s *recipetest.Site) {
	h := s.Connect(t)
	ctx := recipetest.Context(t)
	l := start(t, leader.NewLatch(h, dir, "first"))
	term := await(t, l)
	node := l.Node()
	next := start(t, leader.NewLatch(s.Connect(t), dir, "next"))
	nextElected := elected(t, next)
	deleted := deletion(t, h, node)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if !isClosed(term) || l.IsLeader() || l.Node() != "" {
		t.Errorf("after Close: leadership ended %v, IsLeader %v, Node %q", isClosed(term), l.IsLeader(), l.Node())
	}
	recipetest.Receive(t, deleted, "the deletion of the node")
	recipetest.Receive(t, nextElected, "the next leader")
	if _, err := l.Await(ctx); !errors.Is(err, leader.ErrClosed) {
		t.Errorf("Await after Close = %v, want ErrClosed", err)
	}
	if err := l.Start(ctx); !errors.Is(err, leader.ErrClosed) {
		t.Errorf("Start after Close = %v, want ErrClosed", err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if err := next.Start(ctx); !errors.Is(err, leader.ErrStarted) {
		t.Errorf("second Start = %v, want ErrStarted", err)
	}
	if err := leader.NewLatch(h, dir, "").Close(); err != nil { // never started
		t.Errorf("Close of a latch never started = %v", err)
	}
}

// Each follower watches only the node ahead of it (no herd), and the
// leader its own: one data watch on every node but the last, two on the
// leader's.
func testLatchOnlyPredecessorWatched(t *testing.T, s *recipetest.Site) {
	const n = 4
	ctx := recipetest.Context(t)
	var nodes []string
	for range n {
		h, p := s.Proxied(t, recipetest.SessionTimeout)
		p.RecordClientFrames()
		nodes = append(nodes, start(t, leader.NewLatch(h, dir, "")).Node())
		if err := p.WaitFor(ctx, func() bool { return recipetest.Count(recipetest.Requests(p), serialize.OpGetData) > 0 }); err != nil {
			t.Fatalf("latch %d sent no getData: %v", len(nodes), err)
		}
		if _, err := h.Sync(ctx, "/"); err != nil { // replies come in order: the getData was served
			t.Fatal(err)
		}
		if got := recipetest.Count(recipetest.Requests(p), serialize.OpGetData); got != 1 {
			t.Errorf("latch %d sent %d getData, want 1", len(nodes), got)
		}
	}
	want := map[string]int{}
	for i, node := range nodes[:n-1] {
		want[s.Root+node] = 1
		if i == 0 {
			want[s.Root+node] = 2
		}
	}
	if diff := cmp.Diff(want, s.DataWatches(t)); diff != "" {
		t.Errorf("data watches per node (-want +got):\n%s", diff)
	}
}

// Calls on a context already done send nothing.
func testDoneContext(t *testing.T, s *recipetest.Site) {
	h, p := s.Proxied(t, recipetest.SessionTimeout)
	p.RecordClientFrames()
	done := ctxDone()
	l := leader.NewLatch(h, dir, "a")
	if err := l.Start(done); !errors.Is(err, context.Canceled) {
		t.Errorf("Start = %v, want context.Canceled", err)
	}
	if _, err := l.Await(done); !errors.Is(err, context.Canceled) {
		t.Errorf("Await = %v, want context.Canceled", err)
	}
	for _, e := range []election{l, leader.NewSelector(h, dir, "s", func(context.Context) {})} {
		if _, err := e.Participants(done); !errors.Is(err, context.Canceled) {
			t.Errorf("%T.Participants = %v, want context.Canceled", e, err)
		}
		if _, err := e.Leader(done); !errors.Is(err, context.Canceled) {
			t.Errorf("%T.Leader = %v, want context.Canceled", e, err)
		}
	}
	if _, err := h.Sync(recipetest.Context(t), "/"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]recipetest.Request{{Op: serialize.OpSync, Path: s.Root}}, recipetest.Requests(p)); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if err := l.Start(recipetest.Context(t)); err != nil { // the done Start did not count
		t.Errorf("Start after a Start on a done context: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

// A leader cut off from the server stops leading no later than the
// server expires its session and deletes its node: at once under
// StandardErrorPolicy, at the handle's SessionAliveUntil under
// SessionErrorPolicy. Then another leads.
func testLatchLostBeforeServerExpiry(t *testing.T, s *recipetest.Site) {
	const timeout = 2 * time.Second
	for _, policy := range []recipe.ErrorPolicy{recipe.StandardErrorPolicy, recipe.SessionErrorPolicy} {
		t.Run(policy.String(), func(t *testing.T) {
			path := dir + "-" + policy.String()
			h, p := s.Proxied(t, timeout)
			l := start(t, leader.NewLatch(h, path, "cut-off", leader.WithErrorPolicy(policy)))
			term := await(t, l)
			heir := start(t, leader.NewLatch(s.Connect(t), path, "heir"))
			heirElected := elected(t, heir)
			deleted := deletion(t, s.Connect(t), l.Node())
			events := sessionEvents(t, h) // told after the latch's Tracker
			p.Stall()
			waitState(t, events, zhandle.StateConnecting) // SUSPENDED
			if ended := isClosed(term); ended != (policy == recipe.StandardErrorPolicy) {
				t.Errorf("leadership ended at SUSPENDED: %v", ended)
			}
			recipetest.Receive(t, term, "the end of the leadership")
			lostAt := time.Now()
			if at := recipetest.Receive(t, deleted, "the server's deletion of the node"); at.Before(lostAt) {
				t.Errorf("the server deleted the node at %v, before the leadership ended at %v", at, lostAt)
			}
			recipetest.Receive(t, heirElected, "the next leader")
			p.Resume()
			if _, err := l.Await(recipetest.Context(t)); !errors.Is(err, zhandle.ErrSessionExpired) {
				t.Errorf("Await on an expired session = %v", err)
			}
		})
	}
}

// A connection loss ends the leadership under StandardErrorPolicy, and
// the latch leads again on the same node once reconnected; under
// SessionErrorPolicy the leadership goes on.
func testLatchReconnect(t *testing.T, s *recipetest.Site) {
	for _, policy := range []recipe.ErrorPolicy{recipe.StandardErrorPolicy, recipe.SessionErrorPolicy} {
		t.Run(policy.String(), func(t *testing.T) {
			h, p := s.Proxied(t, recipetest.SessionTimeout)
			l := start(t, leader.NewLatch(h, dir+"-"+policy.String(), "a", leader.WithErrorPolicy(policy)))
			term := await(t, l)
			node := l.Node()
			events := sessionEvents(t, h)
			p.Cut()
			waitState(t, events, zhandle.StateConnected) // RECONNECTED was delivered before
			if ended := isClosed(term); ended != (policy == recipe.StandardErrorPolicy) {
				t.Errorf("leadership ended by a connection loss: %v", ended)
			}
			again := await(t, l)
			if (again == term) != (policy == recipe.SessionErrorPolicy) {
				t.Errorf("leadership after the reconnection is the one before: %v", again == term)
			}
			if l.Node() != node {
				t.Errorf("node %s after the reconnection, want %s (the session lives on)", l.Node(), node)
			}
		})
	}
}

// Someone deleting the leader's node ends its leadership; the latch makes
// a new node and leads again.
func testLatchOutsideDelete(t *testing.T, s *recipetest.Site) {
	h := s.Connect(t)
	l := start(t, leader.NewLatch(h, dir, "a"))
	term := await(t, l)
	node := l.Node()
	if err := s.Connect(t).Delete(recipetest.Context(t), node, -1); err != nil {
		t.Fatal(err)
	}
	recipetest.Receive(t, term, "the end of the leadership")
	await(t, l)
	if l.Node() == node {
		t.Errorf("leads on the deleted node %s", node)
	}
	if diff := cmp.Diff([]string{l.Node()[len(dir)+1:]}, recipetest.Children(t, h, dir)); diff != "" {
		t.Errorf("nodes (-want +got):\n%s", diff)
	}
}

// A leader whose session is ended from outside learns it, and another
// leads within the session timeout.
func testLatchSessionKilled(t *testing.T, s *recipetest.Site) {
	h, p := s.Proxied(t, recipetest.SessionTimeout)
	l := start(t, leader.NewLatch(h, dir, "victim"))
	term := await(t, l)
	heirElected := elected(t, start(t, leader.NewLatch(s.Connect(t), dir, "heir")))
	killed := time.Now()
	p.Refuse(true) // so that it cannot take its session back meanwhile
	zktest.ExpireSession(t, h)
	recipetest.Receive(t, term, "the end of the leadership")
	p.Refuse(false)
	if took := recipetest.Receive(t, heirElected, "the next leader").Sub(killed); took >= recipetest.SessionTimeout {
		t.Errorf("the next leader came %v after the kill, not within the session timeout %v", took, recipetest.SessionTimeout)
	}
	if _, err := l.Await(recipetest.Context(t)); !errors.Is(err, zhandle.ErrSessionExpired) {
		t.Errorf("Await on a killed session = %v", err)
	}
}

// Closing the handle under a leading latch ends its leadership at once,
// and the next participant leads.
func testLatchHandleClosed(t *testing.T, s *recipetest.Site) {
	h := s.Connect(t)
	term := await(t, start(t, leader.NewLatch(h, dir, "closing")))
	heirElected := elected(t, start(t, leader.NewLatch(s.Connect(t), dir, "heir")))
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	recipetest.Receive(t, term, "the end of the leadership")
	recipetest.Receive(t, heirElected, "the next leader")
}

// A node first in the queue that is not the session's is never led on
// (CURATOR.md P2): a latch whose session was replaced while its old node
// was still listed gives that node up and leads on a node of its own,
// whether it recorded the node as the old session's or, so that only the
// read before leading can tell, as this one's.
func testLatchNotTheSessionsNode(t *testing.T, s *recipetest.Site) {
	ctx := recipetest.Context(t)
	for i, recordedAsOurs := range []bool{false, true} {
		t.Run(fmt.Sprintf("recorded as this session's %v", recordedAsOurs), func(t *testing.T) {
			path := fmt.Sprintf("%s-%d", dir, i)
			old, stat, err := recipe.CreateProtected(ctx, s.Connect(t), path+"/latch-", []byte("p2"), zhandle.OpenACLUnsafe, zhandle.EphemeralSequential)
			if err != nil {
				t.Fatal(err)
			}
			h := s.Connect(t)
			owner := stat.EphemeralOwner
			if recordedAsOurs {
				owner = h.ClientID().SessionID
			}
			l := leader.NewLatch(h, path, "p2")
			r := newLeaderships()
			r.follow(t, l)
			if err := leader.StartAdopting(ctx, l, old, owner); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = l.Close() })
			if led := recipetest.Receive(t, r.begun, "a leadership"); led == old {
				t.Errorf("led on %s, a node of another session", old)
			} else if stat, err := h.Exists(ctx, led, false); err != nil || stat.EphemeralOwner != h.ClientID().SessionID {
				t.Errorf("led on %s, owned by %#x (%v), not by the session %#x", led, stat.EphemeralOwner, err, h.ClientID().SessionID)
			}
			recipetest.WaitGone(t, h, old)
		})
	}
}

// Close leaves no goroutine of the package behind: not a leader's, a
// follower's, a lead function's or a waiting selector's.
func testCloseLeavesNoGoroutine(t *testing.T, s *recipetest.Site) {
	h := s.Connect(t)
	first, second := start(t, leader.NewLatch(h, dir, "a")), start(t, leader.NewLatch(h, dir, "b"))
	await(t, first)
	ls := newLeads()
	leading := startSelector(t, leader.NewSelector(h, dir+"-selector", "a", ls.fn("a")))
	ls.next(t, "a")
	waiting := startSelector(t, leader.NewSelector(h, dir+"-selector", "b", ls.fn("b")))
	recipetest.WaitChildren(t, h, dir+"-selector", 2)
	for _, c := range []interface{ Close() error }{first, second, leading, waiting} {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// A goroutine that Close waited for may still be on its way out: the
	// check settles, on a loaded machine for a while.
	left := func() []string {
		buf := make([]byte, 1<<20)
		var gs []string
		for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
			if strings.Contains(g, "zkloop/recipe/leader.") {
				gs = append(gs, g)
			}
		}
		return gs
	}
	deadline := time.Now().Add(recipetest.Timeout)
	for gs := left(); len(gs) > 0; gs = left() {
		if time.Now().After(deadline) {
			t.Fatalf("goroutines left after Close:\n%s", strings.Join(gs, "\n\n"))
		}
		time.Sleep(5 * time.Millisecond) // a settling loop: nothing to wait on
	}
}
