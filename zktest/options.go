package zktest

import "time"

// An Option changes how servers are configured and started.
type Option func(*options)

type options struct {
	tickTime   time.Duration
	reconfig   bool
	config     map[string]string // zoo.cfg lines over the defaults
	properties map[string]string // system properties over the defaults
	jvmFlags   []string
	sasl       saslOptions
	tls        *ServerTLS // set by WithServerTLS, or at start for WithTLS
	autoTLS    bool       // WithTLS: make a CA and a certificate at start
}

// DefaultTickTime is the tickTime of the servers started here, short so that
// tests can use short session timeouts: the server accepts session timeouts
// from 2·tickTime (1 s) up to 60 s.
const DefaultTickTime = 500 * time.Millisecond

func newOptions(opts []Option) *options {
	o := &options{tickTime: DefaultTickTime, config: map[string]string{}, properties: map[string]string{}}
	for _, opt := range opts {
		opt(o)
	}
	return o
}

// WithTickTime sets the server's tickTime; minSessionTimeout follows at
// 2·tickTime, and the session timeouts a server grants are multiples of
// it.
func WithTickTime(d time.Duration) Option {
	return func(o *options) { o.tickTime = d }
}

// WithSystemProperty sets a Java system property of the server,
// -D<name>=<value>, replacing the default for that name. Examples:
// "zookeeper.enforceQuota" "true" (quotas are enforced, not only logged),
// "zookeeper.extendedTypesEnabled" "false" (no TTL nodes; they are
// enabled by default here), "znode.container.checkIntervalMs" "100"
// (empty containers go within 100 ms instead of a minute). See
// WithReadOnlyMode for "readonlymode.enabled".
func WithSystemProperty(name, value string) Option {
	return func(o *options) { o.properties[name] = value }
}

// WithReadOnlyMode lets a server that has lost its quorum keep serving reads
// to clients that allow read-only mode (-Dreadonlymode.enabled=true). It
// also enables local sessions (localSessionsEnabled=true): a 3.8 server in
// read-only mode creates no other kind, and refuses every handshake
// without them.
func WithReadOnlyMode() Option {
	return func(o *options) {
		WithSystemProperty("readonlymode.enabled", "true")(o)
		WithConfig("localSessionsEnabled", "true")(o)
	}
}

// WithReconfig enables dynamic reconfiguration (reconfigEnabled=true): the
// super user (SuperAuth) may change the membership with Reconfig; Members
// builds its arguments and ParseConfig reads its answer. Reconfiguration
// needs a quorum peer, so NewServer with WithReconfig starts a one-member
// ensemble (standaloneEnabled=false), whose Mode is "leader".
func WithReconfig() Option {
	return func(o *options) { o.reconfig = true }
}

// WithConfig sets a line of zoo.cfg, replacing the default for that key.
// Keys that QuorumPeerConfig does not know become system properties
// "zookeeper.<key>", as the server itself does with unknown keys.
func WithConfig(key, value string) Option {
	return func(o *options) { o.config[key] = value }
}

// WithJVMFlags appends flags to the java command line, after the defaults
// and the system properties.
func WithJVMFlags(flags ...string) Option {
	return func(o *options) { o.jvmFlags = append(o.jvmFlags, flags...) }
}
