package leader_test

import (
	"context"
	"encoding/json"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/zkloop/zkloop/internal/curator"
	"github.com/zkloop/zkloop/internal/recipetest"
	"github.com/zkloop/zkloop/recipe"
	"github.com/zkloop/zkloop/recipe/leader"
	"github.com/zkloop/zkloop/zhandle"
	"github.com/zkloop/zkloop/zktest"
)

// curatorSession is the session timeout of every participant, Go or Java,
// in the interop tests.
const curatorSession = 5 * time.Second

// TestCurator runs Go participants and Apache Curator's in the same
// elections, on a server and a JVM of their own.
func TestCurator(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a JVM and expires sessions: runs without -short")
	}
	srv := recipetest.Start(t)
	cur := curator.Start(t)
	// No chroot: the Java clients connect to the server itself.
	s := &recipetest.Site{Srv: srv, Hosts: srv.Addr()}
	for _, client := range []string{"c1", "c2", "c3"} {
		cur.NewClient(client, srv.Addr(), curatorSession)
	}
	t.Run("Latch", func(t *testing.T) {
		testCuratorLatch(t, s, cur, newTimeline(t, cur, "java-1", "java-2"))
	})
	t.Run("Selector", func(t *testing.T) {
		testCuratorSelector(t, s, cur, newTimeline(t, cur, "java-sel", "java-noid"))
	})
}

// A change is the beginning or the end of a participant's leadership, as
// the participant itself saw it, at a time on the clock of
// curator.MonotonicNanos, which Java's System.nanoTime shares.
type change struct {
	who     string // the participant's id
	leading bool
	node    string // for a beginning: the node it leads on
	nanos   int64
}

// A timeline gathers the changes of every participant, Go and Java, as
// they come.
type timeline struct {
	mu      sync.Mutex
	changes []change
	added   chan struct{} // raised on every change
}

// newTimeline returns a timeline with the changes of the Curator's
// latches or selectors named, which are named after their ids.
func newTimeline(t *testing.T, cur *curator.Driver, java ...string) *timeline {
	tl := &timeline{added: make(chan struct{}, 1)}
	tl.pump(t, cur, java)
	return tl
}

func (tl *timeline) add(c change) {
	tl.mu.Lock()
	tl.changes = append(tl.changes, c)
	tl.mu.Unlock()
	select {
	case tl.added <- struct{}{}:
	default:
	}
}

// mark returns the number of changes so far, for wait.
func (tl *timeline) mark() int {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	return len(tl.changes)
}

// wait returns the first change from the mark from on that match
// accepts, waiting for it.
func (tl *timeline) wait(t *testing.T, from int, what string, match func(change) bool) change {
	t.Helper()
	ctx := recipetest.Context(t)
	for {
		tl.mu.Lock()
		for _, c := range tl.changes[from:] {
			if match(c) {
				tl.mu.Unlock()
				return c
			}
		}
		tl.mu.Unlock()
		select {
		case <-tl.added:
		case <-ctx.Done():
			t.Fatalf("no %s within %v", what, recipetest.Timeout)
		}
	}
}

// begun is a match for the beginning of a leadership by anyone.
func begun(c change) bool { return c.leading }

// ended is a match for the end of who's leadership.
func ended(who string) func(change) bool {
	return func(c change) bool { return c.who == who && !c.leading }
}

// follow records the changes of a Go latch, at the moment it changes.
func (tl *timeline) follow(l *leader.Latch, id string) {
	leader.SetObserver(l, func(leading bool, node string) {
		tl.add(change{who: id, leading: leading, node: node, nanos: curator.MonotonicNanos()})
	})
}

