// Package recipetest is the test vocabulary of the recipe packages: one
// real server per test binary's top-level test, a handle per test under a
// chroot of its own, bounded contexts, and waits on the server's state
// through watches instead of sleeps.
package recipetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zkloop/zkloop/internal/testwait"
	"github.com/zkloop/zkloop/zhandle"
	"github.com/zkloop/zkloop/zktest"
)

const (
	// Timeout bounds every wait of a recipe test: a reply, an event, a
	// lock. On loopback each takes milliseconds; the rest is slack for a
	// loaded machine under -race.
	Timeout = 20 * time.Second
	// SessionTimeout is the session timeout of Connect's handles.
	SessionTimeout = 10 * time.Second
	// ContainerCheckInterval is how often Start's server removes empty
	// containers (one minute by default), so that tests can see recipe
	// directories go and come back.
	ContainerCheckInterval = 100 * time.Millisecond
)

// Start starts a standalone server for a package's real-server tests,
// sweeping empty containers every ContainerCheckInterval. It skips the
// test without a server here (fails under CI), as zktest.NewServer does.
func Start(t testing.TB) *zktest.Server {
	t.Helper()
	return zktest.NewServer(t, zktest.WithSystemProperty(
		"znode.container.checkIntervalMs", strconv.Itoa(int(ContainerCheckInterval.Milliseconds()))))
}

// chrootSeq makes chroots unique across tests and -count repetitions.
var chrootSeq atomic.Int64

// Chroot creates a new top-level node named after the test on the server
// at addr and returns the connect string of a chroot there. Everything
// under addr is reached through it, a proxy's address included.
func Chroot(t testing.TB, addr string) string {
	t.Helper()
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, t.Name())
	chroot := fmt.Sprintf("/%s-%d", name, chrootSeq.Add(1))
	h := Connect(t, addr)
	if _, err := h.Create(Context(t), chroot, nil, zhandle.OpenACLUnsafe, zhandle.Persistent); err != nil {
		t.Fatalf("creating the chroot %s: %v", chroot, err)
	}
	return chroot
}

// Connect opens a handle on hosts with SessionTimeout (opts may add
// more), waits for its session and closes it when the test ends.
func Connect(t testing.TB, hosts string, opts ...zhandle.Option) *zhandle.Handle {
	t.Helper()
	return ConnectTimeout(t, hosts, SessionTimeout, opts...)
}

// ConnectTimeout is Connect with a session timeout of the caller's.
func ConnectTimeout(t testing.TB, hosts string, timeout time.Duration, opts ...zhandle.Option) *zhandle.Handle {
	t.Helper()
	h, err := zhandle.Init(hosts, nil, timeout, opts...)
	if err != nil {
		t.Fatalf("Init(%q): %v", hosts, err)
	}
	t.Cleanup(func() { _ = h.Close() }) // Close always returns nil
	if err := h.WaitConnected(Context(t)); err != nil {
		t.Fatalf("WaitConnected(%q): %v", hosts, err)
	}
	return h
}

// Context returns a context that ends after Timeout or with the test.
func Context(t testing.TB) context.Context { return testwait.Context(t, Timeout) }

// Receive waits up to Timeout for a value on ch, failing the test
// otherwise; what names the value in the failure.
func Receive[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	return testwait.Receive(t, ch, what, Timeout)
}

// Children returns the children of dir, sorted as strings; none when dir
// does not exist.
func Children(t testing.TB, h *zhandle.Handle, dir string) []string {
	t.Helper()
	children, err := h.GetChildren(Context(t), dir, false)
	if errors.Is(err, zhandle.ErrNoNode) {
		return nil
	}
	if err != nil {
		t.Fatalf("GetChildren(%s): %v", dir, err)
	}
	slices.Sort(children)
	return children
}

// WaitChildren waits until dir has n children (a missing dir has none),
// re-reading on every change of its children, and returns them sorted.
func WaitChildren(t testing.TB, h *zhandle.Handle, dir string, n int) []string {
	t.Helper()
	var children []string
	WatchUntil(t, fmt.Sprintf("%d children of %s", n, dir), func(ctx context.Context, w zhandle.Watcher) (bool, error) {
		for {
			var err error
			children, err = h.WGetChildren(ctx, dir, w)
			if !errors.Is(err, zhandle.ErrNoNode) {
				return err == nil && len(children) == n, err
			}
			// A missing dir leaves no child watch: watch for its
			// creation, or, created meanwhile, list it again at once
			// (its exists watch would miss a child).
			children = nil
			if _, err = h.WExists(ctx, dir, w); errors.Is(err, zhandle.ErrNoNode) {
				return n == 0, nil
			} else if err != nil {
				return false, err
			}
		}
	})
	slices.Sort(children)
	return children
}

// WaitGone waits until path does not exist, and returns when it saw that.
func WaitGone(t testing.TB, h *zhandle.Handle, path string) time.Time {
	t.Helper()
	WatchUntil(t, path+" gone", func(ctx context.Context, w zhandle.Watcher) (bool, error) {
		_, err := h.WExists(ctx, path, w)
		if errors.Is(err, zhandle.ErrNoNode) {
			return true, nil
		}
		return false, err
	})
	return time.Now()
}

// WatchUntil calls check with a watcher until it reports done, waiting
// between calls for the watcher to fire; an error or Timeout fails t.
func WatchUntil(t testing.TB, what string, check func(context.Context, zhandle.Watcher) (done bool, err error)) {
	t.Helper()
	ctx := Context(t)
	for {
		changed := make(chan struct{}, 1)
		done, err := check(ctx, zhandle.WatcherFunc(func(zhandle.Event) {
			select { // the completion goroutine must never block
			case changed <- struct{}{}:
			default:
			}
		}))
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if done {
			return
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("no %s within %v", what, Timeout)
		}
	}
}

// Main runs a test binary's tests and then kills any ZooKeeper server
// they left running: the TestMain of the recipe packages.
func Main(m *testing.M) {
	code := m.Run()
	zktest.KillAll()
	os.Exit(code)
}

// DataWatches returns, per path, how many sessions the server has a data
// watch for (four-letter word wchp: getData and exists watches; child
// watches are not listed).
func DataWatches(t testing.TB, srv *zktest.Server) map[string]int {
	t.Helper()
	out, err := srv.FourLetter("wchp")
	if err != nil {
		t.Fatalf("wchp: %v", err)
	}
	watches := map[string]int{}
	path := ""
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "/"):
			path = line
		case strings.HasPrefix(line, "\t0x") && path != "":
			watches[path]++
		}
	}
	return watches
}
