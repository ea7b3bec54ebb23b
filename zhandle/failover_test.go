package zhandle

import (
	"errors"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zkloop/zkloop/internal/fakeserver"
)

// TestFailoverSetServers, on a 3-server ensemble: SetServers leaves the
// current server only when it is no longer listed (the rebalancing of
// ZOOKEEPER-1355: a list of the same size or smaller that keeps it changes
// nothing), and the session, with its ephemeral node, moves along; host
// names are resolved again on every connect.
func TestFailoverSetServers(t *testing.T) {
	ens := startEnsemble(t)
	addrs := make([]string, len(ens.Servers()))
	for i, s := range ens.Servers() {
		addrs[i] = s.Addr()
	}

	t.Run("MoveOnlyWhenRemoved", func(t *testing.T) {
		w := newRecorder()
		h := connectHandle(t, ens.Addr(), w, sessionTimeout)
		w.expect(t, sessionEvent(StateConnected))
		sid := h.ClientID().SessionID
		eph := uniquePath("setservers-eph")
		mustCreate(t, h, eph, nil, Ephemeral)
		cur := h.CurrentServer()
		i := slices.Index(addrs, cur)
		if i < 0 {
			t.Fatalf("CurrentServer() = %q; not one of %v", cur, addrs)
		}
		others := slices.Delete(slices.Clone(addrs), i, i+1)

		for _, list := range []string{
			cur + "," + others[0] + "," + deadAddr(t), // same size, still listed
			cur, // smaller, still listed
		} {
			if err := h.SetServers(list); err != nil {
				t.Fatalf("SetServers(%s): %v", list, err)
			}
			barrier(t, h)
			w.expectNone(t) // no move: no session event
			if got := h.CurrentServer(); got != cur {
				t.Errorf("SetServers(%s): CurrentServer() = %s; want %s", list, got, cur)
			}
		}

		// Now leave cur out: {cur} becomes {a, b}.
		list := strings.Join(others, ",")
		if err := h.SetServers(list); err != nil {
			t.Fatalf("SetServers(%s): %v", list, err)
		}
		w.expect(t, sessionEvent(StateConnecting), sessionEvent(StateConnected))
		moved := h.CurrentServer()
		if !slices.Contains(others, moved) {
			t.Errorf("after SetServers(%s): CurrentServer() = %s", list, moved)
		}
		if got := h.ClientID().SessionID; got != sid {
			t.Errorf("session %#x after the move; want %#x", got, sid)
		}
		st, err := h.Exists(testContext(t), eph, false)
		if err != nil || st.EphemeralOwner != sid {
			t.Errorf("Exists(%s) after the move = owner %#x, %v; want owner %#x", eph, st.EphemeralOwner, err, sid)
		}
		if err := h.SetServers("bad:port:here"); !errors.Is(err, ErrBadArguments) {
			t.Errorf("SetServers(bad) = %v; want ErrBadArguments", err)
		}
		if err := h.SetServers(list + "/other-chroot"); !errors.Is(err, ErrBadArguments) {
			t.Errorf("SetServers with another chroot = %v; want ErrBadArguments", err)
		}
		if got := h.CurrentServer(); got != moved {
			t.Errorf("refused SetServers moved the handle to %s", got)
		}
	})

	// Host names: "localhost:port" resolves to loopback, before every
	// connect by default, at most once an hour, or never again.
	t.Run("HostNames", func(t *testing.T) {
		names := make([]string, len(ens.Servers()))
		for i, s := range ens.Servers() {
			_, port, _ := net.SplitHostPort(s.Addr()) // zktest's address: host and port
			names[i] = net.JoinHostPort("localhost", port)
		}
		for _, opt := range []struct {
			name string
			o    Option
		}{{"default", WithResolutionDelay(0)}, {"hourly", WithResolutionDelay(time.Hour)}, {"never", WithResolutionDelay(-1)}} {
			w := newRecorder()
			h := connectHandle(t, strings.Join(names, ","), w, sessionTimeout, opt.o)
			w.expect(t, sessionEvent(StateConnected))
			cur := h.CurrentServer()
			if !slices.Contains(addrs, cur) {
				t.Fatalf("%s: CurrentServer() = %q; want one of %v", opt.name, cur, addrs)
			}
			mustCreate(t, h, uniquePath("names"), nil, Ephemeral)
			// Move to another server named by host name.
			target := addrs[(slices.Index(addrs, cur)+1)%len(addrs)]
			_, port, _ := net.SplitHostPort(target)
			if err := h.SetServers("localhost:" + port); err != nil {
				t.Fatalf("%s: SetServers(localhost:%s): %v", opt.name, port, err)
			}
			w.expect(t, sessionEvent(StateConnecting), sessionEvent(StateConnected))
			if got := h.CurrentServer(); got != target {
				t.Errorf("%s: CurrentServer() = %s; want %s", opt.name, got, target)
			}
			// The same server by IP literal is the same list: no move.
			if err := h.SetServers(target); err != nil {
				t.Fatalf("%s: SetServers(%s): %v", opt.name, target, err)
			}
			barrier(t, h)
			w.expectNone(t) // no move: no session event
		}

		// Losing the server: the handle re-resolves the names and
		// reconnects elsewhere in the session.
		w := newRecorder()
		h := connectHandle(t, strings.Join(names, ","), w, sessionTimeout)
		w.expect(t, sessionEvent(StateConnected))
		sid := h.ClientID().SessionID
		cur := h.CurrentServer()
		ens.Member(slices.Index(addrs, cur)).Kill()
		w.expect(t, sessionEvent(StateConnecting), sessionEvent(StateConnected))
		if got := h.CurrentServer(); got == cur || !slices.Contains(addrs, got) {
			t.Errorf("after losing %s: CurrentServer() = %s", cur, got)
		}
		if got := h.ClientID().SessionID; got != sid {
			t.Errorf("session %#x after the failover; want %#x", got, sid)
		}
	})
}

