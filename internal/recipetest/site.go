package recipetest

import (
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
