package zhandle

import (
	"context"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zkloop/zkloop/completion"
	"github.com/zkloop/zkloop/hashtable"
	"github.com/zkloop/zkloop/internal/fakeserver"
	"github.com/zkloop/zkloop/internal/hostlist"
)

// newDrivenHandle returns a handle with an established session to addr
// whose I/O and completion goroutines were never started: the caller is
// the I/O goroutine and calls Interest and Process itself. The fields are
// those Init sets.
func newDrivenHandle(tb testing.TB, addr string) *Handle {
	tb.Helper()
	cfg := defaultConfig()
	addrs, err := hostlist.Resolve(context.Background(), addr)
	if err != nil {
		tb.Fatal(err)
	}
	h := &Handle{
		cfg:            cfg,
		completions:    completion.NewQueue(),
		watches:        hashtable.New(),
		loopDone:       make(chan struct{}),
		completionDone: make(chan struct{}),
		state:          StateNotConnected,
		hosts:          hostlist.New(addrs),
		log:            cfg.logger,
	}
	h.defaultRef = defaultWatcher{h}
	h.recvTimeout.Store(int64(time.Minute))
	h.c.init()
	tb.Cleanup(func() { h.shutdownConn(ErrClosing) })
	deadline := time.Now().Add(waitTimeout)
	for h.c.phase != phaseEstablished {
		if time.Now().After(deadline) {
			tb.Fatalf("no session within %v", waitTimeout)
		}
		turnByHand(tb, h)
	}
	return h
}

// turnByHand runs one turn of the I/O loop on the calling goroutine,
// sleeping in poll at most a second.
func turnByHand(tb testing.TB, h *Handle) {
	tb.Helper()
	fd, events, timeout := (*driver)(h).Interest()
	revents := int16(0)
	if fd >= 0 {
		fds := []unix.PollFd{{Fd: int32(fd), Events: events}}
		if _, err := unix.Poll(fds, int(min(timeout, time.Second)/time.Millisecond)); err != nil && err != unix.EINTR {
			tb.Fatal(err)
		}
		revents = fds[0].Revents
	}
	if !(*driver)(h).Process(revents) {
		tb.Fatal("the handle stopped")
	}
}

// BenchmarkInterestProcessIdle measures one turn of the I/O loop's own
// work with nothing to do (an established session, nothing queued,
// nothing received): zookeeper_interest plus zookeeper_process, without
// the poll between them.
func BenchmarkInterestProcessIdle(b *testing.B) {
	srv := fakeserver.New(b)
	srv.SetDefault(func(c *fakeserver.Conn) {
		c.Handshake(0x1234, int32(time.Minute/time.Millisecond), make([]byte, 16), false)
		fakeserver.NeverAnswer(c)
	})
	h := newDrivenHandle(b, srv.Addr())
	b.ReportAllocs()
	for b.Loop() {
		if fd, _, _ := (*driver)(h).Interest(); fd < 0 {
			b.Fatal("lost the connection")
		}
		if !(*driver)(h).Process(0) {
			b.Fatal("the handle stopped")
		}
	}
}
