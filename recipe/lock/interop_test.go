package lock_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/zkloop/zkloop/internal/curator"
	"github.com/zkloop/zkloop/internal/recipetest"
	"github.com/zkloop/zkloop/recipe"
	"github.com/zkloop/zkloop/recipe/lock"
	"github.com/zkloop/zkloop/zhandle"
)

// TestCuratorInterop has Go and Java (Apache Curator 5.4, in a JVM driven
// by curator.Driver) contend for the same locks on one server.
func TestCuratorInterop(t *testing.T) {
	cur := curator.Start(t) // first: it skips under -short
	srv := recipetest.Start(t)
	for _, tt := range []struct {
		name string
		test func(*testing.T, *interop)
	}{
		{"Mutex", testInteropMutex},
		{"RWMutexShare", testInteropRWMutexShare},
		{"RWMutexLoops", testInteropRWMutexLoops},
		{"Semaphore", testInteropSemaphore},
		{"LostCreateReply", testInteropLostCreateReply},
		{"ExpiryHandsOver", testInteropExpiry},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.test(t, &interop{site: newSite(t, srv), cur: cur, ctx: recipetest.Context(t), prefix: tt.name})
		})
	}
}

// interop is one interop test: its chroot, the JVM, and names of its own
// there.
type interop struct {
	*site
	cur    *curator.Driver
	ctx    context.Context
	prefix string // of the test's names in the JVM
}

// java starts a Curator client on the test's chroot and returns its name.
func (it *interop) java(name string) string {
	it.t.Helper()
	name = it.prefix + "-" + name
	it.cur.NewClient(name, it.hosts, recipetest.SessionTimeout)
	return name
}

// do runs a driver command that must succeed, decoding its result into
// out unless out is nil.
func (it *interop) do(out any, cmd string, args ...string) {
	it.t.Helper()
	if err := it.cur.DoJSON(it.ctx, out, cmd, args...); err != nil {
		it.t.Fatalf("%s %q: %v", cmd, args, err)
	}
}

// javaLock makes a Curator lock instance ("mutex.new", "rwlock.new",
// "semaphore.new") on client and returns its name.
func (it *interop) javaLock(name, kind, client string, args ...string) string {
	it.t.Helper()
	name = it.prefix + "-" + name
	it.do(nil, kind, append([]string{name, client}, args...)...)
	return name
}

// acquired is the result of lock.acquire.
type acquired struct {
	Acquired bool   `json:"acquired"`
	Node     string `json:"node"`
}

// acquire runs lock.acquire, with a timeout if one is given.
func (it *interop) acquire(name string, timeout ...time.Duration) acquired {
	it.t.Helper()
	args := []string{name}
	for _, d := range timeout {
		args = append(args, strconv.FormatInt(d.Milliseconds(), 10))
	}
	var a acquired
	it.do(&a, "lock.acquire", args...)
	return a
}

// loop is the holds of one contender, Go or Java, in one lock.loop.
type loop struct {
	who       string
	exclusive bool // a writer, or a mutex holder
	holds     []curator.Hold
}

// javaLoop runs Curator's lock.loop in the background.
func (it *interop) javaLoop(name string, exclusive bool, n int, counter, tickets string, hold time.Duration) <-chan loopResult {
	done := make(chan loopResult, 1)
	go func() {
		holds, err := it.cur.LockLoop(it.ctx, name, n, counter, tickets, hold)
		done <- loopResult{loop{who: name, exclusive: exclusive, holds: holds}, err}
	}()
	return done
}

type loopResult struct {
	loop
	err error
}

// goLoop runs n critical sections as lock.loop does, in the background:
// take the lock with acquire, make an enter ticket, read the decimal
// counter (if any) and write it back plus one, make an exit ticket,
// release.
func (it *interop) goLoop(who string, exclusive bool, h *zhandle.Handle, n int, counter, tickets string, acquire func() (node string, release func() error, err error)) <-chan loopResult {
	done := make(chan loopResult, 1)
	go func() {
		l := loop{who: who, exclusive: exclusive}
		err := func() error {
			for range n {
				node, release, err := acquire()
				if err != nil {
					return err
				}
				hold := curator.Hold{Node: node}
				if hold.Enter, err = ticket(it.ctx, h, tickets, who+" enter"); err != nil {
					return err
				}
				if counter != "" {
					if hold.Counter, err = increment(it.ctx, h, counter); err != nil {
						return err
					}
				}
				if hold.Exit, err = ticket(it.ctx, h, tickets, who+" exit"); err != nil {
					return err
				}
				l.holds = append(l.holds, hold)
				if err := release(); err != nil {
					return err
				}
			}
			return nil
		}()
		done <- loopResult{l, err}
	}()
	return done
}

