package zhandle

import (
	"testing"
	"time"

	"github.com/zkloop/zkloop/internal/fakeserver"
	"github.com/zkloop/zkloop/loop"
	"github.com/zkloop/zkloop/serialize"
)

// TestExpectSoon follows what the handle tells the loop (loop.Expecter)
// through one asynchronous request: nothing while idle or while the
// request is in flight, then the completion handed over, then nothing
// again.
func TestExpectSoon(t *testing.T) {
	srv := fakeserver.New(t)
	srv.SetDefault(func(c *fakeserver.Conn) {
		c.Handshake(0x1234, int32(time.Minute/time.Millisecond), make([]byte, 16), false)
		xid, _, _ := c.ReadRequestAnswerPings()
		var stat serialize.Stat
		c.Reply(xid, 7, 0, stat.Encode(nil))
		fakeserver.NeverAnswer(c)
	})
	h := newDrivenHandle(t, srv.Addr())
	lp, err := loop.New() // for the requests' Wake; it never runs
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lp.Close() }) // a pipe nobody else uses
	h.loop = lp

	(*driver)(h).ExpectSoon() // the handshake queued a session event: forget it
	if (*driver)(h).ExpectSoon() {
		t.Error("an idle handle expects work soon")
	}
	if err := h.AExists("/a", false, func(error, *Stat) {}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(waitTimeout)
	for h.inFlight() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no reply within %v", waitTimeout)
		}
		if (*driver)(h).ExpectSoon() {
			t.Error("a handle that only waits for a reply expects work soon")
		}
		turnByHand(t, h)
	}
	if !(*driver)(h).ExpectSoon() {
		t.Error("a handle that handed over a completion does not expect work soon")
	}
	if (*driver)(h).ExpectSoon() {
		t.Error("ExpectSoon still true once the completion was reported")
	}
}

// inFlight is the number of requests awaiting replies.
func (h *Handle) inFlight() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sent.Len()
}
