package zktest

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Proxy limits.
const (
	// proxyDialTimeout bounds the connection to the target; on loopback it
	// is refused or made at once.
	proxyDialTimeout = 5 * time.Second
	// proxyMaxHeld is how many bytes a direction of a connection reads
	// ahead of what it has forwarded (while stalled or delayed) before it
	// stops reading and lets TCP push back.
	proxyMaxHeld = 1 << 20
	// proxyMaxCutPrefix caps how much of a frame CutMidFrame forwards, so
	// that a bogus length prefix cannot make it wait for bytes that never
	// come.
	proxyMaxCutPrefix = 64 << 10
	// proxyCloseWait bounds Close's wait for the proxy's goroutines.
	proxyCloseWait = 10 * time.Second
)

// A Proxy is a TCP proxy on loopback between clients and one server
// address, with faults on command. Each connection accepted on Addr is
// forwarded to a new connection to the target; both directions are copied
// by the proxy, which can, at any time:
//
//   - Stall: stall both directions of every connection, current and
//     new, keeping them open. The bytes read meanwhile are held (up to
//     1 MiB a direction, then TCP pushes back) and forwarded in order on
//     Resume. This is a server that hangs (a stopped process, a long GC
//     pause): its kernel still accepts and acknowledges, nothing answers.
//     A close or reset by either side still ends the connection, as a
//     crash of a hung server would.
//   - Delay(d): forward every chunk d after the proxy read it (latency
//     without loss of throughput).
//   - Cut: close every current connection at once, on both sides, with a
//     reset (SO_LINGER 0, then close: the peers see ECONNRESET), as a
//     network failure does.
//   - CutMidFrame: forward the next server→client frame (a ZooKeeper
//     length-prefixed frame) only in part, then close that connection.
//   - SplitWrites(true): forward every byte in a write (a TCP segment, as
//     Go sets TCP_NODELAY) of its own.
//   - Refuse(true): accept new connections and close them at once, as a
//     server that is down but whose port is still open.
//
// Faults are independent: Resume ends a Stall only, Delay(0),
// SplitWrites(false) and Refuse(false) end the others. Counters
// (Connections, Accepted, BytesIn, BytesOut) and WaitFor let a test wait
// for what the clients did without sleeping. RecordClientFrames keeps
// the frames the clients send, for tests that check them.
//
// The proxy listens on 127.0.0.1 only and refuses a target that is not on
// loopback. Close, also run by t.Cleanup, stops it and every connection.
// All methods are safe for concurrent use.
type Proxy struct {
	t      testing.TB
	ln     net.Listener
	target string
	wg     sync.WaitGroup // the accept loop, dials and pumps

	accepted atomic.Int64
	bytesIn  atomic.Int64
	bytesOut atomic.Int64
	writes   atomic.Int64 // write calls to either side, for tests

	mu        sync.Mutex
	cond      sync.Cond     // signalled on every change below, for the pumps
	changed   chan struct{} // closed and replaced on every change, for WaitFor
	closed    bool
	refuse    bool
	stalled   bool
	delay     time.Duration
	split     bool
	cut       chan struct{} // an armed CutMidFrame, closed once done; nil when none is armed
	recording bool
	frames    [][]byte // client frame bodies recorded
	pairs     map[*proxyPair]struct{}
}

// proxyPair is one proxied connection: the client's and the server's side
// (nil while the target is being dialed).
type proxyPair struct {
	client, server *net.TCPConn
	up, down       proxyDir      // client→server, server→client
	done           chan struct{} // closed with the pair
	closed         bool          // under Proxy.mu
}

// proxyDir is one direction of a pair. The queue, held and eof are guarded
// by Proxy.mu; in belongs to the reader (under Proxy.mu), out to the
// writer.
type proxyDir struct {
	src, dst *net.TCPConn
	toClient bool
	queue    []proxyChunk
	held     int  // bytes in queue
	eof      bool // src has ended: forward the queue, then close the pair
	in       frameTracker
	out      frameTracker
}

// proxyChunk is what one read returned, with the time of the read.
type proxyChunk struct {
	at time.Time
	b  []byte
}

// NewProxy starts a proxy on a free loopback port that forwards to target
// ("127.0.0.1:port", "[::1]:port" or "localhost:port"); it fails the test
// if target is not a loopback address. The proxy is closed in t.Cleanup.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	if err := checkLoopback(target); err != nil {
		t.Fatalf("zktest: proxy: %v", err)
	}
	ln, err := net.Listen("tcp", loopback+":0")
	if err != nil {
		t.Fatalf("zktest: proxy: %v", err)
	}
	p := &Proxy{t: t, ln: ln, target: target, changed: make(chan struct{}), pairs: make(map[*proxyPair]struct{})}
	p.cond.L = &p.mu
	p.wg.Add(1)
	go p.acceptLoop()
	registry.addProxy(p)
	t.Cleanup(p.Close)
	return p
}

