package zhandle

import (
	"time"

	"github.com/zkloop/zkloop/loop"
)

// driver is the Handle as the poll loop sees it (loop.Handler and
// loop.Expecter). Its methods run only on the loop's goroutine, so they
// are not the Handle's: the threaded C client hides zookeeper_interest and
// zookeeper_process from its users for the same reason.
type driver Handle

// turnState is what a turn of the loop reads of the state callers share with
// it, taken under one lock (see snapshot).
type turnState struct {
	closing       bool      // Close was called
	closeDeadline time.Time // when the loop gives up on CloseSession; zero: no session to close
	move          bool      // SetServers asked to leave the current server
	readOnly      bool      // the session is on a read-only server
	output        bool      // callers queued requests the loop has not taken
}

// snapshot reads the turnState state once for a turn.
func (h *Handle) snapshot() turnState {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := turnState{
		closing:       h.closing,
		closeDeadline: h.closeDeadline,
		move:          h.moveServer,
		readOnly:      h.state == StateReadOnly,
		output:        len(h.out) > 0,
	}
	return s
}

// closeDue reports whether a Close waits on the loop and the loop should
// end now: no session to close, or the CloseSession reply overdue.
func (s turnState) closeDue(now time.Time, c *conn) bool {
	return s.closing && (s.closeDeadline.IsZero() || now.After(s.closeDeadline) || c.phase != phaseEstablished)
}

// untilCloseDeadline is how long the loop may sleep before Close's wait
// for the CloseSession reply runs out; a long time when no Close waits.
// Without it a silent server would hold Close until the next ping or
// receive deadline, up to recv_timeout/3, beyond its bound.
func (s turnState) untilCloseDeadline(now time.Time) time.Duration {
	if !s.closing || s.closeDeadline.IsZero() {
		return time.Hour
	}
	return s.closeDeadline.Sub(now)
}

// Interest is the port of zookeeper_interest: it opens a connection when
// there is none, applies the receive deadline and the ping interval, and
// says what to poll for and for how long.
func (d *driver) Interest() (fd int, events int16, timeout time.Duration) {
	h := (*Handle)(d)
	c := &h.c
	now := time.Now()
	s := h.snapshot()
	switch {
	case c.stopped, s.closeDue(now, c), h.sessionGone(now), h.leaveForMove(s.move):
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
	// timeout without receiving anything drops the connection; until the
	// session is established, WithConnectTimeout may ask for less.
	silence := c.silenceLimit(recvTimeout)
	toRecv := silence - now.Sub(c.lastRecv)
	if toRecv <= 0 {
		h.log.Warn("no reply from server, dropping connection", "server", c.addr, "silent", now.Sub(c.lastRecv).Round(time.Millisecond))
		if c.phase != phaseEstablished {
			c.connectMissed(recvTimeout)
		}
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
		if s.readOnly {
			timeout = min(timeout, h.probeRW(now))
		}
	}
	timeout = min(timeout, s.untilCloseDeadline(now))
	// A connect or handshake that hangs must not hold client-side expiry
	// beyond the session timeout (up to 2/3 of it late otherwise).
	timeout = min(timeout, h.untilClientExpiry(now))
	if c.fd < 0 { // the flush above failed
		return -1, 0, 0
	}
	// Requests queued after the snapshot wake the loop: poll returns at once.
	events = loop.EventRead
	if c.phase == phaseConnecting || c.woff < len(c.wbuf) || c.phase == phaseEstablished && s.output ||
		c.tls != nil && c.tls.Pending() {
		events |= loop.EventWrite
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
	case h.snapshot().closeDue(now, c):
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
