package zhandle

import (
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

// Addresses convert to the socket address of their family.
func TestAddressSockaddr(t *testing.T) {
	for _, s := range []string{"127.0.0.1:1", "[::ffff:127.0.0.1]:2", "[::1]:3"} {
		ap := netip.MustParseAddrPort(s)
		_, family := sockaddr(ap)
		want := unix.AF_INET6
		if ap.Addr().Unmap().Is4() {
			want = unix.AF_INET
		}
		if family != want {
			t.Errorf("sockaddr(%s) family = %d, want %d", s, family, want)
		}
	}
}

// sockRead and sockWrite return no byte count with an error: EAGAIN as
// errWouldBlock, anything else wrapped.
func TestSockReadWrite(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer closeSocketFD(fds[1])
	buf := make([]byte, 8)
	if n, err := sockRead(fds[0], buf); n != 0 || err != errWouldBlock {
		t.Errorf("sockRead of an empty socket = %d, %v; want 0, errWouldBlock", n, err)
	}
	if n, err := sockWrite(fds[1], []byte("zk")); n != 2 || err != nil {
		t.Errorf("sockWrite = %d, %v; want 2, nil", n, err)
	}
	if n, err := sockRead(fds[0], buf); n != 2 || err != nil || string(buf[:n]) != "zk" {
		t.Errorf("sockRead = %d %q, %v; want 2 \"zk\"", n, buf[:max(n, 0)], err)
	}
	if err := closeSocketFD(fds[0]); err != nil {
		t.Fatal(err)
	}
	if n, err := sockRead(fds[0], buf); n != 0 || err == nil || err == errWouldBlock {
		t.Errorf("sockRead of a closed descriptor = %d, %v; want 0 and EBADF", n, err)
	}
}
