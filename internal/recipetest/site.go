package recipetest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/zkloop/zkloop/zhandle"
	"github.com/zkloop/zkloop/zktest"
)

// A Site is one test's corner of a server: a chroot of its own (Chroot),
// on which it opens handles, directly or through a fault proxy. Its
// methods take the test they serve, so that subtests can use their
// parent's Site.
type Site struct {
	Srv   *zktest.Server
	Hosts string // the chroot's connect string
	Root  string // the chroot
}

// NewSite makes a chroot for t on srv.
func NewSite(t testing.TB, srv *zktest.Server) *Site {
	t.Helper()
	root := Chroot(t, srv.Addr())
	return &Site{Srv: srv, Hosts: srv.Addr() + root, Root: root}
}

// Connect opens a session on the chroot, as Connect does.
func (s *Site) Connect(t testing.TB, opts ...zhandle.Option) *zhandle.Handle {
	t.Helper()
	return Connect(t, s.Hosts, opts...)
}

// Proxied opens a session on the chroot with the session timeout given,
// through a fault proxy of its own.
func (s *Site) Proxied(t testing.TB, timeout time.Duration) (*zhandle.Handle, *zktest.Proxy) {
	t.Helper()
	p := zktest.NewProxy(t, s.Srv.Addr())
	return ConnectTimeout(t, p.Addr()+s.Root, timeout), p
}

// Kill ends h's session on the server from another connection, as if it
// had expired (what Curator's tests do to expire a session): a second
// handle resumes the session and closes it, again until the server says
// the session is gone. The server deletes the session's ephemeral nodes
// and drops h's connection; h learns that its session is over when it
// reconnects. Meanwhile h may reconnect and take the session back, once
// or more, before a close goes through: a test that must not see that
// connects h through a proxy and refuses its reconnections during Kill
// (Proxy.Refuse).
func (s *Site) Kill(t testing.TB, h *zhandle.Handle) {
	t.Helper()
	ctx := Context(t)
	for {
		twin, err := zhandle.Init(s.Hosts, nil, h.RecvTimeout(), zhandle.WithClientID(h.ClientID()))
		if err != nil {
			t.Fatal(err)
		}
		err = twin.WaitConnected(ctx)
		_ = twin.Close() // sends CloseSession if still connected; always returns nil
		switch {
		case errors.Is(err, zhandle.ErrSessionExpired):
			return
		case err != nil:
			t.Fatalf("resuming session %#x to end it: %v", h.ClientID().SessionID, err)
		}
	}
}

// DataWatches returns the server's data watches under the chroot, as
// DataWatches does, per path as the server sees it (chroot included).
func (s *Site) DataWatches(t testing.TB) map[string]int {
	t.Helper()
	watches := DataWatches(t, s.Srv)
	for path := range watches {
		if !strings.HasPrefix(path, s.Root+"/") {
			delete(watches, path) // another test's
		}
	}
	return watches
}
