package zhandle

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/zkloop/zkloop/internal/zktest"
)

// ftLogTap is a slog.Handler that passes the records whose message is msg
// and whose "server" attribute is server to a channel (dropping them when
// it is full).
type ftLogTap struct {
	msg, server string
	ch          chan struct{}
}

func newFtLogTap(msg, server string) *ftLogTap {
	return &ftLogTap{msg: msg, server: server, ch: make(chan struct{}, 64)}
}

func (l *ftLogTap) Enabled(context.Context, slog.Level) bool { return true }

func (l *ftLogTap) Handle(_ context.Context, r slog.Record) error {
	if r.Message != l.msg {
		return nil
	}
	match := false
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "server" && a.Value.String() == l.server {
			match = true
		}
		return !match
	})
	if match {
		select {
		case l.ch <- struct{}{}:
		default:
		}
	}
	return nil
}

func (l *ftLogTap) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *ftLogTap) WithGroup(string) slog.Handler      { return l }

// ftWaitMode waits until srv reports mode (srvr), polling every 50 ms for
// at most ftWait: the state of another process cannot be waited on.
func ftWaitMode(t testing.TB, srv *zktest.Server, mode string) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(ftWait)
	defer deadline.Stop()
	for {
		got, err := srv.Mode()
		if err == nil && got == mode {
			return
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("%s: mode %q, %v after %v; want %q", srv, got, err, ftWait, mode)
		}
	}
}

