package zhandle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/zkloop/zkloop/internal/fakeserver"
	"github.com/zkloop/zkloop/serialize"
)

// Close tests: Close with requests in flight, from callbacks and watchers,
// concurrently, while connecting; a mixed load on a real server; and after
// every Close, no goroutine or descriptor of the handle left behind.

// serveAnswering is a fake server script that serves a session,
// answering every request as fakeAnswer does, and reports the
// CloseSession it sees on closed.
func serveAnswering(closed chan<- struct{}) func(c *fakeserver.Conn) {
	return func(c *fakeserver.Conn) {
		c.Handshake(fakeSessionID, fakeTimeoutMs, fakePasswd, false)
		fakeServe(c, func(xid int32, op serialize.OpCode, body []byte) { fakeAnswer(c, xid, op, body, 0x10) })
		closed <- struct{}{}
	}
}

// TestCloseWithRequestsInFlight closes a handle right after 50 goroutines
// have queued 1,000 asynchronous requests. Every callback runs exactly
// once: with the reply when the server answers before the CloseSession
// reply, with ErrConnectionLoss when the server drops the connection on
// CloseSession, with ErrClosing when it never answers (Close then waits
// its bound, closeFlush+closeReply, and no longer: Close never takes longer
// than its bound). Nothing of the handle remains after Close.
func TestCloseWithRequestsInFlight(t *testing.T) {
	const goroutines, perGoroutine = 50, 20
	const requests = goroutines * perGoroutine
	tests := []struct {
		name     string
		server   func(t *testing.T) string // returns the hosts
		timeout  time.Duration
		want     Error // the result of every request
		minClose time.Duration
		maxClose time.Duration
	}{
		{
			name:     "server answers",
			server:   func(t *testing.T) string { return sharedServer(t).Addr() },
			timeout:  sessionTimeout,
			want:     0,
			maxClose: closeFlush + closeReply,
		},
		{
			name: "server drops the connection on CloseSession",
			server: func(t *testing.T) string {
				fs := fakeserver.New(t)
				fs.Script(func(c *fakeserver.Conn) {
					c.Handshake(fakeSessionID, fakeTimeoutMs, fakePasswd, false)
					for {
						if _, op, _ := c.ReadRequestAnswerPings(); op == serialize.OpClose {
							return
						}
					}
				})
				return fs.Addr()
			},
			timeout:  sessionTimeout,
			want:     ErrConnectionLoss,
			maxClose: closeFlush + closeReply,
		},
		{
			name: "server never answers",
			server: func(t *testing.T) string {
				fs := fakeserver.New(t)
				fs.Script(func(c *fakeserver.Conn) {
					c.Handshake(fakeSessionID, 30000, fakePasswd, false)
					// NeverAnswer keeps the read deadline of the handshake's
					// read: lift it, or the script ends (and closes) after 5 s.
					if err := c.Conn().SetReadDeadline(time.Time{}); err != nil {
						t.Error(err)
					}
					fakeserver.NeverAnswer(c)
				})
				return fs.Addr()
			},
			timeout:  30 * time.Second, // pings and the receive deadline far beyond Close's bound
			want:     ErrClosing,
			minClose: closeFlush + closeReply,
			maxClose: closeFlush + closeReply + lateness,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if testing.Short() && tt.minClose > 0 {
				t.Skip("waits out Close's whole bound, 4.5 s (not under -short)")
			}
			hosts := tt.server(t)
			leak := takeBaseline(t)
			h := connectHandle(t, hosts, nil, tt.timeout)
			count := newOutcomes(requests)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					for i := range perGoroutine {
						idx := g*perGoroutine + i
						count.expect()
						if err := h.AExists("/", false, func(err error, _ *Stat) { count.complete(t, idx, err) }); err != nil {
							t.Errorf("AExists: %v", err)
							count.complete(t, idx, err)
						}
					}
				}()
			}
			close(start)
			wg.Wait()
			took := closeHandle(t, h)
			count.wait(t)
			want := map[string]int64{"ok": requests}
			if tt.want != 0 {
				want = map[string]int64{tt.want.Error(): requests}
			}
			if diff := cmp.Diff(want, count.tally()); diff != "" {
				t.Errorf("results of the requests in flight (-want +got):\n%s", diff)
			}
			if took < tt.minClose {
				t.Errorf("Close took %v, want at least %v", took, tt.minClose)
			}
			if took > tt.maxClose {
				t.Errorf("Close took %v, want at most %v", took, tt.maxClose)
			}
			goroutines, fds := leak.check(t)
			t.Logf("Close took %v; %d of %d callbacks ran once: %v; goroutines %d→%d, descriptors %d→%d",
				took.Round(time.Millisecond), count.completed(), requests, count.tally(), leak.goroutines, goroutines, leak.fds, fds)
		})
	}
}

