package zhandle

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/zkloop/zkloop/completion"
	"github.com/zkloop/zkloop/internal/hostlist"
	"github.com/zkloop/zkloop/internal/tlsconn"
	"github.com/zkloop/zkloop/serialize"
)

// The connection's phases, on the I/O goroutine: connecting to the next
// server (the no-socket branch of zookeeper_interest), the handshake
// (prime_connection), and the end of a connection (handle_error,
// cleanup_bufs) or of the loop. Moving bytes is in wire.go, the syscalls
// in socket_linux.go.

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
	addr     hostlist.Address
	tried    int       // addresses tried since the last established session
	retryAt  time.Time // no connect before this (the delay after a full pass)
	lastSend time.Time
	lastRecv time.Time
	lastPing time.Time // when the last ping was queued, or the session established

	connectLimit time.Duration // WithConnectTimeout's bound on the silence before a session, doubled after each miss; 0 without
	pingSent     time.Time     // when the ping awaiting its reply was queued; zero when none is

	lastResolve time.Time // of the host names, for WithResolutionDelay
	lostAt      time.Time // when the last established connection was lost; zero while established
	seenRW      bool      // a read/write server has taken the session (seenRwServerBefore in Java)
	sentSession int64     // the session id the last ConnectRequest carried
	probe       rwProbe   // the search for a read/write server while read-only
	tlsRefusals int       // servers of this pass that refused TLS (tlsRefused)

	tls        *tlsconn.Conn  // WithTLS: the connection's TLS; nil without
	handshakes sync.WaitGroup // TLS handshake goroutines, waited for when the loop ends

	wbuf     []byte // bytes being written; wbuf[woff:] is still due
	woff     int
	wcounted int    // wbuf[:wcounted] holds the frames Stats has counted (countWritten)
	rbuf     []byte // bytes read; rbuf[:rlen] not yet consumed
	rlen     int
	skip     int // bytes still to come of a refused reply (refuseReply), dropped as they arrive

	completed completion.List // async completions of this turn, pushed in one batch
	woke      bool            // this turn woke a synchronous caller or the completion goroutine
	stopped   bool            // the loop must end
}

// silenceLimit is how long the server may stay silent before the
// connection is dropped: two thirds of the session timeout, or less until
// the session is established when WithConnectTimeout asks for it.
func (c *conn) silenceLimit(recvTimeout time.Duration) time.Duration {
	limit := recvTimeout * 2 / 3
	if c.phase != phaseEstablished && c.connectLimit > 0 {
		limit = min(limit, c.connectLimit)
	}
	return limit
}

// connectMissed doubles WithConnectTimeout's bound after an attempt that
// ran out, up to two thirds of the session timeout: a slow server gets
// longer next time.
func (c *conn) connectMissed(recvTimeout time.Duration) {
	c.connectLimit = min(2*c.connectLimit, recvTimeout*2/3)
}

func (c *conn) init() {
	c.fd = -1
	c.rbuf = make([]byte, initialReadBuf)
	c.wbuf = make([]byte, 0, initialWriteBuf)
}

// connect opens a non-blocking TCP socket to the next address (the
// no-socket branch of zookeeper_interest). After a full pass over the
// list without a session it waits recv_timeout/60 (jittered) first.
func (h *Handle) connect(now time.Time) {
	c := &h.c
	h.reresolve(now)
	h.mu.Lock()
	if c.tried >= h.hosts.Len() {
		c.tried, c.tlsRefusals = 0, 0
		h.mu.Unlock()
		wait := h.RecvTimeout() / 60
		wait += rand.N(wait/2 + 1)
		c.retryAt = now.Add(wait)
		return
	}
	if h.rwServer != (hostlist.Address{}) {
		c.addr, h.rwServer = h.rwServer, hostlist.Address{}
	} else {
		c.addr = h.hosts.Next()
	}
	c.tried++
	h.current = c.addr
	h.setStateLocked(StateConnecting)
	h.mu.Unlock()
	server := c.addr.String()
	h.stats.server.Store(&server)
	h.traceConn(ConnTracer.TraceConnecting, nil)

	c.lastSend, c.lastRecv = now, now
	fd, up, err := openSocket(c.addr.AddrPort)
	if fd < 0 {
		h.log.Warn("no socket", "server", c.addr, "err", err)
		return
	}
	c.fd = fd
	switch {
	case err != nil:
		h.log.Info("connect failed", "server", c.addr, "err", err)
		h.dropConn(ErrConnectionLoss)
	case up:
		h.connected(now)
	default:
		c.phase = phaseConnecting
	}
}

// finishConnect checks SO_ERROR once the socket is writable and goes on
// with the connection (the ZOO_CONNECTING_STATE branch of zookeeper_process).
func (h *Handle) finishConnect(now time.Time) {
	if err := connectResult(h.c.fd); err != nil {
		h.log.Info("connect failed", "server", h.c.addr, "err", err)
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
	c.woff, c.wcounted = 0, len(c.wbuf)                           // the handshake is not a request (Stats)
	c.phase = phaseHandshaking
	c.lastSend, c.lastRecv = now, now
	h.log.Debug("connection opened, sending handshake", "server", c.addr)
	h.flush(now)
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
		h.traceConn(ConnTracer.TraceDisconnected, asError(rc))
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
	h.countQueuedLocked()
	h.stats.inFlight.Store(0)
	return failed
}

func (h *Handle) closeSocket() {
	c := &h.c
	if c.fd >= 0 {
		if err := closeSocketFD(c.fd); err != nil {
			h.log.Warn("closing socket", "err", err)
		}
	}
	if c.tls != nil {
		c.tls.Close() // ends a handshake still running
		c.tls = nil
	}
	c.fd, c.phase = -1, phaseNone
	c.wbuf, c.woff, c.wcounted, c.rlen, c.skip = c.wbuf[:0], 0, 0, 0, 0
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
	h.traceEnd(e, e.Rc)
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
