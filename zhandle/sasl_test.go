package zhandle

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/zkloop/zkloop/internal/fakeserver"
	"github.com/zkloop/zkloop/internal/saslmd5"
	"github.com/zkloop/zkloop/serialize"
	"github.com/zkloop/zkloop/zktest"
)

// The SASL exchange of the handle (sasl.go): against real servers with
// JAAS users (required or not, and without SASL at all), and against the
// fake server, frame by frame.

var saslUsers = map[string]string{"alice": "alice-pw", "bob": "bob-pw"}

// saslACL grants everything to the SASL user alice only.
var saslACL = []ACL{{Perms: PermAll, ID: ID{Scheme: "sasl", ID: "alice"}}}

// identities returns the identities WhoAmI reports, as "scheme:user".
func identities(t *testing.T, h *Handle) []string {
	t.Helper()
	ids, err := h.WhoAmI(testContext(t))
	if err != nil {
		t.Fatalf("WhoAmI: %v", err)
	}
	var who []string
	for _, id := range ids {
		who = append(who, id.AuthScheme+":"+id.User)
	}
	slices.Sort(who)
	return who
}

// wantSASLFailed checks a handle whose credentials the server refused
// (wantAuthFailed, the cause wrapped in a SASL error).
func wantSASLFailed(t *testing.T, h *Handle, rec *recorder, cause error) {
	t.Helper()
	wantAuthFailed(t, h, rec, "SASL DIGEST-MD5", func(err error) bool { return errors.Is(err, cause) })
}

// wantAuthFailed checks a handle that could not authenticate: WaitConnected's
// error wraps ErrAuthFailed, names the mechanism and has a cause that
// cause accepts; the state is unrecoverable, the session event was
// delivered, and requests fail with ErrAuthFailed.
func wantAuthFailed(t *testing.T, h *Handle, rec *recorder, mechanism string, cause func(error) bool) {
	t.Helper()
	err := h.WaitConnected(testContext(t))
	if !errors.Is(err, ErrAuthFailed) || !cause(err) || !strings.Contains(err.Error(), mechanism) {
		t.Fatalf("WaitConnected = %v; want ErrAuthFailed of %s with the expected cause", err, mechanism)
	}
	t.Logf("refused: %v", err)
	if s := h.State(); s != StateAuthFailed {
		t.Errorf("State() = %v, want %v", s, StateAuthFailed)
	}
	rec.waitSession(t, StateAuthFailed)
	if _, _, err := h.Get(testContext(t), "/", false); !errors.Is(err, ErrAuthFailed) {
		t.Errorf("Get after the failure: %v, want ErrAuthFailed", err)
	}
}

