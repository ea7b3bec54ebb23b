package zktest

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zkloop/zkloop/serialize"
)

func TestJAASConfig(t *testing.T) {
	got, err := jaasConfig(map[string]string{"bob": "b pw", "alice": "älice-1"})
	if err != nil {
		t.Fatal(err)
	}
	want := `Server {
    org.apache.zookeeper.server.auth.DigestLoginModule required
    user_alice="älice-1"
    user_bob="b pw";
};
`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("jaasConfig (-want +got):\n%s", diff)
	}
	if got, err := jaasConfig(nil); err != nil || !strings.Contains(got, "DigestLoginModule required;") {
		t.Errorf("jaasConfig(nil) = %q, %v", got, err)
	}
	for _, users := range []map[string]string{
		{"": "pw"}, {"a b": "pw"}, {"a=b": "pw"}, {"a": `p"w`}, {"a": `p\w`}, {"a": "p\nw"},
	} {
		if _, err := jaasConfig(users); err == nil {
			t.Errorf("jaasConfig(%q): no error", users)
		}
	}
}

// TestSASLDigestServer starts a server that requires SASL and checks from
// the client side that the JAAS configuration is in force: a SASL packet
// with the empty first token (the Java client's opening) gets a DIGEST-MD5
// challenge for the realm zk-sasl-md5, and a request from a client that
// has not authenticated closes its session with -124.
func TestSASLDigestServer(t *testing.T) {
	srv := Standalone(t, WithSASLDigest(map[string]string{"alice": "alice-pw"}), WithSASLRequired())

	c := dialRaw(t, srv.Addr())
	c.connect()
	req := serialize.GetSASLRequest{Token: []byte{}}
	code, body := c.call(0, serialize.OpSASL, req.Encode(nil))
	if code != serialize.Ok {
		t.Fatalf("sasl: %v, want Ok", code)
	}
	var resp serialize.SetSASLResponse
	if _, err := resp.Decode(body); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`realm="zk-sasl-md5"`, `nonce="`, `algorithm=md5-sess`} {
		if !strings.Contains(string(resp.Token), want) {
			t.Errorf("challenge %q lacks %s", resp.Token, want)
		}
	}

	plain := dialRaw(t, srv.Addr())
	plain.connect()
	if code := plain.getData("/"); code != serialize.ErrSessionClosedRequireSASLAuth {
		t.Errorf("getData without SASL: %v, want %v", code, serialize.ErrSessionClosedRequireSASLAuth)
	}
}
