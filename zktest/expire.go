package zktest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/zkloop/zkloop/serialize"
)

const (
	// expireWithin bounds ExpireSession's attempts. One closes the session
	// and the next confirms it; more are needed when the handle takes its
	// session back in between (see closeSession) or the ensemble is
	// electing a leader, which takes a second or two.
	expireWithin = time.Minute
	// expireTimeout bounds each attempt's connection; the server answers
	// on loopback in milliseconds.
	expireTimeout = 10 * time.Second
	// expireXid is the xid of the closeSession request.
	expireXid = 1
)

// ExpireSession expires the session of h, a *zhandle.Handle, on the server,
// as Curator's KillSession does, and returns once the server has expired
// it: its ephemeral nodes are deleted and its watches gone on the server
// it went to, and a client that presents the session is told it has
// expired. The caller needs no sleep and no timeout of the session's
// length.
//
// ExpireSession finds the server from h.CurrentServer, through the proxies
// of NewProxy (a stalled proxy is no obstacle); when that server is down,
// it goes to another running member of its ensemble. A server that is not
// one of zktest's is reached at h.CurrentServer directly. There it opens a
// connection with the session's id and password, which moves the session
// to that connection, and closes the session; then it connects with them
// again to confirm that the session has expired. It fails the test if it
// cannot confirm it within a minute. Until the close goes through, the
// handle may reconnect and take its session back, which drops the other
// connection (ExpireSession then tries again): the handle may see a
// reconnection before the expiry. A test that must not see one keeps the
// handle from the server meanwhile, behind a Proxy that refuses new
// connections (Refuse) or stalls (Stall).
//
// The handle learns of the expiry when it next reaches the server: the
// server closes the handle's connection (when the session moves and, in an
// ensemble, when the member the handle is connected to applies the close),
// the handle reconnects at once and is told that its session has expired.
// Calls in flight when the connection closed fail with ErrConnectionLoss,
// as at any connection loss. Then, as with an expiry for any other reason,
// the handle's state is StateExpiredSession, its watchers receive that
// session event, and the calls queued while it reconnected, and every
// later one, fail with ErrSessionExpired. A handle kept from the server
// (a stalled or refusing proxy) learns it when it gets through. In an ensemble, the other members apply the expiry in their own
// time, as every write: a reader on another member sees the session's
// ephemeral nodes go once it has called Sync.
//
// The type parameter lets ExpireSession take a *zhandle.Handle without
// importing package zhandle, whose own tests use this package: call it as
// zktest.ExpireSession(t, h) and ID is inferred as zhandle.ClientID.
func ExpireSession[ID ~struct {
	SessionID int64
	Passwd    [16]byte
}](t testing.TB, h interface {
	ClientID() ID
	CurrentServer() string
}) {
	t.Helper()
	id := struct {
		SessionID int64
		Passwd    [16]byte
	}(h.ClientID())
	addr := h.CurrentServer()
	if id.SessionID == 0 || addr == "" {
		t.Fatalf("zktest: ExpireSession: the handle has no session or no server (session %#x, server %q)", id.SessionID, addr)
	}
	if err := expireSession(addr, id.SessionID, id.Passwd[:]); err != nil {
		t.Fatalf("zktest: ExpireSession(%#x): %v", id.SessionID, err)
	}
}

// expireSession closes the session on the server behind addr until an
// attempt to attach it finds it expired.
func expireSession(addr string, sessionID int64, passwd []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), expireWithin)
	defer cancel()
	return poll(ctx, func() (notYet, fatal error) {
		expired, err := closeSession(sessionAddrs(addr), sessionID, passwd)
		switch {
		case expired:
			return nil, nil
		case err == nil:
			return errors.New("closed; not yet confirmed"), nil
		}
		return err, nil
	})
}

// sessionAddrs returns where to reach the server behind addr: its client
// address, then those of the other running members of its ensemble; or
// addr itself, through the proxies, for a server that is not zktest's.
func sessionAddrs(addr string) []string {
	s, target := registry.resolve(addr)
	if s == nil {
		return []string{target}
	}
	addrs := []string{s.Addr()}
	for _, peer := range s.peers {
		if peer != s && peer.Running() {
			addrs = append(addrs, peer.Addr())
		}
	}
	return addrs
}

// closeSession connects to the first of addrs that accepts, attaches the
// session and closes it, sending both requests at once so that the
// handle, whose connection the attach closes, has the least time to take
// the session back (a closeSession from a connection that no longer holds
// the session fails). It reports whether the server said the session had
// expired, and otherwise why the close may not have happened: err is nil
// when the server confirmed the close.
func closeSession(addrs []string, sessionID int64, passwd []byte) (expired bool, err error) {
	conn, err := dialFirst(addrs)
	if err != nil {
		return false, err
	}
	defer conn.Close() // the server closes it too; nothing is written after
	if err := conn.SetDeadline(time.Now().Add(expireTimeout)); err != nil {
		return false, err
	}
	connect := serialize.ConnectRequest{TimeOut: int32(expireTimeout.Milliseconds()), SessionID: sessionID, Passwd: passwd}
	out, err := appendFrame(nil, serialize.AppendBool(connect.Encode(nil), false))
	if err != nil {
		return false, err
	}
	closeReq := serialize.RequestHeader{Xid: expireXid, Type: int32(serialize.OpClose)}
	if out, err = appendFrame(out, closeReq.Encode(nil)); err != nil {
		return false, err
	}
	if _, err := conn.Write(out); err != nil {
		return false, err
	}
	var resp serialize.ConnectResponse
	if err := readRecord(conn, &resp); err != nil {
		return false, fmt.Errorf("ConnectResponse: %w", err)
	}
	if resp.TimeOut <= 0 {
		return true, nil
	}
	for {
		var hdr serialize.ReplyHeader
		if err := readRecord(conn, &hdr); err != nil {
			return false, fmt.Errorf("closeSession reply: %w", err)
		}
		if hdr.Xid != expireXid {
			continue // a notification
		}
		if hdr.Err != 0 {
			return false, fmt.Errorf("closeSession: %v", serialize.Error(hdr.Err))
		}
		return false, nil
	}
}

// dialFirst connects to the first of addrs that accepts.
func dialFirst(addrs []string) (net.Conn, error) {
	var errs []error
	for _, addr := range addrs {
		conn, err := net.DialTimeout("tcp", addr, expireTimeout)
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}
