package zktest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/zkloop/zkloop/recipe/lock"
	"github.com/zkloop/zkloop/zhandle"
	"github.com/zkloop/zkloop/zktest"
)

// The complete test of the README's "Testing your code" section, kept
// compiling and passing here: a lock survives a dropped connection and is
// reported lost when its session expires.
func TestJobLockSurvivesFaults(t *testing.T) {
	zktest.VerifyNoLeaks(t)             // first, so that it checks after every cleanup
	srv := zktest.NewServer(t)          // a real ZooKeeper on a loopback port, stopped at the end
	p := zktest.NewProxy(t, srv.Addr()) // faults between the client and the server
	h, err := zhandle.Init(p.Addr(), nil, 4*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	m := lock.NewMutex(h, "/locks/job")
	if err := m.Lock(ctx); err != nil {
		t.Fatal(err)
	}

	// A dropped connection: the handle reconnects to its session, the lock is kept.
	p.Cut()
	if err := p.WaitFor(ctx, func() bool { return p.Accepted() == 2 }); err != nil {
		t.Fatal(err)
	}
	if err := h.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-m.Lost():
		t.Fatal("lock lost on a reconnect")
	default:
	}

	// A partition longer than the session: the server expires it, and the
	// holder learns that the lock is gone as soon as it gets through.
	p.Stall()
	zktest.ExpireSession(t, h)
	p.Resume()
	select {
	case <-m.Lost():
	case <-ctx.Done():
		t.Fatal("the lock outlived its session")
	}
	if err := m.Unlock(); !errors.Is(err, lock.ErrLost) {
		t.Errorf("Unlock after the expiry: %v, want %v", err, lock.ErrLost)
	}
}
