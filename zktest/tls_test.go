package zktest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/zkloop/zkloop/serialize"
	"github.com/zkloop/zkloop/zhandle"
)

func TestTLSCertificates(t *testing.T) {
	ca := NewCA(t, "zktest CA")
	srv := ca.ServerCert(t, CertOptions{Hosts: []string{"127.0.0.1", "localhost", "::1"}})
	if got := srv.Cert.Subject.CommonName; got != "127.0.0.1" {
		t.Errorf("server CN %q, want 127.0.0.1", got)
	}
	for _, host := range []string{"127.0.0.1", "localhost", "::1"} {
		if _, err := srv.Cert.Verify(x509.VerifyOptions{DNSName: host, Roots: ca.Pool()}); err != nil {
			t.Errorf("server certificate for %s: %v", host, err)
		}
	}
	if _, err := srv.Cert.Verify(x509.VerifyOptions{DNSName: "example.com", Roots: ca.Pool()}); err == nil {
		t.Error("server certificate verifies for example.com")
	}

	client := ca.ClientCert(t, "alice")
	if _, err := client.Cert.Verify(x509.VerifyOptions{
		Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}); err != nil {
		t.Errorf("client certificate: %v", err)
	}
	if got := client.Cert.Subject.String(); got != "CN=alice" {
		t.Errorf("client subject %q, want CN=alice", got)
	}

	// The files hold what tls.LoadX509KeyPair and a PEM reader take.
	certFile, keyFile := client.Files(t)
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if !pair.Leaf.Equal(client.Cert) {
		t.Error("the certificate file holds another certificate")
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := pem.Decode(keyPEM); b == nil || b.Type != "PRIVATE KEY" {
		t.Errorf("key file %q, want a PKCS#8 PRIVATE KEY", keyPEM)
	}
	caPEM, err := os.ReadFile(ca.CertFile(t))
	if err != nil {
		t.Fatal(err)
	}
	if pool := x509.NewCertPool(); !pool.AppendCertsFromPEM(caPEM) {
		t.Error("CA file holds no certificate")
	}

	now := time.Now()
	expired := ca.ServerCert(t, CertOptions{Hosts: []string{"127.0.0.1"}, NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-24 * time.Hour)})
	_, err = expired.Cert.Verify(x509.VerifyOptions{DNSName: "127.0.0.1", Roots: ca.Pool()})
	if invalid, ok := errors.AsType[x509.CertificateInvalidError](err); !ok || invalid.Reason != x509.Expired {
		t.Errorf("expired certificate: %v, want an x509.Expired error", err)
	}
}

// TestTLSConfig checks the lines WithServerTLS adds to zoo.cfg, and which
// ServerTLS values fail the start.
func TestTLSConfig(t *testing.T) {
	ca := NewCA(t, "zktest CA")
	cert := ca.ServerCert(t, CertOptions{Hosts: []string{"127.0.0.1"}})
	s := &Server{dir: "/zk", clientPort: 2181, secureClientPort: 2281}
	if got := (&Server{clientPort: 2181}).SecureAddr(); got != "" {
		t.Errorf("SecureAddr without TLS = %q", got)
	}
	plain := serverConfig(s, []*Server{s}, newOptions(nil))
	common := []string{
		"authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider",
		"secureClientPort=2281",
		"secureClientPortAddress=127.0.0.1",
		"serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory",
	}
	for _, tc := range []struct {
		tls  ServerTLS
		want []string // after common, sorted with it
	}{
		{ServerTLS{Cert: cert}, []string{
			"ssl.clientAuth=none",
			"ssl.keyStore.location=/zk/tls-keystore.pem",
			"ssl.keyStore.type=PEM",
		}},
		{ServerTLS{Cert: cert, ClientCA: ca, ClientAuth: ClientAuthNeed}, []string{
			"ssl.clientAuth=need",
			"ssl.keyStore.location=/zk/tls-keystore.pem",
			"ssl.keyStore.type=PEM",
			"ssl.trustStore.location=/zk/tls-truststore.pem",
			"ssl.trustStore.type=PEM",
		}},
	} {
		if err := tc.tls.check(); err != nil {
			t.Errorf("check(%+v): %v", tc.tls, err)
		}
		var added []string
		for _, line := range serverConfig(s, []*Server{s}, newOptions([]Option{WithServerTLS(tc.tls)})) {
			if !slices.Contains(plain, line) {
				added = append(added, line)
			}
		}
		if diff := cmp.Diff(append(slices.Clone(common), tc.want...), added); diff != "" {
			t.Errorf("zoo.cfg lines of %+v (-want +got):\n%s", tc.tls, diff)
		}
	}

	for _, c := range []ServerTLS{
		{},
		{Cert: cert, ClientAuth: ClientAuthNeed},
		{Cert: cert, ClientAuth: ClientAuthWant},
		{Cert: cert, ClientCA: ca, ClientAuth: "NEED"},
	} {
		if err := c.check(); err == nil {
			t.Errorf("check(%+v): no error", c)
		}
	}
}

