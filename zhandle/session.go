package zhandle

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/zkloop/zkloop/hashtable"
	"github.com/zkloop/zkloop/serialize"
)

// maxSetWatchesBytes bounds the paths of one SetWatches packet, as the Java
// client's SET_WATCHES_MAX_LENGTH (the C client sends one unbounded packet,
// ZOOKEEPER-706).
const maxSetWatchesBytes = 128 << 10

// errHandshake marks a malformed handshake reply.
var errHandshake = errors.New("malformed handshake reply")

// finishHandshake handles the ConnectResponse (the ZOO_ASSOCIATING_STATE
// branch of check_events): negotiated timeout, session id and password, and
// the optional read-only byte old servers omit. A timeout ≤ 0, or a
// resumed session that comes back with another id, means the session has
// expired. Otherwise, with WithSASLDigest, the SASL exchange starts
// (sasl.go); without, the session is established at once.
func (h *Handle) finishHandshake(body []byte) error {
	c := &h.c
	var resp serialize.ConnectResponse
	n, err := resp.Decode(body)
	if err != nil {
		return fmt.Errorf("%w: %w", errHandshake, err)
	}
	readOnly := n < len(body) && body[n] != 0

	h.mu.Lock()
	oldID := c.sentSession
	if resp.TimeOut <= 0 || oldID != 0 && resp.SessionID != oldID {
		h.setStateLocked(StateExpiredSession)
		h.mu.Unlock()
		h.log.Warn("session expired", "server", c.addr, "new_session", sessionAttr(resp.SessionID))
		h.queueSessionEvent(StateExpiredSession)
		h.shutdownConn(ErrSessionExpired)
		return nil
	}
	h.clientID.SessionID = resp.SessionID
	copy(h.clientID.Passwd[:], resp.Passwd)
	h.recvTimeout.Store(int64(time.Duration(resp.TimeOut) * time.Millisecond))
	h.mu.Unlock()

	h.sessionID.Store(resp.SessionID)
	c.seenRW = c.seenRW || !readOnly
	if h.cfg.sasl != nil {
		h.startSASL(readOnly)
		return nil
	}
	h.establishSession(readOnly)
	return nil
}

// establishSession is the second half of the handshake
// (finalize_session_establishment), run on the handshake reply or, with
// SASL, once the exchange has succeeded: the state becomes connected (or
// read-only), every auth packet and then SetWatches go out ahead of the
// queued requests, and the session event is queued.
func (h *Handle) establishSession(readOnly bool) {
	c := &h.c
	state := StateConnected
	if readOnly {
		state = StateReadOnly
	}
	h.markHeard(c.lastSend) // the server answered what was written last: the handshake, or SASL's last step
	h.mu.Lock()
	h.setStateLocked(state)
	prefix := h.appendAuthsLocked(c.wbuf[:0])
	h.mu.Unlock()

	c.wbuf = h.appendSetWatches(prefix)
	c.woff, c.wcounted = 0, 0
	c.phase = phaseEstablished
	c.lastPing = time.Now()
	c.tried, c.tlsRefusals = 0, 0
	c.connectLimit = max(h.cfg.connectTimeout, 0)
	if !c.lostAt.IsZero() {
		h.stats.reconnects.Add(1)
	}
	c.lostAt = time.Time{}
	c.probe.reset()
	h.log.Info("session established", "server", c.addr, "timeout", h.RecvTimeout(), "readonly", readOnly)
	h.traceConn(ConnTracer.TraceConnected, nil)
	h.queueSessionEvent(state)
	if h.cfg.followConfig {
		h.configTracker.read()
	}
}

// appendSetWatches appends SetWatches packets (xid -8) that re-register
// every watch with the server, relative to the last zxid seen, so that a
// change made while disconnected fires at once. Paths are split over
// packets of at most maxSetWatchesBytes; persistent watches travel in
// SetWatches2.
func (h *Handle) appendSetWatches(dst []byte) []byte {
	var keys hashtable.WatchKeys
	h.watches.Keys(&keys)
	zxid := h.lastZxid.Load()
	lists := [...][]string{keys.Data, keys.Exist, keys.Child, keys.Persistent, keys.PersistentRecursive}
	for !allEmpty(lists[:]) {
		var batch [5][]string
		size := 0
		for i := range lists {
			for len(lists[i]) > 0 && size < maxSetWatchesBytes {
				batch[i] = append(batch[i], lists[i][0])
				size += len(lists[i][0]) + 4
				lists[i] = lists[i][1:]
			}
		}
		dst = h.appendSetWatchesPacket(dst, zxid, batch)
	}
	return dst
}

func allEmpty(lists [][]string) bool {
	for _, l := range lists {
		if len(l) > 0 {
			return false
		}
	}
	return true
}

func (h *Handle) appendSetWatchesPacket(dst []byte, zxid int64, b [5][]string) []byte {
	dst, start := serialize.BeginFrame(dst)
	nonNil := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	if len(b[3]) == 0 && len(b[4]) == 0 {
		hdr := serialize.RequestHeader{Xid: serialize.XidSetWatches, Type: int32(serialize.OpSetWatches)}
		dst = hdr.Encode(dst)
		req := serialize.SetWatches{RelativeZxid: zxid, DataWatches: nonNil(b[0]), ExistWatches: nonNil(b[1]), ChildWatches: nonNil(b[2])}
		dst = req.Encode(dst)
	} else {
		hdr := serialize.RequestHeader{Xid: serialize.XidSetWatches, Type: int32(serialize.OpSetWatches2)}
		dst = hdr.Encode(dst)
		req := serialize.SetWatches2{RelativeZxid: zxid, DataWatches: nonNil(b[0]), ExistWatches: nonNil(b[1]),
			ChildWatches: nonNil(b[2]), PersistentWatches: nonNil(b[3]), PersistentRecursiveWatches: nonNil(b[4])}
		dst = req.Encode(dst)
	}
	out, err := serialize.FinishFrame(dst, start, max(h.cfg.maxFrame, maxSetWatchesBytes+1024))
	if err != nil {
		h.log.Error("SetWatches packet too large", "err", err)
	}
	return out
}

// queueSessionEvent queues a session event (type -1, no path) for the
// default watcher and every registered watcher, without removing any.
func (h *Handle) queueSessionEvent(state State) {
	e := newNotification(EventSession, state, "")
	e.Watchers = h.watches.CollectSession(e.Watchers)
	if !slices.Contains(e.Watchers, hashtable.Watcher(h.defaultRef)) { // == on interfaces of other dynamic types is false, never a panic
		e.Watchers = append(e.Watchers, h.defaultRef)
	}
	h.mu.Lock()
	for _, sub := range h.sessionSubs {
		if !slices.ContainsFunc(e.Watchers, func(w hashtable.Watcher) bool { return hashtable.Same(w, sub.w) }) {
			e.Watchers = append(e.Watchers, sub)
		}
	}
	h.mu.Unlock()
	h.c.completed.PushBack(e)
}

// queueClosedEvent queues the last event of a closed handle, StateClosed,
// for the session watchers (AddSessionWatcher) and the tracer: other
// watchers are not told, as in the C client. The loop has ended.
func (h *Handle) queueClosedEvent() {
	e := newNotification(EventSession, StateClosed, "")
	h.mu.Lock()
	for _, sub := range h.sessionSubs {
		e.Watchers = append(e.Watchers, sub)
	}
	h.mu.Unlock()
	h.completions.Push(e)
}