// ticket makes a PERSISTENT_SEQUENTIAL node under dir and returns its
// number: the order of tickets is the order ZooKeeper applied them in.
func ticket(ctx context.Context, h *zhandle.Handle, dir, data string) (int64, error) {
	p, err := h.Create(ctx, dir+"/t-", []byte(data), zhandle.OpenACLUnsafe, zhandle.PersistentSequential)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(recipe.SequenceKey(p, "t-"), 10, 64)
}

// increment reads a decimal counter (empty is 0) and writes it back plus
// one, unconditionally, as lock.loop does; it returns the value read.
func increment(ctx context.Context, h *zhandle.Handle, path string) (int64, error) {
	data, _, err := h.Get(ctx, path, false)
	if err != nil {
		return 0, err
	}
	var v int64
	if len(data) > 0 {
		if v, err = strconv.ParseInt(string(data), 10, 64); err != nil {
			return 0, err
		}
	}
	_, err = h.Set(ctx, path, []byte(strconv.FormatInt(v+1, 10)), -1)
	return v, err
}

// collect waits for every loop and fails t on an error or a short loop.
func collect(t *testing.T, n int, results ...<-chan loopResult) []loop {
	t.Helper()
	var loops []loop
	for _, done := range results {
		r := recipetest.Receive(t, done, "the end of a lock loop")
		if r.err != nil {
			t.Fatalf("%s: %v", r.who, r.err)
		}
		if len(r.holds) != n {
			t.Fatalf("%s: %d holds, want %d", r.who, len(r.holds), n)
		}
		loops = append(loops, r.loop)
	}
	return loops
}

// span is one hold as its tickets place it among all others.
type span struct {
	who         string
	exclusive   bool
	hold        curator.Hold
	enter, exit int64
}

// spans returns every hold of every loop, ordered by enter ticket.
func spans(loops []loop) []span {
	var all []span
	for _, l := range loops {
		for _, h := range l.holds {
			all = append(all, span{who: l.who, exclusive: l.exclusive, hold: h, enter: h.Enter, exit: h.Exit})
		}
	}
	slices.SortFunc(all, func(a, b span) int { return int(a.enter - b.enter) })
	return all
}

// overlaps checks the holds against a limit of holders: it returns the
// most holders at once (holds whose tickets interleave) and each hold of
// an exclusive holder that interleaves another. The tickets are made
// inside the holds, so interleaving tickets prove overlapping holds.
func overlaps(all []span) (most int, violations []string) {
	for _, a := range all {
		at := 0
		for _, b := range all {
			if b.enter <= a.enter && a.enter < b.exit {
				at++
				if b != a && (a.exclusive || b.exclusive) {
					violations = append(violations, fmt.Sprintf("%s's hold %d-%d overlaps %s's %d-%d", a.who, a.enter, a.exit, b.who, b.enter, b.exit))
				}
			}
		}
		most = max(most, at)
	}
	return most, violations
}

// nodeSequence is the sequence number of a lock or lease node.
func nodeSequence(t *testing.T, node string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(node[max(len(node)-10, 0):], 10, 64)
	if err != nil {
		t.Fatalf("node %q has no sequence number: %v", node, err)
	}
	return n
}

// checkExclusive checks that the holds of exclusive holders (Go and Java
// alike) never overlapped, came in the order of their lock nodes, and
// each read the counter the previous one wrote.
func checkExclusive(t *testing.T, all []span, counting bool) {
	t.Helper()
	if _, violations := overlaps(all); len(violations) > 0 {
		t.Errorf("overlapping holds:\n%q", violations)
	}
	var prev int64 = -1
	next := int64(0)
	for _, s := range all {
		if !s.exclusive {
			continue
		}
		if seq := nodeSequence(t, s.hold.Node); seq <= prev {
			t.Errorf("%s held %s after the holder of node %d: not in the order of the nodes", s.who, s.hold.Node, prev)
		} else {
			prev = seq
		}
		if counting {
			if s.hold.Counter != next {
				t.Errorf("%s read the counter %d, want %d", s.who, s.hold.Counter, next)
			}
			next = s.hold.Counter + 1
		}
	}
}

// goMutex is a Go contender's acquire on a Mutex.
func goMutex(ctx context.Context, m *lock.Mutex) func() (string, func() error, error) {
	return func() (string, func() error, error) {
		if err := m.Lock(ctx); err != nil {
			return "", nil, err
		}
		return m.Node(), m.Unlock, nil
	}
}

