package lock_test

import (
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/zkloop/zkloop/internal/recipetest"
	"github.com/zkloop/zkloop/recipe"
	"github.com/zkloop/zkloop/recipe/lock"
	"github.com/zkloop/zkloop/serialize"
	"github.com/zkloop/zkloop/zhandle"
)

const rwDir = "/locks/rw"

// background runs f on a goroutine and returns the channel of its error.
func background(f func() error) <-chan error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	return done
}

// pending fails t if done has delivered already.
func pending(t *testing.T, done <-chan error, what string) {
	t.Helper()
	select {
	case err := <-done:
		t.Fatalf("%s returned (%v) while it should wait", what, err)
	default:
	}
}

// succeeds waits for done and fails t on an error.
func succeeds(t *testing.T, done <-chan error, what string) {
	t.Helper()
	if err := recipetest.Receive(t, done, what); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// Readers of different sessions hold the lock together.
func testRWReadersShare(t *testing.T, s *site) {
	ctx := recipetest.Context(t)
	h := s.connect()
	r1, r2 := lock.NewRWMutex(h, rwDir), lock.NewRWMutex(s.connect(), rwDir)
	if err := r1.RLock(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, err := r2.TryRLock(ctx); !ok || err != nil {
		t.Fatalf("TryRLock beside a reader = %v, %v", ok, err)
	}
	for _, child := range recipetest.Children(t, h, rwDir) {
		if !recipe.IsProtected(child) || !strings.Contains(child, "-__READ__") {
			t.Errorf("read node %q", child)
		}
	}
}

// A writer waits for the readers, and readers wait for the writer.
func testRWWriterExcludes(t *testing.T, s *site) {
	ctx := recipetest.Context(t)
	h := s.connect()
	reader, writer, late := lock.NewRWMutex(h, rwDir), lock.NewRWMutex(s.connect(), rwDir), lock.NewRWMutex(s.connect(), rwDir)
	if err := reader.RLock(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, err := writer.TryLock(ctx); ok || err != nil {
		t.Fatalf("TryLock beside a reader = %v, %v", ok, err)
	}
	wrote := background(func() error { return writer.Lock(ctx) })
	recipetest.WaitChildren(t, h, rwDir, 2)
	pending(t, wrote, "Lock")
	if err := reader.RUnlock(); err != nil {
		t.Fatal(err)
	}
	succeeds(t, wrote, "Lock after the reader left")
	if ok, err := late.TryRLock(ctx); ok || err != nil {
		t.Fatalf("TryRLock beside a writer = %v, %v", ok, err)
	}
	if ok, err := late.TryLock(ctx); ok || err != nil {
		t.Fatalf("TryLock beside a writer = %v, %v", ok, err)
	}
}

// A reader that comes after a waiting writer waits for it (fairness).
func testRWReaderQueuesBehindWriter(t *testing.T, s *site) {
	ctx := recipetest.Context(t)
	h := s.connect()
	r1, w, r2 := lock.NewRWMutex(h, rwDir), lock.NewRWMutex(s.connect(), rwDir), lock.NewRWMutex(s.connect(), rwDir)
	if err := r1.RLock(ctx); err != nil {
		t.Fatal(err)
	}
	wrote := background(func() error { return w.Lock(ctx) })
	recipetest.WaitChildren(t, h, rwDir, 2)
	if ok, err := r2.TryRLock(ctx); ok || err != nil {
		t.Fatalf("TryRLock behind a waiting writer = %v, %v", ok, err)
	}
	read := background(func() error { return r2.RLock(ctx) })
	recipetest.WaitChildren(t, h, rwDir, 3)
	if err := r1.RUnlock(); err != nil {
		t.Fatal(err)
	}
	succeeds(t, wrote, "the writer's Lock")
	pending(t, read, "the second reader's RLock") // it cannot hold while the write node exists
	if err := w.Unlock(); err != nil {
		t.Fatal(err)
	}
	succeeds(t, read, "the second reader's RLock")
}

// A writer takes the read lock at once, with a read node numbered as its
// write node, so that a writer queued behind keeps waiting after the
// write lock's release, until the read lock's (CURATOR-621).
func testRWDowngrade(t *testing.T, s *site) {
	ctx := recipetest.Context(t)
	h := s.connect()
	rw := lock.NewRWMutex(h, rwDir)
	if err := rw.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	h2, p := s.proxied(recipetest.SessionTimeout)
	p.RecordClientFrames()
	var acquired atomic.Bool
	wrote := background(func() error {
		err := lock.NewRWMutex(h2, rwDir).Lock(ctx)
		acquired.Store(err == nil)
		return err
	})
	writeNode := recipetest.WaitChildren(t, h, rwDir, 2)
	// It waits on the write node before the read node is made.
	if err := p.WaitFor(ctx, func() bool { return recipetest.Count(recipetest.Requests(p), serialize.OpGetData) > 0 }); err != nil {
		t.Fatal(err)
	}
	if err := rw.RLock(ctx); err != nil {
		t.Fatal(err)
	}
	children := recipetest.Children(t, h, rwDir)
	var read, write []string
	for _, c := range children {
		switch {
		case strings.Contains(c, "__READ__"):
			read = append(read, c)
		case !slices.Contains(writeNode, c):
			t.Errorf("unexpected node %q", c)
		}
	}
	write = append(write, writeNode...)
	recipe.SortSequential(write, "__READ__", "__WRIT__")
	if len(read) != 1 || recipe.SequenceKey(read[0], "__READ__") != recipe.SequenceKey(write[0], "__WRIT__") {
		t.Fatalf("read node %q beside write nodes %q: want one with the first write node's number", read, write)
	}
	if err := rw.Unlock(); err != nil {
		t.Fatal(err)
	}
	// The queued writer wakes, lists again and waits on the read node:
	// a second getData, or, were the read node after it, takes the lock
	// (its Lock returns after its last request: a failure times out).
	if err := p.WaitFor(ctx, func() bool {
		return acquired.Load() || recipetest.Count(recipetest.Requests(p), serialize.OpGetData) >= 2
	}); err != nil {
		t.Fatalf("%v; acquired %v, requests %v, children %q", err, acquired.Load(), recipetest.Requests(p), recipetest.Children(t, h, rwDir))
	}
	pending(t, wrote, "the queued writer's Lock")
	if err := rw.RUnlock(); err != nil {
		t.Fatal(err)
	}
	succeeds(t, wrote, "the queued writer's Lock")
}

// A Java 5.5+ process that downgraded leaves a write node and a read node
// with the same number: a reader waits for the write node only, a writer
// for both.
func testRWForeignDowngradeNode(t *testing.T, s *site) {
	ctx := recipetest.Context(t)
	java, h := s.connect(), s.connect()
	write, _, err := recipe.CreateProtected(ctx, java, rwDir+"/__WRIT__", nil, zhandle.OpenACLUnsafe, zhandle.EphemeralSequential)
	if err != nil {
		t.Fatal(err)
	}
	read, _, err := recipe.CreateProtected(ctx, java, rwDir+"/__READ__"+recipe.SequenceKey(write, "__WRIT__"), nil, zhandle.OpenACLUnsafe, zhandle.Ephemeral)
	if err != nil {
		t.Fatal(err)
	}
	reader, writer := lock.NewRWMutex(h, rwDir), lock.NewRWMutex(s.connect(), rwDir)
	readDone := background(func() error { return reader.RLock(ctx) })
	recipetest.WaitChildren(t, h, rwDir, 3)
	if ok, err := writer.TryLock(ctx); ok || err != nil {
		t.Fatalf("TryLock = %v, %v", ok, err)
	}
	pending(t, readDone, "RLock behind a write node")
	if err := java.Delete(ctx, write, -1); err != nil {
		t.Fatal(err)
	}
	succeeds(t, readDone, "RLock beside the foreign read node")
	if err := java.Delete(ctx, read, -1); err != nil {
		t.Fatal(err)
	}
	if ok, err := writer.TryLock(ctx); ok || err != nil {
		t.Fatalf("TryLock beside our reader = %v, %v", ok, err)
	}
	if err := reader.RUnlock(); err != nil {
		t.Fatal(err)
	}
	succeeds(t, background(func() error { return writer.Lock(ctx) }), "Lock")
}

// Two writers and two readers: writes never overlap anything, and no
// write is lost.
func testRWMutualExclusion(t *testing.T, s *site) {
	const rounds = 15
	h := s.connect()
	ctx := recipetest.Context(t)
	if _, err := h.Create(ctx, "/counter", []byte("0"), zhandle.OpenACLUnsafe, zhandle.Persistent); err != nil {
		t.Fatal(err)
	}
	var readers, writers, overlaps atomic.Int32
	var c critical
	var done []<-chan error
	for i := range 4 {
		hc := s.connect()
		rw := lock.NewRWMutex(hc, rwDir)
		writer := i%2 == 0
		done = append(done, background(func() error {
			for range rounds {
				if writer {
					if err := rw.Lock(ctx); err != nil {
						return err
					}
					if writers.Add(1) > 1 || readers.Load() > 0 {
						overlaps.Add(1)
					}
					err := c.run(ctx, hc, "/counter")
					writers.Add(-1)
					if err != nil {
						return err
					}
					if err := rw.Unlock(); err != nil {
						return err
					}
					continue
				}
				if err := rw.RLock(ctx); err != nil {
					return err
				}
				readers.Add(1)
				if writers.Load() > 0 {
					overlaps.Add(1)
				}
				_, _, err := hc.Get(ctx, "/counter", false)
				readers.Add(-1)
				if err != nil {
					return err
				}
				if err := rw.RUnlock(); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	for _, d := range done {
		succeeds(t, d, "a contender")
	}
	if n := overlaps.Load(); n != 0 {
		t.Errorf("%d overlaps of a writer with another holder", n)
	}
	if got := counter(t, h, "/counter"); got != 2*rounds {
		t.Errorf("counter %d, want %d", got, 2*rounds)
	}
	recipetest.WaitChildren(t, h, rwDir, 0)
}