// pump records the leadership events of the Curator's latches or
// selectors named until the test ends. Java emits an event right after
// the change (LeaderLatchListener), or inside takeLeadership for a
// selector.
func (tl *timeline) pump(t *testing.T, cur *curator.Driver, java []string) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() {
		cancel()
		<-done
	})
	go func() {
		defer close(done)
		for {
			ev, err := cur.WaitEvent(ctx, "", "")
			if err != nil {
				return
			}
			c := change{who: ev.Source, nanos: ev.Nanos}
			if !slices.Contains(java, ev.Source) { // another test's, or a client's
				continue
			}
			switch ev.Kind {
			case "isLeader", "leading":
				c.leading = true
				var data struct{ Node string }
				_ = json.Unmarshal(ev.Data, &data) // a selector's event has no node
				c.node = data.Node
			case "notLeader", "notLeading":
			default:
				continue
			}
			tl.add(c)
		}
	}()
}

// leaderships pairs the changes into leaderships, [begin, end] per
// participant, in the order they began; end is 0 for one still running.
func (tl *timeline) leaderships() []leadership {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	var all []leadership
	open := map[string]int{}
	for _, c := range tl.changes {
		i, ok := open[c.who]
		switch {
		case c.leading && !ok:
			open[c.who] = len(all)
			all = append(all, leadership{who: c.who, node: c.node, begin: c.nanos})
		case !c.leading && ok:
			all[i].end = c.nanos
			delete(open, c.who)
		}
	}
	slices.SortFunc(all, func(a, b leadership) int { return int(a.begin - b.begin) })
	return all
}

type leadership struct {
	who        string
	node       string
	begin, end int64
}

// javaParticipant is a Participant as the Curator driver writes it.
type javaParticipant struct {
	ID       string `json:"id"`
	IsLeader bool   `json:"isLeader"`
}

func do(t *testing.T, cur *curator.Driver, out any, cmd string, args ...string) {
	t.Helper()
	if err := cur.DoJSON(recipetest.Context(t), out, cmd, args...); err != nil {
		t.Fatalf("%s %q: %v", cmd, args, err)
	}
}

// views compares what every participant of the election reports, Go and
// Java: each one's leader, and the participants, in the same order.
func views(t *testing.T, cur *curator.Driver, goViews []*leader.Latch, javaViews []string) (leaderID string, ids []string) {
	t.Helper()
	ctx := recipetest.Context(t)
	ps, err := goViews[0].Participants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var want []javaParticipant
	for _, p := range ps {
		want = append(want, javaParticipant{p.ID, p.IsLeader})
		ids = append(ids, p.ID)
	}
	for i, l := range goViews {
		p, err := l.Leader(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := (javaParticipant{p.ID, p.IsLeader}); got != want[0] {
			t.Errorf("Go view %d: leader %+v, want %+v", i, got, want[0])
		}
	}
	for _, name := range javaViews {
		var got []javaParticipant
		do(t, cur, &got, "election.participants", name)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s's participants (-Go's +Java's):\n%s", name, diff)
		}
		var ldr javaParticipant
		if do(t, cur, &ldr, "election.leader", name); ldr != want[0] {
			t.Errorf("%s's leader %+v, want %+v", name, ldr, want[0])
		}
	}
	return want[0].ID, ids
}

