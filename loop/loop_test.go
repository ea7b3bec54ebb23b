package loop

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// countingHandler polls fd (or nothing) and counts turns; it stops after
// stopAfter turns, or when stop is set.
type countingHandler struct {
	fd      int
	events  int16
	timeout time.Duration
	turns   atomic.Int64
	stop    atomic.Bool
	seen    chan int16 // revents of turns, as long as there is room
}

func (h *countingHandler) Interest() (int, int16, time.Duration) {
	return h.fd, h.events, h.timeout
}

func (h *countingHandler) Process(revents int16) bool {
	h.turns.Add(1)
	select {
	case h.seen <- revents: // nil channel: never ready
	default:
	}
	return !h.stop.Load()
}

func newLoop(t *testing.T) *Loop {
	t.Helper()
	l, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// socketPair returns a connected pair of non-blocking stream sockets,
// closed in t's cleanup.
func socketPair(t *testing.T) [2]int {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = unix.Close(fds[0]) // test teardown: nothing to do about an error
		_ = unix.Close(fds[1])
	})
	return fds
}

func runAsync(l *Loop, h Handler) <-chan error {
	done := make(chan error, 1)
	go func() { done <- l.Run(h) }()
	return done
}

func waitDone(t *testing.T, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
}

func TestWakeEndsSleep(t *testing.T) {
	l := newLoop(t)
	defer l.Close()
	h := &countingHandler{fd: -1, timeout: time.Hour, seen: make(chan int16, 16)}
	done := runAsync(l, h)
	h.stop.Store(true)
	l.Wake()
	select {
	case rev := <-h.seen:
		if rev != 0 {
			t.Errorf("revents after a wakeup = %#x, want 0", rev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a wakeup did not end an hour-long poll")
	}
	waitDone(t, done)
}

func TestWakeupsMerge(t *testing.T) {
	l := newLoop(t)
	defer l.Close()
	// Pretend the loop sleeps: every Wake then owes at most one byte.
	l.sleeping.Store(true)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				l.Wake()
			}
		}()
	}
	wg.Wait()
	var buf [16]byte
	n, err := unix.Read(l.wakeR, buf[:])
	if err != nil || n != 1 {
		t.Fatalf("pipe held %d bytes (err %v) after 8000 wakeups, want 1", n, err)
	}
}

func TestWakeWhileBusyWritesNothing(t *testing.T) {
	l := newLoop(t)
	defer l.Close()
	l.Wake() // the loop is not sleeping: it will see pending before it polls
	var buf [1]byte
	if _, err := unix.Read(l.wakeR, buf[:]); err != unix.EAGAIN {
		t.Fatalf("read after a wakeup of a busy loop: %v, want EAGAIN (no byte written)", err)
	}
	// The pending wakeup makes the next poll return at once.
	h := &countingHandler{fd: -1, timeout: time.Hour}
	h.stop.Store(true)
	done := runAsync(l, h)
	waitDone(t, done)
}