// 2 Go and 2 Java contenders, 200 critical sections incrementing a
// counter: the count is exact, every contender held the lock, the holds
// never overlapped and came in the order of the lock nodes.
func testInteropMutex(t *testing.T, it *interop) {
	const n = 50 // each
	h := it.connect()
	for _, p := range []string{"/counter", "/tickets"} {
		if _, err := h.Create(it.ctx, p, []byte("0"), zhandle.OpenACLUnsafe, zhandle.Persistent); err != nil {
			t.Fatal(err)
		}
	}
	var runs []<-chan loopResult
	for i := range 2 {
		jm := it.javaLock(fmt.Sprintf("m%d", i), "mutex.new", it.java(fmt.Sprintf("j%d", i)), dir)
		runs = append(runs, it.javaLoop(jm, true, n, "/counter", "/tickets", 0))
		hg := it.connect()
		runs = append(runs, it.goLoop(fmt.Sprintf("go%d", i), true, hg, n, "/counter", "/tickets", goMutex(it.ctx, lock.NewMutex(hg, dir))))
	}
	all := spans(collect(t, n, runs...))
	checkExclusive(t, all, true)
	if got := counter(t, h, "/counter"); got != 4*n {
		t.Errorf("counter %d, want %d", got, 4*n)
	}
	recipetest.WaitChildren(t, h, dir, 0)
}

// Go and Java readers hold the read lock together; a writer of either
// side waits for them, and readers of either side wait for a writer.
func testInteropRWMutexShare(t *testing.T, it *interop) {
	j := it.java("j")
	jr := it.javaLock("r", "rwlock.new", j, rwDir, "read")
	jw := it.javaLock("w", "rwlock.new", j, rwDir, "write")
	rw := lock.NewRWMutex(it.connect(), rwDir)
	if a := it.acquire(jr); !a.Acquired {
		t.Fatal("Java's read lock not acquired")
	}
	if ok, err := rw.TryRLock(it.ctx); !ok || err != nil {
		t.Fatalf("Go TryRLock beside a Java reader = %v, %v", ok, err)
	}
	if ok, err := lock.NewRWMutex(it.connect(), rwDir).TryLock(it.ctx); ok || err != nil {
		t.Fatalf("Go TryLock beside two readers = %v, %v", ok, err)
	}
	if a := it.acquire(jw, 200*time.Millisecond); a.Acquired {
		t.Fatal("Java's write lock acquired beside two readers")
	}
	it.do(nil, "lock.release", jr)
	if err := rw.RUnlock(); err != nil {
		t.Fatal(err)
	}
	if err := rw.Lock(it.ctx); err != nil {
		t.Fatal(err)
	}
	if a := it.acquire(jr, 200*time.Millisecond); a.Acquired {
		t.Fatal("Java's read lock acquired beside a Go writer")
	}
	if err := rw.Unlock(); err != nil {
		t.Fatal(err)
	}
	if a := it.acquire(jw, recipetest.Timeout); !a.Acquired {
		t.Fatal("Java's write lock not acquired after the Go writer left")
	}
	it.do(nil, "lock.release", jw)
}

// A Go and a Java writer increment a counter while a Go and a Java reader
// hold the read lock: writes never overlap anything, none is lost, and
// writers hold in the order of their nodes.
func testInteropRWMutexLoops(t *testing.T, it *interop) {
	const n = 30
	h := it.connect()
	for _, p := range []string{"/counter", "/tickets"} {
		if _, err := h.Create(it.ctx, p, []byte("0"), zhandle.OpenACLUnsafe, zhandle.Persistent); err != nil {
			t.Fatal(err)
		}
	}
	j := it.java("j")
	jw := it.javaLock("w", "rwlock.new", j, rwDir, "write")
	jr := it.javaLock("r", "rwlock.new", it.java("j2"), rwDir, "read")
	gw, gr := lock.NewRWMutex(it.connect(), rwDir), lock.NewRWMutex(it.connect(), rwDir)
	runs := []<-chan loopResult{
		it.javaLoop(jw, true, n, "/counter", "/tickets", 0),
		it.javaLoop(jr, false, n, "", "/tickets", time.Millisecond),
		it.goLoop("go-writer", true, h, n, "/counter", "/tickets", func() (string, func() error, error) {
			if err := gw.Lock(it.ctx); err != nil {
				return "", nil, err
			}
			return gw.Node(), gw.Unlock, nil
		}),
		it.goLoop("go-reader", false, h, n, "", "/tickets", func() (string, func() error, error) {
			if err := gr.RLock(it.ctx); err != nil {
				return "", nil, err
			}
			return gr.RNode(), gr.RUnlock, nil
		}),
	}
	checkExclusive(t, spans(collect(t, n, runs...)), true)
	if got := counter(t, h, "/counter"); got != 2*n {
		t.Errorf("counter %d, want %d", got, 2*n)
	}
	recipetest.WaitChildren(t, h, rwDir, 0)
}

