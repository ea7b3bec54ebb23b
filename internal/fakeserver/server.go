package fakeserver

import (
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zkloop/zkloop/serialize"
	"golang.org/x/sys/unix"
)

// ReadTimeout is how long a Conn read or write waits by default
// before it fails the test; SetTimeout changes it per connection.
const ReadTimeout = 5 * time.Second

// maxFrame is the largest frame a Conn reads: the client's own
// limit plus slack, so a test sees the client's frame rather than a refusal
// here.
const maxFrame = 2 * serialize.DefaultMaxBuffer

// A Server is a scripted ZooKeeper server for client unit tests. It
// listens on 127.0.0.1 and runs one script per accepted connection: the
// scripts queued with Script, in order, then the default (SetDefault;
// NeverAnswer unless set). Each script runs on its own goroutine; when it
// returns, the connection is closed. A failed read, write or decode in a
// script reports the failure through t.Errorf and ends that script.
//
// Close, also run by t.Cleanup, stops the listener, closes every connection
// and waits for the scripts to return.
type Server struct {
	t  testing.TB
	ln net.Listener
	wg sync.WaitGroup // the accept loop and the scripts

	mu       sync.Mutex
	queue    []func(*Conn)
	fallback func(*Conn)
	conns    map[*Conn]struct{} // open connections
	accepted int
	closed   bool
}

// New starts a Server on a free loopback port.
func New(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("fakeserver: %v", err)
	}
	fs := &Server{t: t, ln: ln, fallback: NeverAnswer, conns: make(map[*Conn]struct{})}
	fs.wg.Add(1)
	go fs.acceptLoop()
	t.Cleanup(fs.Close)
	return fs
}

// Addr returns the listening address, "127.0.0.1:<port>".
func (fs *Server) Addr() string { return fs.ln.Addr().String() }

// Script queues scripts, one for each of the next connections, in order.
func (fs *Server) Script(scripts ...func(c *Conn)) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.queue = append(fs.queue, scripts...)
}

// SetDefault sets the script for connections that find the queue empty.
func (fs *Server) SetDefault(script func(c *Conn)) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.fallback = script
}

// Accepted returns the number of connections accepted so far.
func (fs *Server) Accepted() int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.accepted
}

// Close stops accepting, closes every connection and waits (up to 10 s, then
// reports an error) for the scripts to return. It is idempotent.
func (fs *Server) Close() {
	fs.mu.Lock()
	if fs.closed {
		fs.mu.Unlock()
		return
	}
	fs.closed = true
	conns := make([]*Conn, 0, len(fs.conns))
	for c := range fs.conns {
		conns = append(conns, c)
	}
	fs.mu.Unlock()
	// Close errors are of no interest here: we are tearing down.
	_ = fs.ln.Close()
	for _, c := range conns {
		_ = c.conn.Close()
	}
	done := make(chan struct{})
	go func() {
		fs.wg.Wait()
		close(done)
	}()
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		fs.t.Errorf("fakeserver %s: a script did not return within 10 s of Close", fs.Addr())
	}
}

func (fs *Server) isClosed() bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.closed
}

func (fs *Server) acceptLoop() {
	defer fs.wg.Done()
	for {
		conn, err := fs.ln.Accept()
		if err != nil {
			if !fs.isClosed() {
				fs.t.Errorf("fakeserver %s: accept: %v", fs.Addr(), err)
			}
			return
		}
		fs.mu.Lock()
		if fs.closed {
			fs.mu.Unlock()
			_ = conn.Close() // accepted during Close
			return
		}
		c := &Conn{fs: fs, conn: conn, index: fs.accepted, timeout: ReadTimeout}
		fs.accepted++
		script := fs.fallback
		if len(fs.queue) > 0 {
			script, fs.queue = fs.queue[0], fs.queue[1:]
		}
		fs.conns[c] = struct{}{}
		fs.wg.Add(1)
		fs.mu.Unlock()
		go fs.run(c, script)
	}
}

func (fs *Server) run(c *Conn, script func(*Conn)) {
	defer fs.wg.Done()
	defer func() {
		fs.mu.Lock()
		delete(fs.conns, c)
		fs.mu.Unlock()
		_ = c.conn.Close() // the script may have closed it already
	}()
	script(c)
}

