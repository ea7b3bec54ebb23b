package zktest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// proxyTestWait bounds every wait of the proxy tests for something that
// should happen at once on loopback.
const proxyTestWait = 10 * time.Second

// proxyQuiet is how long a test watches for bytes that must not arrive.
const proxyQuiet = 100 * time.Millisecond

// backend is a loopback listener whose connections the test takes.
type backend struct {
	ln    net.Listener
	conns chan net.Conn
}

func newBackend(t *testing.T) *backend {
	t.Helper()
	ln, err := net.Listen("tcp", loopback+":0")
	if err != nil {
		t.Fatal(err)
	}
	b := &backend{ln: ln, conns: make(chan net.Conn, 16)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b.conns <- c
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close() // ends the accept loop
		<-done
		for {
			select {
			case c := <-b.conns:
				_ = c.Close() // not taken by the test
			default:
				return
			}
		}
	})
	return b
}

func (b *backend) addr() string { return b.ln.Addr().String() }

// accept returns the next connection the proxy made, closed in t.Cleanup.
func (b *backend) accept(t *testing.T) net.Conn {
	t.Helper()
	select {
	case c := <-b.conns:
		t.Cleanup(func() { _ = c.Close() })
		return c
	case <-time.After(proxyTestWait):
		t.Fatal("the proxy did not connect to the backend")
		return nil
	}
}

// dialProxy connects a client to p, closed in t.Cleanup.
func dialProxy(t *testing.T, p *Proxy) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", p.Addr(), proxyTestWait)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// pair returns a client connected through p and the backend's side.
func pair(t *testing.T, p *Proxy, b *backend) (client, server net.Conn) {
	t.Helper()
	client = dialProxy(t, p)
	return client, b.accept(t)
}

func send(t *testing.T, c net.Conn, b []byte) {
	t.Helper()
	if _, err := c.Write(b); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// recvN reads exactly n bytes within proxyTestWait.
func recvN(t *testing.T, c net.Conn, n int) []byte {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(proxyTestWait)); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("read %d bytes: %v", n, err)
	}
	return b
}

// recvEnd reads until the connection ends and returns what came and how
// it ended.
func recvEnd(t *testing.T, c net.Conn) ([]byte, error) {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(proxyTestWait)); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("connection still open after %v (read %q)", proxyTestWait, b)
	}
	return b, err
}

// expectQuiet checks that nothing arrives on c for proxyQuiet.
func expectQuiet(t *testing.T, c net.Conn, what string) {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(proxyQuiet)); err != nil {
		t.Fatal(err)
	}
	var b [64]byte
	n, err := c.Read(b[:])
	if n > 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("%s: read %q, %v; want nothing", what, b[:n], err)
	}
}

