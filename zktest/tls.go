package zktest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TLS on the server's secure client port, as the ZooKeeper Administrator's
// Guide sets it up for 3.8: secureClientPort with the Netty connection
// factory (NIOServerCnxnFactory refuses a secure port; the plain port, which
// stays, then uses Netty too), a key store and a trust store as PEM files in
// the server's directory (PemReader takes an unencrypted PKCS#8 key, RSA, EC
// or DSA, and the certificates from the same file), ssl.clientAuth, and
// X509AuthenticationProvider registered so that a client certificate gives
// the session the id x509:<subject DN>. The server speaks TLS 1.2 only: it
// is X509Util.DEFAULT_PROTOCOL, the only protocol enabled by default, with
// the TLS 1.2 ECDHE suites of X509Util's default cipher list.

// Files in a server's directory with TLS.
const (
	tlsKeyStoreFile   = "tls-keystore.pem"   // the server's key, then its certificate
	tlsTrustStoreFile = "tls-truststore.pem" // the CA of client certificates
)

// The Netty connection factory, the only one that serves a secure port, and
// the provider that turns a client certificate into the id x509:<subject DN>.
const (
	nettyCnxnFactory = "org.apache.zookeeper.server.NettyServerCnxnFactory"
	x509AuthProvider = "org.apache.zookeeper.server.auth.X509AuthenticationProvider"
)

// certLifetime is how long certificates are valid unless told otherwise,
// from certBackdate before they are made, so that clocks a little apart
// agree.
const (
	certLifetime = 24 * time.Hour
	certBackdate = time.Hour
)

// A CA is a certificate authority made for one test.
type CA struct {
	Cert    *x509.Certificate
	Key     crypto.Signer
	CertPEM []byte
}

// NewCA makes a self-signed CA with the subject CN=name, valid from an hour
// ago for a day.
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	key := newKey(t)
	now := time.Now()
	template := &x509.Certificate{
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             now.Add(-certBackdate),
		NotAfter:              now.Add(-certBackdate + certLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	cert, certPEM := createCert(t, template, template, key.Public(), key)
	return &CA{Cert: cert, Key: key, CertPEM: certPEM}
}

// Pool returns a pool holding the CA certificate, for tls.Config.RootCAs or
// ClientCAs.
func (ca *CA) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	return pool
}

// CertFile writes the CA certificate as PEM into a new file under t.TempDir
// and returns its path.
func (ca *CA) CertFile(t testing.TB) string {
	t.Helper()
	return writeTempFile(t, "ca.pem", ca.CertPEM)
}

// A KeyPair is a certificate and its private key, issued by a CA
// (ServerCert, ClientCert).
type KeyPair struct {
	Cert    *x509.Certificate
	CertPEM []byte // the leaf certificate
	KeyPEM  []byte // PKCS#8 "PRIVATE KEY"
	Issuer  *CA    // the CA that signed it
	key     crypto.Signer
}

// TLSCertificate returns the key pair for tls.Config.Certificates.
func (k *KeyPair) TLSCertificate() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{k.Cert.Raw}, PrivateKey: k.key, Leaf: k.Cert}
}

// Files writes the certificate and the key as PEM into new files under
// t.TempDir and returns their paths.
func (k *KeyPair) Files(t testing.TB) (certFile, keyFile string) {
	t.Helper()
	return writeTempFile(t, "cert.pem", k.CertPEM), writeTempFile(t, "key.pem", k.KeyPEM)
}

// CertOptions shapes a server certificate.
type CertOptions struct {
	Hosts     []string  // subject alternative names: IP literals become IP SANs, the rest DNS SANs
	NotBefore time.Time // zero: an hour ago
	NotAfter  time.Time // zero: a day after NotBefore
}

