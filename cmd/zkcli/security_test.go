package main

import (
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zkloop/zkloop/zktest"
)

func TestSecurityFlags(t *testing.T) {
	password := func(p string) *string { return &p }
	withEnv := func(k string) string {
		if k == saslPasswordEnv {
			return "from-env"
		}
		return ""
	}
	noEnv := func(string) string { return "" }
	tests := []struct {
		args   []string
		getenv func(string) string
		want   securityFlags
		err    string
	}{
		{args: nil, want: securityFlags{}},
		{args: []string{"-tls"}, want: securityFlags{tls: true}},
		{args: []string{"-tls-ca", "ca.pem"}, want: securityFlags{tls: true, ca: fileFlag{"-tls-ca", "ca.pem"}}},
		{args: []string{"--tls-cert=c.pem", "-tls-key", "k.pem", "-tls-server-name", "zk.example"},
			want: securityFlags{tls: true, cert: fileFlag{"-tls-cert", "c.pem"}, key: fileFlag{"-tls-key", "k.pem"}, serverName: "zk.example"}},
		{args: []string{"-tls-server-name", "zk.example"}, want: securityFlags{tls: true, serverName: "zk.example"}},
		{args: []string{"-s", "ca.pem,c.pem,k.pem"},
			want: securityFlags{tls: true, ca: fileFlag{"-s", "ca.pem"}, cert: fileFlag{"-s", "c.pem"}, key: fileFlag{"-s", "k.pem"}}},
		{args: []string{"--ssl=ca.pem,c.pem,k.pem,"},
			want: securityFlags{tls: true, ca: fileFlag{"--ssl", "ca.pem"}, cert: fileFlag{"--ssl", "c.pem"}, key: fileFlag{"--ssl", "k.pem"}}},
		{args: []string{"-sasl-user", "alice", "-sasl-password", "pw"}, getenv: withEnv, want: securityFlags{saslUser: "alice", password: password("pw")}},
		{args: []string{"-sasl-user", "alice", "-sasl-password", ""}, want: securityFlags{saslUser: "alice", password: password("")}},
		{args: []string{"-sasl-user", "alice"}, getenv: withEnv, want: securityFlags{saslUser: "alice", password: password("from-env")}},
		{args: []string{"--sasl-user=alice", "-sasl-password-file", "pw.txt"}, getenv: withEnv,
			want: securityFlags{saslUser: "alice", passwordFile: fileFlag{"-sasl-password-file", "pw.txt"}}},
		{args: nil, getenv: withEnv, want: securityFlags{}},

		{args: []string{"-tls-cert", "c.pem"}, err: "-tls-cert needs -tls-key: the client certificate's private key"},
		{args: []string{"-tls-key", "k.pem"}, err: "-tls-key needs -tls-cert: the client certificate"},
		{args: []string{"-tls-ca", ""}, err: "-tls-ca: empty value"},
		{args: []string{"-tls-ca"}, err: "Error: no argument found for option -tls-ca"},
		{args: []string{"-s", "ca.pem,c.pem,k.pem,secret"}, err: "-s: a password for the key is not supported: decrypt the key first (openssl pkey -in key.pem -out plain-key.pem)"},
		{args: []string{"--ssl", "ca.pem,c.pem"}, err: `--ssl "ca.pem,c.pem": want ca,cert,key (PEM files)`},
		{args: []string{"-s", "ca.pem,,k.pem"}, err: `-s "ca.pem,,k.pem": want ca,cert,key (PEM files)`},
		{args: []string{"-s", "a,b,c,d,e"}, err: `-s "a,b,c,d,e": want ca,cert,key (PEM files)`},
		{args: []string{"-sasl-password", "pw"}, err: "a SASL password needs -sasl-user"},
		{args: []string{"-sasl-password-file", "pw.txt"}, err: "a SASL password needs -sasl-user"},
		{args: []string{"-sasl-user", ""}, err: "-sasl-user: empty value"},
		{args: []string{"-sasl-user", "alice"}, err: "-sasl-user alice: no password: give -sasl-password-file, $ZKCLI_SASL_PASSWORD or -sasl-password"},
		{args: []string{"-sasl-user", "alice", "-sasl-password", "pw", "-sasl-password-file", "pw.txt"}, err: "give -sasl-password or -sasl-password-file, not both"},
	}
	for _, tt := range tests {
		getenv := tt.getenv
		if getenv == nil {
			getenv = noEnv
		}
		inv, err := parseInvocation(tt.args, getenv)
		if checkErr(t, fmt.Sprintf("parseInvocation(%q)", tt.args), err, tt.err) {
			continue
		}
		if diff := cmp.Diff(tt.want, inv.secure, cmp.AllowUnexported(securityFlags{}, fileFlag{})); diff != "" {
			t.Errorf("parseInvocation(%q) (-want +got):\n%s", tt.args, diff)
		}
	}
}

