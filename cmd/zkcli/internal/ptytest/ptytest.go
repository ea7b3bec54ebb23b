// Package ptytest gives tests a pseudo-terminal to drive a program that
// reads a terminal: Open opens a master and slave pair, the program gets
// the slave, and a Screen on the master types keys and waits for what the
// program shows. It is for tests only.
package ptytest

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Timeout bounds each wait for the terminal's output.
const Timeout = 15 * time.Second

// Open opens a pseudo-terminal pair (posix_openpt, grantpt, unlockpt,
// ptsname) of width cols, or skips the test where there is none. The
// master is non-blocking, so that closing it ends a read blocked on it
// and hangs the terminal up: the slave's reader then gets an error. Both
// are closed when the test ends.
func Open(t testing.TB, cols uint16) (master, slave *os.File) {
	t.Helper()
	mfd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	master = os.NewFile(uintptr(mfd), "/dev/ptmx")
	t.Cleanup(func() { _ = master.Close() }) // nothing to do about an error at the end
	if err := unix.IoctlSetPointerInt(mfd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(os.NewSyscallError("unlockpt", err))
	}
	n, err := unix.IoctlGetInt(mfd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(os.NewSyscallError("ptsname", err))
	}
	name := fmt.Sprintf("/dev/pts/%d", n)
	sfd, err := unix.Open(name, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	slave = os.NewFile(uintptr(sfd), name)
	t.Cleanup(func() { _ = slave.Close() }) // closed already when handed to a child process
	if err := unix.IoctlSetWinsize(sfd, unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: cols}); err != nil {
		t.Fatal(err)
	}
	return master, slave
}

// Screen collects what the program writes to its terminal and waits for
// text.
type Screen struct {
	t      testing.TB
	master *os.File
	mu     sync.Mutex
	buf    bytes.Buffer
	mark   int // Expect looks after this offset
	grew   chan struct{}
}

// NewScreen starts reading master until it is closed or the terminal
// hangs up.
func NewScreen(t testing.TB, master *os.File) *Screen {
	s := &Screen{t: t, master: master, grew: make(chan struct{}, 1)}
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := master.Read(b)
			s.mu.Lock()
			s.buf.Write(b[:n])
			s.mu.Unlock()
			select {
			case s.grew <- struct{}{}:
			default:
			}
			if err != nil { // EIO once the program has exited, or closed
				return
			}
		}
	}()
	return s
}

// Expect waits until want appears after the mark, moves the mark past it
// and returns the output up to it. It fails the test after Timeout.
func (s *Screen) Expect(want string) string {
	s.t.Helper()
	deadline := time.After(Timeout)
	for {
		s.mu.Lock()
		text := s.buf.String()[s.mark:]
		if i := strings.Index(text, want); i >= 0 {
			s.mark += i + len(want)
			s.mu.Unlock()
			return text[:i+len(want)]
		}
		s.mu.Unlock()
		select {
		case <-s.grew:
		case <-deadline:
			s.t.Fatalf("terminal never showed %q; after the last match it shows:\n%q", want, text)
		}
	}
}

// Send types keys.
func (s *Screen) Send(keys string) {
	s.t.Helper()
	if _, err := s.master.WriteString(keys); err != nil {
		s.t.Fatal(err)
	}
}