// checkLoopback returns an error unless hostport names a loopback address.
func checkLoopback(hostport string) error {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return err
	}
	if host == "localhost" {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err != nil || !ip.IsLoopback() {
		return fmt.Errorf("target %s is not a loopback address", hostport)
	}
	return nil
}

// Addr returns the address clients connect to, "127.0.0.1:<port>".
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Target returns the address the proxy forwards to.
func (p *Proxy) Target() string { return p.target }

// Stall stalls both directions of every connection, current and new, until
// Resume: the proxy accepts, reads and holds, and forwards nothing. To the
// client the server seems hung; to the server the client seems silent.
// See Proxy.
func (p *Proxy) Stall() { p.set(func() { p.stalled = true }) }

// Resume ends a Stall: the bytes held are forwarded, in order.
func (p *Proxy) Resume() { p.set(func() { p.stalled = false }) }

// Delay makes the proxy forward every chunk it reads d after reading it,
// in both directions; 0 ends the delay.
func (p *Proxy) Delay(d time.Duration) { p.set(func() { p.delay = max(d, 0) }) }

// SplitWrites makes the proxy forward every byte, in both directions, in
// a write of its own (on) or as it reads them (off).
func (p *Proxy) SplitWrites(on bool) { p.set(func() { p.split = on }) }

// Refuse makes the proxy close new connections as soon as it accepts them
// (on), or forward them (off). Current connections are left alone.
func (p *Proxy) Refuse(on bool) { p.set(func() { p.refuse = on }) }

// CutMidFrame arms a cut: the next frame from a server to a client (the
// first whose first byte the proxy forwards after this call, on any
// connection) is forwarded only in part — its length prefix and half its
// body, at most 64 KiB — and then that connection is closed on both sides.
// The channel returned is closed once the cut is done. Calling it again
// before the cut returns the same channel.
func (p *Proxy) CutMidFrame() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut == nil {
		p.cut = make(chan struct{})
	}
	return p.cut
}

// Cut closes every current connection at once on both sides, with a reset
// (SO_LINGER 0, then close), so that the client and the server see
// ECONNRESET. New connections are forwarded as before (see Refuse).
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for pp := range p.pairs {
		p.closePairLocked(pp, true)
	}
}

// Connections returns the number of connections accepted, not refused, and
// still open, those still being connected to the target included.
func (p *Proxy) Connections() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pairs)
}

// Accepted returns the number of connections accepted so far, refused ones
// included.
func (p *Proxy) Accepted() int { return int(p.accepted.Load()) }

// BytesIn returns the number of bytes the proxy has read from its clients
// since it started, on all connections: what they sent to the server,
// whether forwarded yet or held (Stall, Delay).
func (p *Proxy) BytesIn() int64 { return p.bytesIn.Load() }

// BytesOut returns the number of bytes the proxy has read from the target
// since it started, on all connections: what the server sent to the
// clients, whether forwarded yet or held.
func (p *Proxy) BytesOut() int64 { return p.bytesOut.Load() }

// RecordClientFrames starts recording the bodies of the length-prefixed
// frames clients send (requests, after the ConnectRequest), forgetting
// those recorded before. A frame is recorded when the proxy has read it
// whole, forwarded or held.
func (p *Proxy) RecordClientFrames() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.recording, p.frames = true, nil
}

// ClientFrames returns the frame bodies recorded so far, in the order read
// (per connection).
func (p *Proxy) ClientFrames() [][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([][]byte(nil), p.frames...)
}