// TestReadOnlyMode is item 5: a 3-server ensemble with read-only mode
// enabled loses two servers; a handle with WithReadOnly is served by the
// survivor in StateReadOnly (reads work, writes fail with ErrNotReadOnly),
// a handle without it is turned away; a read-only handle that knows a
// read/write server finds it by probing ("isro"); when the ensemble is
// whole again every handle reaches StateConnected.
func TestReadOnlyMode(t *testing.T) {
	// A 3.8 read-only server makes only local sessions: with local
	// sessions disabled (zktest's default) it answers every
	// ConnectRequest with a bare NOTREADONLY reply header.
	// Every server also has a TLS port, for the probe over TLS.
	ca := zktest.NewCA(t, "zkloop test CA")
	secure := zktest.WithTLS(zktest.ServerTLS{Cert: ca.ServerCert(t, zktest.CertOptions{Hosts: []string{"127.0.0.1"}})})
	ens := zktest.StartEnsemble(t, 3, zktest.WithReadOnlyMode(), zktest.WithConfig("localSessionsEnabled", "true"), secure)
	rwSrv := zktest.Standalone(t, secure) // a read/write server for the probe

	base := ftPath("ro")
	setup := ftConnect(t, ens.ConnectString(), nil)
	ftCreate(t, setup, base, []byte("data"), Persistent)
	ftCreate(t, setup, base+"/child", nil, Persistent)
	if err := setup.Close(); err != nil {
		t.Fatal(err)
	}

	// The survivor is a follower: it notices the loss of its leader at
	// once, where a leader would wait for its followers' deadlines.
	survivor := (ens.Leader() + 1) % len(ens.Servers)
	surv := ens.Servers[survivor]
	for i, s := range ens.Servers {
		if i != survivor {
			s.Kill()
		}
	}
	ftWaitMode(t, surv, "read-only")

	w := newFtWatcher()
	h := ftInit(t, ens.ConnectString(), w, 4*time.Second, WithReadOnly())
	w.expectSession(t, StateReadOnly)
	if s := h.State(); s != StateReadOnly {
		t.Fatalf("State() = %v; want %v", s, StateReadOnly)
	}
	if err := h.WaitConnected(ftCtx(t)); err != nil {
		t.Fatalf("WaitConnected in read-only mode: %v", err)
	}
	if got := h.CurrentServer(); got != surv.Addr() {
		t.Errorf("CurrentServer() = %s; want the survivor %s", got, surv.Addr())
	}

	// A handle without WithReadOnly is refused by the survivor, again and
	// again: its connection is closed after the handshake request.
	tap := newFtLogTap("server closed the connection", surv.Addr())
	wn := newFtWatcher()
	hn := ftInit(t, ens.ConnectString(), wn, 4*time.Second, WithLogger(slog.New(tap)))

	t.Run("Reads", func(t *testing.T) {
		ctx := ftCtx(t)
		if data, _, err := h.Get(ctx, base, false); err != nil || string(data) != "data" {
			t.Errorf("Get = %q, %v; want data", data, err)
		}
		if _, err := h.Exists(ctx, base+"/child", false); err != nil {
			t.Errorf("Exists: %v", err)
		}
		if kids, err := h.GetChildren(ctx, base, false); err != nil || len(kids) != 1 || kids[0] != "child" {
			t.Errorf("GetChildren = %v, %v; want [child]", kids, err)
		}
		if rs, err := h.MultiRead(ctx, GetDataOp{base}, GetChildrenOp{base}); err != nil || len(rs) != 2 || rs[0].Err != nil {
			t.Errorf("MultiRead = %+v, %v", rs, err)
		}
		if n, err := h.GetAllChildrenNumber(ctx, base); err != nil || n != 1 {
			t.Errorf("GetAllChildrenNumber = %d, %v; want 1", n, err)
		}
	})
	t.Run("WritesFail", func(t *testing.T) {
		ctx := ftCtx(t)
		if _, err := h.Create(ctx, base+"/new", nil, OpenACLUnsafe, Persistent); !errors.Is(err, ErrNotReadOnly) {
			t.Errorf("Create = %v; want ErrNotReadOnly", err)
		}
		if _, err := h.Set(ctx, base, []byte("x"), -1); !errors.Is(err, ErrNotReadOnly) {
			t.Errorf("Set = %v; want ErrNotReadOnly", err)
		}
		if err := h.Delete(ctx, base+"/child", -1); !errors.Is(err, ErrNotReadOnly) {
			t.Errorf("Delete = %v; want ErrNotReadOnly", err)
		}
		done := make(chan error, 1)
		if err := h.ASet(base, []byte("x"), -1, func(err error, _ *Stat) { done <- err }); err != nil {
			t.Fatalf("ASet: %v", err)
		}
		if err := ftRecv(t, done, "ASet callback"); !errors.Is(err, ErrNotReadOnly) {
			t.Errorf("ASet = %v; want ErrNotReadOnly", err)
		}
		if s := h.State(); s != StateReadOnly {
			t.Errorf("State() after failed writes = %v; want %v", s, StateReadOnly)
		}
	})
	t.Run("NotReadOnlyRefused", func(t *testing.T) {
		for range 2 {
			ftRecv(t, tap.ch, "refusal by the read-only survivor")
		}
		if s := hn.State(); s == StateConnected || s == StateReadOnly {
			t.Errorf("State() of a handle without WithReadOnly = %v", s)
		}
		if got := wn.drainSession(); len(got) != 0 {
			t.Errorf("session events of the refused handle: %v", got)
		}
	})

	// With the survivor first in a list that also holds a read/write
	// server, the handle starts read-only and moves by probing, over TLS
	// too.
	t.Run("ProbeFindsReadWrite", func(t *testing.T) { probeFindsReadWrite(t, surv.Addr(), rwSrv.Addr()) })
	t.Run("ProbeFindsReadWriteOverTLS", func(t *testing.T) {
		probeFindsReadWrite(t, surv.SecureAddr(), rwSrv.SecureAddr(), WithTLS(trusting(ca)))
	})

	// The ensemble comes back: the read-only handle reaches a read/write
	// server, the refused handle connects.
	t.Run("EnsembleBack", func(t *testing.T) {
		start := time.Now()
		ens.StartAll()
		quorum := time.Now()
		for {
			ev := ftRecv(t, w.session, "session event on the way back")
			if ev.State == StateConnected {
				break
			}
			if ev.State != StateConnecting {
				t.Fatalf("session event %v on the way back", ev)
			}
		}
		t.Logf("StateConnected %v after StartAll began, %v after the quorum", time.Since(start).Round(time.Millisecond), time.Since(quorum).Round(time.Millisecond))
		ftCreate(t, h, base+"/written", nil, Persistent)
		if err := hn.WaitConnected(ftCtx(t)); err != nil {
			t.Fatalf("WaitConnected of the handle without WithReadOnly: %v", err)
		}
		if s := hn.State(); s != StateConnected {
			t.Errorf("State() = %v; want %v", s, StateConnected)
		}
	})
}

// probeFindsReadWrite connects a read-only handle to ro first, then checks
// that probing moves it to the read/write server rw in a new session.
func probeFindsReadWrite(t *testing.T, ro, rw string, opts ...Option) {
	wp := newFtWatcher()
	hp := ftInit(t, ro+","+rw, wp, 4*time.Second, append([]Option{WithReadOnly(), WithDeterministicOrder()}, opts...)...)
	wp.expectSession(t, StateReadOnly)
	roAt := time.Now()
	roSession := hp.ClientID().SessionID
	wp.expectSession(t, StateConnecting, StateConnected)
	// The first probe is due 200 ms after the session began.
	took := time.Since(roAt)
	t.Logf("read-only to read/write by probing: %v", took.Round(time.Millisecond))
	if took > 3*time.Second {
		t.Errorf("moving to the read/write server took %v; the first probe is due after %v", took, minRWProbeInterval)
	}
	if got := hp.CurrentServer(); got != rw {
		t.Errorf("CurrentServer() = %s; want the read/write server %s", got, rw)
	}
	if got := hp.ClientID().SessionID; got == roSession {
		t.Errorf("the session %#x born read-only was resumed on the read/write server", got)
	}
	ftCreate(t, hp, ftPath("probe"), nil, Persistent)
}
