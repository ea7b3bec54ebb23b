package zhandle

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/zkloop/zkloop/bench"
	"github.com/zkloop/zkloop/internal/fakeserver"
	"github.com/zkloop/zkloop/internal/tlsconn"
	"github.com/zkloop/zkloop/zktest"
)

// TLS (tls.go) against real servers with a secure client port: one that
// asks for client certificates and also offers SASL, one that demands
// them, one whose certificate has expired. Refusals go through a proxy,
// which counts the connections the handle made.

// tlsServers are the servers of TestTLS and what they trust.
type tlsServers struct {
	ca      *zktest.CA
	want    *zktest.Server // ClientAuthWant, SASL users saslUsers
	need    *zktest.Server // ClientAuthNeed
	expired *zktest.Server // a certificate that expired yesterday
}

func startTLSServers(t *testing.T) tlsServers {
	ca := zktest.NewCA(t, "zkloop test CA")
	hosts := []string{"127.0.0.1", "localhost"}
	good := ca.ServerCert(t, zktest.CertOptions{Hosts: hosts})
	s := tlsServers{ca: ca}
	s.want = startServer(t, zktest.WithSASLDigest(saslUsers),
		zktest.WithServerTLS(zktest.ServerTLS{Cert: good, ClientCA: ca, ClientAuth: zktest.ClientAuthWant}))
	s.need = startServer(t, zktest.WithServerTLS(zktest.ServerTLS{Cert: good, ClientCA: ca, ClientAuth: zktest.ClientAuthNeed}))
	yesterday := time.Now().Add(-24 * time.Hour)
	old := ca.ServerCert(t, zktest.CertOptions{Hosts: hosts, NotBefore: yesterday.Add(-24 * time.Hour), NotAfter: yesterday})
	s.expired = startServer(t, zktest.WithServerTLS(zktest.ServerTLS{Cert: old}))
	return s
}

// trusting returns a client configuration that trusts ca, with a client
// certificate for each of certs.
func trusting(ca *zktest.CA, certs ...*zktest.KeyPair) *tls.Config {
	cfg := &tls.Config{RootCAs: ca.Pool()}
	for _, c := range certs {
		cfg.Certificates = append(cfg.Certificates, c.TLSCertificate())
	}
	return cfg
}

