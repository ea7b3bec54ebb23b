package zhandle

import (
	"crypto/tls"
	"log/slog"
	"time"

	"github.com/zkloop/zkloop/serialize"
)

// Option configures Init.
type Option func(*config)

type config struct {
	clientID       ClientID
	readOnly       bool
	logger         *slog.Logger
	deterministic  bool
	maxFrame       int
	resolveDelay   time.Duration
	clientExpiry   bool
	followConfig   bool
	sasl           *saslCredentials // WithSASLDigest
	tls            *tls.Config      // WithTLS
	tracer         Tracer           // WithTracer
	connectTimeout time.Duration    // WithConnectTimeout
}

func defaultConfig() config {
	return config{
		logger:   slog.New(slog.DiscardHandler),
		maxFrame: serialize.DefaultMaxBuffer,
	}
}

// WithConnectTimeout bounds how long a server may stay silent while a
// connection is being set up (TCP connect, TLS, handshake, SASL): d, where
// the C and Java clients allow two thirds of the session timeout. A server
// that accepts connections but does not answer them, as a starting one
// may, is then left for the next attempt sooner. After each attempt that
// runs out, the bound doubles, up to two thirds of the session timeout, so
// that a slow server is given the time it needs; it starts again at d once
// a session is established. d <= 0 means no bound beyond the C client's.
func WithConnectTimeout(d time.Duration) Option { return func(c *config) { c.connectTimeout = d } }

// WithTracer sets the hooks the handle tells what it does: requests,
// connections, session states and watch deliveries (see Tracer). Without
// it nothing is traced, at the cost of a nil check per request.
func WithTracer(t Tracer) Option { return func(c *config) { c.tracer = t } }

// WithClientID resumes an existing session (the clientid argument of
// zookeeper_init).
func WithClientID(id ClientID) Option { return func(c *config) { c.clientID = id } }

// WithReadOnly lets the handle connect to a read-only server (ZOO_READONLY
// flag of zookeeper_init).
func WithReadOnly() Option { return func(c *config) { c.readOnly = true } }

// WithLogger sends the handle's log to l (zoo_set_log_stream). The default
// discards everything; connection-level lines are logged at Info and
// carry the session id and server address.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}

// WithDeterministicOrder connects to the servers in the order given instead
// of a shuffled one (zoo_deterministic_conn_order).
func WithDeterministicOrder() Option { return func(c *config) { c.deterministic = true } }

// WithResolutionDelay sets how often host names are resolved again before
// a connect attempt (zoo_set_servers_resolution_delay): not again within d
// of the last resolution. 0, the default, resolves before every attempt, as
// the Java client does; a negative d never resolves again. A re-resolution
// that changes the addresses rebalances like SetServers. Lists of IP
// literals are never resolved again.
func WithResolutionDelay(d time.Duration) Option { return func(c *config) { c.resolveDelay = d } }

// WithClientSideExpiry makes the handle declare its session expired itself
// when no server could be reached for the negotiated session timeout after
// the connection was lost (ZOOKEEPER-4508 of the Java client), instead of
// trying until a server answers that the session has expired. The server
// has expired the session by then anyway.
func WithClientSideExpiry() Option { return func(c *config) { c.clientExpiry = true } }

// WithConfigTracking makes the handle follow the ensemble: at every
// session establishment and every change of /zookeeper/config it reads the
// configuration and passes the client addresses it lists to SetServers, so
// servers added by a reconfig are used and removed ones left, with
// ZOOKEEPER-1355's rebalancing. The chroot does not apply to the config
// node. Standalone servers have no such configuration; nothing changes.
func WithConfigTracking() Option { return func(c *config) { c.followConfig = true } }

// WithMaxFrame sets the largest frame accepted from or sent to the server
// (jute.maxbuffer); the default is serialize.DefaultMaxBuffer. A larger
// reply to a request fails that request with ErrMarshalling, logged with
// its size, and is skipped as it arrives, without being kept: the
// connection goes on (zookeeper.c and ClientCnxn drop it, and a retry
// meets the same reply). Any other larger frame drops the connection with
// an error logged. A larger request fails with ErrBadArguments.
func WithMaxFrame(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxFrame = n
		}
	}
}

// WithSASLDigest authenticates every connection with SASL DIGEST-MD5 as
// user (zookeeper_init_sasl with the mechanism DIGEST-MD5; the Java
// client's DigestLoginModule "Client" section). The exchange runs after
// each handshake, before any other request is sent; the session becomes
// connected only once the server has accepted the credentials and proved
// that it knows the password too. The server must list the user in the
// DigestLoginModule of its JAAS "Server" section; an authenticated session
// holds the id sasl:<user>, for ACLs with the scheme "sasl". Wrong
// credentials, or a server without SASL, make the handle
// StateAuthFailed: unrecoverable, WaitConnected returns an error that
// wraps ErrAuthFailed and says why. An empty user makes Init fail.
func WithSASLDigest(user, password string) Option {
	return func(c *config) { c.sasl = &saslCredentials{user: user, password: password} }
}

// WithTLS makes every connection TLS (zookeeper_init_ssl), with a copy of
// cfg; nil means the defaults: the system's roots, no client certificate.
// Unlike the C client, the server's certificate is checked against the
// host as the host list names it (a DNS name, or an IP literal matched
// against the certificate's IP addresses) unless cfg.ServerName names
// another. The server needs secureClientPort and the Netty connection
// factory. A server that fails verification, or refuses the client's
// certificate, is not retried at once; when every server of the list has
// refused, the handle becomes StateAuthFailed, and WaitConnected returns
// an error that wraps ErrAuthFailed and the TLS error.
func WithTLS(cfg *tls.Config) Option {
	return func(c *config) {
		if cfg == nil {
			c.tls = &tls.Config{}
		} else {
			c.tls = cfg.Clone()
		}
	}
}