// WaitFor waits until cond reports true, calling it again after every
// change the proxy sees (a connection accepted, forwarded or closed, bytes
// read, a cut done), or until ctx ends, and returns ctx's error then.
// cond runs on the caller's goroutine, without any lock of the proxy held.
func (p *Proxy) WaitFor(ctx context.Context, cond func() bool) error {
	for {
		p.mu.Lock()
		changed := p.changed
		p.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close stops accepting, closes every connection and waits (up to 10 s,
// then reports an error) for the proxy's goroutines. It is idempotent.
func (p *Proxy) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	for pp := range p.pairs {
		p.closePairLocked(pp, false)
	}
	p.notifyLocked()
	p.mu.Unlock()
	registry.removeProxy(p)
	_ = p.ln.Close() // ends the accept loop; the error says nothing new
	done := make(chan struct{})
	go func() {
		p.wg.Wait()
		close(done)
	}()
	timer := time.NewTimer(proxyCloseWait)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		p.t.Errorf("zktest: proxy %s: goroutines still running %v after Close", p.Addr(), proxyCloseWait)
	}
}

// set changes the faults under the lock and tells the pumps.
func (p *Proxy) set(change func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	change()
	p.notifyLocked()
}

// notifyLocked wakes the pumps and the WaitFor callers; p.mu is held.
func (p *Proxy) notifyLocked() {
	p.cond.Broadcast()
	close(p.changed)
	p.changed = make(chan struct{})
}

func (p *Proxy) acceptLoop() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.accepted.Add(1)
		p.mu.Lock()
		refuse := p.refuse || p.closed
		var pp *proxyPair
		if !refuse {
			// Registered at once, so that a Cut while the target is being
			// dialed closes it too.
			pp = &proxyPair{client: c.(*net.TCPConn), done: make(chan struct{})}
			p.pairs[pp] = struct{}{}
			p.wg.Add(1)
		}
		p.notifyLocked()
		p.mu.Unlock()
		if refuse {
			_ = c.Close() // the refusal itself; the client sees the close
			continue
		}
		go p.open(pp)
	}
}

// open dials the target for an accepted client and starts the pumps; a
// target that is down closes the client too.
func (p *Proxy) open(pp *proxyPair) {
	defer p.wg.Done()
	c, err := net.DialTimeout("tcp", p.target, proxyDialTimeout)
	if err != nil {
		p.closePair(pp) // the server is down, so is the proxied connection
		return
	}
	server := c.(*net.TCPConn)
	p.mu.Lock()
	if pp.closed {
		p.mu.Unlock()
		_ = server.Close() // cut or closed while dialing: no connection
		return
	}
	pp.server = server
	pp.up = proxyDir{src: pp.client, dst: server}
	pp.down = proxyDir{src: server, dst: pp.client, toClient: true}
	p.wg.Add(4)
	p.notifyLocked()
	p.mu.Unlock()
	go p.readDir(pp, &pp.up)
	go p.writeDir(pp, &pp.up)
	go p.readDir(pp, &pp.down)
	go p.writeDir(pp, &pp.down)
}

// closePairLocked closes both sides of pp, resetting them when rst; p.mu
// is held. The pumps end on their next read, write or wait.
func (p *Proxy) closePairLocked(pp *proxyPair, rst bool) {
	if pp.closed {
		return
	}
	pp.closed = true
	close(pp.done)
	delete(p.pairs, pp)
	for _, c := range []*net.TCPConn{pp.client, pp.server} {
		if c == nil {
			continue // the target is still being dialed
		}
		if rst {
			_ = c.SetLinger(0) // only fails on a closed socket
		}
		_ = c.Close() // tearing down: the peer sees the close either way
	}
	p.notifyLocked()
}

func (p *Proxy) closePair(pp *proxyPair) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closePairLocked(pp, false)
}

