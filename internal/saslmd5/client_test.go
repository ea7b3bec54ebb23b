package saslmd5

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The example of RFC 2831 section 4 (IMAP): user chris, password secret.
const (
	rfcChallenge = `realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",qop="auth",algorithm=md5-sess,charset=utf-8`
	rfcCnonce    = "OA6MHXh6VqTrRk"
	rfcURI       = "imap/elwood.innosoft.com"
	rfcResponse  = "d388dad90d4bbd760a152321f2143af7"
	rfcRspauth   = "ea40f60335c427b5527b84dbabcdfffd"
)

func TestDigestRFC2831Example(t *testing.T) {
	ch, err := parseChallenge([]byte(rfcChallenge))
	if err != nil {
		t.Fatal(err)
	}
	want := challenge{realms: []string{"elwood.innosoft.com"}, nonce: "OA6MG9tEQGm2hh", qops: []string{"auth"}, utf8: true}
	if diff := cmp.Diff(want, ch, cmp.AllowUnexported(challenge{})); diff != "" {
		t.Errorf("parseChallenge (-want +got):\n%s", diff)
	}
	token, rspauth, err := response(ch, "chris", "secret", rfcURI, rfcCnonce)
	if err != nil {
		t.Fatal(err)
	}
	// The RFC's response, with maxbuf (optional, the Java client sends it)
	// before response=.
	wantToken := `charset=utf-8,username="chris",realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",` +
		`nc=00000001,cnonce="OA6MHXh6VqTrRk",digest-uri="imap/elwood.innosoft.com",maxbuf=65536,` +
		`response=` + rfcResponse + `,qop=auth`
	if diff := cmp.Diff(wantToken, string(token)); diff != "" {
		t.Errorf("response token (-want +got):\n%s", diff)
	}
	if rspauth != rfcRspauth {
		t.Errorf("rspauth = %s, want %s", rspauth, rfcRspauth)
	}

	// The same through the stateful client, to the end.
	d := NewClient("chris", "secret", rfcURI, rfcCnonce)
	reply, done, err := d.Next([]byte(rfcChallenge))
	if err != nil || done || string(reply) != wantToken {
		t.Fatalf("next(challenge) = %q, %v, %v; want the response", reply, done, err)
	}
	reply, done, err = d.Next([]byte("rspauth=" + rfcRspauth))
	if err != nil || !done || reply != nil {
		t.Fatalf("next(rspauth) = %q, %v, %v; want done", reply, done, err)
	}
	if _, _, err := d.Next([]byte("rspauth=" + rfcRspauth)); err == nil {
		t.Error("next after the exchange completed: no error")
	}
}

// TestDigestZooKeeperChallenge answers a challenge of the form the JDK's
// DigestMD5Server sends for ZooKeeper: the response names the ZooKeeper
// digest-uri and the realm, and the proofs depend on every input.
func TestDigestZooKeeperChallenge(t *testing.T) {
	const challenge = `realm="zk-sasl-md5",nonce="kUeA1lq4eDrTg4nE0TKmrQfe0uNd0RK3Hml5Yf4V",charset=utf-8,algorithm=md5-sess`
	ch, err := parseChallenge([]byte(challenge))
	if err != nil {
		t.Fatal(err)
	}
	token, rspauth, err := response(ch, "alice", "alice-secret", ZooKeeperDigestURI, "c1")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`username="alice"`, `realm="zk-sasl-md5"`, `digest-uri="zookeeper/zk-sasl-md5"`, `nc=00000001`, `qop=auth`, `cnonce="c1"`} {
		if !strings.Contains(string(token), want) {
			t.Errorf("token %s lacks %s", token, want)
		}
	}
	for _, other := range []struct{ user, password, cnonce string }{
		{"alice", "wrong", "c1"}, {"bob", "alice-secret", "c1"}, {"alice", "alice-secret", "c2"},
	} {
		token2, rspauth2, err := response(ch, other.user, other.password, ZooKeeperDigestURI, other.cnonce)
		if err != nil {
			t.Fatal(err)
		}
		if responseOf(t, token2) == responseOf(t, token) || rspauth2 == rspauth {
			t.Errorf("%+v gives the same proofs as the right credentials", other)
		}
	}
}

// responseOf returns the response directive of a client token.
func responseOf(t *testing.T, token []byte) string {
	t.Helper()
	dirs, err := parseDirectives(token)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if d.name == "response" {
			return d.value
		}
	}
	t.Fatalf("no response in %s", token)
	return ""
}

