package recipe

import (
	"net"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSequenceKey(t *testing.T) {
	tests := []struct {
		name, marker, want string
	}{
		{"_c_88726ba1-e900-49fb-96b4-4eaf9d8cd7b9-lock-0000000007", "lock-", "0000000007"},
		{"lock-0000000001", "lock-", "0000000001"},
		{"_c_x-lock-lock-0000000003", "lock-", "0000000003"}, // the last occurrence
		{"member-0000000003", "lock-", "member-0000000003"},  // no marker: the whole name
		{"x-lock-", "lock-", ""},
		{"_c_x-__READ__-2147483648", "__READ__", "-2147483648"},
	}
	for _, tt := range tests {
		if got := SequenceKey(tt.name, tt.marker); got != tt.want {
			t.Errorf("SequenceKey(%q, %q) = %q, want %q", tt.name, tt.marker, got, tt.want)
		}
	}
}

func TestSortSequential(t *testing.T) {
	const a, b, c = "_c_0a4c5a1b-8b0e-4f7e-9a55-3b2c1d0e9f8a-", "_c_ffffffff-ffff-4fff-bfff-ffffffffffff-", "_c_00000000-0000-4000-8000-000000000000-"
	tests := []struct {
		name     string
		children []string
		markers  []string
		want     []string
	}{
		{
			name:     "by sequence, not by prefix",
			children: []string{c + "lock-0000000002", b + "lock-0000000000", a + "lock-0000000001"},
			markers:  []string{"lock-"},
			want:     []string{b + "lock-0000000000", a + "lock-0000000001", c + "lock-0000000002"},
		},
		{
			// After the wrap, -2147483648 comes before -2147483647, but
			// Java compares strings: agreeing with it matters more.
			name:     "wrapped sequence numbers sort as strings, as in Curator",
			children: []string{a + "lock-2147483647", b + "lock--2147483648", c + "lock--2147483647"},
			markers:  []string{"lock-"},
			want:     []string{c + "lock--2147483647", b + "lock--2147483648", a + "lock-2147483647"},
		},
		{
			name:     "readers and writers in one queue",
			children: []string{a + "__READ__0000000003", b + "__WRIT__0000000001", c + "__READ__0000000002"},
			markers:  []string{"__READ__", "__WRIT__"},
			want:     []string{b + "__WRIT__0000000001", c + "__READ__0000000002", a + "__READ__0000000003"},
		},
		{
			name:     "equal keys keep the server's order (a downgrade's read node)",
			children: []string{a + "__READ__0000000005", b + "__WRIT__0000000005", c + "__WRIT__0000000004"},
			markers:  []string{"__READ__", "__WRIT__"},
			want:     []string{c + "__WRIT__0000000004", a + "__READ__0000000005", b + "__WRIT__0000000005"},
		},
		{
			name:     "a foreign child sorts by its whole name",
			children: []string{a + "lock-0000000001", "zz", "00"},
			markers:  []string{"lock-"},
			want:     []string{"00", a + "lock-0000000001", "zz"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := slices.Clone(tt.children)
			SortSequential(got, tt.markers...)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("SortSequential(%q) (-want +got):\n%s", tt.children, diff)
			}
		})
	}
}

var canonicalUUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestRandomUUID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := RandomUUID()
		if !canonicalUUID.MatchString(id) {
			t.Fatalf("RandomUUID() = %q, not a version 4 UUID in canonical text", id)
		}
		if seen[id] {
			t.Fatalf("RandomUUID() returned %q twice", id)
		}
		seen[id] = true
	}
}

func TestIsProtected(t *testing.T) {
	const id = "88726ba1-e900-49fb-96b4-4eaf9d8cd7b9"
	tests := []struct {
		name      string
		protected bool
		stripped  string
	}{
		{"_c_" + id + "-lock-0000000000", true, "lock-0000000000"},
		{"_c_" + strings.ToUpper(id) + "-x", true, "x"},           // Java's UUID.fromString takes either case
		{"_c_" + id + "-", false, "_c_" + id + "-"},               // 40 characters: nothing after the prefix
		{"_c_88726ba1e90049fb96b44eaf9d8cd7b9-lock-0", false, ""}, // go-zookeeper's prefix: no dashes
		{"_c_" + id + "_lock-0", false, ""},
		{"_c_88726ba1-e900-49fb-96b4-4eaf9d8cd7bz-x", false, ""},
		{"_d_" + id + "-lock-0", false, ""},
		{"lock-0000000000", false, ""},
	}
	for _, tt := range tests {
		if got := IsProtected(tt.name); got != tt.protected {
			t.Errorf("IsProtected(%q) = %v, want %v", tt.name, got, tt.protected)
		}
		want := tt.stripped
		if !tt.protected {
			want = tt.name
		}
		if got := StripProtection(tt.name); got != want {
			t.Errorf("StripProtection(%q) = %q, want %q", tt.name, got, want)
		}
	}
	for _, dir := range []string{"/", "/a/b"} {
		path, prefix := protectedPath(dir, "", "latch-0000000001")
		name := path[strings.LastIndexByte(path, '/')+1:]
		if !IsProtected(name) || len(name) != protectedLen+len("latch-0000000001") || Join(dir, name) != path ||
			!strings.HasPrefix(name, prefix) || len(prefix) != protectedLen {
			t.Errorf("protectedPath(%q) made %q, %q", dir, path, prefix)
		}
	}
}

func TestErrorPolicy(t *testing.T) {
	states := []ConnectionState{Latent, Connected, Suspended, Reconnected, Lost, ReadOnly}
	want := map[ErrorPolicy][]ConnectionState{
		SessionErrorPolicy:  {Lost},
		StandardErrorPolicy: {Suspended, Lost},
	}
	for policy, errorStates := range want {
		var got []ConnectionState
		for _, s := range states {
			if policy.IsError(s) {
				got = append(got, s)
			}
		}
		if diff := cmp.Diff(errorStates, got); diff != "" {
			t.Errorf("%v: error states (-want +got):\n%s", policy, diff)
		}
	}
}

func TestConnectionStateString(t *testing.T) {
	var got []string
	for s := Latent; s <= ReadOnly+1; s++ {
		got = append(got, s.String())
	}
	want := []string{"LATENT", "CONNECTED", "SUSPENDED", "RECONNECTED", "LOST", "READ_ONLY", "ConnectionState(6)"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
}

func TestJavaIPv6(t *testing.T) {
	tests := []struct {
		addr net.IPAddr
		want string
	}{
		{net.IPAddr{IP: net.ParseIP("fd00::2"), Zone: "eth0"}, "fd00:0:0:0:0:0:0:2%eth0"},
		{net.IPAddr{IP: net.ParseIP("::1")}, "0:0:0:0:0:0:0:1"},
		{net.IPAddr{IP: net.ParseIP("2001:db8:0:0:1:0:ab:ff00")}, "2001:db8:0:0:1:0:ab:ff00"},
	}
	for _, tt := range tests {
		if got := string(javaIPv6(tt.addr)); got != tt.want {
			t.Errorf("javaIPv6(%v) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}

// DefaultData is an address as text, as Java writes it, and the same
// every time.
func TestDefaultData(t *testing.T) {
	data := string(DefaultData())
	if data == "" {
		t.Skip("the host name does not resolve here")
	}
	addr, _, _ := strings.Cut(data, "%")
	if net.ParseIP(addr) == nil {
		t.Errorf("DefaultData() = %q, not an IP address", data)
	}
	if again := string(DefaultData()); again != data {
		t.Errorf("DefaultData() = %q, then %q", data, again)
	}
}