// NeverAnswer is a script that reads and discards whatever the client sends
// and never writes, until the client or the server closes the connection.
func NeverAnswer(c *Conn) {
	// No deadline: a script's last read must not end the silence. The
	// copy ends with the connection; how it ended does not matter.
	_ = c.conn.SetReadDeadline(time.Time{}) // a failure only shortens the silence
	_, _ = io.Copy(io.Discard, c.conn)
}

// CloseOnAccept is a script that closes the connection at once.
func CloseOnAccept(c *Conn) { c.Close() }

// A Conn is one accepted connection, handed to a script. Its methods
// fail the test (t.Errorf) and end the script on any error, a timeout
// included, so scripts need no error handling.
type Conn struct {
	fs       *Server
	conn     net.Conn
	index    int
	timeout  time.Duration
	lastZxid int64 // highest zxid replied, echoed in ping replies
}

// Index returns the connection's position in the order of acceptance, from 0.
func (c *Conn) Index() int { return c.index }

// Conn returns the underlying connection, for what the methods do not cover.
func (c *Conn) Conn() net.Conn { return c.conn }

// SetTimeout sets how long each later read or write may take.
func (c *Conn) SetTimeout(d time.Duration) { c.timeout = d }

// Close closes the connection.
func (c *Conn) Close() {
	_ = c.conn.Close() // the peer sees EOF either way
}

// fail reports a script failure, naming the script line that called the
// Conn method, and ends the script. Failures after Close are the
// teardown's own doing and are not reported.
func (c *Conn) fail(format string, args ...any) {
	if !c.fs.isClosed() {
		c.fs.t.Errorf("%sfakeserver: conn %d: %s", scriptLine(), c.index, fmt.Sprintf(format, args...))
	}
	runtime.Goexit()
}

// scriptLine returns "file:line: " of the innermost caller outside the
// Conn methods: the script's line.
func scriptLine() string {
	pcs := make([]uintptr, 16)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(3, pcs)])
	for {
		f, more := frames.Next()
		if !strings.Contains(f.Function, "/internal/fakeserver.(*Conn).") {
			return fmt.Sprintf("%s:%d: ", filepath.Base(f.File), f.Line)
		}
		if !more {
			return ""
		}
	}
}

func (c *Conn) deadline() time.Time { return time.Now().Add(c.timeout) }

// ReadFrame reads one length-prefixed frame and returns its body.
func (c *Conn) ReadFrame() []byte {
	body, err := c.readFrame()
	if err != nil {
		c.fail("%v", err)
	}
	return body
}

func (c *Conn) readFrame() ([]byte, error) {
	if err := c.conn.SetReadDeadline(c.deadline()); err != nil {
		return nil, err
	}
	return serialize.ReadFrame(c.conn, maxFrame)
}

// ExpectClosed waits for the client to close the connection; data arriving
// instead fails the test.
func (c *Conn) ExpectClosed() {
	if err := c.conn.SetReadDeadline(c.deadline()); err != nil {
		c.fail("%v", err)
	}
	var b [1]byte
	n, err := c.conn.Read(b[:])
	switch {
	case n > 0:
		c.fail("expected the client to close, got data")
	case err == nil || err != io.EOF && !errors.Is(err, unix.ECONNRESET):
		// A reset is a close with data unread on the client's side.
		c.fail("expected the client to close: %v", err)
	}
}

// WriteFrame writes a length prefix and body.
func (c *Conn) WriteFrame(body []byte) {
	frame, start := serialize.BeginFrame(make([]byte, 0, serialize.FrameHeaderLen+len(body)))
	frame, err := serialize.FinishFrame(append(frame, body...), start, maxFrame)
	if err != nil {
		c.fail("%v", err)
	}
	c.write(frame)
}

// WriteRaw writes b as it is: partial frames, garbage, several frames at once.
func (c *Conn) WriteRaw(b []byte) { c.write(b) }

// WriteTrickle writes b one byte at a time, gap apart, so that the client
// sees a frame split at every offset.
func (c *Conn) WriteTrickle(b []byte, gap time.Duration) {
	for i := range b {
		if i > 0 {
			time.Sleep(gap)
		}
		c.write(b[i : i+1])
	}
}

func (c *Conn) write(b []byte) {
	if err := c.conn.SetWriteDeadline(c.deadline()); err != nil {
		c.fail("%v", err)
	}
	if _, err := c.conn.Write(b); err != nil {
		c.fail("write: %v", err)
	}
}