func TestSASLDigestRequired(t *testing.T) {
	srv := startServer(t, zktest.WithSASLDigest(saslUsers), zktest.WithSASLRequired())
	const secret = "/sasl-secret"

	rec := newRecorder()
	alice := initHandle(t, srv.Addr(), rec, sessionTimeout, WithSASLDigest("alice", "alice-pw"))
	// Queued before the session exists: it must wait for the end of the
	// exchange, or the server would close the session.
	created := make(chan error, 1)
	if err := alice.ACreate(secret, []byte("for alice"), saslACL, Persistent, func(err error, _ string) { created <- err }); err != nil {
		t.Fatal(err)
	}
	if err := alice.WaitConnected(testContext(t)); err != nil {
		t.Fatalf("WaitConnected: %v", err)
	}
	if err := recv(t, created, "create callback"); err != nil {
		t.Fatalf("Create queued before the exchange: %v", err)
	}
	if got := rec.all(); len(got) == 0 || got[0] != sessionEvent(StateConnected) {
		t.Errorf("first events %v, want the session event connected", got)
	}
	if who := identities(t, alice); !slices.Contains(who, "sasl:alice") {
		t.Errorf("WhoAmI = %v, want sasl:alice among them", who)
	}
	if data, _, err := alice.Get(testContext(t), secret, false); err != nil || string(data) != "for alice" {
		t.Errorf("Get as alice = %q, %v", data, err)
	}

	t.Run("other user", func(t *testing.T) {
		bob := connectHandle(t, srv.Addr(), nil, sessionTimeout, WithSASLDigest("bob", "bob-pw"))
		if _, _, err := bob.Get(testContext(t), secret, false); !errors.Is(err, ErrNoAuth) {
			t.Errorf("Get as bob = %v, want ErrNoAuth (sasl ACL enforced)", err)
		}
	})
	t.Run("no SASL", func(t *testing.T) {
		plain := connectHandle(t, srv.Addr(), nil, sessionTimeout)
		if _, _, err := plain.Get(testContext(t), "/", false); !errors.Is(err, ErrSessionClosedRequireSASLAuth) {
			t.Errorf("Get without SASL = %v, want ErrSessionClosedRequireSASLAuth", err)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		rec := newRecorder()
		h := initHandle(t, srv.Addr(), rec, sessionTimeout, WithSASLDigest("alice", "wrong"))
		queued := make(chan error, 1)
		if err := h.AGet("/", false, func(err error, _ []byte, _ *Stat) { queued <- err }); err != nil {
			t.Fatal(err)
		}
		wantSASLFailed(t, h, rec, ErrSessionClosedRequireSASLAuth)
		if err := recv(t, queued, "queued Get callback"); !errors.Is(err, ErrAuthFailed) {
			t.Errorf("Get queued before the exchange: %v, want ErrAuthFailed", err)
		}
	})
	t.Run("unknown user", func(t *testing.T) {
		// Not a known user's password: the 3.8 server's
		// SaslServerCallbackHandler keeps the user name of an earlier
		// connection when the name is unknown, and would check the
		// response against that user's password (with alice-pw here,
		// mallory is let in as sasl:mallory).
		rec := newRecorder()
		h := initHandle(t, srv.Addr(), rec, sessionTimeout, WithSASLDigest("mallory", "mallory-pw"))
		wantSASLFailed(t, h, rec, ErrSessionClosedRequireSASLAuth)
	})

	// Last, as it restarts the server: the session survives and the
	// exchange runs again on the new connection (the server requires it
	// of every connection).
	t.Run("reconnect", func(t *testing.T) {
		id := alice.ClientID()
		srv.Stop()
		rec.waitSession(t, StateConnecting)
		srv.Start()
		rec.waitSession(t, StateConnected)
		if got := alice.ClientID(); got != id {
			t.Errorf("session %#x after the restart, want %#x", got.SessionID, id.SessionID)
		}
		if data, _, err := alice.Get(testContext(t), secret, false); err != nil || string(data) != "for alice" {
			t.Errorf("Get as alice after the restart = %q, %v", data, err)
		}
		if who := identities(t, alice); !slices.Contains(who, "sasl:alice") {
			t.Errorf("WhoAmI after the restart = %v, want sasl:alice among them", who)
		}
	})
}

// TestSASLDigestOptional runs against a server that offers SASL without
// requiring it: a refused exchange is AUTHFAILED, and clients without
// SASL keep working outside the sasl ACLs.
func TestSASLDigestOptional(t *testing.T) {
	srv := startServer(t, zktest.WithSASLDigest(saslUsers))
	alice := connectHandle(t, srv.Addr(), nil, sessionTimeout, WithSASLDigest("alice", "alice-pw"))
	if _, err := alice.Create(testContext(t), "/opt", nil, saslACL, Persistent); err != nil {
		t.Fatal(err)
	}
	plain := connectHandle(t, srv.Addr(), nil, sessionTimeout)
	if _, _, err := plain.Get(testContext(t), "/", false); err != nil {
		t.Errorf("Get / without SASL: %v", err)
	}
	if _, _, err := plain.Get(testContext(t), "/opt", false); !errors.Is(err, ErrNoAuth) {
		t.Errorf("Get /opt without SASL = %v, want ErrNoAuth", err)
	}
	rec := newRecorder()
	h := initHandle(t, srv.Addr(), rec, sessionTimeout, WithSASLDigest("bob", "alice-pw"))
	wantSASLFailed(t, h, rec, ErrAuthFailed)
}

// TestSASLDigestServerWithoutSASL: a server with no JAAS configuration
// answers the exchange with no challenge.
func TestSASLDigestServerWithoutSASL(t *testing.T) {
	srv := sharedServer(t)
	rec := newRecorder()
	h := initHandle(t, srv.Addr(), rec, sessionTimeout, WithSASLDigest("alice", "alice-pw"))
	wantSASLFailed(t, h, rec, saslmd5.ErrChallenge)
}

func TestSASLDigestEmptyUser(t *testing.T) {
	if _, err := Init("127.0.0.1:2181", nil, sessionTimeout, WithSASLDigest("", "pw")); !errors.Is(err, ErrBadArguments) {
		t.Errorf("Init with an empty SASL user: %v, want ErrBadArguments", err)
	}
}

const fakeSASLChallenge = `realm="zk-sasl-md5",nonce="bm9uY2Ugb2YgdGhlIGZha2Ugc2VydmVy",charset=utf-8,algorithm=md5-sess`

// fakeSASL plays the server's side of a DIGEST-MD5 exchange for user and
// password, checking the client's response against one computed here
// with the client's cnonce; rspauth replaces the proof when not empty.
// It returns the xids of the two SASL requests.
func fakeSASL(t *testing.T, c *fakeserver.Conn, user, password, rspauth string) [2]int32 {
	var xids [2]int32
	xid, op, body := c.ReadRequest()
	var req serialize.GetSASLRequest
	if _, err := req.Decode(body); err != nil || op != serialize.OpSASL || len(req.Token) != 0 {
		t.Errorf("first request after the handshake: %v, token %q, %v; want sasl with an empty token", op, req.Token, err)
	}
	xids[0] = xid
	c.Reply(xid, 0, 0, (&serialize.SetSASLResponse{Token: []byte(fakeSASLChallenge)}).Encode(nil))

	xid, op, body = c.ReadRequest()
	if _, err := req.Decode(body); err != nil || op != serialize.OpSASL {
		t.Errorf("second request: %v, %v; want sasl", op, err)
	}
	xids[1] = xid
	proof, err := saslmd5.Verify([]byte(fakeSASLChallenge), req.Token, user, password, saslmd5.ZooKeeperDigestURI)
	if err != nil {
		t.Error(err)
	}
	if rspauth != "" {
		proof = []byte("rspauth=" + rspauth)
	}
	c.Reply(xid, 0, 0, (&serialize.SetSASLResponse{Token: proof}).Encode(nil))
	return xids
}

// TestSASLFakeExchange checks the order on the wire: handshake, the two
// SASL requests with ordinary xids, then the AddAuth and the request
// queued before the connection, which wait for the exchange.
func TestSASLFakeExchange(t *testing.T) {
	fs := fakeserver.New(t)
	script := make(chan []int32, 1)
	fs.Script(func(c *fakeserver.Conn) {
		c.Handshake(fakeSessionID, fakeTimeoutMs, fakePasswd, false)
		sasl := fakeSASL(t, c, "alice", "alice-pw", "")
		xid, op, _ := c.ReadRequestAnswerPings()
		if op != serialize.OpSetAuth || xid != serialize.XidAuth {
			t.Errorf("after the exchange: %v xid %d, want the auth packet", op, xid)
		}
		c.Reply(xid, 0, 0, nil)
		xid, op, body := c.ReadRequestAnswerPings()
		if op != serialize.OpGetData || fakePath(body) != "/x" {
			t.Errorf("then: %v %q, want getData /x", op, fakePath(body))
		}
		fakeGetReply(c, xid, 5, []byte("x"))
		script <- []int32{sasl[0], sasl[1], xid}
		fakeServe(c, nil)
	})
	rec := newRecorder()
	h := initHandle(t, fs.Addr(), rec, sessionTimeout, WithSASLDigest("alice", "alice-pw"))
	authed, got := make(chan error, 1), make(chan error, 1)
	if err := h.AAddAuth("digest", []byte("u:p"), func(err error) { authed <- err }); err != nil {
		t.Fatal(err)
	}
	if err := h.AGet("/x", false, func(err error, _ []byte, _ *Stat) { got <- err }); err != nil {
		t.Fatal(err)
	}
	if err := h.WaitConnected(testContext(t)); err != nil {
		t.Fatal(err)
	}
	if err := recv(t, authed, "AddAuth callback"); err != nil {
		t.Errorf("AddAuth: %v", err)
	}
	if err := recv(t, got, "Get callback"); err != nil {
		t.Errorf("Get: %v", err)
	}
	xids := recv(t, script, "end of the script")
	if xids[0] <= 0 || xids[1] <= 0 || xids[0] == xids[1] || slices.Contains(xids[:2], xids[2]) {
		t.Errorf("xids: sasl %d, %d, getData %d; want positive and distinct", xids[0], xids[1], xids[2])
	}
	if ev := rec.all(); len(ev) != 1 || ev[0] != sessionEvent(StateConnected) {
		t.Errorf("events %v, want the one session event connected", ev)
	}
}

// TestSASLFakeRetryAfterLoss: a connection lost in the middle of the
// exchange, or a reply with the wrong xid, is a connection loss, not a
// failure: the next connection runs a fresh exchange, and no session
// event is delivered for a session that was never established.
func TestSASLFakeRetryAfterLoss(t *testing.T) {
	fs := fakeserver.New(t)
	fs.Script(
		func(c *fakeserver.Conn) { // closes after the first token
			c.Handshake(fakeSessionID, fakeTimeoutMs, fakePasswd, false)
			c.ReadRequest()
			c.Close()
		},
		func(c *fakeserver.Conn) { // answers with another xid
			c.Handshake(fakeSessionID, fakeTimeoutMs, fakePasswd, false)
			xid, _, _ := c.ReadRequest()
			c.Reply(xid+1, 0, 0, (&serialize.SetSASLResponse{Token: []byte(fakeSASLChallenge)}).Encode(nil))
			c.ExpectClosed()
		},
		func(c *fakeserver.Conn) {
			c.Handshake(fakeSessionID, fakeTimeoutMs, fakePasswd, false)
			fakeSASL(t, c, "alice", "alice-pw", "")
			fakeServe(c, nil)
		},
	)
	rec := newRecorder()
	h := initHandle(t, fs.Addr(), rec, sessionTimeout, WithSASLDigest("alice", "alice-pw"))
	if err := h.WaitConnected(testContext(t)); err != nil {
		t.Fatal(err)
	}
	if n := fs.Accepted(); n != 3 {
		t.Errorf("%d connections, want 3", n)
	}
	rec.waitSession(t, StateConnected)
	if ev := rec.all(); len(ev) != 1 || ev[0] != sessionEvent(StateConnected) {
		t.Errorf("events %v, want the one session event connected", ev)
	}
}

// TestSASLFakeServerProof: a server that does not prove it knows the
// password fails the handle, without a retry.
func TestSASLFakeServerProof(t *testing.T) {
	fs := fakeserver.New(t)
	fs.Script(func(c *fakeserver.Conn) {
		c.Handshake(fakeSessionID, fakeTimeoutMs, fakePasswd, false)
		fakeSASL(t, c, "alice", "alice-pw", "0123456789abcdef0123456789abcdef")
		c.ExpectClosed()
	})
	rec := newRecorder()
	h := initHandle(t, fs.Addr(), rec, sessionTimeout, WithSASLDigest("alice", "alice-pw"))
	wantSASLFailed(t, h, rec, saslmd5.ErrServerProof)
	if n := fs.Accepted(); n != 1 {
		t.Errorf("%d connections, want 1: a failed authentication is not retried", n)
	}
}