// loaded sums up a loaded security for comparison.
type loaded struct {
	TLS, TestRoots bool   // TLS on; the roots are the test CA's
	ServerName     string // tls.Config.ServerName
	Client         string // the client certificate's subject
	User, Password string
}

func summarize(s security, ca *zktest.CA) loaded {
	l := loaded{TLS: s.tls != nil, User: s.saslUser, Password: s.saslPassword}
	if s.tls == nil {
		return l
	}
	l.TestRoots = s.tls.RootCAs != nil && s.tls.RootCAs.Equal(ca.Pool())
	l.ServerName = s.tls.ServerName
	if len(s.tls.Certificates) > 0 {
		if leaf := s.tls.Certificates[0].Leaf; leaf != nil {
			l.Client = leaf.Subject.String()
		}
	}
	return l
}

// writeFile writes data into name under dir and returns its path.
func writeFile(t *testing.T, dir, name, data string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSecurityFiles loads good files, and checks that a bad one stops
// zkcli before it connects: exit status 2, the flag and the file named.
func TestSecurityFiles(t *testing.T) {
	ca := zktest.NewCA(t, "zkcli test CA")
	caFile := ca.CertFile(t)
	cert, key := ca.ClientCert(t, "bob").Files(t)
	_, otherKey := ca.ClientCert(t, "carol").Files(t)
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.pem")
	notPEM := writeFile(t, dir, "not.pem", "not a certificate\n")
	encrypted := writeFile(t, dir, "encrypted.pem", string(pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{0x30, 0}})))
	legacy := writeFile(t, dir, "legacy.pem", string(pem.EncodeToMemory(&pem.Block{
		Type: "EC PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"}, Bytes: []byte{0}})))
	passwordFile := writeFile(t, dir, "password", "s3cret\r\nnot this line\n")
	emptyPassword := writeFile(t, dir, "empty-password", "\nsecret\n")

	good := []struct {
		args []string
		want loaded
	}{
		{nil, loaded{}},
		{[]string{"-tls"}, loaded{TLS: true}},
		{[]string{"-tls-ca", caFile, "-tls-server-name", "zk.example"}, loaded{TLS: true, TestRoots: true, ServerName: "zk.example"}},
		{[]string{"-tls-cert", cert, "-tls-key", key}, loaded{TLS: true, Client: "CN=bob"}},
		{[]string{"-s", caFile + "," + cert + "," + key}, loaded{TLS: true, TestRoots: true, Client: "CN=bob"}},
		{[]string{"-sasl-user", "alice", "-sasl-password-file", passwordFile}, loaded{User: "alice", Password: "s3cret"}},
		{[]string{"-sasl-user", "alice", "-sasl-password", "pw"}, loaded{User: "alice", Password: "pw"}},
	}
	for _, tt := range good {
		inv, err := parseInvocation(tt.args, func(string) string { return "" })
		if err != nil {
			t.Fatalf("parseInvocation(%q): %v", tt.args, err)
		}
		s, err := inv.secure.load()
		if err != nil {
			t.Errorf("load %q: %v", tt.args, err)
			continue
		}
		if diff := cmp.Diff(tt.want, summarize(s, ca)); diff != "" {
			t.Errorf("load %q (-want +got):\n%s", tt.args, diff)
		}
	}

	bad := []struct {
		args []string
		err  string
	}{
		{[]string{"-tls-ca", missing}, "-tls-ca: open " + missing + ": no such file or directory"},
		{[]string{"-tls-ca", notPEM}, "-tls-ca: no PEM certificate in " + notPEM},
		{[]string{"-tls-ca", key}, "-tls-ca: no PEM certificate in " + key},
		{[]string{"-tls-cert", missing, "-tls-key", key}, "-tls-cert: open " + missing + ": no such file or directory"},
		{[]string{"-tls-cert", cert, "-tls-key", missing}, "-tls-key: open " + missing + ": no such file or directory"},
		{[]string{"-tls-cert", cert, "-tls-key", otherKey}, "-tls-cert " + cert + " and -tls-key " + otherKey + ": tls: private key does not match public key"},
		{[]string{"-tls-cert", key, "-tls-key", key}, "-tls-cert " + key + " and -tls-key " + key + ": tls: failed to find certificate PEM data in certificate input, but did find a private key; PEM inputs may have been switched"},
		{[]string{"-tls-cert", cert, "-tls-key", notPEM}, "-tls-cert " + cert + " and -tls-key " + notPEM + ": tls: failed to find any PEM data in key input"},
		{[]string{"-tls-cert", cert, "-tls-key", encrypted}, "-tls-key " + encrypted + ": the key is encrypted, which is not supported: decrypt it first (openssl pkey -in key.pem -out plain-key.pem)"},
		{[]string{"-tls-cert", cert, "-tls-key", legacy}, "-tls-key " + legacy + ": the key is encrypted, which is not supported: decrypt it first (openssl pkey -in key.pem -out plain-key.pem)"},
		{[]string{"--ssl", caFile + "," + cert + "," + missing}, "--ssl: open " + missing + ": no such file or directory"},
		{[]string{"-sasl-user", "alice", "-sasl-password-file", missing}, "-sasl-password-file: open " + missing + ": no such file or directory"},
		{[]string{"-sasl-user", "alice", "-sasl-password-file", emptyPassword}, "-sasl-password-file: no password on the first line of " + emptyPassword},
	}
	for _, tt := range bad {
		// The server is never reached: the files are read first.
		args := append(append([]string{"-server", "127.0.0.1:1"}, tt.args...), "ls", "/")
		want := result{stderr: tt.err + "\n", code: exitUsage}
		if diff := cmp.Diff(want, zkcli(t, "", args...), cmp.AllowUnexported(result{})); diff != "" {
			t.Errorf("zkcli %q (-want +got):\n%s", args, diff)
		}
	}
	// A flag missing its partner is a usage error: the usage follows.
	want := result{stderr: "-tls-key needs -tls-cert: the client certificate\n" + usageText(), code: exitUsage}
	if diff := cmp.Diff(want, zkcli(t, "", "-tls-key", key, "ls", "/"), cmp.AllowUnexported(result{})); diff != "" {
		t.Errorf("zkcli -tls-key alone (-want +got):\n%s", diff)
	}
}

