package zhandle

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zkloop/zkloop/completion"
	"github.com/zkloop/zkloop/loop"
	"github.com/zkloop/zkloop/serialize"
)

// Buffer sizes of a connection: an idle handle keeps only the initial
// ones; a burst may grow them, and they shrink back once drained.
const (
	initialReadBuf  = 4 << 10
	initialWriteBuf = 1 << 10
	keepBufMax      = 64 << 10
)

// phase is where a connection is in its life (the socket side of the
// C client's state: connecting, associating, connected).
type phase uint8

const (
	phaseNone        phase = iota // no socket
	phaseConnecting               // non-blocking connect in progress
	phaseTLS                      // connected; TLS handshake under way (tls.go)
	phaseHandshaking              // ConnectRequest sent or being sent
	phaseSASL                     // handshake answered; SASL exchange under way (sasl.go)
	phaseEstablished              // session established: requests flow
)

// conn is the I/O goroutine's private state: the socket, its buffers and
// its clocks. Nothing else touches it.
type conn struct {
	fd       int
	phase    phase
	addr     address
	tried    int       // addresses tried since the last established session
	retryAt  time.Time // no connect before this (the delay after a full pass)
	lastSend time.Time
	lastRecv time.Time
	lastPing time.Time // when the last ping was queued, or the session established
	pingSent time.Time // when the ping awaiting its reply was queued; zero when none is

	lastResolve time.Time // of the host names, for WithResolutionDelay
	lostAt      time.Time // when the last established connection was lost; zero while established
	seenRW      bool      // a read/write server has taken the session (seenRwServerBefore in Java)
	sentSession int64     // the session id the last ConnectRequest carried
	probe       rwProbe   // the search for a read/write server while read-only
	tlsRefusals int       // servers of this pass that refused TLS (tlsRefused)

	tls        *tlsLayer      // WithTLS: the connection's TLS; nil without
	handshakes sync.WaitGroup // TLS handshake goroutines, waited for when the loop ends

	wbuf []byte // bytes being written; wbuf[woff:] is still due
	woff int
	rbuf []byte // bytes read; rbuf[:rlen] not yet consumed
	rlen int

	completed completion.List // async completions of this turn, pushed in one batch
	woke      bool            // this turn woke a synchronous caller or the completion goroutine
	stopped   bool            // the loop must end
}

func (c *conn) init() {
	c.fd = -1
	c.rbuf = make([]byte, initialReadBuf)
	c.wbuf = make([]byte, 0, initialWriteBuf)
}

// driver is the Handle as the poll loop sees it (loop.Handler and
// loop.Expecter). Its methods run only on the loop's goroutine, so they
// are not the Handle's: the threaded C client hides zookeeper_interest and
// zookeeper_process from its users for the same reason.
type driver Handle

// Interest is the port of zookeeper_interest: it opens a connection when
// there is none, applies the receive deadline and the ping interval, and
// says what to poll for and for how long.
func (d *driver) Interest() (fd int, events int16, timeout time.Duration) {
	h := (*Handle)(d)
	c := &h.c
	now := time.Now()
	if c.stopped || h.closeDue(now) {
		return -1, 0, 0
	}
	if h.sessionGone(now) {
		return -1, 0, 0
	}
	if h.takeMove() {
		return -1, 0, 0
	}
	if c.fd < 0 {
		if wait := c.retryAt.Sub(now); wait > 0 {
			return -1, 0, min(wait, h.untilClientExpiry(now))
		}
		h.connect(now)
		if c.fd < 0 {
			return -1, 0, 0 // failed at once: Process moves on
		}
	}
	recvTimeout := h.RecvTimeout()
	// One rule for connect, handshake and dead servers: 2/3 of the
	// timeout without receiving anything drops the connection.
	toRecv := recvTimeout*2/3 - now.Sub(c.lastRecv)
	if toRecv <= 0 {
		h.log.Warn("no reply from server, dropping connection", "server", c.addr, "silent", now.Sub(c.lastRecv).Round(time.Millisecond))
		h.dropConn(ErrOperationTimeout)
		return -1, 0, 0
	}
	timeout = toRecv
	if c.phase == phaseEstablished {
		if c.pingSent.IsZero() {
			// One ping per third of the timeout, even while requests
			// flow (C pings only when idle): its reply is what keeps
			// SessionAliveUntil within a third of the timeout of now.
			toPing := recvTimeout/3 - now.Sub(c.lastPing)
			if toPing <= 0 {
				h.queuePing()
				c.lastPing, c.pingSent = now, now
				h.flush(now)
				toPing = recvTimeout / 3
			}
			timeout = min(timeout, toPing)
		}
		if h.State() == StateReadOnly {
			timeout = min(timeout, h.probeRW(now))
		}
	}
	timeout = min(timeout, h.untilCloseDeadline(now))
	// A connect or handshake that hangs must not hold client-side expiry
	// beyond the session timeout (up to 2/3 of it late otherwise).
	timeout = min(timeout, h.untilClientExpiry(now))
	events = loop.EventRead
	if c.phase == phaseConnecting || c.woff < len(c.wbuf) || c.phase == phaseEstablished && h.hasOutput() ||
		c.tls != nil && c.tls.pending() {
		events |= loop.EventWrite
	}
	if c.fd < 0 { // the flush above failed
		return -1, 0, 0
	}
	return c.fd, events, timeout
}

