package zhandle

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/zkloop/zkloop/internal/zktest"
	"github.com/zkloop/zkloop/serialize"
)

// Helpers of the connection-level tests (fake_test.go, session_test.go,
// close_test.go): a recording watcher, waits with deadlines, frame
// builders and a serving loop for the fake server, a wait on the
// zktest.Proxy that stands between a handle and a real server, and the
// goroutine and descriptor leak check.

const (
	// connWait bounds every wait for something that should happen soon: an
	// event, a callback, a script step. On loopback each takes
	// milliseconds; the rest is slack for a loaded 2-core machine under
	// -race with JVMs running beside.
	connWait = 20 * time.Second
	// connSessionTimeout is the session timeout of handles whose test does
	// not depend on it: long enough that no ping or receive deadline
	// interferes with a test.
	connSessionTimeout = 20 * time.Second
)

// connPasswd is the session password the fake server hands out.
var connPasswd = []byte("0123456789abcdef")

// connClientID is the ClientID of a fake session id with connPasswd.
func connClientID(id int64) ClientID {
	cid := ClientID{SessionID: id}
	copy(cid.Passwd[:], connPasswd)
	return cid
}

// connRecv receives from ch, failing the test after connWait.
func connRecv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	timer := time.NewTimer(connWait)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		t.Fatalf("no %s within %v", what, connWait)
		panic("unreachable")
	}
}

// connInit starts a handle on hosts (servers tried in the order given) and
// closes it in t.Cleanup, checking that Close returns within connWait.
// Cleanups run last first: a fake server or proxy made before the handle
// is still there when the handle says goodbye.
func connInit(t testing.TB, hosts string, w Watcher, timeout time.Duration, opts ...Option) *Handle {
	t.Helper()
	h, err := Init(hosts, w, timeout, append([]Option{WithDeterministicOrder()}, opts...)...)
	if err != nil {
		t.Fatalf("Init(%q): %v", hosts, err)
	}
	t.Cleanup(func() { connClose(t, h) })
	return h
}

// connClose closes h and fails the test when Close takes over connWait.
// It returns how long Close took.
func connClose(t testing.TB, h *Handle) time.Duration {
	t.Helper()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- h.Close() }()
	if err := connRecv(t, done, "return from Close"); err != nil {
		t.Errorf("Close: %v", err)
	}
	return time.Since(start)
}

// connConnected starts a handle like connInit and waits for its session
// (testContext, of helpers_test.go, bounds the wait).
func connConnected(t testing.TB, hosts string, w Watcher, timeout time.Duration, opts ...Option) *Handle {
	t.Helper()
	h := connInit(t, hosts, w, timeout, opts...)
	if err := h.WaitConnected(testContext(t)); err != nil {
		t.Fatalf("WaitConnected(%s): %v", hosts, err)
	}
	return h
}

// connRecorder is a Watcher that records every event in order and lets
// the test wait for one.
type connRecorder struct {
	mu     sync.Mutex
	events []Event
	cursor int           // events before it were matched or skipped by waitFor
	notify chan struct{} // signalled after each event
}

func newConnRecorder() *connRecorder { return &connRecorder{notify: make(chan struct{}, 1)} }