func TestTLS(t *testing.T) {
	srv := startTLSServers(t)
	ca := srv.ca
	alice := ca.ClientCert(t, "alice")

	t.Run("Operations", func(t *testing.T) {
		// Through a proxy that splits every write into 1-byte segments:
		// records and their headers arrive in pieces.
		p := zktest.NewProxy(t, srv.want.SecureAddr())
		p.SplitWrites(true)
		rec := newRecorder()
		h := connectHandle(t, p.Addr(), rec, sessionTimeout, WithTLS(trusting(ca)))
		p.SplitWrites(false)
		if who := identities(t, h); !slices.Equal(who, []string{"ip:127.0.0.1"}) {
			t.Errorf("WhoAmI without a client certificate = %v", who)
		}
		// A node of 900 kB: frames of many records each way.
		big := bytes.Repeat([]byte("0123456789abcdef"), 900<<10/16)
		path := "/tls-big"
		if _, err := h.Create(testContext(t), path, big, OpenACLUnsafe, Ephemeral); err != nil {
			t.Fatalf("Create of %d bytes over TLS: %v", len(big), err)
		}
		data, _, err := h.Get(testContext(t), path, true)
		if err != nil || !bytes.Equal(data, big) {
			t.Fatalf("Get over TLS: %d bytes, %v; want the %d written", len(data), err, len(big))
		}
		// The watch fires for a change made over the plain port.
		plain := connectHandle(t, srv.want.Addr(), nil, sessionTimeout)
		if _, err := plain.Set(testContext(t), path, []byte("small"), -1); err != nil {
			t.Fatal(err)
		}
		rec.waitFor(t, "data watch", func(ev Event) bool { return ev.Type == EventChanged && ev.Path == path })
	})

	t.Run("HostName", func(t *testing.T) {
		_, port, _ := net.SplitHostPort(srv.want.SecureAddr())
		connectHandle(t, "localhost:"+port, nil, sessionTimeout, WithTLS(trusting(ca)))
	})

	t.Run("ClientCertificate", func(t *testing.T) {
		for _, s := range []*zktest.Server{srv.want, srv.need} {
			h := connectHandle(t, s.SecureAddr(), nil, sessionTimeout, WithTLS(trusting(ca, alice)))
			if who := identities(t, h); !slices.Contains(who, "x509:CN=alice") {
				t.Errorf("WhoAmI with alice's certificate = %v; want x509:CN=alice among them", who)
			}
		}
	})

	t.Run("SASLOverTLS", func(t *testing.T) {
		h := connectHandle(t, srv.want.SecureAddr(), nil, sessionTimeout, WithTLS(trusting(ca)), WithSASLDigest("alice", "alice-pw"))
		if who := identities(t, h); !slices.Contains(who, "sasl:alice") {
			t.Errorf("WhoAmI = %v; want sasl:alice among them", who)
		}
	})

	other := zktest.NewCA(t, "another CA")
	for _, tc := range []struct {
		name   string
		server *zktest.Server
		cfg    *tls.Config
		cause  func(error) bool
	}{
		{"WrongHostName", srv.want, &tls.Config{RootCAs: ca.Pool(), ServerName: "zk.invalid"}, isError[x509.HostnameError]},
		{"UnknownCA", srv.want, trusting(other), isError[x509.UnknownAuthorityError]},
		{"Expired", srv.expired, trusting(ca), func(err error) bool {
			invalid, ok := errors.AsType[x509.CertificateInvalidError](err)
			return ok && invalid.Reason == x509.Expired
		}},
		{"NoClientCertificate", srv.need, trusting(ca), tlsconn.RemoteAlert},
		{"UntrustedClientCertificate", srv.need, untrustedClient(t, ca, other), tlsconn.RemoteAlert},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := zktest.NewProxy(t, tc.server.SecureAddr())
			rec := newRecorder()
			h := initHandle(t, p.Addr(), rec, sessionTimeout, WithTLS(tc.cfg))
			wantTLSRefused(t, h, rec, tc.cause)
			// No retry storm: the loop has ended after one connection.
			recv(t, h.loopDone, "end of the loop")
			if n := p.Accepted(); n != 1 {
				t.Errorf("%d connections to the refusing server; want 1", n)
			}
		})
	}

	t.Run("RefusingServerSkipped", func(t *testing.T) {
		// The expired server first: it refuses, the next one serves.
		p := zktest.NewProxy(t, srv.expired.SecureAddr())
		h := connectHandle(t, p.Addr()+","+srv.want.SecureAddr(), nil, sessionTimeout, WithTLS(trusting(ca)), WithDeterministicOrder())
		if got := h.CurrentServer(); got != srv.want.SecureAddr() {
			t.Errorf("CurrentServer() = %s; want %s", got, srv.want.SecureAddr())
		}
		if n := p.Accepted(); n != 1 {
			t.Errorf("%d connections to the refusing server; want 1", n)
		}
	})

	t.Run("ReconnectKeepsSession", func(t *testing.T) {
		p := zktest.NewProxy(t, srv.want.SecureAddr())
		rec := newRecorder()
		h := connectHandle(t, p.Addr(), rec, sessionTimeout, WithTLS(trusting(ca)))
		id := h.ClientID()
		path := "/tls-reconnect"
		if _, err := h.Create(testContext(t), path, nil, OpenACLUnsafe, Ephemeral); err != nil {
			t.Fatal(err)
		}
		if _, err := h.Exists(testContext(t), path, true); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			p.Cut()
			rec.waitSession(t, StateConnecting)
			rec.waitSession(t, StateConnected)
			if got := h.ClientID(); got != id {
				t.Fatalf("reconnect %d: session %#x; want %#x", i, got.SessionID, id.SessionID)
			}
		}
		if n := p.Accepted(); n != 4 {
			t.Errorf("%d TLS connections; want 4", n)
		}
		// The ephemeral survived and the watch was restored.
		plain := connectHandle(t, srv.want.Addr(), nil, sessionTimeout)
		if _, err := plain.Set(testContext(t), path, []byte("x"), -1); err != nil {
			t.Fatalf("Set on the ephemeral after the reconnects: %v", err)
		}
		rec.waitFor(t, "data watch", func(ev Event) bool { return ev.Type == EventChanged && ev.Path == path })
	})
}

