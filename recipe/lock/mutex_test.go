package lock_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/zkloop/zkloop/internal/recipetest"
	"github.com/zkloop/zkloop/recipe"
	"github.com/zkloop/zkloop/recipe/lock"
	"github.com/zkloop/zkloop/serialize"
	"github.com/zkloop/zkloop/zhandle"
	"github.com/zkloop/zkloop/zktest"
)

const dir = "/locks/x"

// critical is a critical section that loses updates unless it excludes
// every other: a read-modify-write of a counter node, unversioned, and an
// in-process count of those inside.
type critical struct {
	inside, most atomic.Int32
}

func (c *critical) run(ctx context.Context, h *zhandle.Handle, path string) error {
	n := c.inside.Add(1)
	defer c.inside.Add(-1)
	for m := c.most.Load(); n > m && !c.most.CompareAndSwap(m, n); m = c.most.Load() {
	}
	data, _, err := h.Get(ctx, path, false)
	if err != nil {
		return err
	}
	v, err := strconv.Atoi(string(data))
	if err != nil {
		return err
	}
	_, err = h.Set(ctx, path, []byte(strconv.Itoa(v+1)), -1)
	return err
}

// counter reads the counter node.
func counter(t *testing.T, h *zhandle.Handle, path string) int {
	t.Helper()
	data, _, err := h.Get(recipetest.Context(t), path, false)
	if err != nil {
		t.Fatal(err)
	}
	v, err := strconv.Atoi(string(data))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Four sessions, 25 critical sections each: no update lost, never two
// inside, and no node left.
func testMutualExclusion(t *testing.T, s *site) {
	const contenders, rounds = 4, 25
	h := s.connect()
	ctx := recipetest.Context(t)
	if _, err := h.Create(ctx, "/counter", []byte("0"), zhandle.OpenACLUnsafe, zhandle.Persistent); err != nil {
		t.Fatal(err)
	}
	var c critical
	errs := make(chan error, contenders)
	for range contenders {
		hc := s.connect()
		m := lock.NewMutex(hc, dir)
		go func() {
			errs <- func() error {
				for range rounds {
					if err := m.Lock(ctx); err != nil {
						return err
					}
					if err := c.run(ctx, hc, "/counter"); err != nil {
						return err
					}
					if err := m.Unlock(); err != nil {
						return err
					}
				}
				return nil
			}()
		}()
	}
	for range contenders {
		if err := recipetest.Receive(t, errs, "contender's end"); err != nil {
			t.Error(err)
		}
	}
	if got := counter(t, h, "/counter"); got != contenders*rounds {
		t.Errorf("counter %d, want %d", got, contenders*rounds)
	}
	if most := c.most.Load(); most != 1 {
		t.Errorf("%d holders at once", most)
	}
	recipetest.WaitChildren(t, h, dir, 0)
}

// waiter is a contender of a session of its own, through a proxy that
// records its requests.
type waiter struct {
	m *lock.Mutex
	h *zhandle.Handle
	p *zktest.Proxy
}

// queue has n waiters wait behind a holder, one after another, and
// returns the holder, the waiters, and the channel on which each waiter
// sends its index once it holds the lock. Waiters still waiting when the
// test ends give up then.
func queue(t *testing.T, s *site, n int) (holder *lock.Mutex, waiters []waiter, acquired chan int) {
	t.Helper()
	h := s.connect()
	holder = lock.NewMutex(h, dir)
	ctx := recipetest.Context(t)
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	acquired = make(chan int, n)
	for i := range n {
		hw, p := s.proxied(recipetest.SessionTimeout)
		p.RecordClientFrames()
		w := waiter{m: lock.NewMutex(hw, dir), h: hw, p: p}
		waiters = append(waiters, w)
		go func() {
			if err := w.m.Lock(ctx); err == nil {
				acquired <- i
			}
		}()
		recipetest.WaitChildren(t, h, dir, i+2) // its node is made: the order is set
	}
	return holder, waiters, acquired
}

// Waiters get the lock in the order of their nodes.
func testFairness(t *testing.T, s *site) {
	holder, waiters, acquired := queue(t, s, 3)
	if err := holder.Unlock(); err != nil {
		t.Fatal(err)
	}
	var order []int
	for range waiters {
		i := recipetest.Receive(t, acquired, "the next holder")
		order = append(order, i)
		if err := waiters[i].m.Unlock(); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff([]int{0, 1, 2}, order); diff != "" {
		t.Errorf("order of acquisition (-want +got):\n%s", diff)
	}
}

// Each waiter watches only its predecessor (no herd): once every waiter
// has sent its getData, the server has one data watch on each node ahead
// of a waiter, plus the holder's on its own node, and none on the last.
func testOnlyPredecessorWatched(t *testing.T, s *site) {
	const n = 4
	_, waiters, _ := queue(t, s, n)
	ctx := recipetest.Context(t)
	for i, w := range waiters {
		if err := w.p.WaitFor(ctx, func() bool { return recipetest.Count(recipetest.Requests(w.p), serialize.OpGetData) > 0 }); err != nil {
			t.Fatalf("waiter %d sent no getData: %v", i, err)
		}
		if _, err := w.h.Sync(ctx, "/"); err != nil { // replies come in order: the getData was served
			t.Fatal(err)
		}
	}
	children := recipetest.Children(t, s.connect(), dir)
	recipe.SortSequential(children, "lock-")
	want := map[string]int{}
	for i, child := range children[:n] {
		want[s.root+dir+"/"+child] = 1
		if i == 0 {
			want[s.root+dir+"/"+child] = 2 // the holder watches its own node
		}
	}
	got := recipetest.DataWatches(t, s.srv)
	for p := range got {
		if !strings.HasPrefix(p, s.root+"/") {
			delete(got, p) // another test's
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("data watches per node (-want +got):\n%s", diff)
	}
	for i, w := range waiters {
		if n := recipetest.Count(recipetest.Requests(w.p), serialize.OpGetData); n != 1 {
			t.Errorf("waiter %d sent %d getData, want 1", i, n)
		}
	}
}

// A Lock on a held Mutex counts; the last Unlock releases it.
func testReentrancy(t *testing.T, s *site) {
	h := s.connect()
	m := lock.NewMutex(h, dir)
	ctx := recipetest.Context(t)
	for range 2 {
		if err := m.Lock(ctx); err != nil {
			t.Fatal(err)
		}
	}
	node := m.Node()
	if diff := cmp.Diff([]string{node[len(dir)+1:]}, recipetest.Children(t, h, dir)); diff != "" {
		t.Errorf("nodes of a twice-locked Mutex (-want +got):\n%s", diff)
	}
	if err := m.Unlock(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-m.Lost():
		t.Fatal("Lost closed after the first of two Unlocks")
	default:
	}
	if got := m.Node(); got != node {
		t.Errorf("Node() = %q after one Unlock, want %q", got, node)
	}
	lost := m.Lost()
	if err := m.Unlock(); err != nil {
		t.Fatal(err)
	}
	recipetest.Receive(t, lost, "Lost closed by the release")
	recipetest.WaitGone(t, h, node)
	if err := m.Unlock(); !errors.Is(err, lock.ErrNotHeld) {
		t.Errorf("Unlock of an unlocked Mutex = %v, want ErrNotHeld", err)
	}
	if m.Node() != "" {
		t.Errorf("Node() = %q when not held", m.Node())
	}
}

// TryLock takes a free lock, and fails on a held one without leaving a
// node behind.
func testTryLock(t *testing.T, s *site) {
	h, other := s.connect(), s.connect()
	ctx := recipetest.Context(t)
	m := lock.NewMutex(h, dir)
	if ok, err := m.TryLock(ctx); !ok || err != nil {
		t.Fatalf("TryLock of a free lock = %v, %v", ok, err)
	}
	for range 3 {
		if ok, err := lock.NewMutex(other, dir).TryLock(ctx); ok || err != nil {
			t.Fatalf("TryLock of a held lock = %v, %v", ok, err)
		}
	}
	if _, err := other.Sync(ctx, "/"); err != nil { // the deletes were sent before
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{m.Node()[len(dir)+1:]}, recipetest.Children(t, h, dir)); diff != "" {
		t.Errorf("nodes after failed TryLocks (-want +got):\n%s", diff)
	}
	if ok, err := m.TryLock(ctx); !ok || err != nil { // re-entrant
		t.Errorf("TryLock of a Mutex it holds = %v, %v", ok, err)
	}
}

// A waiter whose context ends leaves no node.
func testCancelLeavesNoNode(t *testing.T, s *site) {
	h, hw := s.connect(), s.connect()
	ctx := recipetest.Context(t)
	holder := lock.NewMutex(h, dir)
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	for _, end := range []string{"cancel", "deadline"} {
		wctx, cancel := context.WithCancel(ctx)
		var want error = context.Canceled
		if end == "deadline" {
			wctx, cancel = context.WithTimeout(ctx, time.Second)
			want = context.DeadlineExceeded
		}
		done := make(chan error, 1)
		go func() { done <- lock.NewMutex(hw, dir).Lock(wctx) }()
		recipetest.WaitChildren(t, h, dir, 2)
		if end == "cancel" {
			cancel()
		}
		if err := recipetest.Receive(t, done, "the waiter's return"); !errors.Is(err, want) {
			t.Errorf("%s: Lock = %v, want %v", end, err, want)
		}
		recipetest.WaitChildren(t, h, dir, 1)
		cancel()
	}
	if diff := cmp.Diff([]string{holder.Node()[len(dir)+1:]}, recipetest.Children(t, h, dir)); diff != "" {
		t.Errorf("nodes (-want +got):\n%s", diff)
	}
}

// A Lock on a context already done sends nothing.
func testDoneContext(t *testing.T, s *site) {
	h, p := s.proxied(recipetest.SessionTimeout)
	p.RecordClientFrames()
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if err := lock.NewMutex(h, dir).Lock(done); !errors.Is(err, context.Canceled) {
		t.Errorf("Lock = %v, want context.Canceled", err)
	}
	if ok, err := lock.NewMutex(h, dir).TryLock(done); ok || !errors.Is(err, context.Canceled) {
		t.Errorf("TryLock = %v, %v, want context.Canceled", ok, err)
	}
	if _, err := lock.NewSemaphore(h, "/sem", 1).Acquire(done); !errors.Is(err, context.Canceled) {
		t.Errorf("Acquire = %v, want context.Canceled", err)
	}
	if _, err := h.Sync(recipetest.Context(t), "/"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]recipetest.Request{{Op: serialize.OpSync, Path: s.root}}, recipetest.Requests(p)); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

// A create whose reply is lost is recovered: one node, one create, and
// the lock is held.
func testLostCreateReply(t *testing.T, s *site) {
	h, p := s.proxied(30 * time.Second) // no ping reply is due while the cut waits
	ctx := recipetest.Context(t)
	if err := recipe.CreateParents(ctx, h, dir+"/x"); err != nil {
		t.Fatal(err)
	}
	p.RecordClientFrames()
	cut := p.CutMidFrame()
	m := lock.NewMutex(h, dir)
	if err := m.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	recipetest.Receive(t, cut, "the cut")
	if diff := cmp.Diff([]string{m.Node()[len(dir)+1:]}, recipetest.Children(t, s.connect(), dir)); diff != "" {
		t.Errorf("nodes (-want +got):\n%s", diff)
	}
	if n := recipetest.Count(recipetest.Requests(p), serialize.OpCreate2); n != 1 {
		t.Errorf("%d creates sent, want 1", n)
	}
	if err := m.Unlock(); err != nil {
		t.Fatal(err)
	}
	recipetest.WaitChildren(t, s.connect(), dir, 0)
}

// A holder cut off from the server is told its lock is lost no later than
// the server expires its session and deletes its node.
func testLostBeforeServerExpiry(t *testing.T, s *site) {
	const timeout = 2 * time.Second
	h, p := s.proxied(timeout)
	observer := s.connect()
	ctx := recipetest.Context(t)
	m := lock.NewMutex(h, dir)
	if err := m.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	cutOff(t, ctx, observer, m, p)
	p.Resume()
	if err := m.Unlock(); !errors.Is(err, lock.ErrLost) {
		t.Errorf("Unlock = %v, want ErrLost", err)
	}
	if err := h.WaitConnected(ctx); !errors.Is(err, zhandle.ErrSessionExpired) {
		t.Fatalf("WaitConnected = %v, want the expiry", err)
	}
	if err := m.Lock(ctx); !errors.Is(err, zhandle.ErrSessionExpired) {
		t.Errorf("Lock on an expired session = %v", err)
	}
}

// cutOff black-holes the connection of m's holder and checks that Lost
// closes no later than the server, having expired the session, deletes
// the lock's node, as an observer's watch on it sees.
func cutOff(t *testing.T, ctx context.Context, observer *zhandle.Handle, m *lock.Mutex, p *zktest.Proxy) {
	t.Helper()
	deleted := make(chan time.Time, 1)
	if _, err := observer.WExists(ctx, m.Node(), zhandle.WatcherFunc(func(ev zhandle.Event) {
		if ev.Type == zhandle.EventDeleted {
			deleted <- time.Now()
		}
	})); err != nil {
		t.Fatal(err)
	}
	p.Stall()
	recipetest.Receive(t, m.Lost(), "Lost")
	lostAt := time.Now()
	if at := recipetest.Receive(t, deleted, "the server's deletion of the node"); at.Before(lostAt) {
		t.Errorf("the server deleted the node at %v, before Lost closed at %v", at, lostAt)
	}
}

// Someone deleting the lock's node ends the holding.
func testLostOnOutsideDelete(t *testing.T, s *site) {
	h, other := s.connect(), s.connect()
	ctx := recipetest.Context(t)
	m := lock.NewMutex(h, dir)
	if err := m.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := other.Delete(ctx, m.Node(), -1); err != nil {
		t.Fatal(err)
	}
	recipetest.Receive(t, m.Lost(), "Lost")
	if err := m.Lock(ctx); !errors.Is(err, lock.ErrLost) {
		t.Errorf("re-entering a lost lock = %v, want ErrLost", err)
	}
	if err := m.Unlock(); !errors.Is(err, lock.ErrLost) {
		t.Errorf("Unlock = %v, want ErrLost", err)
	}
	if err := m.Lock(ctx); err != nil { // a new holding
		t.Errorf("Lock after the loss: %v", err)
	}
}

// A connection loss ends the holding under StandardErrorPolicy, not under
// the default SessionErrorPolicy.
func testErrorPolicies(t *testing.T, s *site) {
	for _, tt := range []struct {
		policy recipe.ErrorPolicy
		lost   bool
	}{
		{recipe.SessionErrorPolicy, false},
		{recipe.StandardErrorPolicy, true},
	} {
		h, p := s.proxied(recipetest.SessionTimeout)
		ctx := recipetest.Context(t)
		m := lock.NewMutex(h, dir, lock.WithErrorPolicy(tt.policy))
		if err := m.Lock(ctx); err != nil {
			t.Fatal(err)
		}
		// Registered after the lock's own watcher: told after it.
		events := make(chan zhandle.Event, 8)
		remove := h.AddSessionWatcher(zhandle.WatcherFunc(func(ev zhandle.Event) { events <- ev }))
		p.Cut()
		for recipetest.Receive(t, events, "the reconnection").State != zhandle.StateConnected {
		}
		remove()
		select {
		case <-m.Lost():
			if !tt.lost {
				t.Errorf("%v: Lost closed by a connection loss", tt.policy)
			}
		default:
			if tt.lost {
				t.Errorf("%v: Lost still open after a connection loss", tt.policy)
			}
		}
		err := m.Unlock()
		if tt.lost != errors.Is(err, lock.ErrLost) || !tt.lost && err != nil {
			t.Errorf("%v: Unlock = %v", tt.policy, err)
		}
		recipetest.WaitChildren(t, s.connect(), dir, 0)
	}
}

// Goroutines locking one Mutex value at once share its holding: one node,
// as many Unlocks as Locks.
func testConcurrentLockSameValue(t *testing.T, s *site) {
	const n = 8
	h := s.connect()
	ctx := recipetest.Context(t)
	m := lock.NewMutex(h, dir)
	errs := make(chan error, n)
	for range n {
		go func() { errs <- m.Lock(ctx) }()
	}
	for range n {
		if err := recipetest.Receive(t, errs, "Lock"); err != nil {
			t.Fatal(err)
		}
	}
	if got := recipetest.Children(t, h, dir); len(got) != 1 {
		t.Errorf("nodes %q, want one", got)
	}
	for i := range n {
		if err := m.Unlock(); err != nil {
			t.Fatalf("Unlock %d: %v", i, err)
		}
	}
	recipetest.WaitChildren(t, h, dir, 0)
}

// Lock nodes hold the local IP address as text, as Curator's default
// data, or the caller's.
func testNodeData(t *testing.T, s *site) {
	h := s.connect()
	ctx := recipetest.Context(t)
	for _, tt := range []struct {
		opts []lock.Option
		want []byte
	}{
		{nil, recipe.DefaultData()},
		{[]lock.Option{lock.WithData([]byte("go-agent-7"))}, []byte("go-agent-7")},
	} {
		m := lock.NewMutex(h, dir, tt.opts...)
		if err := m.Lock(ctx); err != nil {
			t.Fatal(err)
		}
		data, stat, err := h.Get(ctx, m.Node(), false)
		if err != nil || string(data) != string(tt.want) || stat.EphemeralOwner != h.ClientID().SessionID {
			t.Errorf("node data %q, owner %#x, %v; want %q of %#x", data, stat.EphemeralOwner, err, tt.want, h.ClientID().SessionID)
		}
		if err := m.Unlock(); err != nil {
			t.Fatal(err)
		}
	}
}

// An uncontended cycle costs four requests: the create and the listing
// Lock waits for, the exists that watches the held node and Unlock's
// delete, neither waited for.
func testRequestsPerCycle(t *testing.T, s *site) {
	h, p := s.proxied(recipetest.SessionTimeout)
	ctx := recipetest.Context(t)
	if err := recipe.CreateParents(ctx, h, dir); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Create(ctx, dir, nil, zhandle.OpenACLUnsafe, zhandle.Persistent); err != nil {
		t.Fatal(err) // not a container: the sweeper leaves it between cycles
	}
	m := lock.NewMutex(h, dir)
	p.RecordClientFrames()
	const cycles = 5
	for range cycles {
		if err := m.Lock(ctx); err != nil {
			t.Fatal(err)
		}
		if err := m.Unlock(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.Sync(ctx, "/"); err != nil { // after the last delete
		t.Fatal(err)
	}
	var want, got []serialize.OpCode
	for range cycles {
		want = append(want, serialize.OpCreate2, serialize.OpGetChildren, serialize.OpExists, serialize.OpDelete)
	}
	want = append(want, serialize.OpSync)
	for _, r := range recipetest.Requests(p) {
		got = append(got, r.Op)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests of %d cycles (-want +got):\n%s", cycles, diff)
	}
}