// dialTLS connects to addr with TLS, the handshake done within 10 s.
func dialTLS(addr string, cfg *tls.Config) (*tls.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d := tls.Dialer{Config: cfg}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return conn.(*tls.Conn), nil
}

// whoAmI returns the session's identities, sorted by scheme and id (the
// server lists them in the order they were added).
func whoAmI(t *testing.T, h *zhandle.Handle) []zhandle.ClientInfo {
	t.Helper()
	ids, err := h.WhoAmI(testContext(t))
	if err != nil {
		t.Fatalf("WhoAmI: %v", err)
	}
	slices.SortFunc(ids, func(a, b zhandle.ClientInfo) int {
		if a.AuthScheme != b.AuthScheme {
			return strings.Compare(a.AuthScheme, b.AuthScheme)
		}
		return strings.Compare(a.User, b.User)
	})
	return ids
}

// TestTLS starts a server WithTLS and connects a handle to its secure port
// with ClientTLS; the server negotiates TLS 1.2, and what is written over
// TLS is read over the plain port.
func TestTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server with TLS")
	}
	srv := NewServer(t, WithTLS())
	if srv.SecureAddr() == "" || srv.SecureAddr() == srv.Addr() {
		t.Fatalf("SecureAddr %q, Addr %q", srv.SecureAddr(), srv.Addr())
	}
	conn, err := dialTLS(srv.SecureAddr(), srv.ClientTLS())
	if err != nil {
		t.Fatalf("TLS dial with ClientTLS: %v", err)
	}
	state := conn.ConnectionState()
	_ = conn.Close() // a probe: nothing was sent
	t.Logf("negotiated %s, %s", tls.VersionName(state.Version), tls.CipherSuiteName(state.CipherSuite))
	if state.Version != tls.VersionTLS12 {
		t.Errorf("negotiated %s; the server's default is TLS 1.2 only", tls.VersionName(state.Version))
	}
	for _, host := range []string{"localhost", "127.0.0.1"} {
		if err := state.PeerCertificates[0].VerifyHostname(host); err != nil {
			t.Errorf("server certificate: %v", err)
		}
	}

	ctx := testContext(t)
	h := connect(t, srv.SecureAddr(), zhandle.WithTLS(srv.ClientTLS()))
	if _, err := h.Create(ctx, "/tls", nil, zhandle.OpenACLUnsafe, zhandle.Persistent); err != nil {
		t.Errorf("Create over TLS: %v", err)
	}
	if _, err := connect(t, srv.Addr()).Exists(ctx, "/tls", false); err != nil {
		t.Errorf("Exists over the plain port: %v", err)
	}
	if _, err := dialTLS(srv.SecureAddr(), &tls.Config{}); err == nil {
		t.Error("TLS dial trusting only the system's roots succeeded")
	}
}

// TestTLSClientAuth checks client certificates against servers that want
// and that need them: a certificate from the client CA gives the session
// the id x509:CN=alice; one from another CA fails the handshake; without
// one, a server that wants it serves the client, and one that needs it
// fails the handshake.
func TestTLSClientAuth(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers with TLS")
	}
	ca := NewCA(t, "zktest CA")
	serverCert := ca.ServerCert(t, CertOptions{Hosts: []string{"127.0.0.1", "localhost"}})
	config := func(certs ...*KeyPair) *tls.Config {
		cfg := &tls.Config{RootCAs: ca.Pool()}
		for _, k := range certs {
			cfg.Certificates = append(cfg.Certificates, k.TLSCertificate())
		}
		return cfg
	}
	alice := config(ca.ClientCert(t, "alice"))
	// Go sends no certificate that the server's list of acceptable CAs
	// rules out, unless GetClientCertificate insists.
	mallory := config()
	malloryCert := NewCA(t, "other CA").ClientCert(t, "mallory").TLSCertificate()
	mallory.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &malloryCert, nil }
	none := config()
	anonymous := []zhandle.ClientInfo{{AuthScheme: "ip", User: "127.0.0.1"}}
	authenticated := []zhandle.ClientInfo{{AuthScheme: "ip", User: "127.0.0.1"}, {AuthScheme: "x509", User: "CN=alice"}}

	servers := map[ClientAuth]*Server{}
	for _, auth := range []ClientAuth{ClientAuthWant, ClientAuthNeed} {
		servers[auth] = NewServer(t, WithServerTLS(ServerTLS{Cert: serverCert, ClientCA: ca, ClientAuth: auth}))
	}

	for _, tc := range []struct {
		auth   ClientAuth
		client string
		cfg    *tls.Config
		want   []zhandle.ClientInfo // nil: refused
	}{
		{ClientAuthWant, "alice", alice, authenticated},
		{ClientAuthWant, "other CA", mallory, nil},
		{ClientAuthWant, "no certificate", none, anonymous},
		{ClientAuthNeed, "alice", alice, authenticated},
		{ClientAuthNeed, "other CA", mallory, nil},
		{ClientAuthNeed, "no certificate", none, nil},
	} {
		t.Run(string(tc.auth)+"/"+tc.client, func(t *testing.T) {
			addr := servers[tc.auth].SecureAddr()
			if tc.want == nil {
				err := trySession(addr, tc.cfg)
				if err == nil {
					t.Fatal("the server opened a session")
				}
				t.Logf("refused: %v", err)
				return
			}
			if diff := cmp.Diff(tc.want, whoAmI(t, connect(t, addr, zhandle.WithTLS(tc.cfg)))); diff != "" {
				t.Errorf("WhoAmI (-want +got):\n%s", diff)
			}
		})
	}
}

