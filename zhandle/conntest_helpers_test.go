package zhandle

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zkloop/zkloop/internal/zktest"
	"github.com/zkloop/zkloop/serialize"
)

// Helpers of the connection-level tests (fake_test.go, session_test.go,
// close_test.go): a recording watcher, waits with deadlines, frame
// builders and a serving loop for the fake server, a loopback proxy that
// can cut, refuse and hold a handle's connection to a real server, and
// the goroutine and descriptor leak check.

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
	resp := serialize.GetDataResponse{Data: data, Stat: stat}
	return resp.Encode(nil)
}

// fakeStatBody is an ExistsResponse or SetDataResponse.
func fakeStatBody(stat Stat) []byte { return stat.Encode(nil) }

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

// sessProxy is a loopback TCP proxy between handles and a real server. A
// test can cut its connections, refuse new ones (the server seems down
// while it runs), hold the requests of its connections (they reach the
// proxy but not the server: requests stay in flight) and record the
// frames clients send.
type sessProxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	upBytes   atomic.Int64  // bytes read from clients
	forwarded atomic.Int64  // connections forwarded to the server
	notify    chan struct{} // signalled at each connection forwarded and each frame read

	mu        sync.Mutex
	cond      sync.Cond
	refuse    bool
	hold      bool
	recording bool
	frames    [][]byte // bodies of the client frames seen while recording
	pairs     map[*sessPair]struct{}
	closed    bool
}

type sessPair struct {
	client, server net.Conn
	held           [][]byte // client frames read, not yet forwarded
	closed         bool
}

// newSessProxy starts a proxy to target, closed in t.Cleanup.
func newSessProxy(t testing.TB, target string) *sessProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	p := &sessProxy{ln: ln, target: target, pairs: map[*sessPair]struct{}{}, notify: make(chan struct{}, 1)}
	p.cond.L = &p.mu
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *sessProxy) addr() string { return p.ln.Addr().String() }

func (p *sessProxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.mu.Lock()
		refuse := p.refuse || p.closed
		p.mu.Unlock()
		if refuse {
			_ = client.Close() // the refusal itself
			continue
		}
		server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			_ = client.Close() // the server is down: so is the proxy
			continue
		}
		pp := &sessPair{client: client, server: server}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			_ = client.Close() // closing down; errors are of no interest
			_ = server.Close()
			return
		}
		p.pairs[pp] = struct{}{}
		p.wg.Add(3)
		p.mu.Unlock()
		p.forwarded.Add(1)
		p.signal()
		go p.readUp(pp)
		go p.writeUp(pp)
		go p.pumpDown(pp)
	}
}

// readUp reads the client's frames, counts and records them, and queues
// them for writeUp.
func (p *sessProxy) readUp(pp *sessPair) {
	defer p.wg.Done()
	defer p.closePair(pp)
	for {
		var hdr [4]byte
		if _, err := io.ReadFull(pp.client, hdr[:]); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if n > 8<<20 {
			return
		}
		frame := make([]byte, 4+n)
		copy(frame, hdr[:])
		if _, err := io.ReadFull(pp.client, frame[4:]); err != nil {
			return
		}
		p.mu.Lock()
		if p.recording {
			p.frames = append(p.frames, frame[4:])
		}
		pp.held = append(pp.held, frame)
		p.cond.Broadcast()
		p.mu.Unlock()
		p.upBytes.Add(int64(len(frame)))
		p.signal()
	}
}

// writeUp forwards the queued frames to the server while no hold is on.
func (p *sessProxy) writeUp(pp *sessPair) {
	defer p.wg.Done()
	defer p.closePair(pp)
	for {
		p.mu.Lock()
		for (p.hold || len(pp.held) == 0) && !pp.closed {
			p.cond.Wait()
		}
		frames, closed := pp.held, pp.closed
		pp.held = nil
		p.mu.Unlock()
		if closed {
			return
		}
		for _, frame := range frames {
			if _, err := pp.server.Write(frame); err != nil {
				return
			}
		}
	}
}

// pumpDown copies the server's bytes to the client.
func (p *sessProxy) pumpDown(pp *sessPair) {
	defer p.wg.Done()
	defer p.closePair(pp)
	// The copy ends when either side closes; how does not matter.
	_, _ = io.Copy(pp.client, pp.server)
}

func (p *sessProxy) closePair(pp *sessPair) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pp.closed {
		return
	}
	pp.closed = true
	delete(p.pairs, pp)
	_ = pp.client.Close() // tearing down: close errors change nothing
	_ = pp.server.Close()
	p.cond.Broadcast()
}

// cut closes every forwarded connection.
func (p *sessProxy) cut() {
	p.mu.Lock()
	pairs := make([]*sessPair, 0, len(p.pairs))
	for pp := range p.pairs {
		pairs = append(pairs, pp)
	}
	p.mu.Unlock()
	for _, pp := range pairs {
		p.closePair(pp)
	}
}

// setRefuse makes the proxy close new connections at once (on) or forward
// them (off).
func (p *sessProxy) setRefuse(on bool) {
	p.mu.Lock()
	p.refuse = on
	p.mu.Unlock()
}

// setHold holds (on) or releases (off) the client frames not yet
// forwarded.
func (p *sessProxy) setHold(on bool) {
	p.mu.Lock()
	p.hold = on
	p.cond.Broadcast()
	p.mu.Unlock()
}

// record starts recording the client frames and forgets those recorded
// before.
func (p *sessProxy) record() {
	p.mu.Lock()
	p.recording, p.frames = true, nil
	p.mu.Unlock()
}

// recorded returns the frames recorded so far.
func (p *sessProxy) recorded() [][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([][]byte(nil), p.frames...)
}

func (p *sessProxy) signal() {
	select {
	case p.notify <- struct{}{}:
	default:
	}
}

// waitCount waits until counter reaches n.
func (p *sessProxy) waitCount(t testing.TB, what string, counter *atomic.Int64, n int64) {
	t.Helper()
	timer := time.NewTimer(connWait)
	defer timer.Stop()
	for counter.Load() < n {
		select {
		case <-p.notify:
		case <-timer.C:
			t.Fatalf("proxy: %d %s within %v, want %d", counter.Load(), what, connWait, n)
		}
	}
}

func (p *sessProxy) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	_ = p.ln.Close() // ends accept
	p.cut()
	p.wg.Wait()
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