// A latch election of two Go and two Java participants, whose leader is
// killed six times over: its session ended from outside (Java's with
// Curator's client.expire, Go's likewise) or, for Go, its latch closed;
// each then joins again. Every time, a new leader comes within the
// session timeout, all four agree on it and on the participants (Go's
// view lists the Java ids, Java's the Go ids), and only it believes it
// leads. Over the whole run, leaderships ordered by ZooKeeper (by their
// nodes) and timed by the participants themselves on one clock never
// overlap; the one exception allowed is a leader killed from outside,
// which cannot know before the server drops its connection and must learn
// within the session timeout.
func testCuratorLatch(t *testing.T, s *recipetest.Site, cur *curator.Driver, tl *timeline) {
	const path, kills = "/latch-mixed", 6
	observer := s.Connect(t)
	javaClients := map[string]string{"java-1": "c1", "java-2": "c2"}
	goLatches := map[string]*leader.Latch{}
	goHandles := map[string]*zhandle.Handle{}
	goProxies := map[string]*zktest.Proxy{}
	joinGo := func(id string, h *zhandle.Handle) {
		l := leader.NewLatch(h, path, id)
		tl.follow(l, id)
		goLatches[id], goHandles[id] = start(t, l), h
	}
	connectGo := func(id string) *zhandle.Handle {
		h, p := s.Proxied(t, curatorSession)
		goProxies[id] = p
		return h
	}
	for i, id := range []string{"java-1", "go-1", "java-2", "go-2"} {
		if client, ok := javaClients[id]; ok {
			do(t, cur, nil, "latch.start", id, client, path, id)
		} else {
			joinGo(id, connectGo(id))
		}
		recipetest.WaitChildren(t, observer, path, i+1) // the queue's order is the start order
	}

	// settle waits for the leadership begun from the mark on, and for the
	// election to be whole again; then it checks that everyone agrees.
	settle := func(from int) change {
		t.Helper()
		next := tl.wait(t, from, "the next leader", begun)
		recipetest.WaitChildren(t, observer, path, 4)
		ldr, ids := views(t, cur, []*leader.Latch{goLatches["go-1"], goLatches["go-2"]}, []string{"java-1", "java-2"})
		if ldr != next.who {
			t.Errorf("the participants report %s as the leader, while %s leads", ldr, next.who)
		}
		if diff := cmp.Diff([]string{"go-1", "go-2", "java-1", "java-2"}, slices.Sorted(slices.Values(ids))); diff != "" {
			t.Errorf("participants (-want +got):\n%s", diff)
		}
		for id, l := range goLatches {
			if l.IsLeader() != (id == next.who) {
				t.Errorf("%s IsLeader %v while %s leads", id, l.IsLeader(), next.who)
			}
		}
		for id := range javaClients {
			var got struct {
				IsLeader bool `json:"isLeader"`
			}
			if do(t, cur, &got, "election.isLeader", id); got.IsLeader != (id == next.who) {
				t.Errorf("%s isLeader %v while %s leads", id, got.IsLeader, next.who)
			}
		}
		return next
	}

	killedAt := map[string]int64{} // killed from outside: the leader's node, when
	current := settle(0)
	goCloses := false // Go leaders are killed and closed in turn
	for range kills {
		from := tl.mark()
		at := curator.MonotonicNanos()
		switch l := goLatches[current.who]; {
		case l == nil:
			killedAt[current.node] = at
			do(t, cur, nil, "client.expire", javaClients[current.who])
			// Curator's latch joins again with the client's new session.
		case goCloses:
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			joinGo(current.who, goHandles[current.who])
		default:
			killedAt[current.node] = at
			p := goProxies[current.who]
			p.Refuse(true) // so that it cannot take its session back meanwhile
			zktest.ExpireSession(t, goHandles[current.who])
			tl.wait(t, from, current.who+"'s end", ended(current.who))
			p.Refuse(false)
			joinGo(current.who, connectGo(current.who))
		}
		if goLatches[current.who] != nil {
			goCloses = !goCloses
		}
		recipetest.WaitGone(t, observer, current.node)
		next := settle(from)
		if took := time.Duration(next.nanos - at); took >= curatorSession {
			t.Errorf("%s led %v after %s was killed, not within the session timeout", next.who, took, current.who)
		}
		tl.wait(t, from, current.who+"'s end", ended(current.who))
		current = next
	}

	all := tl.leaderships()
	if len(all) != kills+1 {
		t.Errorf("%d leaderships, want %d: %+v", len(all), kills+1, all)
	}
	for i := 1; i < len(all); i++ {
		a, b := all[i-1], all[i]
		if recipe.SequenceKey(b.node, "latch-") <= recipe.SequenceKey(a.node, "latch-") {
			t.Errorf("%s led on %s after %s on %s: not in ZooKeeper's order", b.who, b.node, a.who, a.node)
		}
		if a.end < b.begin {
			continue
		}
		if at, ok := killedAt[a.node]; ok && time.Duration(a.end-at) < curatorSession {
			t.Logf("%s, killed from outside, learnt it %v after the kill and %v after %s began to lead",
				a.who, time.Duration(a.end-at), time.Duration(a.end-b.begin), b.who)
			continue
		}
		t.Errorf("%s began to lead %v before %s stopped", b.who, time.Duration(a.end-b.begin), a.who)
	}
	for id := range javaClients {
		do(t, cur, nil, "close", id)
	}
}

