package hostlist

import (
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// unresolvable is a host name that is not a valid domain name, so the
// resolver refuses it at once, without asking a name server.
const unresolvable = "no.such.host!"

func TestResolve(t *testing.T) {
	tests := []struct {
		name, hosts string
		want        []string // in order
	}{
		{"IPv4 and IPv6", "127.0.0.1:1,[::1]:2", []string{"127.0.0.1:1", "[::1]:2"}},
		{"spaces and empty entries", " 127.0.0.1:1 ,, [::1]:2,", []string{"127.0.0.1:1", "[::1]:2"}},
		{"missing port is 2181", "127.0.0.1", []string{"127.0.0.1:2181"}},
		{"bracketed IPv6 without port", "[::1]", []string{"[::1]:2181"}},
		{"bare IPv6 without port", "::1", []string{"[::1]:2181"}},
		{"duplicates dropped", "127.0.0.1:1,127.0.0.1:1,127.0.0.1:2", []string{"127.0.0.1:1", "127.0.0.1:2"}},
		{"unresolvable skipped", unresolvable + ":1,127.0.0.1:2", []string{"127.0.0.1:2"}},
		{"bad port skipped", "127.0.0.1:x,127.0.0.1:2", []string{"127.0.0.1:2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addrs, err := Resolve(t.Context(), tc.hosts)
			if err != nil {
				t.Fatalf("Resolve(%q): %v", tc.hosts, err)
			}
			if diff := cmp.Diff(tc.want, addrStrings(addrs)); diff != "" {
				t.Errorf("Resolve(%q) (-want +got):\n%s", tc.hosts, diff)
			}
		})
	}
}

// localhost resolves to loopback addresses only, each with the port given.
func TestResolveLocalhost(t *testing.T) {
	addrs, err := Resolve(t.Context(), "localhost:3")
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if len(addrs) == 0 {
		t.Fatal("Resolve: no addresses")
	}
	for _, a := range addrs {
		if !a.AddrPort.Addr().Unmap().IsLoopback() || a.AddrPort.Port() != 3 || a.Host != "localhost" {
			t.Errorf("localhost:3 resolved to %v (host %q), want loopback port 3 named localhost", a, a.Host)
		}
	}
}

func TestResolveFails(t *testing.T) {
	for _, hosts := range []string{
		"",
		" , ",
		"127.0.0.1:x",
		"127.0.0.1:0",
		"127.0.0.1:65536",
		"127.0.0.1:-1",
		unresolvable,
		unresolvable + ":1," + unresolvable + ":2",
	} {
		if addrs, err := Resolve(t.Context(), hosts); !errors.Is(err, ErrNoServer) {
			t.Errorf("Resolve(%q) = %v, %v; want ErrNoServer", hosts, addrs, err)
		}
	}
}

func TestHasNames(t *testing.T) {
	for hosts, want := range map[string]bool{
		"127.0.0.1:1,[::1]:2":     false,
		"::1":                     false,
		"127.0.0.1:1,localhost:2": true,
		"zk1.example.com":         true,
		" , ":                     false,
	} {
		if got := HasNames(hosts); got != want {
			t.Errorf("HasNames(%q) = %v, want %v", hosts, got, want)
		}
	}
}

func TestShuffleKeepsAddresses(t *testing.T) {
	addrs, err := Resolve(t.Context(), "127.0.0.1:1,127.0.0.1:2,127.0.0.1:3,127.0.0.1:4,[::1]:5")
	if err != nil {
		t.Fatal(err)
	}
	want := addrStrings(addrs)
	Shuffle(addrs)
	got := addrStrings(addrs)
	slices.Sort(want)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Shuffle changed the set of addresses (-want +got):\n%s", diff)
	}
}

func addrStrings(addrs []Address) []string {
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = a.String()
	}
	return out
}
