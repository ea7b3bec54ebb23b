package tlsconn

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// waitTimeout bounds every wait of these tests.
const waitTimeout = 10 * time.Second

// testServer returns a server configuration with a self-signed certificate
// for localhost, and a client configuration that trusts it.
func testServer(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IsCA:         true,
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	return server, &tls.Config{RootCAs: pool, ServerName: "localhost"}
}

// pair is a client Conn driven as the poll loop drives it, over one end of
// a socket pair whose other end is a crypto/tls server.
type pair struct {
	client *Conn
	server *tls.Conn
	fd     int // the client's end, non-blocking

	ended  chan struct{} // the handshake ended
	filled chan struct{} // ciphertext arrived
	stop   chan struct{}
	done   sync.WaitGroup
	mu     sync.Mutex // the pump's turns and the test's calls of client
}

func newPair(t *testing.T, serverCfg, clientCfg *tls.Config) *pair {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.SetNonblock(fds[1], true); err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fds[0]), "server end")
	serverConn, err := net.FileConn(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	p := &pair{server: tls.Server(serverConn, serverCfg), fd: fds[1],
		ended: make(chan struct{}, 1), filled: make(chan struct{}, 1), stop: make(chan struct{})}
	p.client = Client(clientCfg, func() {})
	var handshakes sync.WaitGroup
	p.client.StartHandshake(&handshakes, func() { p.ended <- struct{}{} })
	p.done.Add(1)
	go p.pump()
	t.Cleanup(func() {
		close(p.stop)
		p.done.Wait()
		p.client.Close()
		handshakes.Wait()
		serverConn.Close()
		unix.Close(p.fd)
	})
	return p
}

// pump is the loop's part: ciphertext out to the socket, and in from it.
func (p *pair) pump() {
	defer p.done.Done()
	for {
		select {
		case <-p.stop:
			return
		default:
		}
		p.mu.Lock()
		if p.client.Pending() {
			if out, err := p.client.Due(nil); err == nil && len(out) > 0 {
				n, _ := unix.Write(p.fd, out)
				p.client.Wrote(max(n, 0))
			}
		}
		p.mu.Unlock()
		fds := []unix.PollFd{{Fd: int32(p.fd), Events: unix.POLLIN}}
		if n, _ := unix.Poll(fds, 5); n > 0 {
			p.mu.Lock()
			n, _, _ := p.client.Fill(func(b []byte) (int, error) { return unix.Read(p.fd, b) })
			p.mu.Unlock()
			if n > 0 {
				select {
				case p.filled <- struct{}{}:
				default: // already told
				}
			}
		}
	}
}

// handshake waits for the client's handshake to end and returns its error.
func (p *pair) handshake(t *testing.T) error {
	t.Helper()
	go p.server.Handshake() // its error, if any, shows on the client's side
	select {
	case <-p.ended:
	case <-time.After(waitTimeout):
		t.Fatal("the handshake did not end")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	err, ended := p.client.HandshakeEnded()
	if !ended {
		t.Fatal("the handshake woke the loop but has no result")
	}
	return err
}

// read reads from the client once a whole record has arrived, as the loop
// does, and returns the plaintext or the error.
func (p *pair) read(t *testing.T) ([]byte, error) {
	t.Helper()
	timeout := time.After(waitTimeout)
	buf := make([]byte, 64)
	for {
		p.mu.Lock()
		whole := p.client.WholeRecord()
		var n int
		var err error
		if whole {
			n, err = p.client.Read(buf)
		}
		p.mu.Unlock()
		switch {
		case whole && err == ErrNoInput: // a post-handshake record (a session ticket) only
		case whole:
			return buf[:n], err
		}
		select {
		case <-p.filled:
		case <-timeout:
			t.Fatal("no record arrived")
		}
	}
}

// crypto/tls returns a temporary net.Error from its transport without
// keeping it, so a read that found nothing does not spoil the next one. If
// a Go release makes it sticky, the loop's reads stop working after the
// first empty one.
func TestTemporaryErrorNotSticky(t *testing.T) {
	serverCfg, clientCfg := testServer(t)
	p := newPair(t, serverCfg, clientCfg)
	if err := p.handshake(t); err != nil {
		t.Fatalf("handshake: %v", err)
	}
	p.mu.Lock()
	_, err := p.client.Read(make([]byte, 8))
	p.mu.Unlock()
	if err != ErrNoInput {
		t.Fatalf("Read before the server wrote = %v, want ErrNoInput", err)
	}
	if _, err := p.server.Write([]byte("hello")); err != nil {
		t.Fatalf("server Write: %v", err)
	}
	got, err := p.read(t)
	if err != nil || string(got) != "hello" {
		t.Fatalf("Read after an empty read = %q, %v; want \"hello\"", got, err)
	}
}

// A server's alert is recognised, during a TLS 1.2 handshake and, with TLS
// 1.3, on the first read after a handshake the client thought complete.
func TestRemoteAlertRecognised(t *testing.T) {
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(tls.VersionName(version), func(t *testing.T) {
			serverCfg, clientCfg := testServer(t)
			serverCfg.ClientAuth = tls.RequireAnyClientCert
			serverCfg.MaxVersion = version
			p := newPair(t, serverCfg, clientCfg)
			err := p.handshake(t)
			if version == tls.VersionTLS13 {
				if err != nil {
					t.Fatalf("TLS 1.3 handshake: %v, want success before the alert", err)
				}
				_, err = p.read(t)
			}
			if !RemoteAlert(err) {
				t.Fatalf("error %v (%T) not recognised as the server's alert", err, err)
			}
			if BrokenConnection(err) {
				t.Errorf("error %v taken for a broken connection", err)
			}
		})
	}
}

// A server that closes the connection breaks the handshake; that is not a
// refusal.
func TestBrokenConnection(t *testing.T) {
	p := Client(&tls.Config{ServerName: "localhost"}, func() {})
	var wg sync.WaitGroup
	p.StartHandshake(&wg, func() {})
	err := p.InputEnded(io.EOF)
	wg.Wait()
	if !BrokenConnection(err) || RemoteAlert(err) {
		t.Errorf("handshake error %v: broken %v, alert %v; want broken, no alert", err, BrokenConnection(err), RemoteAlert(err))
	}
	if !BrokenConnection(ErrClosed) {
		t.Error("ErrClosed is not a broken connection")
	}
}