// A Go Selector and two Java LeaderSelectors, one of them without an id,
// on one path: they lead in turn, in the order of the queue, and never
// two at once, as timed inside the lead functions, within the lock. Each
// side lists the other's ids; the Java one without an id shows as its IP
// address.
func testCuratorSelector(t *testing.T, s *recipetest.Site, cur *curator.Driver, tl *timeline) {
	const path, turns = "/selector-mixed", 9
	ctx := recipetest.Context(t)
	observer := s.Connect(t)
	ls := newLeads()
	lead := ls.fn("go-sel")
	sel := leader.NewSelector(s.Connect(t), path, "go-sel", func(ctx context.Context) {
		tl.add(change{who: "go-sel", leading: true, nanos: curator.MonotonicNanos()})
		defer func() { tl.add(change{who: "go-sel", nanos: curator.MonotonicNanos()}) }()
		lead(ctx)
	}, leader.WithAutoRequeue())
	queue := []string{"java-sel", "go-sel", "java-noid"}
	for i, name := range queue {
		switch name {
		case "go-sel":
			startSelector(t, sel)
		case "java-sel":
			do(t, cur, nil, "selector.start", name, "c1", path, name)
		default:
			do(t, cur, nil, "selector.start", name, "c3", path, "") // no id
		}
		recipetest.WaitChildren(t, observer, path, i+1)
	}

	from := 0
	var order []string
	for k := range turns {
		next := tl.wait(t, from, "the next leader", begun)
		order = append(order, next.who)
		recipetest.WaitChildren(t, observer, path, len(queue)) // the last leader queued again
		if k == 0 {
			participants(t, ctx, cur, sel)
		}
		from = tl.mark()
		if next.who == "go-sel" {
			close(ls.next(t, "go-sel").release)
		} else {
			do(t, cur, nil, "selector.interrupt", next.who)
		}
	}
	var want []string
	for k := range turns {
		want = append(want, queue[k%len(queue)]) // each requeues behind the others
	}
	if diff := cmp.Diff(want, order); diff != "" {
		t.Errorf("order of the leaders (-want +got):\n%s", diff)
	}
	all := tl.leaderships()
	for i := 1; i < len(all); i++ {
		if a, b := all[i-1], all[i]; a.end == 0 || a.end >= b.begin {
			t.Errorf("%s began to lead %v before %s stopped", b.who, time.Duration(a.end-b.begin), a.who)
		}
	}
	for _, name := range []string{"java-sel", "java-noid"} {
		do(t, cur, nil, "close", name)
	}
}

// participants checks that the Go Selector and Curator list the same
// participants of the mixed selector election, led by java-sel, and that
// the Java participant without an id shows as an IP address.
func participants(t *testing.T, ctx context.Context, cur *curator.Driver, sel *leader.Selector) {
	t.Helper()
	ps, err := sel.Participants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []javaParticipant
	for _, p := range ps {
		got = append(got, javaParticipant{p.ID, p.IsLeader})
	}
	var java []javaParticipant
	do(t, cur, &java, "election.participants", "java-sel")
	if diff := cmp.Diff(java, got); diff != "" {
		t.Errorf("participants (-Java's +Go's):\n%s", diff)
	}
	if len(got) != 3 || got[0] != (javaParticipant{"java-sel", true}) || got[1] != (javaParticipant{"go-sel", false}) ||
		net.ParseIP(got[2].ID) == nil {
		t.Errorf("participants %+v, want java-sel (leading), go-sel and an IP address", got)
	}
}