// readDir reads d.src into d's queue until it ends, holding at most
// proxyMaxHeld bytes not yet forwarded.
func (p *Proxy) readDir(pp *proxyPair, d *proxyDir) {
	defer p.wg.Done()
	counter := &p.bytesIn
	if d.toClient {
		counter = &p.bytesOut
	}
	buf := make([]byte, 32<<10)
	for {
		p.mu.Lock()
		for d.held >= proxyMaxHeld && !pp.closed {
			p.cond.Wait()
		}
		closed := pp.closed
		p.mu.Unlock()
		if closed {
			return
		}
		n, err := d.src.Read(buf)
		now := time.Now()
		if n > 0 {
			counter.Add(int64(n))
		}
		p.mu.Lock()
		if n > 0 {
			b := bytes.Clone(buf[:n])
			d.queue = append(d.queue, proxyChunk{at: now, b: b})
			d.held += n
			if !d.toClient {
				p.recordLocked(d, b)
			}
		}
		if err != nil {
			d.eof = true
		}
		p.notifyLocked()
		p.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// recordLocked follows the frames of a client's stream and records the
// whole ones while recording is on; p.mu is held.
func (p *Proxy) recordLocked(d *proxyDir, b []byte) {
	for len(b) > 0 {
		if d.in.atStart() {
			d.in.capture = p.recording
		}
		n, body, whole := d.in.advance(b)
		if whole && d.in.capture && p.recording {
			p.frames = append(p.frames, body)
		}
		b = b[n:]
	}
}

// writeDir forwards d's queue to d.dst, applying the faults; when the
// source has ended and the queue is empty (or stalled), it closes the pair.
func (p *Proxy) writeDir(pp *proxyPair, d *proxyDir) {
	defer p.wg.Done()
	var carry []byte // the start of a frame to cut, waiting for the rest of its prefix
	for {
		chunk, ok := p.next(pp, d)
		if !ok {
			return
		}
		b := chunk
		if len(carry) > 0 {
			b, carry = append(carry, chunk...), nil
		}
		for len(b) > 0 {
			if d.toClient && d.out.atStart() && p.cutArmed() {
				at, known := cutPoint(b)
				if !known {
					carry = b
					break
				}
				if cut := p.claimCut(); cut != nil {
					// The connection is closed next: a failed write changes nothing.
					_ = p.write(d, b[:at])
					p.closePair(pp)
					close(cut)
					p.set(func() {}) // WaitFor callers may wait on the channel
					return
				}
			}
			n, _, _ := d.out.advance(b)
			if err := p.write(d, b[:n]); err != nil {
				p.closePair(pp)
				return
			}
			b = b[n:]
		}
	}
}

// next waits for the next chunk d may forward and for its delay; it
// returns false when the pair is closed or d's source has ended (closing
// the pair once the queue is forwarded, or at once while stalled).
func (p *Proxy) next(pp *proxyPair, d *proxyDir) ([]byte, bool) {
	p.mu.Lock()
	for {
		if pp.closed {
			p.mu.Unlock()
			return nil, false
		}
		if d.eof && (p.stalled || len(d.queue) == 0) {
			p.closePairLocked(pp, false)
			p.mu.Unlock()
			return nil, false
		}
		if !p.stalled && len(d.queue) > 0 {
			break
		}
		p.cond.Wait()
	}
	c := d.queue[0]
	d.queue[0] = proxyChunk{}
	d.queue = d.queue[1:]
	d.held -= len(c.b)
	delay := p.delay
	p.cond.Broadcast() // the reader may wait for room
	p.mu.Unlock()
	if wait := time.Until(c.at.Add(delay)); wait > 0 {
		timer := time.NewTimer(wait)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-pp.done:
			return nil, false
		}
	}
	return c.b, true
}

// write writes b to d.dst, a byte a write when splitting.
func (p *Proxy) write(d *proxyDir, b []byte) error {
	p.mu.Lock()
	split := p.split
	p.mu.Unlock()
	step := len(b)
	if split {
		step = 1
	}
	for len(b) > 0 {
		n := min(step, len(b))
		p.writes.Add(1)
		if _, err := d.dst.Write(b[:n]); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

func (p *Proxy) cutArmed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cut != nil
}

// claimCut disarms the cut and returns its channel, or nil when another
// connection took it first.
func (p *Proxy) claimCut() chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	cut := p.cut
	p.cut = nil
	return cut
}

// cutPoint returns how many bytes of the frame starting at b CutMidFrame
// forwards, once b holds the length prefix.
func cutPoint(b []byte) (int, bool) {
	if len(b) < 4 {
		return 0, false
	}
	n := int(binary.BigEndian.Uint32(b))
	if n < 2 {
		return 2, true // an empty or one-byte body: cut inside the prefix
	}
	at := 4 + min(n/2, proxyMaxCutPrefix)
	return at, len(b) >= at
}

// frameTracker follows the length-prefixed frames of a byte stream. The
// length is read as unsigned: a bogus one only makes a long frame.
type frameTracker struct {
	hdr     [4]byte
	hdrN    int
	left    int  // body bytes of the current frame not yet seen
	capture bool // keep the body of the current frame
	body    []byte
}

func (f *frameTracker) atStart() bool { return f.hdrN == 0 && f.left == 0 }

// advance consumes b up to the end of the current prefix or body and
// returns how many bytes it took; whole reports the end of a frame, with
// its body when capturing.
func (f *frameTracker) advance(b []byte) (n int, body []byte, whole bool) {
	if f.hdrN < 4 {
		n = copy(f.hdr[f.hdrN:], b)
		f.hdrN += n
		if f.hdrN < 4 {
			return n, nil, false
		}
		f.left = int(binary.BigEndian.Uint32(f.hdr[:]))
		f.body = nil
		if f.left > 0 {
			return n, nil, false
		}
	} else {
		n = min(f.left, len(b))
		if f.capture {
			f.body = append(f.body, b[:n]...)
		}
		f.left -= n
		if f.left > 0 {
			return n, nil, false
		}
	}
	f.hdrN = 0
	body, f.body = f.body, nil
	if f.capture && body == nil {
		body = []byte{}
	}
	return n, body, true
}
