package lock_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zkloop/zkloop/internal/recipetest"
	"github.com/zkloop/zkloop/recipe/lock"
	"github.com/zkloop/zkloop/serialize"
	"github.com/zkloop/zkloop/zhandle"
	"github.com/zkloop/zkloop/zktest"
)

const semDir = "/sem"

// Six sessions, three leases: never more than three holders at once.
func testSemaphoreBound(t *testing.T, s *site) {
	const leases, contenders, rounds = 3, 6, 8
	ctx := recipetest.Context(t)
	var holders, most atomic.Int32
	var done []<-chan error
	for range contenders {
		sem := lock.NewSemaphore(s.connect(), semDir, leases)
		done = append(done, background(func() error {
			for range rounds {
				lease, err := sem.Acquire(ctx)
				if err != nil {
					return err
				}
				n := holders.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				holders.Add(-1) // before the release: the count never exceeds the truth
				if err := lease.Release(); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	for _, d := range done {
		succeeds(t, d, "a contender")
	}
	if m := most.Load(); m > leases {
		t.Errorf("%d holders at once, want at most %d", m, leases)
	}
	h := s.connect()
	recipetest.WaitChildren(t, h, semDir+"/leases", 0)
	recipetest.WaitChildren(t, h, semDir+"/locks", 0)
}

// Leases are handed out up to the maximum, with the caller's data; the
// next acquirer waits for a release; a cancelled one leaves nothing.
func testSemaphoreLease(t *testing.T, s *site) {
	ctx := recipetest.Context(t)
	h := s.connect()
	if _, err := lock.NewSemaphore(h, semDir, 0).Acquire(ctx); !errors.Is(err, zhandle.ErrBadArguments) {
		t.Errorf("Acquire with 0 leases = %v, want ErrBadArguments", err)
	}
	sem := lock.NewSemaphore(h, semDir, 2, lock.WithData([]byte("lease-data")))
	var leases []*lock.Lease
	for range 2 {
		l, err := sem.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		leases = append(leases, l)
	}
	if data, _, err := h.Get(ctx, leases[0].Node(), false); err != nil || string(data) != "lease-data" {
		t.Errorf("lease data %q, %v", data, err)
	}
	recipetest.WaitChildren(t, h, semDir+"/locks", 0) // the lock is let go after each acquire

	other := lock.NewSemaphore(s.connect(), semDir, 2)
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, err := other.Acquire(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a third Acquire = %v, want the deadline", err)
	}
	recipetest.WaitChildren(t, h, semDir+"/leases", 2)
	recipetest.WaitChildren(t, h, semDir+"/locks", 0)

	var third atomic.Pointer[lock.Lease]
	waiting := background(func() error {
		l, err := other.Acquire(ctx)
		third.Store(l)
		return err
	})
	recipetest.WaitChildren(t, h, semDir+"/leases", 3) // added, waiting for a release
	pending(t, waiting, "a third Acquire")
	lost := leases[0].Lost()
	if err := leases[0].Release(); err != nil {
		t.Fatal(err)
	}
	recipetest.Receive(t, lost, "Lost closed by the release")
	if err := leases[0].Release(); !errors.Is(err, lock.ErrNotHeld) {
		t.Errorf("a second Release = %v, want ErrNotHeld", err)
	}
	succeeds(t, waiting, "the third Acquire")
	for _, l := range []*lock.Lease{leases[1], third.Load()} {
		if err := l.Release(); err != nil {
			t.Error(err)
		}
	}
	recipetest.WaitChildren(t, h, semDir+"/leases", 0)
}

// Only the acquirer at the head of the semaphore's lock watches the
// leases; the one queued behind it waits on the lock's predecessor node
// (CURATOR.md P4).
func testSemaphoreOnlyHeadWatchesLeases(t *testing.T, s *site) {
	ctx := recipetest.Context(t)
	holder, err := lock.NewSemaphore(s.connect(), semDir, 1).Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	leases := s.root + semDir + "/leases"
	listings := func(p *zktest.Proxy) (leaseLists, lockReads int) {
		for _, r := range recipetest.Requests(p) {
			switch {
			case r.Op == serialize.OpGetChildren && r.Path == leases:
				leaseLists++
			case r.Op == serialize.OpGetData:
				lockReads++
			}
		}
		return leaseLists, lockReads
	}
	var proxies []*zktest.Proxy
	var acquired []<-chan error
	for i := range 2 {
		h, p := s.proxied(recipetest.SessionTimeout)
		p.RecordClientFrames()
		proxies = append(proxies, p)
		sem := lock.NewSemaphore(h, semDir, 1)
		acquired = append(acquired, background(func() error {
			l, err := sem.Acquire(ctx)
			if err == nil {
				err = l.Release()
			}
			return err
		}))
		// The head lists the leases (and waits); the next one reads its
		// predecessor in the lock (and waits).
		if err := p.WaitFor(ctx, func() bool {
			lists, reads := listings(p)
			return i == 0 && lists > 0 || i == 1 && reads > 0
		}); err != nil {
			t.Fatalf("acquirer %d: %v", i, err)
		}
	}
	if lists, _ := listings(proxies[1]); lists != 0 {
		t.Errorf("the queued acquirer listed the leases %d times", lists)
	}
	for _, a := range acquired {
		pending(t, a, "an Acquire beyond the maximum")
	}
	if err := holder.Release(); err != nil {
		t.Fatal(err)
	}
	for _, a := range acquired {
		succeeds(t, a, "an Acquire after the release")
	}
}

// TryAcquire takes a free lease, and returns none without waiting when
// the leases are taken or an acquirer is ahead in the lock, leaving no
// node behind.
func testSemaphoreTryAcquire(t *testing.T, s *site) {
	ctx := recipetest.Context(t)
	h := s.connect()
	first, err := lock.NewSemaphore(h, semDir, 1).TryAcquire(ctx)
	if err != nil || first == nil {
		t.Fatalf("TryAcquire of a free lease = %v, %v; want a lease", first, err)
	}
	other := lock.NewSemaphore(s.connect(), semDir, 1)
	tryNone := func(why string, leases, locks int) {
		t.Helper()
		if l, err := other.TryAcquire(ctx); l != nil || err != nil {
			t.Fatalf("TryAcquire when %s = %v, %v; want no lease and no error", why, l, err)
		}
		recipetest.WaitChildren(t, h, semDir+"/leases", leases)
		recipetest.WaitChildren(t, h, semDir+"/locks", locks)
	}
	tryNone("the lease is taken", 1, 0)

	var second atomic.Pointer[lock.Lease]
	waiting := background(func() error {
		l, err := lock.NewSemaphore(s.connect(), semDir, 1).Acquire(ctx)
		second.Store(l)
		return err
	})
	recipetest.WaitChildren(t, h, semDir+"/leases", 2) // it holds the lock and waits
	tryNone("an acquirer is ahead", 2, 1)
	pending(t, waiting, "an Acquire beyond the maximum")

	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	succeeds(t, waiting, "the Acquire after the release")
	if err := second.Load().Release(); err != nil {
		t.Fatal(err)
	}
	recipetest.WaitChildren(t, h, semDir+"/leases", 0)
	last, err := other.TryAcquire(ctx)
	if err != nil || last == nil {
		t.Fatalf("TryAcquire after every release = %v, %v; want a lease", last, err)
	}
	if err := last.Release(); err != nil {
		t.Error(err)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if l, err := other.TryAcquire(done); l != nil || !errors.Is(err, context.Canceled) {
		t.Errorf("TryAcquire on a done context = %v, %v; want context.Canceled", l, err)
	}
}