// Process is the port of zookeeper_process and check_events: it finishes a
// connect, reads and dispatches replies, writes queued requests, and hands
// this turn's completions to the completion goroutine.
func (d *driver) Process(revents int16) bool {
	h := (*Handle)(d)
	c := &h.c
	now := time.Now()
	switch {
	case c.stopped:
	case h.closeDue(now):
		h.shutdownConn(ErrClosing)
	case c.fd < 0:
	case c.phase == phaseConnecting:
		if revents&(loop.EventWrite|loop.EventError) != 0 {
			h.finishConnect(now)
		}
	default:
		if revents&(loop.EventRead|loop.EventError) != 0 {
			h.readSocket(now)
		}
		if c.fd >= 0 && c.phase == phaseTLS {
			h.tlsProgress(now)
		}
		if c.fd >= 0 {
			h.flush(now)
		}
	}
	if c.completed.Len() > 0 {
		c.woke = true
	}
	h.completions.PushList(&c.completed)
	return !c.stopped
}

// ExpectSoon tells the loop (loop.Expecter) whether the last Process woke
// a synchronous caller or handed completions to the completion goroutine:
// their next requests tend to follow within microseconds, so the loop
// spins briefly before it sleeps and those requests find it awake.
// Requests merely in flight do not count: their replies come from another
// process, seldom within a spin, and spinning for them cost more CPU time
// than it saved (bench/compare).
func (d *driver) ExpectSoon() bool {
	woke := d.c.woke
	d.c.woke = false
	return woke
}

// closeDue reports whether a Close is waiting on the loop and the loop
// should end now: no session to close, or the CloseSession reply overdue.
func (h *Handle) closeDue(now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closing {
		return false
	}
	return h.closeDeadline.IsZero() || now.After(h.closeDeadline) || h.c.phase != phaseEstablished
}

// untilCloseDeadline is how long the loop may sleep before Close's wait
// for the CloseSession reply runs out; a long time when no Close waits.
// Without it a silent server would hold Close until the next ping or
// receive deadline, up to recv_timeout/3, beyond its bound.
func (h *Handle) untilCloseDeadline(now time.Time) time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closing || h.closeDeadline.IsZero() {
		return time.Hour
	}
	return h.closeDeadline.Sub(now)
}

func (h *Handle) hasOutput() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.out) > 0
}

// connect opens a non-blocking TCP socket to the next address (the
// no-socket branch of zookeeper_interest). After a full pass over the
// list without a session it waits recv_timeout/60 (jittered) first.
func (h *Handle) connect(now time.Time) {
	c := &h.c
	h.reresolve(now)
	h.mu.Lock()
	if c.tried >= h.hosts.len() {
		c.tried, c.tlsRefusals = 0, 0
		h.mu.Unlock()
		wait := h.RecvTimeout() / 60
		wait += rand.N(wait/2 + 1)
		c.retryAt = now.Add(wait)
		return
	}
	if h.rwServer != (address{}) {
		c.addr, h.rwServer = h.rwServer, address{}
	} else {
		c.addr = h.hosts.nextServer()
	}
	c.tried++
	h.current = c.addr
	h.setStateLocked(StateConnecting)
	h.mu.Unlock()

	c.lastSend, c.lastRecv = now, now
	sa, family := c.addr.sockaddr()
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		h.log.Warn("socket failed", "server", c.addr, "err", os.NewSyscallError("socket", err))
		return
	}
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
		h.log.Warn("TCP_NODELAY failed", "server", c.addr, "err", os.NewSyscallError("setsockopt", err))
	}
	c.fd = fd
	for {
		err = unix.Connect(fd, sa)
		if err != unix.EINTR {
			break
		}
	}
	switch err {
	case nil:
		h.connected(now)
	case unix.EINPROGRESS:
		c.phase = phaseConnecting
	default:
		h.log.Info("connect failed", "server", c.addr, "err", os.NewSyscallError("connect", err))
		h.dropConn(ErrConnectionLoss)
	}
}

