package zktest

import "time"

// An Option changes how servers are configured and started.
type Option func(*options)

type options struct {
	tickTime time.Duration
	readOnly bool
	config   map[string]string
	jvmFlags []string
	sasl     saslOptions
	tls      *ServerTLS
}

// DefaultTickTime is the tickTime of the servers started here, short so that
// tests can use short session timeouts: the server accepts session timeouts
// from 2·tickTime (1 s) up to 60 s.
const DefaultTickTime = 500 * time.Millisecond

func newOptions(opts []Option) *options {
	o := &options{tickTime: DefaultTickTime, config: map[string]string{}}
	for _, opt := range opts {
		opt(o)
	}
	return o
}

// WithTickTime sets the server's tickTime; minSessionTimeout follows at
// 2·tickTime.
func WithTickTime(d time.Duration) Option {
	return func(o *options) { o.tickTime = d }
}

// WithReadOnlyMode lets a server that has lost its quorum keep serving reads
// to clients that allow read-only mode (-Dreadonlymode.enabled=true). It
// also enables local sessions (localSessionsEnabled=true): a 3.8 server in
// read-only mode creates no other kind, and refuses every handshake
// without them.
func WithReadOnlyMode() Option {
	return func(o *options) {
		o.readOnly = true
		WithConfig("localSessionsEnabled", "true")(o)
	}
}

// WithConfig sets a line of zoo.cfg, replacing the default for that key.
// Keys that QuorumPeerConfig does not know become system properties
// "zookeeper.<key>", as the server itself does with unknown keys.
func WithConfig(key, value string) Option {
	return func(o *options) { o.config[key] = value }
}

// WithJVMFlags appends flags to the java command line, after the defaults,
// so "-Dname=value" overrides a default system property.
func WithJVMFlags(flags ...string) Option {
	return func(o *options) { o.jvmFlags = append(o.jvmFlags, flags...) }
}