// logLines are the handle's log lines, which stderr has in batch mode for
// errors (a refused TLS handshake, failed SASL).
var logLines = regexp.MustCompile(`(?m)^time=.*\n`)

// TestSecureServer runs zkcli with TLS and SASL against one real ZooKeeper
// that serves TLS on its secure port, asks for client certificates, and
// knows the SASL user alice.
func TestSecureServer(t *testing.T) {
	ca := zktest.NewCA(t, "zkcli test CA")
	srv := zktest.NewServer(t,
		zktest.WithServerTLS(zktest.ServerTLS{
			Cert:       ca.ServerCert(t, zktest.CertOptions{Hosts: []string{"127.0.0.1", "localhost"}}),
			ClientCA:   ca,
			ClientAuth: zktest.ClientAuthWant,
		}),
		zktest.WithSASLDigest(map[string]string{"alice": "secret"}))
	certFile, keyFile := ca.ClientCert(t, "bob").Files(t)
	passwordFile := writeFile(t, t.TempDir(), "password", "secret\n")
	expand := strings.NewReplacer(
		"$S", srv.Addr(), "$T", srv.SecureAddr(),
		"$CA", ca.CertFile(t), "$OTHERCA", zktest.NewCA(t, "other CA").CertFile(t),
		"$CERT", certFile, "$KEY", keyFile, "$PW", passwordFile).Replace
	x509 := "Auth scheme: User\nx509: CN=bob\nip: 127.0.0.1\n"
	sasl := "Auth scheme: User\nsasl: alice\nip: 127.0.0.1\n"
	tests := []struct {
		name  string
		env   []string // set: zkcli runs as a process with this environment
		args  []string
		stdin string
		want  result // stderr without log lines
	}{
		{name: "tls", args: []string{"-server", "$T", "-tls-ca", "$CA"}, stdin: "create /tls x\nget /tls\n", want: result{"Created /tls\nx\n", "", 0}},
		{name: "x509", args: []string{"-server", "$T", "-tls-ca", "$CA", "-tls-cert", "$CERT", "-tls-key", "$KEY", "whoami"}, want: result{x509, "", 0}},
		{name: "cli_mt-ssl", args: []string{"-h", "$T", "-s", "$CA,$CERT,$KEY", "-c", "whoami"}, want: result{x509, "", 0}},
		{name: "connect", args: []string{"-server", "$T", "-tls-ca", "$CA", "-tls-cert", "$CERT", "-tls-key", "$KEY"}, stdin: "close\nconnect $T\nwhoami\n", want: result{x509, "", 0}},
		{name: "sasl", args: []string{"-server", "$S", "-sasl-user", "alice", "-sasl-password-file", "$PW", "whoami"}, want: result{sasl, "", 0}},
		{name: "sasl-env", env: []string{saslPasswordEnv + "=secret"}, args: []string{"-server", "$S", "-sasl-user", "alice", "whoami"}, want: result{sasl, "", 0}},
		{name: "tls-sasl", args: []string{"-server", "$T", "-tls-ca", "$CA", "-sasl-user", "alice", "-sasl-password", "secret", "whoami"}, want: result{sasl, "", 0}},
		{name: "server-name", args: []string{"-server", "$T", "-tls-ca", "$CA", "-tls-server-name", "wrong.example", "ls", "/"},
			want: result{"", "authentication failed: TLS with $T: tls: failed to verify certificate: x509: certificate is valid for localhost, not wrong.example\n", 1}},
		{name: "server-name-wait", args: []string{"-server", "$T", "-tls-ca", "$CA", "-tls-server-name", "wrong.example", "-waitforconnection", "ls", "/"},
			want: result{"", "authentication failed: TLS with $T: tls: failed to verify certificate: x509: certificate is valid for localhost, not wrong.example\n", 1}},
		{name: "unknown-ca", args: []string{"-server", "$T", "-tls-ca", "$OTHERCA"}, stdin: "ls /\nget /\n",
			want: result{"", "authentication failed: TLS with $T: tls: failed to verify certificate: x509: certificate signed by unknown authority\n", 1}},
		{name: "sasl-wrong", args: []string{"-server", "$S", "-sasl-user", "alice", "-sasl-password", "wrong", "ls", "/"},
			want: result{"", "authentication failed: SASL DIGEST-MD5 authentication as \"alice\" with $S: the server refused the credentials: zk: authentication failed\n", 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := make([]string, len(tt.args))
			for i, a := range tt.args {
				args[i] = expand(a)
			}
			var got result
			if tt.env != nil {
				got = spawn(t, expand(tt.stdin), tt.env, args...)
			} else {
				got = zkcli(t, expand(tt.stdin), args...)
			}
			got.stderr = logLines.ReplaceAllString(got.stderr, "")
			want := result{expand(tt.want.stdout), expand(tt.want.stderr), tt.want.code}
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(result{})); diff != "" {
				t.Errorf("zkcli %q <<< %q (-want +got):\n%s", args, tt.stdin, diff)
			}
		})
	}
}