func (r *connRecorder) Process(ev Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// all returns a copy of every event so far.
func (r *connRecorder) all() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// waitFor waits for the first event after the cursor that match accepts,
// moves the cursor past it and returns it.
func (r *connRecorder) waitFor(t testing.TB, what string, match func(Event) bool) Event {
	t.Helper()
	timer := time.NewTimer(connWait)
	defer timer.Stop()
	for {
		r.mu.Lock()
		for i := r.cursor; i < len(r.events); i++ {
			if ev := r.events[i]; match(ev) {
				r.cursor = i + 1
				r.mu.Unlock()
				return ev
			}
		}
		r.mu.Unlock()
		select {
		case <-r.notify:
		case <-timer.C:
			t.Fatalf("no %s within %v; events: %v", what, connWait, r.all())
		}
	}
}

// waitSession waits for the next session event with state s.
func (r *connRecorder) waitSession(t testing.TB, s State) {
	t.Helper()
	r.waitFor(t, "session event "+s.String(), func(ev Event) bool { return ev.Type == EventSession && ev.State == s })
}

// waitAll waits until every event of want has been recorded, in any order
// and whatever the cursor.
func (r *connRecorder) waitAll(t testing.TB, want ...Event) {
	t.Helper()
	timer := time.NewTimer(connWait)
	defer timer.Stop()
	for {
		got := r.all()
		missing := connMissing(want, got)
		if len(missing) == 0 {
			return
		}
		select {
		case <-r.notify:
		case <-timer.C:
			t.Fatalf("events %v missing after %v; got %v", missing, connWait, got)
		}
	}
}

// connMissing returns the events of want that got lacks (as multisets).
func connMissing(want, got []Event) []Event {
	count := map[Event]int{}
	for _, ev := range got {
		count[ev]++
	}
	var missing []Event
	for _, ev := range want {
		if count[ev] == 0 {
			missing = append(missing, ev)
			continue
		}
		count[ev]--
	}
	return missing
}

func connSessionEvent(s State) Event { return Event{Type: EventSession, State: s} }

func connWatchEvent(typ EventType, path string) Event {
	return Event{Type: typ, State: StateConnected, Path: path}
}

// connCount is a set of per-request completion counters, to check that
// every request completes exactly once.
type connCount struct {
	slots []atomic.Int32
	done  sync.WaitGroup
	errs  sync.Map // error (nil as "ok") → *atomic.Int64
}

func newConnCount(n int) *connCount { return &connCount{slots: make([]atomic.Int32, n)} }

// expect announces one more request to complete; call it before the
// request is made, so that its completion cannot come first.
func (c *connCount) expect() { c.done.Add(1) }

// complete records the completion of request i with err; a second
// completion of the same request is reported to t.
func (c *connCount) complete(t testing.TB, i int, err error) {
	if n := c.slots[i].Add(1); n != 1 {
		t.Errorf("request %d completed %d times (last: %v)", i, n, err)
		return
	}
	key := "ok"
	if err != nil {
		key = err.Error()
	}
	v, _ := c.errs.LoadOrStore(key, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
	c.done.Done()
}

// wait waits until every expected completion has happened.
func (c *connCount) wait(t testing.TB) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		c.done.Wait()
		close(done)
	}()
	connRecv(t, done, "completion of every request")
}

