package zhandle

import (
	"io"
	"time"

	"github.com/zkloop/zkloop/serialize"
)

// Moving bytes on the I/O goroutine (send_buffer, recv_buffer and the
// frame loop of check_events): writing what is due without blocking,
// reading what the socket has, and dispatching every whole frame.

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
		n, err := sockWrite(c.fd, p)
		switch {
		case err == errWouldBlock:
			return
		case err != nil:
			h.socketFailed(err)
			return
		}
		h.stats.bytesOut.Add(uint64(n))
		if c.tls != nil {
			c.tls.Wrote(n)
		} else {
			c.woff += n
			h.countWritten()
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
	if c.tls != nil && c.tls.Sealing() {
		return c.tls.Due(nil)
	}
	if c.woff == len(c.wbuf) && c.phase == phaseEstablished {
		h.takeOutput()
	}
	if c.tls == nil {
		return c.wbuf[c.woff:], nil
	}
	p := c.wbuf[c.woff:]
	c.woff = len(c.wbuf)
	h.countWritten() // sealed: as good as sent
	return c.tls.Due(p)
}

// socketFailed logs a failed socket call and drops the connection.
func (h *Handle) socketFailed(err error) {
	h.log.Info("socket failed", "server", h.c.addr, "err", err)
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
	c.woff, c.wcounted = 0, 0
}

// readSocket reads what the socket has and dispatches every whole frame.
func (h *Handle) readSocket(now time.Time) {
	c := &h.c
	for {
		n, full, err := h.readWire()
		switch {
		case err == errWouldBlock:
			return
		case err != nil && c.phase == phaseTLS:
			h.tlsInputEnded(now, err)
			return
		case err != nil:
			h.socketFailed(err)
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
		h.stats.bytesIn.Add(uint64(n))
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
		return c.tls.Fill(func(p []byte) (int, error) { return sockRead(c.fd, p) })
	}
	room := c.readRoom()
	n, err = sockRead(c.fd, room)
	c.rlen += n
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
	case c.tls.Handshaken():
		return h.decryptFrames()
	}
	return nil
}

// consumeFrames dispatches every complete frame in rbuf and keeps the
// partial tail. Nothing of a frame's advertised size is allocated before
// the length is checked: a negative length is an error, and so is a frame
// over the maximum, except for the reply to a request once the session is
// established, which fails that request and is skipped as it arrives
// (refuseReply).
func (h *Handle) consumeFrames() error {
	c := &h.c
	off := min(c.skip, c.rlen)
	c.skip -= off
	for c.fd >= 0 && c.rlen-off >= serialize.FrameHeaderLen {
		n, err := serialize.FrameLen(c.rbuf[off:], h.cfg.maxFrame)
		// FrameLen returns the error unwrapped; errors.As would move its
		// target to the heap, an allocation per read.
		if tooLarge, ok := err.(*serialize.FrameTooLargeError); ok && c.phase == phaseEstablished {
			if c.rlen-off < serialize.FrameHeaderLen+serialize.ReplyHeaderLen {
				break // the reply's header is not all here yet
			}
			var hdr serialize.ReplyHeader
			if _, err := hdr.Decode(c.rbuf[off+serialize.FrameHeaderLen : c.rlen]); err != nil {
				return err
			}
			if err := h.refuseReply(hdr, n); err != nil {
				return err
			}
			skip := serialize.FrameHeaderLen + tooLarge.Len
			dropped := min(skip, c.rlen-off)
			off += dropped
			c.skip = skip - dropped
			continue
		}
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
	if h.c.phase == phaseHandshaking {
		return h.finishHandshake(body)
	}
	h.stats.framesIn.Add(1)
	if h.c.phase == phaseSASL {
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