// Three leases shared by 2 Go and 2 Java contenders: never more than
// three holders at once.
func testInteropSemaphore(t *testing.T, it *interop) {
	const leases, n = 3, 25
	h := it.connect()
	if _, err := h.Create(it.ctx, "/tickets", nil, zhandle.OpenACLUnsafe, zhandle.Persistent); err != nil {
		t.Fatal(err)
	}
	var runs []<-chan loopResult
	for i := range 2 {
		js := it.javaLock(fmt.Sprintf("s%d", i), "semaphore.new", it.java(fmt.Sprintf("j%d", i)), semDir, strconv.Itoa(leases))
		runs = append(runs, it.javaLoop(js, false, n, "", "/tickets", 5*time.Millisecond))
		sem := lock.NewSemaphore(it.connect(), semDir, leases)
		runs = append(runs, it.goLoop(fmt.Sprintf("go%d", i), false, h, n, "", "/tickets", func() (string, func() error, error) {
			l, err := sem.Acquire(it.ctx)
			if err != nil {
				return "", nil, err
			}
			return l.Node(), l.Release, nil
		}))
	}
	all := spans(collect(t, n, runs...))
	most, _ := overlaps(all)
	t.Logf("at most %d holders at once", most)
	if most > leases {
		t.Errorf("%d holders at once, want at most %d", most, leases)
	}
	recipetest.WaitChildren(t, h, semDir+"/leases", 0)
}

// A Go contender whose create reply is lost, behind a Java holder, ends
// with one node, gets the lock after Java, and leaves none: Java gets the
// lock again at once.
func testInteropLostCreateReply(t *testing.T, it *interop) {
	jm := it.javaLock("m", "mutex.new", it.java("j"), dir)
	first := it.acquire(jm)
	h, p := it.proxied(30 * time.Second) // no ping reply is due while the cut waits
	if err := recipe.CreateParents(it.ctx, h, dir+"/x"); err != nil {
		t.Fatal(err)
	}
	cut := p.CutMidFrame()
	m := lock.NewMutex(h, dir)
	locked := background(func() error { return m.Lock(it.ctx) })
	recipetest.Receive(t, cut, "the cut")
	observer := it.connect()
	children := recipetest.WaitChildren(t, observer, dir, 2)
	if !slices.Contains(children, first.Node[len(dir)+1:]) {
		t.Fatalf("children %q without Java's %s", children, first.Node)
	}
	it.do(nil, "lock.release", jm)
	succeeds(t, locked, "the Go Lock after Java's release")
	if diff := cmp.Diff([]string{m.Node()[len(dir)+1:]}, recipetest.Children(t, observer, dir)); diff != "" {
		t.Errorf("nodes while Go holds (-want +got):\n%s", diff)
	}
	if err := m.Unlock(); err != nil {
		t.Fatal(err)
	}
	second := it.acquire(jm, recipetest.Timeout)
	if !second.Acquired {
		t.Fatal("Java's second acquire failed")
	}
	if diff := cmp.Diff([]string{second.Node[len(dir)+1:]}, recipetest.Children(t, observer, dir)); diff != "" {
		t.Errorf("nodes while Java holds again (-want +got):\n%s", diff)
	}
	it.do(nil, "lock.release", jm)
}

// A Go holder cut off from the server learns that its lock is lost no
// later than the server expires its session and deletes its node, after
// which the Curator waiter gets the lock.
func testInteropExpiry(t *testing.T, it *interop) {
	const timeout = 2 * time.Second
	h, p := it.proxied(timeout)
	m := lock.NewMutex(h, dir)
	if err := m.Lock(it.ctx); err != nil {
		t.Fatal(err)
	}
	goNode := m.Node()
	jm := it.javaLock("m", "mutex.new", it.java("j"), dir)
	type javaAcquire struct {
		acquired
		err error
	}
	javaDone := make(chan javaAcquire, 1)
	go func() {
		var a javaAcquire
		a.err = it.cur.DoJSON(it.ctx, &a.acquired, "lock.acquire", jm)
		javaDone <- a
	}()
	observer := it.connect()
	recipetest.WaitChildren(t, observer, dir, 2) // Java waits behind us
	cutOff(t, it.ctx, observer, m, p)
	a := recipetest.Receive(t, javaDone, "Java's acquire")
	if a.err != nil || !a.Acquired {
		t.Fatalf("Java's acquire after the expiry = %+v", a)
	}
	if nodeSequence(t, a.Node) <= nodeSequence(t, goNode) {
		t.Errorf("Java holds %s, queued before the Go node %s", a.Node, goNode)
	}
	if err := m.Unlock(); !errors.Is(err, lock.ErrLost) {
		t.Errorf("Go Unlock = %v, want ErrLost", err)
	}
	it.do(nil, "lock.release", jm)
}
