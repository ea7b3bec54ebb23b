package zhandle

import (
	"net"
	"net/netip"
	"os"

	"golang.org/x/sys/unix"

	"github.com/zkloop/zkloop/internal/unixio"
)

// The handle's socket syscalls through x/sys/unix (the socket, connect,
// getsockopt, recv, send and close calls of zookeeper.c): errors are
// wrapped with os.NewSyscallError here, interrupted calls retried in
// internal/unixio.

// errWouldBlock is a non-blocking socket's "not now" (EAGAIN), returned
// as is by sockRead and sockWrite.
var errWouldBlock error = unix.EAGAIN

// openSocket opens a non-blocking TCP socket with TCP_NODELAY and starts
// connecting it to ap. It returns -1 with the error when no socket could
// be made. Otherwise the socket is the caller's: connected says the
// connection is already up (it happens on loopback), an error that the
// connect failed; else it completes once the socket is writable
// (connectResult).
func openSocket(ap netip.AddrPort) (fd int, connected bool, err error) {
	sa, family := sockaddr(ap)
	fd, err = unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		return -1, false, os.NewSyscallError("socket", err)
	}
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
		_ = unix.Close(fd) // the setsockopt error is the one to report
		return -1, false, os.NewSyscallError("setsockopt TCP_NODELAY", err)
	}
	switch err := unixio.Connect(fd, sa); err {
	case nil:
		return fd, true, nil
	case unix.EINPROGRESS, unix.EALREADY:
		return fd, false, nil
	case unix.EISCONN: // interrupted, retried, and connected meanwhile
		return fd, true, nil
	default:
		return fd, false, os.NewSyscallError("connect", err)
	}
}

// connectResult is the outcome of a non-blocking connect once its socket
// is writable (SO_ERROR).
func connectResult(fd int) error {
	soErr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return os.NewSyscallError("getsockopt SO_ERROR", err)
	}
	if soErr != 0 {
		return os.NewSyscallError("connect", unix.Errno(soErr))
	}
	return nil
}

// sockRead reads what the socket has into p without blocking; 0 bytes and
// no error is the end of the stream, errWouldBlock that nothing is there.
func sockRead(fd int, p []byte) (int, error) {
	n, err := unixio.Read(fd, p)
	return sockResult("read", n, err)
}

// sockWrite writes what it can of p without blocking; errWouldBlock when
// the socket's buffer is full.
func sockWrite(fd int, p []byte) (int, error) {
	n, err := unixio.Write(fd, p)
	return sockResult("write", n, err)
}

// sockResult is the outcome of a non-blocking read or write: no byte
// count with an error, EAGAIN as errWouldBlock, others wrapped.
func sockResult(call string, n int, err error) (int, error) {
	switch {
	case err == errWouldBlock:
		return 0, err
	case err != nil:
		return 0, os.NewSyscallError(call, err)
	}
	return n, nil
}

// closeSocketFD closes a socket.
func closeSocketFD(fd int) error {
	if err := unix.Close(fd); err != nil {
		return os.NewSyscallError("close", err)
	}
	return nil
}

// sockaddr converts an address for connect(2).
func sockaddr(ap netip.AddrPort) (unix.Sockaddr, int) {
	ip := ap.Addr()
	if ip.Is4() || ip.Is4In6() {
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ip.Unmap().As4()}, unix.AF_INET
	}
	sa := &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ip.As16()}
	if zone := ip.Zone(); zone != "" {
		if ifi, err := net.InterfaceByName(zone); err == nil {
			sa.ZoneId = uint32(ifi.Index)
		}
	}
	return sa, unix.AF_INET6
}