// ServerCert issues a server certificate (extended key usage serverAuth)
// for o.Hosts, with the first host as its common name.
func (ca *CA) ServerCert(t testing.TB, o CertOptions) *KeyPair {
	t.Helper()
	template := &x509.Certificate{
		NotBefore:   o.NotBefore,
		NotAfter:    o.NotAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if template.NotBefore.IsZero() {
		template.NotBefore = time.Now().Add(-certBackdate)
	}
	if template.NotAfter.IsZero() {
		template.NotAfter = template.NotBefore.Add(certLifetime)
	}
	if len(o.Hosts) > 0 {
		template.Subject.CommonName = o.Hosts[0]
	}
	for _, h := range o.Hosts {
		if ip := net.ParseIP(h); ip != nil {
			template.IPAddresses = append(template.IPAddresses, ip)
		} else {
			template.DNSNames = append(template.DNSNames, h)
		}
	}
	return ca.issue(t, template)
}

// ClientCert issues a client certificate (extended key usage clientAuth)
// with the subject CN=commonName, valid from an hour ago for a day. A
// server started WithServerTLS and this CA as ClientCA gives a session
// that presents it the id x509:CN=<commonName>.
func (ca *CA) ClientCert(t testing.TB, commonName string) *KeyPair {
	t.Helper()
	now := time.Now()
	return ca.issue(t, &x509.Certificate{
		Subject:     pkix.Name{CommonName: commonName},
		NotBefore:   now.Add(-certBackdate),
		NotAfter:    now.Add(-certBackdate + certLifetime),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
}

// issue signs template with a new key.
func (ca *CA) issue(t testing.TB, template *x509.Certificate) *KeyPair {
	t.Helper()
	key := newKey(t)
	cert, certPEM := createCert(t, template, ca.Cert, key.Public(), ca.Key)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("zktest: marshal key: %v", err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	return &KeyPair{Cert: cert, CertPEM: certPEM, KeyPEM: keyPEM, Issuer: ca, key: key}
}

// newKey makes an ECDSA P-256 key, which PemReader and the server's
// default cipher suites (ECDHE_ECDSA) take, and is quick to make.
func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("zktest: generate key: %v", err)
	}
	return key
}

// createCert signs template (serial number left to x509) and returns the
// certificate and its PEM.
func createCert(t testing.TB, template, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) (*x509.Certificate, []byte) {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, template, parent, pub, signer)
	if err != nil {
		t.Fatalf("zktest: create certificate %q: %v", template.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("zktest: parse certificate %q: %v", template.Subject.CommonName, err)
	}
	return cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// writeTempFile writes data into a new file name under t.TempDir.
func writeTempFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatalf("zktest: %v", err)
	}
	return path
}

// ServerTLS is how a server's secure client port is set up, for
// WithServerTLS.
type ServerTLS struct {
	Cert *KeyPair // the server's certificate; required
	// ClientCA is trusted for client certificates; nil means no trust
	// store, and then ClientAuth must be ClientAuthNone.
	ClientCA   *CA
	ClientAuth ClientAuth // "": ClientAuthNone
}

// ClientAuth is whether the server asks TLS clients for a certificate
// (ssl.clientAuth; the server's own default, when unset, is need).
type ClientAuth string

const (
	ClientAuthNone ClientAuth = "none" // not asked for
	ClientAuthWant ClientAuth = "want" // asked for; a client without one is served too
	ClientAuthNeed ClientAuth = "need" // required: the handshake fails without one
)

// WithTLS adds a secure client port (see Server.SecureAddr), next to the
// plain one, that serves TLS with a certificate for localhost, 127.0.0.1
// and ::1, issued by a CA made for the test. Server.ClientTLS returns the
// configuration a client needs to trust it. Clients need no certificate of
// their own. The server negotiates TLS 1.2 only. In an ensemble every
// member has its own secure port and the same certificate.
func WithTLS() Option {
	return func(o *options) { o.autoTLS = true }
}

// WithServerTLS is WithTLS with certificates of the caller's (see NewCA):
// the secure client port serves TLS with c.Cert. A session whose client
// presents a certificate issued by c.ClientCA holds the id x509:<subject
// DN>, e.g. x509:CN=alice; a certificate from another issuer fails the
// handshake, with ClientAuthWant too. A c without Cert, or with ClientAuth
// want or need but no ClientCA, fails the start of the server.
func WithServerTLS(c ServerTLS) Option {
	return func(o *options) { o.tls = &c }
}

// newServerTLS makes the CA and the server certificate of WithTLS.
func newServerTLS(t testing.TB) *ServerTLS {
	t.Helper()
	ca := NewCA(t, "zktest CA")
	return &ServerTLS{Cert: ca.ServerCert(t, CertOptions{Hosts: []string{"localhost", loopback, "::1"}})}
}

// ClientTLS returns a TLS configuration for clients of the server's secure
// port (SecureAddr): it trusts the CA that issued the server's certificate
// and nothing else. It has no client certificate; with WithServerTLS and
// ClientAuthNeed, add one from the ClientCA. Each call returns a new
// configuration, which the caller may change. It returns nil when the
// server has no secure port.
func (s *Server) ClientTLS() *tls.Config {
	if s.opts.tls == nil || s.opts.tls.Cert == nil || s.opts.tls.Cert.Issuer == nil {
		return nil
	}
	return &tls.Config{RootCAs: s.opts.tls.Cert.Issuer.Pool(), MinVersion: tls.VersionTLS12}
}

// check reports what is wrong with c.
func (c *ServerTLS) check() error {
	if c.Cert == nil {
		return errors.New("TLS: no server certificate")
	}
	switch c.ClientAuth {
	case "", ClientAuthNone:
	case ClientAuthWant, ClientAuthNeed:
		if c.ClientCA == nil {
			return fmt.Errorf("TLS: client auth %q without a client CA", c.ClientAuth)
		}
	default:
		return fmt.Errorf("TLS: unknown client auth %q", c.ClientAuth)
	}
	return nil
}

// tlsConfig returns the zoo.cfg lines that open s's secure port, nil
// without TLS. The ssl.*, authProvider.* and serverCnxnFactory keys become
// the system properties zookeeper.<key>, the names the server reads.
func tlsConfig(s *Server, o *options) map[string]string {
	if o.tls == nil {
		return nil
	}
	auth := o.tls.ClientAuth
	if auth == "" {
		auth = ClientAuthNone
	}
	cfg := map[string]string{
		"secureClientPort":        strconv.Itoa(s.secureClientPort),
		"secureClientPortAddress": loopback,
		"serverCnxnFactory":       nettyCnxnFactory,
		"ssl.keyStore.location":   filepath.Join(s.dir, tlsKeyStoreFile),
		"ssl.keyStore.type":       "PEM",
		"ssl.clientAuth":          string(auth),
		"authProvider.x509":       x509AuthProvider,
	}
	if o.tls.ClientCA != nil {
		cfg["ssl.trustStore.location"] = filepath.Join(s.dir, tlsTrustStoreFile)
		cfg["ssl.trustStore.type"] = "PEM"
	}
	return cfg
}

// writeTLSFiles writes the key store and the trust store into s's directory
// when TLS is enabled.
func writeTLSFiles(s *Server, o *options) error {
	if o.tls == nil {
		return nil
	}
	if err := o.tls.check(); err != nil {
		return err
	}
	keyStore := append(append([]byte(nil), o.tls.Cert.KeyPEM...), o.tls.Cert.CertPEM...)
	if err := os.WriteFile(filepath.Join(s.dir, tlsKeyStoreFile), keyStore, 0o600); err != nil {
		return err
	}
	if o.tls.ClientCA == nil {
		return nil
	}
	return os.WriteFile(filepath.Join(s.dir, tlsTrustStoreFile), o.tls.ClientCA.CertPEM, 0o644)
}

// secureListening returns an error unless s has no secure port or
// presents its certificate in a TLS handshake there. A standalone server
// binds that port only after it serves on the plain one; another process
// that took the port would accept connections too. The handshake may go no
// further than the server's certificate (a server that needs client
// certificates refuses this one, and logs an unsuccessful handshake).
func (s *Server) secureListening(timeout time.Duration) error {
	if s.secureClientPort == 0 {
		return nil
	}
	want := s.opts.tls.Cert.Cert
	presented := false
	d := tls.Dialer{
		NetDialer: &net.Dialer{Timeout: timeout},
		Config: &tls.Config{
			// Whether the certificate is the server's own is all that counts.
			InsecureSkipVerify: true,
			VerifyConnection: func(cs tls.ConnectionState) error {
				if len(cs.PeerCertificates) == 0 || !cs.PeerCertificates[0].Equal(want) {
					return fmt.Errorf("%s presents another certificate", s.SecureAddr())
				}
				presented = true
				return nil
			},
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn, err := d.DialContext(ctx, "tcp", s.SecureAddr())
	if err == nil {
		// A probe that sent no request; a close error loses nothing.
		_ = conn.Close()
	}
	if presented {
		return nil
	}
	return err
}
