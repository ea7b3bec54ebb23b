package hostlist

import "testing"

func TestConfigClientHosts(t *testing.T) {
	for _, tc := range []struct{ config, want string }{
		{"", ""},
		{"version=100000000", ""},
		{"server.1=127.0.0.1:2888:3888:participant;127.0.0.1:2181\nserver.2=127.0.0.2:2888:3888;0.0.0.0:2182\nversion=1",
			"127.0.0.1:2181,127.0.0.2:2182"},
		{"server.3=[::1]:2888:3888:observer;2183", "[::1]:2183"},
		{"server.4=host4:2888:3888", ""}, // no client address: not usable
		{"server.5=host5:1:2;[::]:2185", "host5:2185"},
	} {
		if got := ConfigClientHosts([]byte(tc.config)); got != tc.want {
			t.Errorf("ConfigClientHosts(%q) = %q, want %q", tc.config, got, tc.want)
		}
	}
}