// TestFailoverClientSideExpiry: with WithClientSideExpiry and a 2 s
// session, losing the only server makes the handle expire its session
// itself, once, no earlier than the timeout (and not much later), also
// while a server that never answers holds a connection attempt; calls
// then fail with ErrSessionExpired. Without the option the handle keeps
// connecting.
func TestFailoverClientSideExpiry(t *testing.T) {
	const timeout = 2 * time.Second
	srv := startServer(t)
	hole := fakeserver.New(t)
	hole.SetDefault(fakeserver.NeverAnswer)

	type client struct {
		name string
		h    *Handle
		w    *recorder
	}
	connect := func(name, hosts string, opts ...Option) client {
		w := newRecorder()
		h := initHandle(t, hosts, w, timeout, opts...)
		if err := h.WaitConnected(testContext(t)); err != nil {
			t.Fatalf("%s: WaitConnected: %v", name, err)
		}
		w.expect(t, sessionEvent(StateConnected))
		if got := h.RecvTimeout(); got != timeout {
			t.Fatalf("%s: negotiated timeout %v; want %v", name, got, timeout)
		}
		return client{name, h, w}
	}
	// After the loss, the second one alternates between the dead server
	// (refused at once) and the black hole (a handshake that is never
	// answered, dropped after 2/3 of the timeout).
	expiring := []client{
		connect("refused", srv.Addr(), WithClientSideExpiry()),
		connect("black hole", srv.Addr()+","+hole.Addr(), WithClientSideExpiry(), WithDeterministicOrder()),
	}
	// The connection attempts of the handle without the option: none
	// shows as an event.
	attempts := newLogTap("connect failed", srv.Addr())
	keeping := connect("without the option", srv.Addr(), WithLogger(slog.New(attempts)))
	wp := newRecorder() // a registered watcher gets the session events too
	mustAddWatch(t, expiring[0].h, uniquePath("expiry"), AddWatchPersistent, wp)

	// The handles lose the server between beforeKill and their
	// StateConnecting event: measured from the one, the expiry is no
	// earlier than the timeout; from the other, no later than the timeout
	// and lateness.
	beforeKill := time.Now()
	srv.Kill()
	clients := append(expiring, keeping)
	lost := make([]time.Time, len(clients))
	for i, c := range clients {
		c.w.expect(t, sessionEvent(StateConnecting))
		lost[i] = time.Now()
	}
	for i, c := range expiring {
		ev := c.w.next(t)
		now := time.Now()
		if ev != sessionEvent(StateExpiredSession) {
			t.Fatalf("%s: event %v; want the session event %v", c.name, ev, StateExpiredSession)
		}
		t.Logf("%s: expired %v after its StateConnecting event (session timeout %v)", c.name, now.Sub(lost[i]).Round(time.Millisecond), timeout)
		if took := now.Sub(beforeKill); took < timeout {
			t.Errorf("%s: expired %v after the server was killed; want at least %v", c.name, took, timeout)
		}
		if took := now.Sub(lost[i]); took > timeout+lateness {
			t.Errorf("%s: expired %v after the connection loss; want at most %v + %v", c.name, took, timeout, lateness)
		}
	}
	for _, c := range expiring {
		h := c.h
		if s := h.State(); s != StateExpiredSession {
			t.Errorf("%s: State() = %v; want %v", c.name, s, StateExpiredSession)
		}
		if _, err := h.Exists(testContext(t), "/", false); !errors.Is(err, ErrSessionExpired) {
			t.Errorf("%s: Exists = %v; want ErrSessionExpired", c.name, err)
		}
		if err := h.AExists("/", false, func(error, *Stat) { t.Error("callback of a refused request") }); !errors.Is(err, ErrSessionExpired) {
			t.Errorf("%s: AExists = %v; want ErrSessionExpired", c.name, err)
		}
		if err := h.WaitConnected(testContext(t)); !errors.Is(err, ErrSessionExpired) {
			t.Errorf("%s: WaitConnected = %v; want ErrSessionExpired", c.name, err)
		}
		// Close waits for the completion goroutine: every event is in.
		closeHandle(t, h)
		c.w.expectNone(t) // no second expiry event
	}
	// A registered watcher gets the session events too, once each.
	wp.expect(t, sessionEvent(StateConnecting), sessionEvent(StateExpiredSession))
	wp.expectNone(t)

	// Without the option the handle keeps trying. Its loop applies
	// client-side expiry before a connection attempt, so an attempt made a
	// session timeout after it lost the server (or later) shows that it
	// applied none; nor did it tell its watcher anything.
	at := attempts.waitAfter(t, lost[len(expiring)].Add(timeout), "connection attempt a session timeout after the loss")
	if s := keeping.h.State(); s != StateConnecting {
		t.Errorf("%s: State() = %v %v after the loss; want %v", keeping.name, s, at.Sub(beforeKill).Round(time.Millisecond), StateConnecting)
	}
	keeping.w.expectNone(t)
	// When the server is back, the server decides. (A restarted server
	// gives the sessions it reloads a fresh timeout, so this one lives.)
	srv.Start()
	ev := keeping.w.next(t)
	t.Logf("%s: %v after the restart", keeping.name, ev.State)
	if ev != sessionEvent(StateConnected) && ev != sessionEvent(StateExpiredSession) {
		t.Errorf("%s: event %v after the restart", keeping.name, ev)
	}
}