func isError[E error](err error) bool {
	_, ok := errors.AsType[E](err)
	return ok
}

// untrustedClient returns a configuration that trusts ca and presents a
// certificate from other, although the server asks for ca's: Go sends
// none the server's list rules out, unless told to.
func untrustedClient(t *testing.T, ca, other *zktest.CA) *tls.Config {
	cert := other.ClientCert(t, "mallory").TLSCertificate()
	cfg := trusting(ca)
	cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
	return cfg
}

// wantTLSRefused checks a handle whose only server failed TLS.
func wantTLSRefused(t *testing.T, h *Handle, rec *recorder, cause func(error) bool) {
	t.Helper()
	wantAuthFailed(t, h, rec, "TLS with ", cause)
}

// TestTLSFake covers what the 3.8 server does not do: TLS 1.3, where a
// server refuses the client's certificate only after the client has
// finished its handshake, with an alert in place of the ConnectResponse;
// and frames far larger than a record, against bench.FakeServer.
func TestTLSFake(t *testing.T) {
	ca := zktest.NewCA(t, "zkloop test CA")
	serverCert := ca.ServerCert(t, zktest.CertOptions{Hosts: []string{"127.0.0.1"}}).TLSCertificate()
	data := bytes.Repeat([]byte{'z'}, 300<<10)
	srv, err := bench.NewTLSFakeServer(data, &tls.Config{
		Certificates: []tls.Certificate{serverCert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    ca.Pool(),
		MinVersion:   tls.VersionTLS13,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)

	t.Run("RefusedAfterHandshake", func(t *testing.T) {
		rec := newRecorder()
		h := initHandle(t, srv.Addr(), rec, sessionTimeout, WithTLS(trusting(ca)))
		wantTLSRefused(t, h, rec, tlsconn.RemoteAlert)
	})
	t.Run("LargeFrames", func(t *testing.T) {
		h := connectHandle(t, srv.Addr(), nil, sessionTimeout, WithTLS(trusting(ca, ca.ClientCert(t, "alice"))))
		done := make(chan error, 64)
		for i := range 64 {
			if err := h.AGet("/n"+strconv.Itoa(i), false, func(err error, got []byte, _ *Stat) {
				if err == nil && !bytes.Equal(got, data) {
					err = errors.New("wrong data")
				}
				done <- err
			}); err != nil {
				t.Fatal(err)
			}
		}
		for range 64 {
			if err := recv(t, done, "AGet callback"); err != nil {
				t.Fatalf("AGet of %d bytes over TLS 1.3: %v", len(data), err)
			}
		}
	})
}

// TestTLSServerSilentInHandshake: a server that accepts and never answers
// the ClientHello is a dead server, not a refusal: the receive deadline
// drops the connection and the handle tries again; Close ends the
// handshake goroutine.
func TestTLSServerSilentInHandshake(t *testing.T) {
	fs := fakeserver.New(t)
	accepted := make(chan struct{}, 1)
	fs.SetDefault(func(c *fakeserver.Conn) {
		select {
		case accepted <- struct{}{}:
		default:
		}
		fakeserver.NeverAnswer(c)
	})
	h := initHandle(t, fs.Addr(), nil, 1500*time.Millisecond, WithTLS(nil))
	recv(t, accepted, "connection")
	recv(t, accepted, "second connection: a retry after the receive deadline")
	if s := h.State(); s != StateConnecting {
		t.Errorf("State() = %v; want %v", s, StateConnecting)
	}
	closeHandle(t, h) // waits for the loop, which waits for the handshake goroutine
}