// finishConnect checks SO_ERROR once the socket is writable and goes on
// with the connection (the ZOO_CONNECTING_STATE branch of zookeeper_process).
func (h *Handle) finishConnect(now time.Time) {
	soErr, err := unix.GetsockoptInt(h.c.fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err == nil && soErr != 0 {
		err = unix.Errno(soErr)
	}
	if err != nil {
		h.log.Info("connect failed", "server", h.c.addr, "err", os.NewSyscallError("connect", err))
		h.dropConn(ErrConnectionLoss)
		return
	}
	h.connected(now)
}

// connected goes on once the TCP connection is up: TLS first when
// configured, then the handshake.
func (h *Handle) connected(now time.Time) {
	if h.cfg.tls != nil {
		h.startTLS(now)
		return
	}
	h.primeConnection(now)
}

// primeConnection sends the ConnectRequest (prime_connection): last zxid
// seen, requested timeout, session id and password, read-only flag.
func (h *Handle) primeConnection(now time.Time) {
	c := &h.c
	h.mu.Lock()
	id := h.clientID
	h.setStateLocked(StateAssociating)
	h.mu.Unlock()
	if !c.seenRW {
		// A session a read-only server made up is not resumed elsewhere
		// (primeConnection in Java).
		id = ClientID{}
	}
	c.sentSession = id.SessionID
	req := serialize.ConnectRequest{
		ProtocolVersion: serialize.ProtocolVersion,
		LastZxidSeen:    h.lastZxid.Load(),
		TimeOut:         int32(h.RecvTimeout().Milliseconds()),
		SessionID:       id.SessionID,
		Passwd:          id.Passwd[:],
	}
	buf, start := serialize.BeginFrame(c.wbuf[:0])
	buf = req.Encode(buf)
	buf = serialize.AppendBool(buf, h.cfg.readOnly)
	c.wbuf, _ = serialize.FinishFrame(buf, start, h.cfg.maxFrame) // a fixed-size record fits
	c.woff = 0
	c.phase = phaseHandshaking
	c.lastSend, c.lastRecv = now, now
	h.log.Debug("connection opened, sending handshake", "server", c.addr)
	h.flush(now)
}

// flush writes what is due without blocking: first the loop's own buffer,
// then, once the session is established, whatever callers queued. EAGAIN
// leaves the rest for the next writable event.
func (h *Handle) flush(now time.Time) {
	c := &h.c
	for {
		p, err := h.due()
		if err != nil {
			h.log.Warn("TLS write failed", "server", c.addr, "err", err)
			h.dropConn(ErrConnectionLoss)
			return
		}
		if len(p) == 0 {
			return
		}
		n, err := unix.Write(c.fd, p)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return
		case err != nil:
			h.socketFailed("write", err)
			return
		}
		if c.tls != nil {
			c.tls.soff += n
		} else {
			c.woff += n
		}
		c.lastSend = now
	}
}

// due returns the bytes to write to the socket next: the rest of the
// loop's buffer, refilled with the callers' requests once the session is
// established; with TLS, the ciphertext of those bytes and of the
// handshake, sealed only once the previous ciphertext is written.
func (h *Handle) due() ([]byte, error) {
	c := &h.c
	if c.tls != nil && c.tls.soff < len(c.tls.sealed) {
		return c.tls.sealed[c.tls.soff:], nil
	}
	if c.woff == len(c.wbuf) && c.phase == phaseEstablished {
		h.takeOutput()
	}
	if c.tls == nil {
		return c.wbuf[c.woff:], nil
	}
	p := c.wbuf[c.woff:]
	c.woff = len(c.wbuf)
	return c.tls.seal(p)
}

