package zktest

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zkloop/zkloop/zhandle"
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
// the client side that the JAAS configuration is in force: a client that
// authenticates as alice holds the id sasl:alice, and a request from a
// client that has not authenticated closes its session with -124.
func TestSASLDigestServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server with SASL")
	}
	srv := NewServer(t, WithSASLDigest(map[string]string{"alice": "alice-pw"}), WithSASLRequired())
	ctx := testContext(t)

	alice := connect(t, srv.Addr(), zhandle.WithSASLDigest("alice", "alice-pw"))
	ids, err := alice.WhoAmI(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(ids, zhandle.ClientInfo{AuthScheme: "sasl", User: "alice"}) {
		t.Errorf("WhoAmI() = %v, want sasl:alice among them", ids)
	}

	plain := connect(t, srv.Addr())
	if _, _, err := plain.Get(ctx, "/", false); !errors.Is(err, zhandle.ErrSessionClosedRequireSASLAuth) {
		t.Errorf("Get without SASL: %v, want %v", err, zhandle.ErrSessionClosedRequireSASLAuth)
	}
}
