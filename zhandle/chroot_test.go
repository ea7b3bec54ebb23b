package zhandle

import (
	"errors"
	"net/netip"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// unresolvable is a host name that is not a valid domain name, so the
// resolver refuses it at once, without asking a name server.
const unresolvable = "no.such.host!"

func TestSplitChroot(t *testing.T) {
	tests := []struct {
		connect, hosts, chroot string
		bad                    bool
	}{
		{connect: "127.0.0.1:1", hosts: "127.0.0.1:1"},
		{connect: "127.0.0.1:1/", hosts: "127.0.0.1:1"},
		{connect: "127.0.0.1:1/app", hosts: "127.0.0.1:1", chroot: "/app"},
		{connect: "127.0.0.1:1,[::1]:2/app/sub", hosts: "127.0.0.1:1,[::1]:2", chroot: "/app/sub"},
		{connect: "localhost/日本", hosts: "localhost", chroot: "/日本"},
		{connect: "", hosts: ""},
		{connect: "127.0.0.1:1/app/", bad: true},
		{connect: "127.0.0.1:1//app", bad: true},
		{connect: "127.0.0.1:1/app/../x", bad: true},
		{connect: "127.0.0.1:1/a\x00", bad: true},
	}
	for _, tc := range tests {
		hosts, chroot, err := splitChroot(tc.connect)
		if tc.bad {
			if !errors.Is(err, ErrBadArguments) {
				t.Errorf("splitChroot(%q) = %q, %q, %v; want ErrBadArguments", tc.connect, hosts, chroot, err)
			}
			continue
		}
		if err != nil || hosts != tc.hosts || chroot != tc.chroot {
			t.Errorf("splitChroot(%q) = %q, %q, %v; want %q, %q, nil", tc.connect, hosts, chroot, err, tc.hosts, tc.chroot)
		}
	}
}

func TestResolveHosts(t *testing.T) {
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
			addrs, err := resolveHosts(t.Context(), tc.hosts)
			if err != nil {
				t.Fatalf("resolveHosts(%q): %v", tc.hosts, err)
			}
			if diff := cmp.Diff(tc.want, addrStrings(addrs)); diff != "" {
				t.Errorf("resolveHosts(%q) (-want +got):\n%s", tc.hosts, diff)
			}
		})
	}
}

// localhost resolves to loopback addresses only, each with the port given.
func TestResolveHostsLocalhost(t *testing.T) {
	addrs, err := resolveHosts(t.Context(), "localhost:3")
	if err != nil {
		t.Fatalf("resolveHosts: %v", err)
	}
	if len(addrs) == 0 {
		t.Fatal("resolveHosts: no addresses")
	}
	for _, a := range addrs {
		if !a.addr.Addr().Unmap().IsLoopback() || a.addr.Port() != 3 {
			t.Errorf("localhost:3 resolved to %v, want loopback port 3", a)
		}
	}
}

func TestResolveHostsFails(t *testing.T) {
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
		if addrs, err := resolveHosts(t.Context(), hosts); !errors.Is(err, ErrBadArguments) {
			t.Errorf("resolveHosts(%q) = %v, %v; want ErrBadArguments", hosts, addrs, err)
		}
	}
}

// Init reports a host list that does not resolve, and a bad chroot, at once.
func TestInitRejectsHosts(t *testing.T) {
	for _, hosts := range []string{"", unresolvable + ":1", "127.0.0.1:1/app/", "127.0.0.1:0"} {
		if h, err := Init(hosts, nil, sessionTimeout); !errors.Is(err, ErrBadArguments) {
			if h != nil {
				h.Close()
			}
			t.Errorf("Init(%q) = %v; want ErrBadArguments", hosts, err)
		}
	}
}

func TestShuffleKeepsAddresses(t *testing.T) {
	addrs, err := resolveHosts(t.Context(), "127.0.0.1:1,127.0.0.1:2,127.0.0.1:3,127.0.0.1:4,[::1]:5")
	if err != nil {
		t.Fatal(err)
	}
	want := addrStrings(addrs)
	shuffle(addrs)
	got := addrStrings(addrs)
	slices.Sort(want)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("shuffle changed the set of addresses (-want +got):\n%s", diff)
	}
}

// Addresses convert to the socket address of their family.
func TestAddressSockaddr(t *testing.T) {
	for _, s := range []string{"127.0.0.1:1", "[::ffff:127.0.0.1]:2", "[::1]:3"} {
		a := address{addr: netip.MustParseAddrPort(s)}
		_, family := a.sockaddr()
		want := unix.AF_INET6
		if a.addr.Addr().Unmap().Is4() {
			want = unix.AF_INET
		}
		if family != want {
			t.Errorf("sockaddr(%s) family = %d, want %d", s, family, want)
		}
	}
}

func addrStrings(addrs []address) []string {
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = a.String()
	}
	return out
}
