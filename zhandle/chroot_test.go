package zhandle

import (
	"errors"
	"testing"
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
