package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/zkloop/zkloop/internal/recipetest"
	"github.com/zkloop/zkloop/recipe/lock"
	"github.com/zkloop/zkloop/zktest"
)

// lockRun is one zkcli run in the background, interruptible like a
// SIGINT would.
type lockRun struct {
	cancel context.CancelFunc
	done   chan result
	out    *waitBuffer // zkcli's stdout, while it runs
}

// startZkcli runs zkcli with args on a goroutine until it exits or
// interrupt is called.
func startZkcli(srv *zktest.Server, args ...string) lockRun {
	ctx, cancel := context.WithCancel(context.Background())
	r := lockRun{cancel: cancel, done: make(chan result, 1), out: &waitBuffer{changed: make(chan struct{}, 1)}}
	go func() {
		var errOut bytes.Buffer // written by run only, read after it
		code := run(ctx, func() {}, append([]string{"-server", srv.Addr()}, args...),
			func(string) string { return "" }, strings.NewReader(""), r.out, &errOut)
		r.done <- result{r.out.String(), errOut.String(), code}
	}()
	return r
}

// testLock runs zkcli's lock against Go holders of the same lock.
func testLock(t *testing.T, srv *zktest.Server) {
	h := recipetest.Connect(t, srv.Addr())
	ctx := recipetest.Context(t)

	t.Run("waits for the holder", func(t *testing.T) {
		const path = "/zkcli-lock-wait"
		holder := lock.NewMutex(h, path)
		if err := holder.Lock(ctx); err != nil {
			t.Fatal(err)
		}
		r := startZkcli(srv, "lock", path, "--", "echo", "ran")
		defer r.cancel()
		recipetest.WaitChildren(t, h, path, 2) // zkcli queued behind us
		select {
		case res := <-r.done:
			t.Fatalf("zkcli ran while the lock was held: %+v", res)
		default:
		}
		if err := holder.Unlock(); err != nil {
			t.Fatal(err)
		}
		res := recipetest.Receive(t, r.done, "zkcli's exit")
		if res != (result{stdout: "ran\n"}) {
			t.Errorf("zkcli: %+v", res)
		}
		recipetest.WaitChildren(t, h, path, 0)
	})

	t.Run("holds until interrupted", func(t *testing.T) {
		const path = "/zkcli-lock-hold"
		r := startZkcli(srv, "lock", path)
		defer r.cancel()
		node := recipetest.WaitChildren(t, h, path, 1)
		if ok, err := lock.NewMutex(h, path).TryLock(ctx); ok || err != nil {
			t.Fatalf("TryLock beside zkcli's lock = %v, %v", ok, err)
		}
		r.cancel()
		res := recipetest.Receive(t, r.done, "zkcli's exit")
		want := result{stdout: "Holding lock " + path + " (node " + path + "/" + node[0] + "); interrupt to release it\nReleased lock " + path + "\n", code: exitInterrupted}
		if res != want {
			t.Errorf("zkcli: %+v, want %+v", res, want)
		}
		recipetest.WaitChildren(t, h, path, 0)
	})

	t.Run("stops the command when the lock is lost", func(t *testing.T) {
		const path = "/zkcli-lock-lost"
		r := startZkcli(srv, "lock", path, "--", "sh", "-c", "echo running; exec sleep 60")
		defer r.cancel()
		// The command runs once zkcli holds the lock. Its node exists
		// before: deleted then, it is made again, as Curator does.
		r.out.waitFor(t, "running\n")
		node := recipetest.WaitChildren(t, h, path, 1)
		if err := h.Delete(ctx, path+"/"+node[0], -1); err != nil {
			t.Fatal(err)
		}
		res := recipetest.Receive(t, r.done, "zkcli's exit")
		want := result{stdout: "running\n", stderr: "lost the lock " + path + " while holding it (session expired or in doubt, or its node deleted)\n", code: exitFailed}
		if res != want {
			t.Errorf("zkcli: %+v, want %+v", res, want)
		}
	})
}
