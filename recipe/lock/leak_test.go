package lock_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/zkloop/zkloop/internal/recipetest"
	"github.com/zkloop/zkloop/recipe/lock"
	"github.com/zkloop/zkloop/zhandle"
)

// Once its handles are closed, a holder is told its lock is lost, and
// nothing of the locks runs on: every goroutine the locks started
// (guaranteed deletes, background cleanups) has ended, held locks
// included.
func testNothingLeftAfterClose(t *testing.T, s *site) {
	ctx := recipetest.Context(t)
	before := runtime.NumGoroutine()
	open := func() *zhandle.Handle {
		h, err := zhandle.Init(s.hosts, nil, recipetest.SessionTimeout)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.WaitConnected(ctx); err != nil {
			t.Fatal(err)
		}
		return h
	}
	h1, h2 := open(), open()
	held := lock.NewMutex(h1, dir)
	if err := held.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if err := lock.NewMutex(h2, dir).Lock(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock = %v, want the deadline", err)
	}
	if ok, err := lock.NewRWMutex(h2, dir+"/rw").TryRLock(ctx); !ok || err != nil {
		t.Fatalf("TryRLock = %v, %v", ok, err)
	}
	lease, err := lock.NewSemaphore(h2, semDir, 1).Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := lease.Release(); err != nil {
		t.Fatal(err)
	}
	h1.Close() // with the lock held: the holder is told
	h2.Close()
	select {
	case <-held.Lost():
	case <-ctx.Done():
		t.Fatal("Lost not closed when the holding handle was closed")
	}
	if err := held.Unlock(); !errors.Is(err, lock.ErrLost) {
		t.Errorf("Unlock after Close = %v, want ErrLost", err)
	}
	deadline := time.Now().Add(recipetest.Timeout)
	ticker := time.NewTicker(5 * time.Millisecond) // a settling loop: nothing to wait on
	defer ticker.Stop()
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		<-ticker.C
	}
}