func TestSocketEventsReachProcess(t *testing.T) {
	fds := socketPair(t)
	l := newLoop(t)
	defer l.Close()
	h := &countingHandler{fd: fds[0], events: EventRead, timeout: time.Hour, seen: make(chan int16, 16)}
	done := runAsync(l, h)
	if _, err := unix.Write(fds[1], []byte("x")); err != nil {
		t.Fatal(err)
	}
	select {
	case rev := <-h.seen:
		if rev&EventRead == 0 {
			t.Errorf("revents = %#x, want EventRead", rev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("readable socket not reported")
	}
	h.stop.Store(true)
	l.Wake()
	waitDone(t, done)
}

func TestTimeoutRunsProcess(t *testing.T) {
	l := newLoop(t)
	defer l.Close()
	h := &countingHandler{fd: -1, timeout: time.Millisecond}
	done := runAsync(l, &stopAfter{countingHandler: h, n: 5})
	waitDone(t, done)
	if got := h.turns.Load(); got != 5 {
		t.Errorf("turns = %d, want 5", got)
	}
}

type stopAfter struct {
	*countingHandler
	n int64
}

func (s *stopAfter) Process(revents int16) bool {
	s.countingHandler.Process(revents)
	return s.turns.Load() < s.n
}

func TestPollMillis(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want int
	}{
		{-time.Second, 0},
		{0, 0},
		{time.Microsecond, 1},
		{time.Millisecond, 1},
		{1500 * time.Microsecond, 2},
		{time.Hour, 3600000},
		{1 << 62, 1<<31 - 1},
	} {
		if got := pollMillis(tc.d); got != tc.want {
			t.Errorf("pollMillis(%v) = %d, want %d", tc.d, got, tc.want)
		}
	}
}

// expectingHandler is a countingHandler that always expects work soon and
// counts how often it is asked.
type expectingHandler struct {
	*countingHandler
	asked atomic.Int64
}

func (e *expectingHandler) ExpectSoon() bool {
	e.asked.Add(1)
	return true
}

func TestExpectSoonAskedAfterEveryProcess(t *testing.T) {
	l := newLoop(t)
	defer l.Close()
	h := &expectingHandler{countingHandler: &countingHandler{fd: -1, timeout: time.Millisecond}}
	done := runAsync(l, &stopAfter{countingHandler: h.countingHandler, n: 5})
	waitDone(t, done)
	// stopAfter hides ExpectSoon: the loop must not find it.
	if got := h.asked.Load(); got != 0 {
		t.Errorf("ExpectSoon asked %d times of a Handler without it, want 0", got)
	}

	h = &expectingHandler{countingHandler: &countingHandler{fd: -1, timeout: time.Millisecond}}
	done = runAsync(l, h)
	for h.turns.Load() < 5 {
		runtime.Gosched()
	}
	h.stop.Store(true)
	l.Wake()
	waitDone(t, done)
	// The last Process returned false: no question after it.
	if turns, asked := h.turns.Load(), h.asked.Load(); asked != turns-1 {
		t.Errorf("ExpectSoon asked %d times after %d turns, want %d", asked, turns, turns-1)
	}
}

func TestSpin(t *testing.T) {
	fds := socketPair(t)
	l := newLoop(t)
	defer l.Close()
	pollFds := []unix.PollFd{{Fd: int32(l.wakeR), Events: unix.POLLIN}, {Fd: int32(fds[0]), Events: EventRead}}

	// Nothing to do: the spin gives up at once, without sleeping.
	if ready, rev, err := l.spin(pollFds); ready || rev != 0 || err != nil {
		t.Errorf("idle spin = %v, %#x, %v; want false, 0, nil", ready, rev, err)
	}

	// A pending wakeup ends it without a poll; the loop is not asleep, so
	// the wakeup wrote nothing to the pipe.
	l.Wake()
	if ready, rev, err := l.spin(pollFds); !ready || rev != 0 || err != nil {
		t.Errorf("spin with a wakeup pending = %v, %#x, %v; want true, 0, nil", ready, rev, err)
	}
	var b [1]byte
	if _, err := unix.Read(l.wakeR, b[:]); err != unix.EAGAIN {
		t.Errorf("read of the wake pipe after a wakeup of a spinning loop: %v, want EAGAIN", err)
	}
	l.pending.Store(false)

	// A readable socket ends it with the socket's events.
	if _, err := unix.Write(fds[1], []byte("x")); err != nil {
		t.Fatal(err)
	}
	if ready, rev, err := l.spin(pollFds); !ready || rev&EventRead == 0 || err != nil {
		t.Errorf("spin with data on the socket = %v, %#x, %v; want true, EventRead, nil", ready, rev, err)
	}

	// A byte in the wake pipe (a wakeup written while the loop slept) is
	// drained by the spin that finds it.
	if _, err := unix.Write(l.wakeW, []byte{1}); err != nil {
		t.Fatal(err)
	}
	if ready, _, err := l.spin(pollFds[:1]); !ready || err != nil {
		t.Errorf("spin with a byte in the wake pipe = %v, %v; want true, nil", ready, err)
	}
	if _, err := unix.Read(l.wakeR, b[:]); err != unix.EAGAIN {
		t.Errorf("wake pipe not drained by the spin: read %v, want EAGAIN", err)
	}
}