// tally returns how many requests completed with each result ("ok" or
// the error's text).
func (c *connCount) tally() map[string]int64 {
	m := map[string]int64{}
	c.errs.Range(func(k, v any) bool {
		m[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	return m
}

// completed returns how many requests completed at least once.
func (c *connCount) completed() int {
	n := 0
	for i := range c.slots {
		if c.slots[i].Load() > 0 {
			n++
		}
	}
	return n
}

// Fake server: frames and a serving loop.

// fakeFrame prefixes body with its length.
func fakeFrame(body []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	return append(b, body...)
}

// fakeReplyFrame is a whole reply frame: ReplyHeader and body.
func fakeReplyFrame(xid int32, zxid int64, rc Error, body []byte) []byte {
	hdr := serialize.ReplyHeader{Xid: xid, Zxid: zxid, Err: int32(rc)}
	return fakeFrame(append(hdr.Encode(nil), body...))
}

// fakeConnectFrame is a whole ConnectResponse frame with the read-only byte.
func fakeConnectFrame(sessionID int64, timeoutMs int32, readOnly bool) []byte {
	resp := serialize.ConnectResponse{TimeOut: timeoutMs, SessionID: sessionID, Passwd: connPasswd}
	return fakeFrame(serialize.AppendBool(resp.Encode(nil), readOnly))
}

// fakeStat is the Stat the fake server reports for a node of n bytes.
func fakeStat(version int32, n int) Stat {
	return Stat{Czxid: 0x10, Mzxid: 0x20 + int64(version), Ctime: 1700000000000, Mtime: 1700000001000,
		Version: version, DataLength: int32(n), Pzxid: 0x10}
}

// fakeDataBody is a GetDataResponse.
func fakeDataBody(data []byte, stat Stat) []byte {
	resp := serialize.GetDataResponse{Data: data, Stat: serialize.Stat(stat)}
	return resp.Encode(nil)
}

// fakeStatBody is an ExistsResponse or SetDataResponse.
func fakeStatBody(stat Stat) []byte { return (*serialize.Stat)(&stat).Encode(nil) }

// fakePath decodes the path at the start of a request body (every request
// of a path: getData, exists, create, delete, ...).
func fakePath(body []byte) string {
	r := serialize.NewReader(body)
	return r.String()
}

// fakeServe answers a session's requests until the client closes it: pings
// are answered, CloseSession is answered and ends the script; any other
// request goes to answer, which replies as it likes (nil: an empty OK
// reply).
func fakeServe(c *zktest.FakeConn, answer func(xid int32, op serialize.OpCode, body []byte)) {
	c.SetTimeout(time.Minute) // the client may stay idle for long
	for {
		xid, op, body := c.ReadRequestAnswerPings()
		switch {
		case op == serialize.OpClose:
			c.Reply(xid, 0, 0, nil)
			return
		case answer != nil:
			answer(xid, op, body)
		default:
			c.Reply(xid, 0, 0, nil)
		}
	}
}

// fakeWaitRead waits until the client has read every byte the fake server
// wrote on c, so that the next write reaches it as a separate read: the
// client's side of the socket (found in /proc/net/tcp) had bytes queued
// and has none now. On loopback a write is queued at the receiver before
// it returns (unless the kernel deferred its network softirq), so a queue
// never seen non-empty within a millisecond was read before the first
// look. It waits on a condition, not for a time; after connWait it gives
// up quietly, and the split it was to force is then merely likely.
func fakeWaitRead(c *zktest.FakeConn) {
	server := c.Conn().LocalAddr().(*net.TCPAddr)
	client := c.Conn().RemoteAddr().(*net.TCPAddr)
	queued := false
	start := time.Now()
	for time.Since(start) < connWait {
		rx, ok := fakeTCPRecvQueue(client, server)
		switch {
		case !ok:
			return
		case rx > 0:
			queued = true
		case queued || time.Since(start) > time.Millisecond:
			return
		}
		runtime.Gosched()
	}
}

// fakeTCPRecvQueue returns the receive queue of the IPv4 socket
// local→remote from /proc/net/tcp.
func fakeTCPRecvQueue(local, remote *net.TCPAddr) (int, bool) {
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		return 0, false
	}
	defer f.Close() // read only
	hexAddr := func(a *net.TCPAddr) string {
		ip := a.IP.To4()
		return fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], a.Port)
	}
	l, r := hexAddr(local), hexAddr(remote)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 || fields[1] != l || fields[2] != r {
			continue
		}
		_, rxq, ok := strings.Cut(fields[4], ":") // tx_queue:rx_queue
		if !ok {
			return 0, false
		}
		n, err := strconv.ParseInt(rxq, 16, 64)
		return int(n), err == nil
	}
	return 0, false
}

// fakeWriteSplit writes b in two reads' worth: b[:k], then b[k:].
func fakeWriteSplit(c *zktest.FakeConn, b []byte, k int) {
	c.WriteRaw(b[:k])
	fakeWaitRead(c)
	c.WriteRaw(b[k:])
}

// connInFlight is a batch of getData requests that a blackholed proxy
// holds: written by the handle, answered by nobody.
type connInFlight struct {
	n       int
	count   *connCount
	syncErr chan error
}

