package zktest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/zkloop/zkloop/zhandle"
	"github.com/zkloop/zkloop/zktest"
)

// test runs body as the body of a test, with a real testing.TB: an example
// has none, and zktest needs one (for t.Cleanup, t.TempDir, t.Fatal). In a
// test of yours, the body is the test itself:
//
//	func TestX(t *testing.T) { srv := zktest.NewServer(t); ... }
//
// testing.Benchmark supplies the testing.TB, a *testing.B, and runs body
// once with b.N == 1 (its cleanups then run, as a test's); the later runs
// it makes to time the benchmark return at once. A benchmark run so keeps
// no log, so failures are printed, and the example fails on its output.
func test(body func(t testing.TB)) {
	testing.Benchmark(func(b *testing.B) {
		if b.N == 1 {
			body(printedFailures{b})
		}
	})
}

// printedFailures prints the failures of a test before they are recorded.
type printedFailures struct{ *testing.B }

func (t printedFailures) Error(args ...any) { fmt.Println(args...); t.B.Error(args...) }
func (t printedFailures) Fatal(args ...any) { fmt.Println(args...); t.B.Fatal(args...) }

func (t printedFailures) Errorf(format string, args ...any) {
	fmt.Printf(format+"\n", args...)
	t.B.Errorf(format, args...)
}

func (t printedFailures) Fatalf(format string, args ...any) {
	fmt.Printf(format+"\n", args...)
	t.B.Fatalf(format, args...)
}

// connect opens a handle and waits for its session.
func connect(t testing.TB, hosts string) *zhandle.Handle {
	h, err := zhandle.Init(hosts, nil, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	return h
}

func ExampleNewServer() {
	test(func(t testing.TB) {
		srv := zktest.NewServer(t) // stopped when the test ends
		h := connect(t, srv.Addr())
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := h.Create(ctx, "/config", []byte("v1"), zhandle.OpenACLUnsafe, zhandle.Persistent); err != nil {
			t.Fatal(err)
		}

		srv.Kill() // a crash: the data and the sessions stay
		srv.Start()

		// The handle reconnects to its session; a call that meets the
		// crash or the restart fails with ErrConnectionLoss, and is retried.
		data, _, err := h.Get(ctx, "/config", false)
		for errors.Is(err, zhandle.ErrConnectionLoss) {
			data, _, err = h.Get(ctx, "/config", false)
		}
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("%s\n", data)
	})
	// Output: v1
}

func ExampleNewEnsemble() {
	test(func(t testing.TB) {
		ens := zktest.NewEnsemble(t, 3) // returns once there is a quorum
		h := connect(t, ens.Addr())
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := h.Create(ctx, "/config", []byte("v1"), zhandle.OpenACLUnsafe, zhandle.Persistent); err != nil {
			t.Fatal(err)
		}

		ens.Member(ens.Leader()).Kill()
		if err := ens.WaitQuorum(ctx); err != nil { // the other two elect a leader
			t.Fatal(err)
		}
		_, followers := ens.Roles()
		fmt.Println("followers:", len(followers))

		data, _, err := connect(t, ens.Addr()).Get(ctx, "/config", false)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("%s\n", data)
	})
	// Output:
	// followers: 1
	// v1
}

func ExampleNewProxy() {
	test(func(t testing.TB) {
		srv := zktest.NewServer(t)
		p := zktest.NewProxy(t, srv.Addr()) // closed when the test ends
		h := connect(t, p.Addr())
		ctx := context.Background()

		// A stalled server: requests wait, the connection stays.
		p.Stall()
		short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		_, err := h.Exists(short, "/", false)
		fmt.Println("stalled:", err)
		p.Resume()

		// A network failure: the handle reconnects to its session.
		session := h.ClientID().SessionID
		p.Cut()
		if err := p.WaitFor(ctx, func() bool { return p.Accepted() == 2 }); err != nil {
			t.Fatal(err)
		}
		if err := h.WaitConnected(ctx); err != nil {
			t.Fatal(err)
		}
		fmt.Println("same session:", h.ClientID().SessionID == session)
	})
	// Output:
	// stalled: context deadline exceeded
	// same session: true
}

func ExampleExpireSession() {
	test(func(t testing.TB) {
		srv := zktest.NewServer(t)
		h := connect(t, srv.Addr())
		expired := make(chan struct{})
		h.AddSessionWatcher(zhandle.WatcherFunc(func(e zhandle.Event) {
			if e.State == zhandle.StateExpiredSession {
				close(expired) // the last session event but StateClosed
			}
		}))
		ctx := context.Background()
		if _, err := h.Create(ctx, "/worker", nil, zhandle.OpenACLUnsafe, zhandle.Ephemeral); err != nil {
			t.Fatal(err)
		}

		zktest.ExpireSession(t, h)

		// The server has expired the session: its ephemeral node is gone.
		_, err := connect(t, srv.Addr()).Exists(ctx, "/worker", false)
		fmt.Println("/worker:", err)
		// The handle learns it on its next connection, at once.
		<-expired
		_, err = h.Exists(ctx, "/", false)
		fmt.Println("handle:", err)
	})
	// Output:
	// /worker: zk: no node
	// handle: zk: session expired
}

func ExampleVerifyNoLeaks() {
	test(func(t testing.TB) {
		zktest.VerifyNoLeaks(t) // first: its check runs after every cleanup
		srv := zktest.NewServer(t)
		h, err := zhandle.Init(srv.Addr(), nil, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() }) // without it, the test fails
		if err := h.WaitConnected(context.Background()); err != nil {
			t.Fatal(err)
		}
		fmt.Println(h.State())
	})
	// Output: CONNECTED
}