// TestCloseFromCallback calls Close on the completion goroutine, from the
// default watcher's session event and from an async callback: it must not
// wait for itself, must still send CloseSession, and a Close from the
// test afterwards must return too, with nothing left behind.
func TestCloseFromCallback(t *testing.T) {
	tests := []struct {
		name string
		// start makes h call Close from a callback and returns at once;
		// closed receives that Close's result.
		start func(t *testing.T, h *Handle, closed chan<- error)
	}{
		{
			name:  "from the session watcher",
			start: func(t *testing.T, h *Handle, closed chan<- error) {},
		},
		{
			name: "from an async callback",
			start: func(t *testing.T, h *Handle, closed chan<- error) {
				if err := h.WaitConnected(testContext(t)); err != nil {
					t.Fatal(err)
				}
				if err := h.AExists("/", false, func(error, *Stat) { closed <- h.Close() }); err != nil {
					t.Fatal(err)
				}
			},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := fakeserver.New(t)
			sawClose := make(chan struct{}, 1)
			proceed := make(chan struct{})
			fs.Script(func(c *fakeserver.Conn) {
				c.ReadConnect()
				<-proceed // the handle is published before its first event
				c.WriteConnect(fakeSessionID, fakeTimeoutMs, fakePasswd, false)
				fakeServe(c, func(xid int32, op serialize.OpCode, body []byte) { fakeAnswer(c, xid, op, body, 0x10) })
				sawClose <- struct{}{}
			})
			leak := takeBaseline(t)
			var handle atomic.Pointer[Handle]
			closed := make(chan error, 1)
			var w Watcher = WatcherFunc(func(ev Event) {
				if i == 0 && ev.Type == EventSession && ev.State == StateConnected {
					closed <- handle.Load().Close()
				}
			})
			h := initHandle(t, fs.Addr(), w, sessionTimeout)
			handle.Store(h)
			close(proceed)
			tt.start(t, h, closed)
			if err := recv(t, closed, "return of Close on the completion goroutine"); err != nil {
				t.Errorf("Close from a callback: %v", err)
			}
			recv(t, sawClose, "CloseSession")
			if got := h.State(); got != StateClosed {
				t.Errorf("State() = %v, want %v", got, StateClosed)
			}
			closeHandle(t, h)
			goroutines, fds := leak.check(t)
			t.Logf("goroutines %d→%d, descriptors %d→%d", leak.goroutines, goroutines, leak.fds, fds)
		})
	}
}