// socketFailed logs a failed socket call and drops the connection.
func (h *Handle) socketFailed(call string, err error) {
	h.log.Info(call+" failed", "server", h.c.addr, "err", os.NewSyscallError(call, err))
	h.dropConn(ErrConnectionLoss)
}

// takeOutput swaps the callers' queued bytes into the loop's write buffer.
func (h *Handle) takeOutput() {
	c := &h.c
	if cap(c.wbuf) > keepBufMax {
		c.wbuf = make([]byte, 0, initialWriteBuf)
	}
	h.mu.Lock()
	c.wbuf, h.out = h.out, c.wbuf[:0]
	h.mu.Unlock()
	c.woff = 0
}

// readSocket reads what the socket has and dispatches every whole frame.
func (h *Handle) readSocket(now time.Time) {
	c := &h.c
	for {
		n, full, err := h.readWire()
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return
		case err != nil && c.phase == phaseTLS:
			h.tlsInputEnded(now, os.NewSyscallError("read", err))
			return
		case err != nil:
			h.socketFailed("read", err)
			return
		case n == 0 && c.phase == phaseTLS:
			h.tlsInputEnded(now, io.EOF)
			return
		case n == 0:
			h.log.Info("server closed the connection", "server", c.addr)
			h.dropConn(ErrConnectionLoss)
			return
		}
		c.lastRecv = now
		if err := h.received(); err != nil {
			h.log.Error("bad frame from server, dropping connection", "server", c.addr, "err", err)
			h.dropConn(ErrConnectionLoss)
			return
		}
		if c.fd < 0 || !full {
			return // a short read: the socket is drained
		}
	}
}

// readWire reads from the socket: into rbuf, or with TLS into the
// transport. full says the read filled the room it had, so more may wait.
func (h *Handle) readWire() (n int, full bool, err error) {
	c := &h.c
	if c.tls != nil {
		return c.tls.tr.fill(c.fd)
	}
	room := c.readRoom()
	n, err = unix.Read(c.fd, room)
	if err == nil {
		c.rlen += n
	}
	return n, n == len(room), err
}

// readRoom returns the free end of rbuf, doubling rbuf when it is full
// (a frame longer than the buffer).
func (c *conn) readRoom() []byte {
	if c.rlen == len(c.rbuf) {
		c.rbuf = append(c.rbuf, make([]byte, len(c.rbuf))...)
	}
	return c.rbuf[c.rlen:]
}

// received handles what readWire brought: whole frames are dispatched,
// after decryption with TLS. During the TLS handshake the handshake
// goroutine takes it.
func (h *Handle) received() error {
	c := &h.c
	switch {
	case c.tls == nil:
		return h.consumeFrames()
	case c.tls.done:
		return h.decryptFrames()
	}
	return nil
}

// consumeFrames dispatches every complete frame in rbuf and keeps the
// partial tail. A frame whose length is negative or over the maximum is an
// error: nothing of the advertised size is allocated.
func (h *Handle) consumeFrames() error {
	c := &h.c
	off := 0
	for c.fd >= 0 && c.rlen-off >= serialize.FrameHeaderLen {
		n, err := serialize.FrameLen(c.rbuf[off:], h.cfg.maxFrame)
		if err != nil {
			return err
		}
		end := off + serialize.FrameHeaderLen + n
		if end > c.rlen {
			if need := end - off; need > len(c.rbuf) {
				grown := make([]byte, need)
				c.rlen = copy(grown, c.rbuf[off:c.rlen])
				c.rbuf = grown
				return nil
			}
			break
		}
		if err := h.dispatch(c.rbuf[off+serialize.FrameHeaderLen : end]); err != nil {
			return err
		}
		off = end
	}
	if c.fd < 0 {
		return nil
	}
	c.rlen = copy(c.rbuf, c.rbuf[off:c.rlen])
	if len(c.rbuf) > keepBufMax && c.rlen <= initialReadBuf {
		small := make([]byte, initialReadBuf)
		c.rlen = copy(small, c.rbuf[:c.rlen])
		c.rbuf = small
	}
	return nil
}

// dispatch handles one frame body: the handshake reply while handshaking,
// the server's SASL token during the exchange, a reply or notification
// after.
func (h *Handle) dispatch(body []byte) error {
	switch h.c.phase {
	case phaseHandshaking:
		return h.finishHandshake(body)
	case phaseSASL:
		return h.processSASLReply(body)
	}
	return h.processReply(body)
}