// waitFor waits for cond through p.WaitFor.
func waitFor(t *testing.T, p *Proxy, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), proxyTestWait)
	defer cancel()
	if err := p.WaitFor(ctx, cond); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func frame(body []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

func TestProxyForwards(t *testing.T) {
	b := newBackend(t)
	p := NewProxy(t, b.addr())
	client, server := pair(t, p, b)
	send(t, client, []byte("hello"))
	if got := recvN(t, server, 5); string(got) != "hello" {
		t.Errorf("server got %q", got)
	}
	send(t, server, []byte("world!"))
	if got := recvN(t, client, 6); string(got) != "world!" {
		t.Errorf("client got %q", got)
	}
	if got := p.Connections(); got != 1 {
		t.Errorf("Connections() = %d, want 1", got)
	}
	if p.Accepted() != 1 || p.BytesIn() != 5 || p.BytesOut() != 6 {
		t.Errorf("Accepted, BytesIn, BytesOut = %d, %d, %d; want 1, 5, 6", p.Accepted(), p.BytesIn(), p.BytesOut())
	}
	if p.Target() != b.addr() {
		t.Errorf("Target() = %s, want %s", p.Target(), b.addr())
	}
	// The server's last bytes reach the client before its close does.
	send(t, server, []byte("bye"))
	if err := server.Close(); err != nil {
		t.Fatal(err)
	}
	if got, err := recvEnd(t, client); string(got) != "bye" || err != nil {
		t.Errorf("client read %q, %v after the server's close; want \"bye\", EOF", got, err)
	}
	waitFor(t, p, "connection closed", func() bool { return p.Connections() == 0 })
}

func TestProxyStall(t *testing.T) {
	b := newBackend(t)
	p := NewProxy(t, b.addr())
	client, server := pair(t, p, b)
	p.Stall()
	send(t, client, []byte("held up"))
	send(t, server, []byte("held down"))
	waitFor(t, p, "bytes read", func() bool { return p.BytesIn() == 7 && p.BytesOut() == 9 })
	expectQuiet(t, server, "server during the stall")
	expectQuiet(t, client, "client during the stall")
	// A connection made during the stall is stalled too.
	late, lateServer := pair(t, p, b)
	send(t, late, []byte("late"))
	expectQuiet(t, lateServer, "new connection during the stall")

	p.Resume()
	if got := recvN(t, server, 7); string(got) != "held up" {
		t.Errorf("server got %q after Resume", got)
	}
	if got := recvN(t, client, 9); string(got) != "held down" {
		t.Errorf("client got %q after Resume", got)
	}
	if got := recvN(t, lateServer, 4); string(got) != "late" {
		t.Errorf("new connection's server got %q after Resume", got)
	}

	// A crash of a stalled server is still seen: the close is not held.
	p.Stall()
	send(t, server, []byte("lost"))
	if err := server.Close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := recvEnd(t, client); len(got) != 0 {
		t.Errorf("client got %q from a stalled server that closed", got)
	}
}

func TestProxyDelay(t *testing.T) {
	const delay = 150 * time.Millisecond
	b := newBackend(t)
	p := NewProxy(t, b.addr())
	client, server := pair(t, p, b)
	p.Delay(delay)
	start := time.Now()
	send(t, client, []byte("ping"))
	recvN(t, server, 4)
	up := time.Since(start)
	send(t, server, []byte("pong"))
	recvN(t, client, 4)
	total := time.Since(start)
	if up < delay || total < 2*delay {
		t.Errorf("round trip with a delay of %v: up %v, total %v", delay, up, total)
	}
	p.Delay(0)
	start = time.Now()
	send(t, client, []byte("fast"))
	recvN(t, server, 4)
	t.Logf("delayed: up %v, round trip %v; undelayed: up %v", up, total, time.Since(start))
}

func TestProxyCut(t *testing.T) {
	b := newBackend(t)
	p := NewProxy(t, b.addr())
	client, server := pair(t, p, b)
	send(t, client, []byte("x"))
	recvN(t, server, 1)
	p.Cut()
	for name, c := range map[string]net.Conn{"client": client, "server": server} {
		if _, err := recvEnd(t, c); !errors.Is(err, unix.ECONNRESET) {
			t.Errorf("%s after Cut: %v, want ECONNRESET", name, err)
		}
	}
	if got := p.Connections(); got != 0 {
		t.Errorf("Connections() = %d after Cut", got)
	}
	// The proxy still forwards new connections.
	client, server = pair(t, p, b)
	send(t, client, []byte("again"))
	recvN(t, server, 5)
}

func TestProxyCutMidFrame(t *testing.T) {
	tests := []struct {
		name   string
		before [][]byte // frames forwarded whole before the cut is armed
		writes [][]byte // what the server writes after
		want   []byte   // what the client gets before the close
	}{
		{
			name:   "first frame",
			writes: [][]byte{frame([]byte("0123456789")), frame([]byte("never"))},
			want:   frame([]byte("0123456789"))[:4+5],
		},
		{
			name:   "after whole frames",
			before: [][]byte{frame([]byte("one")), frame([]byte("two"))},
			writes: [][]byte{frame([]byte("abcdefgh"))},
			want:   frame([]byte("abcdefgh"))[:4+4],
		},
		{
			name:   "prefix split over writes",
			writes: [][]byte{{0, 0}, {0, 6, 'a'}, []byte("bcdef")},
			want:   []byte{0, 0, 0, 6, 'a', 'b', 'c'},
		},
		{
			name:   "empty body",
			writes: [][]byte{frame(nil)},
			want:   []byte{0, 0},
		},
		{
			name:   "huge frame cut at 64 KiB",
			writes: [][]byte{frame(bytes.Repeat([]byte("z"), 300<<10))},
			want:   frame(bytes.Repeat([]byte("z"), 300<<10))[:4+proxyMaxCutPrefix],
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBackend(t)
			p := NewProxy(t, b.addr())
			client, server := pair(t, p, b)
			for _, f := range tt.before {
				send(t, server, f)
				if got := recvN(t, client, len(f)); !bytes.Equal(got, f) {
					t.Fatalf("client got %q, want %q", got, f)
				}
			}
			done := p.CutMidFrame()
			if again := p.CutMidFrame(); again != done {
				t.Error("a second CutMidFrame before the cut armed another")
			}
			srv := server
			go func() {
				for _, w := range tt.writes {
					if _, err := srv.Write(w); err != nil {
						return // the cut closed the connection
					}
				}
			}()
			got, err := recvEnd(t, client)
			if err != nil {
				t.Errorf("client: %v after the cut, want EOF", err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Errorf("client got %d bytes %.40q, want %d bytes %.40q", len(got), got, len(tt.want), tt.want)
			}
			select {
			case <-done:
			case <-time.After(proxyTestWait):
				t.Fatal("the cut's channel was not closed")
			}
			// One cut only: the next connection forwards whole frames.
			client, server = pair(t, p, b)
			f := frame([]byte("whole"))
			send(t, server, f)
			if got := recvN(t, client, len(f)); !bytes.Equal(got, f) {
				t.Errorf("after the cut, client got %q, want %q", got, f)
			}
		})
	}
}

func TestProxySplitWrites(t *testing.T) {
	b := newBackend(t)
	p := NewProxy(t, b.addr())
	client, server := pair(t, p, b)
	p.SplitWrites(true)
	msg := []byte("a reply of some length, forwarded a byte at a time")
	before := p.writes.Load()
	send(t, server, msg)
	if got := recvN(t, client, len(msg)); !bytes.Equal(got, msg) {
		t.Errorf("client got %q, want %q", got, msg)
	}
	if n := p.writes.Load() - before; n != int64(len(msg)) {
		t.Errorf("%d writes for %d bytes", n, len(msg))
	}
	send(t, client, msg)
	if got := recvN(t, server, len(msg)); !bytes.Equal(got, msg) {
		t.Errorf("server got %q, want %q", got, msg)
	}
	p.SplitWrites(false)
	before = p.writes.Load()
	send(t, server, msg)
	recvN(t, client, len(msg))
	if n := p.writes.Load() - before; n != 1 {
		t.Errorf("%d writes for one read without splitting", n)
	}
}

func TestProxyRefuse(t *testing.T) {
	b := newBackend(t)
	p := NewProxy(t, b.addr())
	open, openServer := pair(t, p, b)
	p.Refuse(true)
	refused := dialProxy(t, p)
	if got, err := recvEnd(t, refused); len(got) != 0 || err != nil {
		t.Errorf("refused connection: read %q, %v; want EOF", got, err)
	}
	if p.Accepted() != 2 || p.Connections() != 1 {
		t.Errorf("Accepted() = %d, Connections() = %d; want 2, 1", p.Accepted(), p.Connections())
	}
	// The connection made before still works.
	send(t, open, []byte("still"))
	recvN(t, openServer, 5)
	p.Refuse(false)
	client, server := pair(t, p, b)
	send(t, client, []byte("in"))
	recvN(t, server, 2)
}

func TestProxyTargetDown(t *testing.T) {
	ln, err := net.Listen("tcp", loopback+":0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil { // nothing listens there now
		t.Fatal(err)
	}
	p := NewProxy(t, addr)
	client := dialProxy(t, p)
	if got, _ := recvEnd(t, client); len(got) != 0 {
		t.Errorf("client got %q from a proxy whose target is down", got)
	}
	if got := p.Connections(); got != 0 {
		t.Errorf("Connections() = %d", got)
	}
}

func TestProxyRecordClientFrames(t *testing.T) {
	b := newBackend(t)
	p := NewProxy(t, b.addr())
	client, server := pair(t, p, b)
	send(t, client, frame([]byte("before")))
	recvN(t, server, 10)
	p.RecordClientFrames()
	stream := append(append(frame([]byte("first")), frame(nil)...), frame([]byte("third, split"))...)
	for i := 0; i < len(stream); i += 3 { // frames split anywhere
		send(t, client, stream[i:min(i+3, len(stream))])
	}
	recvN(t, server, len(stream))
	want := [][]byte{[]byte("first"), {}, []byte("third, split")}
	if diff := cmp.Diff(want, p.ClientFrames()); diff != "" {
		t.Errorf("recorded frames (-want +got):\n%s", diff)
	}
}

func TestProxyLoopbackOnly(t *testing.T) {
	for _, target := range []string{"127.0.0.1:2181", "127.1.2.3:2181", "[::1]:2181", "localhost:2181"} {
		if err := checkLoopback(target); err != nil {
			t.Errorf("checkLoopback(%s): %v", target, err)
		}
	}
	for _, target := range []string{"10.0.0.1:2181", "[2001:db8::1]:2181", "example.com:2181", "0.0.0.0:2181", "no-port"} {
		if err := checkLoopback(target); err == nil {
			t.Errorf("checkLoopback(%s) accepted it", target)
		}
		rec := &tbRecorder{TB: t}
		rec.run(func() { NewProxy(rec, target) })
		if len(rec.recorded()) == 0 {
			t.Errorf("NewProxy(%s) did not fail", target)
		}
	}
	if got := NewProxy(t, "127.0.0.1:1").Addr(); !bytes.HasPrefix([]byte(got), []byte(loopback+":")) {
		t.Errorf("Addr() = %s, want on %s", got, loopback)
	}
}

// TestProxyCloseStopsEverything closes a proxy with connections open in
// every state: the clients see the close and every goroutine ends.
func TestProxyCloseStopsEverything(t *testing.T) {
	b := newBackend(t)
	before := runtime.NumGoroutine()
	p := NewProxy(t, b.addr())
	c1, _ := pair(t, p, b)
	c2, s2 := pair(t, p, b)
	p.Stall()
	send(t, c2, []byte("held"))
	wrote := make(chan struct{})
	go func() { // blocks once the proxy stops reading at its limit
		defer close(wrote)
		_, _ = s2.Write(bytes.Repeat([]byte("x"), 4*proxyMaxHeld)) // ends with an error at Close
	}()
	waitFor(t, p, "reader at its limit", func() bool { return p.BytesOut() >= proxyMaxHeld })
	p.Close()
	p.Close() // idempotent
	for _, c := range []net.Conn{c1, c2} {
		if got, _ := recvEnd(t, c); len(got) != 0 {
			t.Errorf("client got %d bytes at Close", len(got))
		}
	}
	<-wrote
	// A goroutine that has called wg.Done may not have exited yet: wait for
	// the count to come down.
	deadline := time.Now().Add(proxyTestWait)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		runtime.Gosched()
	}
	if got := runtime.NumGoroutine(); got > before {
		t.Errorf("%d goroutines after Close, %d before NewProxy", got, before)
	}
}
