package zhandle

import (
	"flag"
	"sync"
	"testing"
	"time"

	"github.com/zkloop/zkloop/internal/fakeserver"
	"github.com/zkloop/zkloop/serialize"
)

// soakDuration runs TestSoakOpenClose for longer: handles are opened and
// closed until it has passed (at least soakHandles of them).
var soakDuration = flag.Duration("soak.duration", 0, "run TestSoakOpenClose this long (default: soakHandles handles, at most soakBound)")

const (
	soakHandles = 1000
	soakBound   = 60 * time.Second // of a plain go test run
	soakWorkers = 8
	soakPending = 20 // asynchronous requests in flight at Close, for some handles
)

// TestSoakOpenClose opens and closes 1,000 handles, 8 at a time, against
// a fake server, in four ways taken in turn: closed while connecting,
// closed once connected, closed with 20 asynchronous requests in flight,
// closed with a watch set after synchronous calls. Every request
// completes exactly once, every Close returns, and afterwards the
// goroutine and descriptor counts are back to what they were before the
// first Init. With -soak.duration it goes on until that time has passed.
func TestSoakOpenClose(t *testing.T) {
	if testing.Short() {
		t.Skip("the soak: 1,000 handles opened and closed")
	}
	fs := fakeserver.New(t)
	fs.SetDefault(serveAnyClient)
	leak := takeBaseline(t)
	bound, until := soakBound, time.Time{}
	if *soakDuration > 0 {
		bound, until = *soakDuration+soakBound, time.Now().Add(*soakDuration)
	}
	start := time.Now()
	deadline := start.Add(bound)
	var (
		mu      sync.Mutex
		next    int
		results = map[string]int{}
	)
	take := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		now := time.Now()
		if now.After(deadline) || next >= soakHandles && !now.Before(until) {
			return 0, false
		}
		next++
		return next - 1, true
	}
	note := func(err error) {
		key := "ok"
		if err != nil {
			key = err.Error()
		}
		mu.Lock()
		results[key]++
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for range soakWorkers {
		wg.Go(func() {
			for {
				i, ok := take()
				if !ok {
					return
				}
				if !cycleHandle(t, fs.Addr(), i, note) {
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if next < soakHandles {
		t.Errorf("%d of %d handles opened and closed within %v", next, soakHandles, bound)
	}
	goroutines, fds := leak.check(t)
	t.Logf("%d handles opened and closed in %v (%d connections); requests: %v; goroutines %d→%d, descriptors %d→%d",
		next, elapsed.Round(time.Millisecond), fs.Accepted(), results, leak.goroutines, goroutines, leak.fds, fds)
}

// cycleHandle opens handle i, uses it as i%4 says, closes it and checks that
// each request completed once. It returns false when the test failed.
func cycleHandle(t *testing.T, addr string, i int, note func(error)) bool {
	h, err := Init(addr, nil, sessionTimeout)
	if err != nil {
		t.Errorf("Init: %v", err)
		return false
	}
	ctx := testContext(t)
	ok := true
	kind := i % 4
	var count *outcomes
	if kind != 0 {
		if err := h.WaitConnected(ctx); err != nil {
			t.Errorf("handle %d: WaitConnected: %v", i, err)
			ok = false
		}
	}
	switch {
	case !ok:
	case kind == 2:
		count = newOutcomes(soakPending)
		for j := range soakPending {
			count.expect()
			if err := h.AExists("/soak", false, func(err error, _ *Stat) { note(err); count.complete(t, j, err) }); err != nil {
				t.Errorf("AExists: %v", err)
				count.complete(t, j, err)
			}
		}
	case kind == 3:
		for _, watch := range []bool{true, false} {
			_, err := h.Exists(ctx, "/soak", watch)
			note(err)
			if err != nil {
				t.Errorf("handle %d: Exists: %v", i, err)
				ok = false
			}
		}
	}
	if took := closeHandle(t, h); took > closeFlush+closeReply+lateness {
		t.Errorf("handle %d: Close took %v", i, took)
		ok = false
	}
	if count != nil {
		count.wait(t)
		for what := range count.tally() {
			if what != "ok" && what != ErrClosing.Error() && what != ErrConnectionLoss.Error() {
				t.Errorf("handle %d: requests in flight at Close: %v", i, count.tally())
				ok = false
			}
		}
	}
	return ok && !t.Failed()
}

// serveAnyClient is the fake server's script: it serves a session until the
// client closes, answering exists with a Stat and anything else with an
// empty reply, and takes a client that goes away at any point (before the
// handshake, with requests unanswered) as normal.
func serveAnyClient(c *fakeserver.Conn) {
	conn := c.Conn()
	if err := conn.SetDeadline(time.Now().Add(waitTimeout)); err != nil {
		return
	}
	read := func() ([]byte, bool) {
		body, err := serialize.ReadFrame(conn, serialize.DefaultMaxBuffer)
		return body, err == nil
	}
	write := func(b []byte) bool {
		_, err := conn.Write(b)
		return err == nil
	}
	if _, ok := read(); !ok { // the ConnectRequest
		return
	}
	if !write(fakeConnectFrame(int64(c.Index())+1, fakeTimeoutMs, false)) {
		return
	}
	for {
		body, ok := read()
		if !ok {
			return
		}
		var hdr serialize.RequestHeader
		if _, err := hdr.Decode(body); err != nil {
			return
		}
		var reply []byte
		switch serialize.OpCode(hdr.Type) {
		case serialize.OpExists:
			reply = fakeStatBody(fakeStat(1, 0))
		case serialize.OpClose:
			write(fakeReplyFrame(hdr.Xid, 0x10, 0, nil))
			return
		}
		if !write(fakeReplyFrame(hdr.Xid, 0x10, 0, reply)) {
			return
		}
	}
}