// ConnectInfo is the client's ConnectRequest as a Conn decoded it.
type ConnectInfo struct {
	ProtocolVersion int32
	LastZxidSeen    int64
	TimeoutMs       int32
	SessionID       int64
	Passwd          []byte
	ReadOnly        bool // the client accepts a read-only server
	HasReadOnly     bool // the request carried the readOnly byte
}

// ReadConnect reads the client's ConnectRequest.
func (c *Conn) ReadConnect() ConnectInfo {
	r := serialize.NewReader(c.ReadFrame())
	info := ConnectInfo{
		ProtocolVersion: r.Int32(),
		LastZxidSeen:    r.Int64(),
		TimeoutMs:       r.Int32(),
		SessionID:       r.Int64(),
		Passwd:          r.BufferAlias(), // the frame is ours alone
	}
	if r.Err() == nil && r.Len() > 0 {
		info.ReadOnly, info.HasReadOnly = r.Bool(), true
	}
	if err := r.Err(); err != nil {
		c.fail("decode ConnectRequest: %v", err)
	}
	if r.Len() != 0 {
		c.fail("ConnectRequest has %d trailing bytes", r.Len())
	}
	return info
}

// WriteConnect writes a ConnectResponse (protocolVersion 0) with the
// readOnly byte, as every server since 3.4 does. passwd is written as
// given, nil as a null buffer. A timeoutMs of 0 tells the client its
// session expired.
func (c *Conn) WriteConnect(sessionID int64, timeoutMs int32, passwd []byte, readOnly bool) {
	c.WriteFrame(serialize.AppendBool(connectResponse(sessionID, timeoutMs, passwd), readOnly))
}

// WriteConnectLegacy writes a ConnectResponse without the readOnly byte,
// as servers before 3.4 did.
func (c *Conn) WriteConnectLegacy(sessionID int64, timeoutMs int32, passwd []byte) {
	c.WriteFrame(connectResponse(sessionID, timeoutMs, passwd))
}

func connectResponse(sessionID int64, timeoutMs int32, passwd []byte) []byte {
	b := serialize.AppendInt32(nil, serialize.ProtocolVersion)
	b = serialize.AppendInt32(b, timeoutMs)
	b = serialize.AppendInt64(b, sessionID)
	return serialize.AppendBuffer(b, passwd)
}

// Handshake reads the ConnectRequest and answers with WriteConnect.
func (c *Conn) Handshake(sessionID int64, timeoutMs int32, passwd []byte, readOnly bool) ConnectInfo {
	info := c.ReadConnect()
	c.WriteConnect(sessionID, timeoutMs, passwd, readOnly)
	return info
}

// ReadRequest reads one request and splits off its RequestHeader.
func (c *Conn) ReadRequest() (xid int32, op serialize.OpCode, body []byte) {
	frame := c.ReadFrame()
	r := serialize.NewReader(frame)
	xid, op = r.Int32(), serialize.OpCode(r.Int32())
	if err := r.Err(); err != nil {
		c.fail("decode RequestHeader: %v", err)
	}
	return xid, op, frame[r.Offset():]
}

// ReadRequestAnswerPings reads requests, answering pings, and returns the
// first request that is not a ping.
func (c *Conn) ReadRequestAnswerPings() (xid int32, op serialize.OpCode, body []byte) {
	for {
		xid, op, body = c.ReadRequest()
		if op != serialize.OpPing {
			return xid, op, body
		}
		c.Reply(xid, c.lastZxid, 0, nil)
	}
}

// Reply writes a ReplyHeader (xid, zxid, err) followed by body.
func (c *Conn) Reply(xid int32, zxid int64, err serialize.Error, body []byte) {
	c.lastZxid = max(c.lastZxid, zxid)
	b := serialize.AppendInt32(make([]byte, 0, 16+len(body)), xid)
	b = serialize.AppendInt64(b, zxid)
	b = serialize.AppendInt32(b, int32(err))
	c.WriteFrame(append(b, body...))
}

// Event writes a watch notification: xid -1, zxid -1 (as the server sends
// it) and a WatcherEvent.
func (c *Conn) Event(typ serialize.EventType, state serialize.KeeperState, path string) {
	b := serialize.AppendInt32(nil, int32(typ))
	b = serialize.AppendInt32(b, int32(state))
	c.Reply(serialize.XidWatcherEvent, -1, 0, serialize.AppendString(b, path))
}
