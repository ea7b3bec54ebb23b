package recipetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/zkloop/zkloop/internal/curator"
	"github.com/zkloop/zkloop/zhandle"
	"github.com/zkloop/zkloop/zktest"
)

// A Place is one test's corner of a server: a chroot of its own, which
// every handle it opens sees as "/".
type Place struct {
	t      testing.TB
	Server *zktest.Server
	Chroot string
}

// NewPlace makes a chroot for t on srv (Chroot).
func NewPlace(t testing.TB, srv *zktest.Server) *Place {
	return &Place{t: t, Server: srv, Chroot: Chroot(t, srv.Addr())}
}

// Connect opens a session in the place (Connect).
func (p *Place) Connect(opts ...zhandle.Option) *zhandle.Handle {
	p.t.Helper()
	return Connect(p.t, p.Server.Addr()+p.Chroot, opts...)
}

// ConnectViaProxy opens a session in the place, with the session timeout
// given, through a fault proxy of its own.
func (p *Place) ConnectViaProxy(timeout time.Duration) (*zhandle.Handle, *zktest.Proxy) {
	p.t.Helper()
	px := zktest.NewProxy(p.t, p.Server.Addr())
	return ConnectTimeout(p.t, px.Addr()+p.Chroot, timeout), px
}

// Reaching returns a channel that is sent a value whenever h's session
// reaches state from now on: arm it before causing the change.
func Reaching(t testing.TB, h *zhandle.Handle, state zhandle.State) <-chan struct{} {
	reached := make(chan struct{}, 1)
	t.Cleanup(h.AddSessionWatcher(zhandle.WatcherFunc(func(ev zhandle.Event) {
		if ev.State == state {
			select { // the completion goroutine must never block
			case reached <- struct{}{}:
			default:
			}
		}
	})))
	return reached
}

// MakeNode creates path with data and mode, and its missing parents as
// persistent nodes, as a foreign client would: not through a recipe.
func MakeNode(t testing.TB, h *zhandle.Handle, path string, data []byte, mode zhandle.CreateMode) {
	t.Helper()
	ctx := Context(t)
	for i := 1; i < len(path); i++ {
		if path[i] != '/' {
			continue
		}
		if _, err := h.Create(ctx, path[:i], nil, zhandle.OpenACLUnsafe, zhandle.Persistent); err != nil && !errors.Is(err, zhandle.ErrNodeExists) {
			t.Fatalf("creating %s: %v", path[:i], err)
		}
	}
	if _, err := h.Create(ctx, path, data, zhandle.OpenACLUnsafe, mode); err != nil {
		t.Fatalf("creating %s: %v", path, err)
	}
}

// Concurrently runs f(ctx, i) for i in [0, n) on n goroutines, ctx ending
// after Timeout, and waits for them all, failing t with their errors.
func Concurrently(t testing.TB, n int, f func(ctx context.Context, i int) error) {
	t.Helper()
	ctx := Context(t)
	errs := make(chan error, n)
	for i := range n {
		go func() { errs <- f(ctx, i) }()
	}
	for range n {
		if err := Receive(t, errs, "a participant's end"); err != nil {
			t.Error(err)
		}
	}
}

// A PlaceTest is one real-server test of a recipe package.
type PlaceTest struct {
	Name string
	Test func(*testing.T, *Place)
}

// RunInPlaces starts a server (Start) and runs each test on it as a
// subtest, in a Place of its own.
func RunInPlaces(t *testing.T, tests []PlaceTest) {
	srv := Start(t)
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) { tt.Test(t, NewPlace(t, srv)) })
	}
}

// StartCurator prepares an interop test with Apache Curator: it starts the
// Curator driver (curator.Start, which skips the test under -short) and a
// server (Start), and connects a Curator client of each name given to a
// Place of the test's, with SessionTimeout.
func StartCurator(t *testing.T, clients ...string) (*curator.Driver, *Place) {
	t.Helper()
	cur := curator.Start(t)
	pl := NewPlace(t, Start(t))
	for _, name := range clients {
		cur.NewClient(name, pl.Server.Addr()+pl.Chroot, SessionTimeout)
	}
	return cur, pl
}