// trySession dials addr with TLS and sends a ConnectRequest; it returns
// the error of the handshake or of reading the ConnectResponse. A TLS 1.3
// client ends its handshake before the server has checked its
// certificate, so a refusal may show only on the first read.
func trySession(addr string, cfg *tls.Config) error {
	conn, err := dialTLS(addr, cfg)
	if err != nil {
		return err
	}
	defer conn.Close() // the error of interest is the read's
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return err
	}
	req := serialize.ConnectRequest{TimeOut: 10000, Passwd: make([]byte, serialize.PasswdLen)}
	frame, err := appendFrame(nil, serialize.AppendBool(req.Encode(nil), false))
	if err != nil {
		return err
	}
	if _, err := conn.Write(frame); err != nil {
		return err
	}
	_, err = serialize.ReadFrame(conn, serialize.DefaultMaxBuffer)
	return err
}

// TestTLSExpiredServerCert starts a server with an expired certificate:
// it starts, and Go's TLS client refuses the certificate as expired.
func TestTLSExpiredServerCert(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server with TLS")
	}
	ca := NewCA(t, "zktest CA")
	now := time.Now()
	expired := ca.ServerCert(t, CertOptions{
		Hosts:     []string{"127.0.0.1", "localhost"},
		NotBefore: now.Add(-48 * time.Hour),
		NotAfter:  now.Add(-24 * time.Hour),
	})
	srv := NewServer(t, WithServerTLS(ServerTLS{Cert: expired}))
	_, err := dialTLS(srv.SecureAddr(), srv.ClientTLS())
	if invalid, ok := errors.AsType[x509.CertificateInvalidError](err); !ok || invalid.Reason != x509.Expired {
		t.Fatalf("TLS dial: %v, want an x509.Expired error", err)
	}
	t.Logf("TLS dial: %v", err)
}

// TestTLSStartRetriesTakenSecurePort gives the first server a secure port
// that is in use: the server binds it after it serves on the plain port,
// fails and exits, and the start is retried on other ports.
func TestTLSStartRetriesTakenSecurePort(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers with TLS")
	}
	taken := takePort(t, 2) // clientPort, then secureClientPort
	srv := NewServer(t, WithTLS())
	if srv.SecureAddr() == taken {
		t.Fatalf("server got the taken address %s", srv.SecureAddr())
	}
	connect(t, srv.SecureAddr(), zhandle.WithTLS(srv.ClientTLS()))
}

// TestTLSEnsemble gives every member of an ensemble its own secure port.
func TestTLSEnsemble(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an ensemble")
	}
	ens := NewEnsemble(t, 3, WithTLS())
	addrs := map[string]bool{}
	ctx := testContext(t)
	for i, s := range ens.Servers() {
		addrs[s.SecureAddr()] = true
		h := connect(t, s.SecureAddr(), zhandle.WithTLS(s.ClientTLS()))
		if _, err := h.Create(ctx, "/tls"+strconv.Itoa(i), nil, zhandle.OpenACLUnsafe, zhandle.Persistent); err != nil {
			t.Errorf("%s: Create over TLS: %v", s, err)
		}
	}
	if len(addrs) != len(ens.Servers()) {
		t.Errorf("secure addresses %v, want %d different ones", addrs, len(ens.Servers()))
	}
	connect(t, ens.SecureAddr(), zhandle.WithTLS(ens.Member(0).ClientTLS()))
}
