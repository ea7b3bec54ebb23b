package loop

import (
	"errors"
	"math"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Poll event bits, re-exported so Handlers need not import x/sys/unix.
const (
	EventRead  int16 = unix.POLLIN
	EventWrite int16 = unix.POLLOUT
	EventError int16 = unix.POLLERR | unix.POLLHUP | unix.POLLNVAL
)

// Handler is what a Loop drives.
type Handler interface {
	// Interest is the port of zookeeper_interest: the socket to poll (-1 for
	// none), the events wanted on it, and the longest time to sleep.
	Interest() (fd int, events int16, timeout time.Duration)
	// Process is the port of zookeeper_process: it handles the events poll
	// reported for the socket (0 after a timeout or a wakeup) and any work
	// queued by callers. It returns false to end the loop.
	Process(revents int16) bool
}

// Loop owns the self-pipe and runs the poll loop.
type Loop struct {
	wakeR, wakeW int
	pending      atomic.Bool // a wakeup is owed to the loop
	sleeping     atomic.Bool // the loop is in, or about to enter, poll
}

// New creates a Loop with its self-pipe (pipe2 with O_NONBLOCK|O_CLOEXEC).
func New() (*Loop, error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		return nil, os.NewSyscallError("pipe2", err)
	}
	return &Loop{wakeR: p[0], wakeW: p[1]}, nil
}

// Wake makes the loop run its Handler soon (wakeup_io_thread). It is cheap
// and safe from any goroutine; wakeups merge.
func (l *Loop) Wake() {
	if l.pending.Swap(true) {
		return // someone already owes the loop a turn
	}
	if !l.sleeping.Load() {
		return // the loop checks pending before it sleeps
	}
	var one = [1]byte{1}
	for {
		_, err := unix.Write(l.wakeW, one[:])
		// EAGAIN: the pipe is full, so the loop is being woken anyway.
		if err != unix.EINTR {
			return
		}
	}
}

// Run polls and calls h until h.Process returns false or poll fails with
// an error other than EINTR, which it returns.
func (l *Loop) Run(h Handler) error {
	fds := [2]unix.PollFd{{Fd: int32(l.wakeR), Events: unix.POLLIN}}
	for {
		fd, events, timeout := h.Interest()
		fds[1] = unix.PollFd{Fd: int32(fd), Events: events}
		n := 2
		if fd < 0 {
			n = 1
		}
		// Announce the sleep before the last look at pending: a waker
		// either sees sleeping and writes, or the loop sees its pending.
		l.sleeping.Store(true)
		ms := pollMillis(timeout)
		if l.pending.Load() {
			ms = 0
		}
		_, err := unix.Poll(fds[:n], ms)
		l.sleeping.Store(false)
		if err != nil && err != unix.EINTR {
			return os.NewSyscallError("poll", err)
		}
		if err == nil && fds[0].Revents&unix.POLLIN != 0 {
			l.drain()
		}
		l.pending.Store(false)
		revents := int16(0)
		if err == nil && n == 2 {
			revents = fds[1].Revents
		}
		if !h.Process(revents) {
			return nil
		}
	}
}

// drain empties the self-pipe; a short read means it is empty, EAGAIN too.
func (l *Loop) drain() {
	var buf [64]byte
	for {
		n, err := unix.Read(l.wakeR, buf[:])
		if err == unix.EINTR {
			continue
		}
		if err != nil || n < len(buf) {
			return
		}
	}
}

// Close releases the self-pipe. Call it once, after Run has returned.
func (l *Loop) Close() error {
	return errors.Join(closeFd("close wake reader", l.wakeR), closeFd("close wake writer", l.wakeW))
}

func closeFd(what string, fd int) error {
	if err := unix.Close(fd); err != nil {
		return os.NewSyscallError(what, err)
	}
	return nil
}

// pollMillis rounds a timeout up to whole milliseconds so that a wait of a
// fraction of a millisecond does not become a busy loop of zero-time polls.
func pollMillis(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	ms := (d + time.Millisecond - 1) / time.Millisecond
	if ms > math.MaxInt32 {
		return math.MaxInt32
	}
	return int(ms)
}
