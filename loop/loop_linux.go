package loop

import (
	"errors"
	"math"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zkloop/zkloop/internal/unixio"
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

// Expecter is an optional interface of a Handler. ExpectSoon, asked after
// each Process, reports whether more work is likely within microseconds,
// typically because Process woke a goroutine (a synchronous caller, a
// completion goroutine) that will likely queue its next request at once.
// The loop then spins briefly before it sleeps (see Run).
type Expecter interface {
	ExpectSoon() bool
}

// spinTurns bounds the spin after a turn whose Handler expects work soon:
// that many yields of the thread, with a look without sleeping after each
// but the last (the blocking poll is the last look). Each look costs about
// a microsecond when nothing comes. Measured on 2 cores against bench's
// fake server: in another process, 1 to 3 turns do equally well (sync get
// CPU time per call and latency both about −40%); in the same process,
// where a woken goroutine may need a little longer to come back, 3 turns
// cut the latency by a further 15%.
const spinTurns = 3

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
	// EAGAIN: the pipe is full, so the loop is being woken anyway.
	_, _ = unixio.Write(l.wakeW, one[:])
}

// Run polls and calls h until h.Process returns false or poll fails with
// an error other than EINTR, which it returns.
func (l *Loop) Run(h Handler) error {
	expecter, _ := h.(Expecter)
	soon := false
	fds := [2]unix.PollFd{{Fd: int32(l.wakeR), Events: unix.POLLIN}}
	for {
		fd, events, timeout := h.Interest()
		fds[1] = unix.PollFd{Fd: int32(fd), Events: events}
		n := 2
		if fd < 0 {
			n = 1
		}
		revents, ready := int16(0), false
		if soon {
			var err error
			if ready, revents, err = l.spin(fds[:n]); err != nil {
				return err
			}
		}
		if !ready {
			var err error
			if revents, err = l.poll(fds[:n], timeout); err != nil {
				return err
			}
		}
		l.pending.Store(false)
		if !h.Process(revents) {
			return nil
		}
		soon = expecter != nil && expecter.ExpectSoon()
	}
}

// spin looks for work without sleeping, up to spinTurns times. Each look
// first yields the thread, so that a goroutine the last turn woke runs
// now, on this thread, instead of on another thread woken to steal it: a
// synchronous caller's next request, or the requests of the completion
// goroutine's callbacks, then find the loop awake and cost no self-pipe
// write. A pending wakeup ends the spin without a poll; otherwise fds are
// polled with a zero timeout (not after the last yield: the blocking poll
// that follows looks then). spin reports whether there is work, and the
// socket's events.
func (l *Loop) spin(fds []unix.PollFd) (bool, int16, error) {
	for turn := range spinTurns {
		runtime.Gosched()
		if l.pending.Load() {
			return true, 0, nil
		}
		if turn == spinTurns-1 {
			break
		}
		n, err := unix.Poll(fds, 0)
		switch {
		case err == unix.EINTR:
		case err != nil:
			return false, 0, os.NewSyscallError("poll", err)
		case n > 0:
			return true, l.events(fds), nil
		}
	}
	return false, 0, nil
}

// poll sleeps until the wake pipe or the Handler's socket (fds[1], when
// given) is ready or the timeout passes, and returns the socket's events
// (0 after EINTR).
func (l *Loop) poll(fds []unix.PollFd, timeout time.Duration) (int16, error) {
	// Announce the sleep before the last look at pending: a waker either
	// sees sleeping and writes, or the loop sees its pending.
	l.sleeping.Store(true)
	ms := pollMillis(timeout)
	if l.pending.Load() {
		ms = 0
	}
	_, err := unix.Poll(fds, ms)
	l.sleeping.Store(false)
	switch {
	case err == unix.EINTR: // not retried: Run recomputes the timeout
		return 0, nil
	case err != nil:
		return 0, os.NewSyscallError("poll", err)
	}
	return l.events(fds), nil
}

// events drains the wake pipe if poll found it readable and returns the
// socket's events.
func (l *Loop) events(fds []unix.PollFd) int16 {
	if fds[0].Revents&unix.POLLIN != 0 {
		l.drain()
	}
	if len(fds) < 2 {
		return 0
	}
	return fds[1].Revents
}

// drain empties the self-pipe; a short read means it is empty, EAGAIN too.
func (l *Loop) drain() {
	var buf [64]byte
	for {
		n, err := unixio.Read(l.wakeR, buf[:])
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