// TestCloseConcurrently closes a handle from 10 goroutines at once, then
// again: every Close returns nil, one CloseSession is sent, and nothing
// is left behind.
func TestCloseConcurrently(t *testing.T) {
	fs := fakeserver.New(t)
	sawClose := make(chan struct{}, 1)
	fs.Script(serveAnswering(sawClose))
	leak := takeBaseline(t)
	h := connectHandle(t, fs.Addr(), nil, sessionTimeout)
	start := make(chan struct{})
	results := make(chan error, 10)
	for range 10 {
		go func() {
			<-start
			results <- h.Close()
		}()
	}
	close(start)
	for range 10 {
		if err := recv(t, results, "return of a concurrent Close"); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
	if err := h.Close(); err != nil {
		t.Errorf("Close again: %v", err)
	}
	recv(t, sawClose, "CloseSession")
	if got := h.State(); got != StateClosed {
		t.Errorf("State() = %v, want %v", got, StateClosed)
	}
	goroutines, fds := leak.check(t)
	t.Logf("goroutines %d→%d, descriptors %d→%d", leak.goroutines, goroutines, leak.fds, fds)
}

// TestCloseWhileConnecting closes a handle whose server accepted the
// connection and never answered the handshake: Close returns at once,
// sends nothing (there is no session to close) and fails what was
// queued with ErrClosing.
func TestCloseWhileConnecting(t *testing.T) {
	fs := fakeserver.New(t)
	handshaking := make(chan struct{})
	fs.Script(func(c *fakeserver.Conn) {
		c.ReadConnect()
		close(handshaking)
		c.SetTimeout(waitTimeout)
		c.ExpectClosed() // nothing but the close: no CloseSession, no request
	})
	leak := takeBaseline(t)
	h := initHandle(t, fs.Addr(), nil, 30*time.Second)
	failed := make(chan error, 1)
	if err := h.AGet("/queued", false, func(err error, _ []byte, _ *Stat) { failed <- err }); err != nil {
		t.Fatal(err)
	}
	recv(t, handshaking, "ConnectRequest")
	took := closeHandle(t, h)
	if took > lateness {
		t.Errorf("Close while handshaking took %v", took)
	}
	if err := recv(t, failed, "callback of the queued request"); !errors.Is(err, ErrClosing) {
		t.Errorf("queued request: %v, want %v", err, ErrClosing)
	}
	goroutines, fds := leak.check(t)
	t.Logf("Close took %v; goroutines %d→%d, descriptors %d→%d", took.Round(time.Millisecond), leak.goroutines, goroutines, leak.fds, fds)
}

// mixedOp runs operation op (create, get, set, exists, delete) on
// path, synchronously or not, and reports its result to done exactly once.
func mixedOp(ctx context.Context, h *Handle, op int, path string, async bool, done func(error)) {
	var err error
	switch {
	case op == 0 && async:
		err = h.ACreate(path, []byte("v"), OpenACLUnsafe, Persistent, func(err error, _ string) { done(err) })
	case op == 0:
		_, err = h.Create(ctx, path, []byte("v"), OpenACLUnsafe, Persistent)
	case op == 1 && async:
		err = h.AGet(path, false, func(err error, _ []byte, _ *Stat) { done(err) })
	case op == 1:
		_, _, err = h.Get(ctx, path, false)
	case op == 2 && async:
		err = h.ASet(path, []byte("w"), -1, func(err error, _ *Stat) { done(err) })
	case op == 2:
		_, err = h.Set(ctx, path, []byte("w"), -1)
	case op == 3 && async:
		err = h.AExists(path, false, func(err error, _ *Stat) { done(err) })
	case op == 3:
		_, err = h.Exists(ctx, path, false)
	case async:
		err = h.ADelete(path, -1, func(err error) { done(err) })
	default:
		err = h.Delete(ctx, path, -1)
	}
	if !async || err != nil {
		done(err)
	}
}

// TestCloseAfterMixedLoad runs 100 goroutines of 1,000 operations each
// (100 with -short) (create, get, set, exists, delete of a node of their
// own, sync and async alternately) on a real server: every operation
// completes exactly once and succeeds, in session order. Then Close leaves
// nothing behind.
func TestCloseAfterMixedLoad(t *testing.T) {
	const goroutines = 100
	ops := 1000
	if testing.Short() {
		ops = 100
	}
	srv := sharedServer(t)
	leak := takeBaseline(t)
	h := connectHandle(t, srv.Addr()+uniquePath(t.Name()), nil, sessionTimeout)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, p := range []string{"/", "/mix"} { // the chroot, then the parent of the nodes
		if _, err := h.Create(ctx, p, nil, OpenACLUnsafe, Persistent); err != nil {
			t.Fatal(err)
		}
	}
	count := newOutcomes(goroutines * ops)
	start := time.Now()
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := fmt.Sprintf("/mix/g%03d", g)
			for i := range ops {
				idx := g*ops + i
				count.expect()
				mixedOp(ctx, h, i%5, path, (g+i)%2 == 0, func(err error) { count.complete(t, idx, err) })
			}
		}()
	}
	wg.Wait()
	count.wait(t)
	elapsed := time.Since(start)
	if diff := cmp.Diff(map[string]int64{"ok": int64(goroutines * ops)}, count.tally()); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	took := closeHandle(t, h)
	leftG, fds := leak.check(t)
	t.Logf("%d operations in %v; Close took %v; goroutines %d→%d, descriptors %d→%d",
		count.completed(), elapsed.Round(time.Millisecond), took.Round(time.Millisecond), leak.goroutines, leftG, leak.fds, fds)
}

