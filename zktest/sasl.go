package zktest

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// SASL DIGEST-MD5 on the server, as the ZooKeeper Administrator's Guide
// sets it up: a JAAS file whose "Server" section lists the users for
// DigestLoginModule, java.security.auth.login.config pointing at it, and
// SASLAuthenticationProvider registered so that a client authenticated
// as <user> holds the id sasl:<user>.

// jaasFile is the JAAS configuration in a server's directory.
const jaasFile = "jaas.conf"

// saslAuthProvider is the provider that turns a completed SASL exchange
// into the id sasl:<authorization id>.
const saslAuthProvider = "org.apache.zookeeper.server.auth.SASLAuthenticationProvider"

type saslOptions struct {
	users    map[string]string // user → password, for DigestLoginModule
	required bool              // zookeeper.sessionRequireClientSASLAuth
}

// WithSASLDigest lets clients authenticate with SASL DIGEST-MD5 as one of
// users (name → password); a client authenticated as alice holds the id
// sasl:alice, which ACLs with the scheme "sasl" name. The server also keeps
// accepting clients that do not use SASL, unless WithSASLRequired is given
// too. User names are letters, digits and "._-"; passwords must not hold
// '"', '\' or line breaks (the JAAS file quotes them); anything else fails
// the start of the server.
func WithSASLDigest(users map[string]string) Option {
	return func(o *options) {
		if o.sasl.users == nil {
			o.sasl.users = map[string]string{}
		}
		for name, password := range users {
			o.sasl.users[name] = password
		}
	}
}

// WithSASLRequired makes the server close every session whose client sends
// a request before it has authenticated with SASL
// (zookeeper.sessionRequireClientSASLAuth=true): the request is answered
// with ErrSessionClosedRequireSASLAuth (-124) and the session closed. A
// failed SASL exchange is answered with the same code.
func WithSASLRequired() Option {
	return func(o *options) { o.sasl.required = true }
}

// enabled reports whether the server is to be configured for SASL.
func (s *saslOptions) enabled() bool { return s.users != nil || s.required }

// jaasConfig returns the JAAS configuration of users: a "Server" section
// with DigestLoginModule and a user_<name>="<password>" option per user,
// sorted by name so that the file is the same on every start.
func jaasConfig(users map[string]string) (string, error) {
	names := make([]string, 0, len(users))
	for name, password := range users {
		if name == "" || strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != "" {
			return "", fmt.Errorf("SASL user name %q: only letters, digits and ._- are allowed", name)
		}
		if strings.ContainsAny(password, "\"\\\r\n") {
			return "", fmt.Errorf("SASL password of %q holds a quote, backslash or line break", name)
		}
		names = append(names, name)
	}
	slices.Sort(names)
	var b strings.Builder
	b.WriteString("Server {\n    org.apache.zookeeper.server.auth.DigestLoginModule required")
	for _, name := range names {
		fmt.Fprintf(&b, "\n    user_%s=\"%s\"", name, users[name])
	}
	b.WriteString(";\n};\n")
	return b.String(), nil
}

// writeJAAS writes the JAAS file into s's directory when SASL is enabled.
func writeJAAS(s *Server, o *options) error {
	if !o.sasl.enabled() {
		return nil
	}
	cfg, err := jaasConfig(o.sasl.users)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(s.dir, jaasFile), []byte(cfg), 0o600)
}

// saslProperties returns the system properties that enable SASL on s.
func saslProperties(s *Server, o *options) map[string]string {
	if !o.sasl.enabled() {
		return nil
	}
	props := map[string]string{
		"java.security.auth.login.config": filepath.Join(s.dir, jaasFile),
		"zookeeper.authProvider.1":        saslAuthProvider,
	}
	if o.sasl.required {
		props["zookeeper.sessionRequireClientSASLAuth"] = "true"
	}
	return props
}
