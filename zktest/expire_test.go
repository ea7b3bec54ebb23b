package zktest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/zkloop/zkloop/zhandle"
)

// sessionExpiry returns a channel closed when h reports that its session
// has expired.
func sessionExpiry(h *zhandle.Handle) <-chan struct{} {
	expired := make(chan struct{})
	var once sync.Once
	h.AddSessionWatcher(zhandle.WatcherFunc(func(e zhandle.Event) {
		if e.State == zhandle.StateExpiredSession {
			once.Do(func() { close(expired) })
		}
	}))
	return expired
}

// receive waits for ch to be closed, failing the test after testTimeout.
func receive(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	timer := time.NewTimer(testTimeout)
	defer timer.Stop()
	select {
	case <-ch:
	case <-timer.C:
		t.Fatalf("no %s within %v", what, testTimeout)
	}
}

// ephemeral creates an ephemeral node at path with h.
func ephemeral(t *testing.T, h *zhandle.Handle, path string) {
	t.Helper()
	if _, err := h.Create(testContext(t), path, nil, zhandle.OpenACLUnsafe, zhandle.Ephemeral); err != nil {
		t.Fatalf("Create %s: %v", path, err)
	}
}

// checkGone fails the test unless path is gone, as other sees it after a
// Sync.
func checkGone(t *testing.T, other *zhandle.Handle, path string) {
	t.Helper()
	ctx := testContext(t)
	if _, err := other.Sync(ctx, path); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if _, err := other.Exists(ctx, path, false); !errors.Is(err, zhandle.ErrNoNode) {
		t.Errorf("Exists %s after ExpireSession: %v, want %v", path, err, zhandle.ErrNoNode)
	}
}

// checkExpired waits for h to learn that its session expired and checks
// what it reports then.
func checkExpired(t *testing.T, h *zhandle.Handle, expired <-chan struct{}) {
	t.Helper()
	receive(t, expired, "session expiry event")
	if got := h.State(); got != zhandle.StateExpiredSession {
		t.Errorf("State() = %v, want %v", got, zhandle.StateExpiredSession)
	}
	if _, err := h.Exists(testContext(t), "/", false); !errors.Is(err, zhandle.ErrSessionExpired) {
		t.Errorf("Exists after the expiry: %v, want %v", err, zhandle.ErrSessionExpired)
	}
}

// TestExpireSession expires the session of a handle connected directly and
// of one behind a stalled proxy: ExpireSession returns once the server has
// deleted the ephemeral nodes, and the handle learns of it when it reaches
// the server.
func TestExpireSession(t *testing.T) {
	srv := NewServer(t)
	other := connect(t, srv.Addr())

	t.Run("direct", func(t *testing.T) {
		h := connect(t, srv.Addr())
		expired := sessionExpiry(h)
		ephemeral(t, h, "/direct")
		ExpireSession(t, h)
		// No Sync: the server deleted the node before ExpireSession returned.
		if _, err := other.Exists(testContext(t), "/direct", false); !errors.Is(err, zhandle.ErrNoNode) {
			t.Errorf("Exists /direct after ExpireSession: %v, want %v", err, zhandle.ErrNoNode)
		}
		checkExpired(t, h, expired)
	})

	t.Run("stalled proxy", func(t *testing.T) {
		p := NewProxy(t, srv.Addr())
		h := connect(t, p.Addr())
		expired := sessionExpiry(h)
		ephemeral(t, h, "/stalled")
		p.Stall()
		ExpireSession(t, h)
		checkGone(t, other, "/stalled")
		if got := h.State(); got == zhandle.StateExpiredSession {
			t.Errorf("State() = %v behind a stalled proxy", got)
		}
		p.Resume()
		checkExpired(t, h, expired)
	})

	t.Run("no session", func(t *testing.T) {
		h, err := zhandle.Init(srv.Addr(), nil, sessionTimeout)
		if err != nil {
			t.Fatal(err)
		}
		_ = h.Close() // before a session: Close always returns nil
		rec := &tbRecorder{TB: t}
		rec.run(func() { ExpireSession(rec, h) })
		if got := rec.recorded(); len(got) != 1 {
			t.Errorf("ExpireSession of a closed handle: %q, want one failure", got)
		}
	})
}

// TestExpireSessionEnsemble expires a session in an ensemble, also when the
// handle's server is down.
func TestExpireSessionEnsemble(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an ensemble")
	}
	ens := NewEnsemble(t, 3)
	other := connect(t, ens.Addr())

	h := connect(t, ens.Addr())
	expired := sessionExpiry(h)
	ephemeral(t, h, "/member")
	ExpireSession(t, h)
	checkGone(t, other, "/member")
	checkExpired(t, h, expired)

	// The handle's server is down: another member takes the request.
	p := NewProxy(t, ens.Member(0).Addr())
	h = connect(t, p.Addr())
	ephemeral(t, h, "/down")
	p.Refuse(true)
	p.Cut()
	ens.Member(0).Kill()
	want := []string{ens.Member(0).Addr(), ens.Member(1).Addr(), ens.Member(2).Addr()}
	if diff := cmp.Diff(want, sessionAddrs(p.Addr())); diff != "" {
		t.Errorf("sessionAddrs of the proxy (-want +got):\n%s", diff)
	}
	ExpireSession(t, h)
	checkGone(t, other, "/down")
}
