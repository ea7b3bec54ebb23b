package zhandle

import (
	"encoding/binary"
	"sync/atomic"
	"time"

	"github.com/zkloop/zkloop/serialize"
)

// Stats are a handle's counters since Init, read without locks. Each
// field is exact on its own; read together, while requests flow, they may
// be a moment apart.
type Stats struct {
	RequestsSent    uint64        // frames written after each handshake: requests, pings, auth, SetWatches, SASL tokens
	RepliesReceived uint64        // frames read after each handshake: replies, ping replies, watch events
	BytesSent       uint64        // bytes written to server sockets (TLS records with TLS)
	BytesReceived   uint64        // bytes read from server sockets
	Reconnects      uint64        // sessions established again after a connection loss
	PingRTT         time.Duration // the round trip of the last ping answered (the C client's last_ping); 0 before one
	Pending         int           // requests queued and not yet sent
	Outstanding     int           // requests sent and awaiting their reply
	Server          string        // the server connected or connecting to; "" before the first
}

// counters are Stats as the handle keeps them: written by the I/O
// goroutine (queued also under h.mu by callers), read by Stats.
type counters struct {
	framesOut, framesIn atomic.Uint64
	bytesOut, bytesIn   atomic.Uint64
	reconnects          atomic.Uint64
	pingRTT             atomic.Int64
	queued              atomic.Int64 // requests awaiting a reply, sent or not: h.sent and h.authSent
	inFlight            atomic.Int64 // of those, the ones written
	server              atomic.Pointer[string]
}

// Stats returns the handle's counters.
func (h *Handle) Stats() Stats {
	s := &h.stats
	queued, inFlight := s.queued.Load(), s.inFlight.Load()
	st := Stats{
		RequestsSent:    s.framesOut.Load(),
		RepliesReceived: s.framesIn.Load(),
		BytesSent:       s.bytesOut.Load(),
		BytesReceived:   s.bytesIn.Load(),
		Reconnects:      s.reconnects.Load(),
		PingRTT:         time.Duration(s.pingRTT.Load()),
		Pending:         int(max(queued-inFlight, 0)),
		Outstanding:     int(max(min(inFlight, queued), 0)),
	}
	if server := s.server.Load(); server != nil {
		st.Server = *server
	}
	return st
}

// countQueuedLocked records how many requests await a reply; h.mu is held.
func (h *Handle) countQueuedLocked() {
	h.stats.queued.Store(int64(h.sent.Len() + h.authSent.Len()))
}

// countWritten counts the frames of the write buffer written whole so far
// (up to woff): every one is a request sent, and those that await a reply
// (an ordinary xid, or an auth packet) are in flight from then on. The
// ConnectRequest is not counted: primeConnection starts past it. The
// counters are added to once per call, not once per frame.
func (h *Handle) countWritten() {
	c := &h.c
	var frames, inFlight uint64
	for c.wcounted+serialize.FrameHeaderLen <= c.woff {
		end := c.wcounted + serialize.FrameHeaderLen + int(binary.BigEndian.Uint32(c.wbuf[c.wcounted:]))
		if end > c.woff {
			break
		}
		frames++
		if c.phase == phaseEstablished && end-c.wcounted >= serialize.FrameHeaderLen+4 {
			xid := int32(binary.BigEndian.Uint32(c.wbuf[c.wcounted+serialize.FrameHeaderLen:]))
			if xid > 0 || xid == serialize.XidAuth {
				inFlight++
			}
		}
		c.wcounted = end
	}
	if frames > 0 {
		h.stats.framesOut.Add(frames)
	}
	if inFlight > 0 {
		h.stats.inFlight.Add(int64(inFlight))
	}
}