func TestParseDigestDirectives(t *testing.T) {
	tests := []struct {
		msg  string
		want []directive
	}{
		{``, nil},
		{` , ,`, nil},
		{`a=b`, []directive{{"a", "b"}}},
		{"  Realm = \"x y\" ,\t,NONCE=\"n\\\"q\\\\\" , qop=auth\r\n", []directive{{"realm", "x y"}, {"nonce", `n"q\`}, {"qop", "auth"}}},
		{`realm="",realm="b"`, []directive{{"realm", ""}, {"realm", "b"}}},
		{`x="é"`, []directive{{"x", "é"}}},
	}
	for _, tt := range tests {
		got, err := parseDirectives([]byte(tt.msg))
		if err != nil {
			t.Errorf("parseDirectives(%q): %v", tt.msg, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(directive{})); diff != "" {
			t.Errorf("parseDirectives(%q) (-want +got):\n%s", tt.msg, diff)
		}
	}
}

func TestParseDigestChallengeErrors(t *testing.T) {
	const ok = `nonce="n",algorithm=md5-sess`
	tests := []struct {
		name, msg, wantText string
	}{
		{"empty", ``, "no challenge"},
		{"too long", `nonce="` + strings.Repeat("n", maxChallenge) + `",algorithm=md5-sess`, "more than 2048"},
		{"no nonce", `realm="r",algorithm=md5-sess`, "no nonce"},
		{"empty nonce", `nonce="",algorithm=md5-sess`, "no nonce"},
		{"two nonces", ok + `,nonce="m"`, `"nonce" more than once`},
		{"no algorithm", `nonce="n"`, "no algorithm"},
		{"md5", `nonce="n",algorithm=md5`, `algorithm "md5"`},
		{"two algorithms", ok + `,algorithm=md5-sess`, `"algorithm" more than once`},
		{"auth-int only", ok + `,qop="auth-int,auth-conf"`, "does not offer auth"},
		{"empty qop", ok + `,qop=""`, "does not offer auth"},
		{"two qops", ok + `,qop="auth",qop="auth"`, `"qop" more than once`},
		{"latin1 charset", ok + `,charset=iso-8859-1`, "only utf-8"},
		{"two charsets", ok + `,charset=utf-8,charset=utf-8`, `"charset" more than once`},
		{"two maxbufs", ok + `,maxbuf=1,maxbuf=2`, `"maxbuf" more than once`},
		{"unterminated quote", `nonce="n`, "unterminated"},
		{"trailing backslash", `nonce="n\`, "unterminated"},
		{"no value", `nonce`, "has no value"},
		{"empty value", `nonce=,algorithm=md5-sess`, "empty value"},
		{"no comma", `nonce="n" algorithm=md5-sess`, "expected a comma"},
		{"leading equals", `=x`, "unexpected"},
		{"binary", "\x00\x01\x02", "unexpected"},
		{"null token", "\xff\xff\xff\xff", "unexpected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseChallenge([]byte(tt.msg))
			if !errors.Is(err, ErrChallenge) {
				t.Fatalf("error %v, want ErrChallenge", err)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not say %q", err, tt.wantText)
			}
		})
	}
	// Unknown directives, cipher and stale are ignored; qop defaults to auth.
	ch, err := parseChallenge([]byte(ok + `,cipher="rc4",stale=true,x-new=1`))
	if err != nil || len(ch.qops) != 1 || ch.qops[0] != "auth" || ch.utf8 || len(ch.realms) != 0 {
		t.Errorf("minimal challenge = %+v, %v", ch, err)
	}
}

// TestDigestCharset checks RFC 2831 2.1.2.1: under charset=utf-8, names and
// passwords within ISO 8859-1 are hashed in ISO 8859-1, so the response
// does not depend on the charset; others need charset=utf-8.
func TestDigestCharset(t *testing.T) {
	latin1 := challenge{nonce: "n", qops: []string{"auth"}}
	utf8 := latin1
	utf8.utf8 = true
	tokL, rspL, err := response(latin1, "jöhn", "pässwörd", ZooKeeperDigestURI, "c")
	if err != nil {
		t.Fatal(err)
	}
	tokU, rspU, err := response(utf8, "jöhn", "pässwörd", ZooKeeperDigestURI, "c")
	if err != nil {
		t.Fatal(err)
	}
	if responseOf(t, tokL) != responseOf(t, tokU) || rspL != rspU {
		t.Error("ISO 8859-1 characters hash differently under charset=utf-8")
	}
	if !strings.Contains(string(tokL), "username=\"j\xf6hn\"") || !strings.Contains(string(tokU), `username="jöhn"`) {
		t.Errorf("user names on the wire: %q (want ISO 8859-1), %q (want UTF-8)", tokL, tokU)
	}
	if _, _, err := response(latin1, "用户", "p", ZooKeeperDigestURI, "c"); err == nil || !strings.Contains(err.Error(), "outside ISO 8859-1") {
		t.Errorf("non-Latin-1 user without charset=utf-8: %v", err)
	}
	if _, _, err := response(utf8, "用户", "p", ZooKeeperDigestURI, "c"); err != nil {
		t.Errorf("non-Latin-1 user with charset=utf-8: %v", err)
	}
	if _, _, err := response(utf8, "u", "\xff", ZooKeeperDigestURI, "c"); err == nil || !strings.Contains(err.Error(), "not valid UTF-8") {
		t.Errorf("invalid UTF-8 password: %v", err)
	}
	if _, _, err := response(utf8, "u", "p", ZooKeeperDigestURI, ""); err == nil {
		t.Error("empty cnonce: no error")
	}
	// Quotes and backslashes in names are escaped.
	tok, _, err := response(utf8, `a"b\c`, "p", ZooKeeperDigestURI, "c")
	if err != nil || !strings.Contains(string(tok), `username="a\"b\\c"`) {
		t.Errorf("escaped user name: %s, %v", tok, err)
	}
}

func TestCheckDigestRspauth(t *testing.T) {
	tests := []struct{ name, msg, wantText string }{
		{"empty", ``, "no rspauth"},
		{"other directive", `foo=bar`, "no rspauth"},
		{"twice", `rspauth=` + rfcRspauth + `,rspauth=` + rfcRspauth, "more than once"},
		{"wrong", `rspauth=00000000000000000000000000000000`, "wrong rspauth"},
		{"short", `rspauth=ea40`, "wrong rspauth"},
		{"malformed", `rspauth="` + rfcRspauth, "unterminated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkRspauth([]byte(tt.msg), rfcRspauth)
			if !errors.Is(err, ErrServerProof) || !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %v, want ErrServerProof saying %q", err, tt.wantText)
			}
		})
	}
	for _, msg := range []string{`rspauth=` + rfcRspauth, `rspauth="` + strings.ToUpper(rfcRspauth) + `"`} {
		if err := checkRspauth([]byte(msg), rfcRspauth); err != nil {
			t.Errorf("checkRspauth(%s): %v", msg, err)
		}
	}

	// A failed step ends the exchange.
	d := NewClient("chris", "secret", rfcURI, rfcCnonce)
	if _, _, err := d.Next([]byte(rfcChallenge)); err != nil {
		t.Fatal(err)
	}
	if _, done, err := d.Next([]byte("rspauth=" + rfcResponse)); err == nil || done {
		t.Fatalf("wrong rspauth: done %v, err %v", done, err)
	}
	if _, _, err := d.Next([]byte("rspauth=" + rfcRspauth)); err == nil {
		t.Error("next after a failure: no error")
	}
}

func TestNewDigestCnonce(t *testing.T) {
	a, b := NewCnonce(), NewCnonce()
	if a == b || len(a) < 16 || strings.ContainsAny(a, `"\`) {
		t.Errorf("cnonces %q, %q: want distinct, long, nothing to quote", a, b)
	}
}

// FuzzDigestChallenge feeds arbitrary challenges and final messages: no
// panic, and an accepted challenge always yields a response that parses.
func FuzzDigestChallenge(f *testing.F) {
	f.Add([]byte(rfcChallenge))
	f.Add([]byte(`realm="zk-sasl-md5",nonce="abc",charset=utf-8,algorithm=md5-sess`))
	f.Add([]byte(`nonce="a\"b",algorithm=md5-sess,qop="auth-int, auth"`))
	f.Add([]byte("rspauth=" + rfcRspauth))
	f.Fuzz(func(t *testing.T, msg []byte) {
		_ = checkRspauth(msg, rfcRspauth) // only must not panic
		ch, err := parseChallenge(msg)
		if err != nil {
			return
		}
		token, _, err := response(ch, "u", "p", ZooKeeperDigestURI, "c")
		if err != nil {
			return // a realm outside ISO 8859-1 without charset=utf-8, or invalid UTF-8
		}
		if _, err := parseDirectives(token); err != nil && len(token) <= maxChallenge {
			t.Fatalf("our response %q does not parse: %v", token, err)
		}
	})
}

// Verify is the server's half: it accepts the client's response and
// answers with the proof the client checks; a wrong password is refused.
func TestVerify(t *testing.T) {
	c := NewClient("alice", "alice-pw", ZooKeeperDigestURI, "Y25vbmNl")
	response, _, err := c.Next([]byte(rfcChallenge))
	if err != nil {
		t.Fatalf("Next(challenge): %v", err)
	}
	rspauth, err := Verify([]byte(rfcChallenge), response, "alice", "alice-pw", ZooKeeperDigestURI)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if _, done, err := c.Next(rspauth); !done || err != nil {
		t.Errorf("Next(%q) = done %v, %v; want the exchange complete", rspauth, done, err)
	}
	if _, err := Verify([]byte(rfcChallenge), response, "alice", "wrong", ZooKeeperDigestURI); err == nil {
		t.Error("Verify accepted a response made with another password")
	}
}
