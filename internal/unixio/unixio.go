// Package unixio holds the syscalls of the poll loop and the handle's
// socket that can be interrupted by a signal, each retried on EINTR here
// and nowhere else (as Go's internal/poll does with ignoringEINTRIO).
// EAGAIN and every other error go back to the caller. poll(2) is not
// here: an interrupted poll returns to its loop, which recomputes the
// timeout.
package unixio

import "golang.org/x/sys/unix"

// Read is read(2), retried on EINTR.
func Read(fd int, p []byte) (int, error) {
	for {
		n, err := unix.Read(fd, p)
		if err != unix.EINTR {
			return n, err
		}
	}
}

// Write is write(2), retried on EINTR.
func Write(fd int, p []byte) (int, error) {
	for {
		n, err := unix.Write(fd, p)
		if err != unix.EINTR {
			return n, err
		}
	}
}

// Connect is connect(2), retried on EINTR. On a non-blocking socket
// interrupted after the connection started, the retry reports EALREADY
// or EISCONN; callers treat those as EINPROGRESS and as success.
func Connect(fd int, sa unix.Sockaddr) error {
	for {
		err := unix.Connect(fd, sa)
		if err != unix.EINTR {
			return err
		}
	}
}