// TestCloseLeavesNothing checks the goroutine and descriptor counts after
// Close in the states a handle can be closed in that the other tests do
// not cover: connected with watches and auth on a real server, never
// connected (nothing listens), and expired.
func TestCloseLeavesNothing(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T) // makes a handle in its state; the test closes it
	}{
		{
			name: "connected with watches and auth",
			run: func(t *testing.T) {
				srv := sharedServer(t)
				leak := takeBaseline(t)
				h := connectHandle(t, srv.Addr(), newRecorder(), sessionTimeout)
				ctx := testContext(t)
				if err := h.AddAuth(ctx, "digest", []byte("u:p")); err != nil {
					t.Fatal(err)
				}
				if _, err := h.Exists(ctx, "/nothing", true); !errors.Is(err, ErrNoNode) {
					t.Fatal(err)
				}
				if _, err := h.GetChildren(ctx, "/", true); err != nil {
					t.Fatal(err)
				}
				closeAndCheck(t, h, leak)
			},
		},
		{
			name: "never connected",
			run: func(t *testing.T) {
				addr := deadAddr(t)
				tap := newLogTap("connect failed", addr)
				leak := takeBaseline(t)
				h := initHandle(t, addr, nil, 3*time.Second, WithLogger(slog.New(tap)))
				// Refused twice: the handle has tried, and tries again.
				for range 2 {
					recv(t, tap.ch, "refused connection attempt")
				}
				past, cancel := context.WithDeadline(t.Context(), time.Now())
				defer cancel()
				if err := h.WaitConnected(past); !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("WaitConnected with nothing listening: %v", err)
				}
				closeAndCheck(t, h, leak)
			},
		},
		{
			name: "expired",
			run: func(t *testing.T) {
				fs := fakeserver.New(t)
				fs.Script(func(c *fakeserver.Conn) {
					c.Handshake(fakeSessionID, 0, fakePasswd, false)
					c.ExpectClosed()
				})
				leak := takeBaseline(t)
				h := initHandle(t, fs.Addr(), nil, sessionTimeout)
				if err := h.WaitConnected(testContext(t)); !errors.Is(err, ErrSessionExpired) {
					t.Errorf("WaitConnected: %v, want %v", err, ErrSessionExpired)
				}
				closeAndCheck(t, h, leak)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

// TestCallsAfterCloseReturnErrClosing makes every kind of call on a closed
// handle: each returns ErrClosing at once, and no callback ever runs.
func TestCallsAfterCloseReturnErrClosing(t *testing.T) {
	fs := fakeserver.New(t)
	sawClose := make(chan struct{}, 1)
	fs.Script(serveAnswering(sawClose))
	h := connectHandle(t, fs.Addr(), nil, sessionTimeout)
	ctx := testContext(t)
	if _, err := h.Exists(ctx, "/w", true); err != nil {
		t.Fatal(err)
	}
	closeHandle(t, h)
	var callbacks atomic.Int32
	cb := func() { callbacks.Add(1) }
	calls := map[string]func() error{
		"Create": func() error {
			_, err := h.Create(ctx, "/a", nil, OpenACLUnsafe, Persistent)
			return err
		},
		"Create2": func() error {
			_, _, err := h.Create2(ctx, "/a", nil, OpenACLUnsafe, Persistent)
			return err
		},
		"Delete": func() error { return h.Delete(ctx, "/a", -1) },
		"Exists": func() error {
			_, err := h.Exists(ctx, "/a", true)
			return err
		},
		"Get": func() error {
			_, _, err := h.Get(ctx, "/a", false)
			return err
		},
		"Set": func() error {
			_, err := h.Set(ctx, "/a", nil, -1)
			return err
		},
		"GetChildren": func() error {
			_, err := h.GetChildren(ctx, "/", false)
			return err
		},
		"GetACL": func() error {
			_, _, err := h.GetACL(ctx, "/a")
			return err
		},
		"SetACL": func() error { return h.SetACL(ctx, "/a", -1, OpenACLUnsafe) },
		"Sync": func() error {
			_, err := h.Sync(ctx, "/a")
			return err
		},
		"Multi": func() error {
			_, err := h.Multi(ctx, CheckOp{Path: "/a", Version: -1})
			return err
		},
		"AddAuth": func() error { return h.AddAuth(ctx, "digest", []byte("u:p")) },
		"GetConfig": func() error {
			_, _, err := h.GetConfig(ctx, false)
			return err
		},
		"RemoveWatches": func() error { return h.RemoveWatches(ctx, "/w", WatcherAny, nil, false) },
		"WaitConnected": func() error { return h.WaitConnected(ctx) },
		"ACreate": func() error {
			return h.ACreate("/a", nil, OpenACLUnsafe, Persistent, func(error, string) { cb() })
		},
		"ADelete": func() error { return h.ADelete("/a", -1, func(error) { cb() }) },
		"AExists": func() error { return h.AExists("/a", false, func(error, *Stat) { cb() }) },
		"AGet":    func() error { return h.AGet("/a", false, func(error, []byte, *Stat) { cb() }) },
		"ASet":    func() error { return h.ASet("/a", nil, -1, func(error, *Stat) { cb() }) },
		"AGetChildren": func() error {
			return h.AGetChildren("/", false, func(error, []string) { cb() })
		},
		"ASync": func() error { return h.ASync("/a", func(error, string) { cb() }) },
		"AMulti": func() error {
			return h.AMulti([]Op{CheckOp{Path: "/a", Version: -1}}, func(error, []OpResult) { cb() })
		},
		"AAddAuth": func() error { return h.AAddAuth("digest", []byte("u:p"), func(error) { cb() }) },
	}
	for name, call := range calls {
		start := time.Now()
		if err := call(); !errors.Is(err, ErrClosing) {
			t.Errorf("%s after Close: %v, want %v", name, err, ErrClosing)
		}
		if took := time.Since(start); took > lateness {
			t.Errorf("%s after Close took %v", name, took)
		}
	}
	if n := callbacks.Load(); n != 0 {
		t.Errorf("%d callbacks ran for refused requests", n)
	}
	if got := h.State(); got != StateClosed {
		t.Errorf("State() = %v, want %v", got, StateClosed)
	}
	recv(t, sawClose, "CloseSession")
}