// queuePing queues a ping (send_ping): xid -2, no completion.
func (h *Handle) queuePing() {
	h.mu.Lock()
	defer h.mu.Unlock()
	var start int
	h.out, start = serialize.BeginFrame(h.out)
	hdr := serialize.RequestHeader{Xid: serialize.XidPing, Type: int32(serialize.OpPing)}
	h.out = hdr.Encode(h.out)
	h.out, _ = serialize.FinishFrame(h.out, start, h.cfg.maxFrame) // a bare header fits
}

// dropConn is handle_error: it closes the socket, fails every request in
// flight or queued with ErrConnectionLoss (exactly once), keeps the
// watches, tells the watchers when a session was established, and lets the
// next Interest connect to the next address. rc is the cause, for the log.
func (h *Handle) dropConn(rc Error) {
	c := &h.c
	wasEstablished := c.phase == phaseEstablished
	c.pingSent = time.Time{}
	h.closeSocket()
	h.mu.Lock()
	closing := h.closing
	failed := h.takePendingLocked()
	if !h.state.Unrecoverable() {
		h.setStateLocked(StateConnecting)
	}
	h.mu.Unlock()
	h.failAll(&failed, ErrConnectionLoss)
	if wasEstablished {
		c.lostAt = time.Now()
		h.log.Info("connection lost", "server", c.addr, "cause", rc)
		c.tried, c.tlsRefusals = 0, 0 // a fresh pass over the list before any back-off
		if !closing {
			h.queueSessionEvent(StateConnecting)
		}
	}
	if closing {
		h.shutdownConn(ErrClosing)
	}
}

// takePendingLocked empties the queued bytes and every pending list and
// returns the entries to fail.
func (h *Handle) takePendingLocked() completion.List {
	failed := h.sent.TakeAll()
	auths := h.authSent.TakeAll()
	for e := auths.PopFront(); e != nil; e = auths.PopFront() {
		if e.Callback != nil || e.Synchronous() {
			failed.PushBack(e)
		} else {
			completion.Put(e) // a re-sent auth nobody waits for
		}
	}
	h.out = h.out[:0]
	return failed
}

func (h *Handle) closeSocket() {
	c := &h.c
	if c.fd >= 0 {
		if err := unix.Close(c.fd); err != nil {
			h.log.Warn("closing socket", "err", os.NewSyscallError("close", err))
		}
	}
	if c.tls != nil {
		c.tls.tr.Close() // ends a handshake still running
		c.tls = nil
	}
	c.fd, c.phase = -1, phaseNone
	c.wbuf, c.woff, c.rlen = c.wbuf[:0], 0, 0
}

// shutdownConn ends the loop for good: it closes the socket and fails
// everything still pending with rc (ErrClosing on Close, ErrSessionExpired
// or ErrAuthFailed when the session is gone).
func (h *Handle) shutdownConn(rc Error) {
	c := &h.c
	h.closeSocket()
	h.mu.Lock()
	failed := h.takePendingLocked()
	for i := range h.auths {
		if e := h.auths[i].pending; e != nil {
			failed.PushBack(e)
			h.auths[i].pending = nil
		}
	}
	if h.closing {
		h.setStateLocked(StateClosed)
	}
	h.mu.Unlock()
	h.failAll(&failed, rc)
	c.stopped = true
}

// failAll completes every entry of l with rc.
func (h *Handle) failAll(l *completion.List, rc Error) {
	for e := l.PopFront(); e != nil; e = l.PopFront() {
		e.Rc = rc
		h.complete(e)
	}
}

// complete hands a finished entry to its owner: the waiter of a
// synchronous call (nothing to decode: Rc says it all), or the completion
// goroutine.
func (h *Handle) complete(e *completion.Entry) {
	if !e.Synchronous() {
		h.c.completed.PushBack(e)
		return
	}
	if e.Claim() {
		e.Deliver()
		h.c.woke = true
	} else {
		completion.Put(e)
	}
}

// errUnexpectedXid is the runtime inconsistency of a reply that does not
// answer the oldest request.
var errUnexpectedXid = errors.New("reply xid does not match the oldest request")

func xidMismatch(got, want int32) error {
	return fmt.Errorf("%w (%w): got xid %d, expected %d", ErrRuntimeInconsistency, errUnexpectedXid, got, want)
}
