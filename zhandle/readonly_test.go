package zhandle

import (
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/zkloop/zkloop/zktest"
)

// waitMode waits until srv reports mode (srvr): the state of another
// process gives nothing to wait on but a poll.
func waitMode(t testing.TB, srv *zktest.Server, mode string) {
	t.Helper()
	poll(t, func() (bool, string) {
		got, err := srv.Mode()
		return err == nil && got == mode, fmt.Sprintf("%s: mode %q, %v; want %q", srv, got, err, mode)
	})
}

// TestReadOnlyMode: a 3-server ensemble with read-only mode
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
	secure := zktest.WithServerTLS(zktest.ServerTLS{Cert: ca.ServerCert(t, zktest.CertOptions{Hosts: []string{"127.0.0.1"}})})
	ens := startEnsemble(t, zktest.WithReadOnlyMode(), zktest.WithConfig("localSessionsEnabled", "true"), secure)
	rwSrv := zktest.NewServer(t, secure) // a read/write server for the probe

	base := uniquePath("ro")
	setup := connectHandle(t, ens.Addr(), nil, sessionTimeout)
	mustCreate(t, setup, base, []byte("data"), Persistent)
	mustCreate(t, setup, base+"/child", nil, Persistent)
	if err := setup.Close(); err != nil {
		t.Fatal(err)
	}

	// The survivor is a follower: it notices the loss of its leader at
	// once, where a leader would wait for its followers' deadlines.
	survivor := (ens.Leader() + 1) % len(ens.Servers())
	surv := ens.Member(survivor)
	for i, s := range ens.Servers() {
		if i != survivor {
			s.Kill()
		}
	}
	waitMode(t, surv, "read-only")

	w := newRecorder()
	h := initHandle(t, ens.Addr(), w, 4*time.Second, WithReadOnly())
	w.expect(t, sessionEvent(StateReadOnly))
	if s := h.State(); s != StateReadOnly {
		t.Fatalf("State() = %v; want %v", s, StateReadOnly)
	}
	if err := h.WaitConnected(testContext(t)); err != nil {
		t.Fatalf("WaitConnected in read-only mode: %v", err)
	}
	if got := h.CurrentServer(); got != surv.Addr() {
		t.Errorf("CurrentServer() = %s; want the survivor %s", got, surv.Addr())
	}

	// A handle without WithReadOnly is refused by the survivor, again and
	// again: its connection is closed after the handshake request.
	tap := newLogTap("server closed the connection", surv.Addr())
	wn := newRecorder()
	hn := initHandle(t, ens.Addr(), wn, 4*time.Second, WithLogger(slog.New(tap)))

	t.Run("Reads", func(t *testing.T) {
		ctx := testContext(t)
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
		ctx := testContext(t)
		if _, err := h.Create(ctx, base+"/new", nil, OpenACLUnsafe, Persistent); !errors.Is(err, ErrNotReadOnly) {
			t.Errorf("Create = %v; want ErrNotReadOnly", err)
		}
		if _, err := h.Set(ctx, base, []byte("x"), -1); !errors.Is(err, ErrNotReadOnly) {
			t.Errorf("Set = %v; want ErrNotReadOnly", err)
		}
		if err := h.Delete(ctx, base+"/child", -1); !errors.Is(err, ErrNotReadOnly) {
			t.Errorf("Delete = %v; want ErrNotReadOnly", err)
		}
		if err := await(t, func(done func(error)) error {
			return h.ASet(base, []byte("x"), -1, func(err error, _ *Stat) { done(err) })
		}); !errors.Is(err, ErrNotReadOnly) {
			t.Errorf("ASet = %v; want ErrNotReadOnly", err)
		}
		if s := h.State(); s != StateReadOnly {
			t.Errorf("State() after failed writes = %v; want %v", s, StateReadOnly)
		}
	})
	t.Run("NotReadOnlyRefused", func(t *testing.T) {
		for range 2 {
			recv(t, tap.ch, "refusal by the read-only survivor")
		}
		if s := hn.State(); s == StateConnected || s == StateReadOnly {
			t.Errorf("State() of a handle without WithReadOnly = %v", s)
		}
		wn.expectNone(t) // no session: no session event
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
			ev := w.next(t)
			if ev == sessionEvent(StateConnected) {
				break
			}
			if ev != sessionEvent(StateConnecting) {
				t.Fatalf("event %v on the way back", ev)
			}
		}
		t.Logf("StateConnected %v after StartAll began, %v after the quorum", time.Since(start).Round(time.Millisecond), time.Since(quorum).Round(time.Millisecond))
		mustCreate(t, h, base+"/written", nil, Persistent)
		if err := hn.WaitConnected(testContext(t)); err != nil {
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
	wp := newRecorder()
	hp := initHandle(t, ro+","+rw, wp, 4*time.Second, append([]Option{WithReadOnly(), WithDeterministicOrder()}, opts...)...)
	wp.expect(t, sessionEvent(StateReadOnly))
	roAt := time.Now()
	roSession := hp.ClientID().SessionID
	wp.expect(t, sessionEvent(StateConnecting), sessionEvent(StateConnected))
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
	mustCreate(t, hp, uniquePath("probe"), nil, Persistent)
}