// connHoldInFlight blackholes proxy, through which h is connected, makes n
// asynchronous getData requests of path and a synchronous one, and waits
// until the proxy has read every one of them.
func connHoldInFlight(t *testing.T, h *Handle, proxy *zktest.Proxy, path string, n int) *connInFlight {
	t.Helper()
	proxy.Blackhole()
	base := proxy.ClientBytes()
	f := &connInFlight{n: n, count: newConnCount(n), syncErr: make(chan error, 1)}
	for i := range n {
		f.count.expect()
		if err := h.AGet(path, false, func(err error, _ []byte, _ *Stat) { f.count.complete(t, i, err) }); err != nil {
			t.Fatalf("AGet: %v", err)
		}
	}
	ctx := testContext(t)
	go func() {
		_, _, err := h.Get(ctx, path, false)
		f.syncErr <- err
	}()
	frameLen := int64(4 + 8 + 4 + len(path) + 1) // a getData request
	connProxyWait(t, proxy, "request bytes", func() bool { return proxy.ClientBytes() >= base+int64(n+1)*frameLen })
	return f
}

// expectLost waits until every request of f has completed, each once and
// with ErrConnectionLoss.
func (f *connInFlight) expectLost(t *testing.T) {
	t.Helper()
	f.count.wait(t)
	if diff := cmp.Diff(map[string]int64{ErrConnectionLoss.Error(): int64(f.n)}, f.count.tally()); diff != "" {
		t.Errorf("requests in flight (-want +got):\n%s", diff)
	}
	if err := connRecv(t, f.syncErr, "Get in flight"); !errors.Is(err, ErrConnectionLoss) {
		t.Errorf("Get in flight: %v, want %v", err, ErrConnectionLoss)
	}
}

// connProxyWait waits until cond holds, rechecking it at every change
// the proxy sees; it fails the test after connWait.
func connProxyWait(t testing.TB, p *zktest.Proxy, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), connWait)
	defer cancel()
	if err := p.WaitFor(ctx, cond); err != nil {
		t.Fatalf("proxy: no %s within %v", what, connWait)
	}
}

// Leak check.

// closeLeakBaseline is what a test owns before Init: goroutines and open
// descriptors.
type closeLeakBaseline struct{ goroutines, fds int }

func closeTakeBaseline(t testing.TB) closeLeakBaseline {
	t.Helper()
	return closeLeakBaseline{goroutines: runtime.NumGoroutine(), fds: closeCountFDs(t)}
}

// closeCountFDs counts the entries of /proc/self/fd.
func closeCountFDs(t testing.TB) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("count descriptors: %v", err)
	}
	return len(entries)
}

// check waits (a settling loop with a deadline) until the goroutine and
// descriptor counts are back to the baseline, and fails the test with a
// goroutine dump and the descriptor list when they do not come back. It
// returns the counts it saw last.
func (b closeLeakBaseline) check(t testing.TB) (goroutines, fds int) {
	t.Helper()
	ticker := time.NewTicker(5 * time.Millisecond)
	defer ticker.Stop()
	deadline := time.Now().Add(10 * time.Second)
	for {
		goroutines, fds = runtime.NumGoroutine(), closeCountFDs(t)
		if goroutines <= b.goroutines && fds <= b.fds {
			return goroutines, fds
		}
		if time.Now().After(deadline) {
			break
		}
		<-ticker.C
	}
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var links []string
	if entries, err := os.ReadDir("/proc/self/fd"); err == nil {
		for _, e := range entries {
			target, _ := os.Readlink("/proc/self/fd/" + e.Name()) // a descriptor closed meanwhile has none
			links = append(links, e.Name()+"→"+target)
		}
	}
	t.Errorf("leak after Close: %d goroutines (before Init %d), %d descriptors (before Init %d)\ndescriptors: %v\n%s",
		goroutines, b.goroutines, fds, b.fds, links, buf)
	return goroutines, fds
}
