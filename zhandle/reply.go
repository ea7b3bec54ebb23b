package zhandle

import (
	"fmt"
	"time"

	"github.com/zkloop/zkloop/completion"
	"github.com/zkloop/zkloop/serialize"
)

// processReply handles one reply frame after the handshake (the reply
// branch of zookeeper_process): pings are dropped, notifications go to the
// watchers they collect, auth and SetWatches replies are checked, and any
// other reply must answer the oldest pending request.
func (h *Handle) processReply(body []byte) error {
	var hdr serialize.ReplyHeader
	n, err := hdr.Decode(body)
	if err != nil {
		return err
	}
	body = body[n:]
	switch hdr.Xid {
	case serialize.XidPing:
		if !h.c.pingSent.IsZero() {
			// The server answers in order, so it had this ping, and
			// everything before it, when it answered.
			h.markHeard(h.c.pingSent)
			h.stats.pingRTT.Store(int64(time.Since(h.c.pingSent)))
			h.c.pingSent = time.Time{}
		}
		return nil
	case serialize.XidWatcherEvent:
		return h.processNotification(body)
	case serialize.XidSetWatches:
		if hdr.Err != 0 {
			h.log.Warn("SetWatches failed", "server", h.c.addr, "err", Error(hdr.Err))
		}
		return nil
	case serialize.XidAuth:
		h.processAuthReply(Error(hdr.Err))
		return nil
	}

	rc := Error(hdr.Err)
	e, err := h.takeAnswered(hdr, rc)
	if err != nil {
		return err
	}
	h.completeReply(e, rc, body)
	return nil
}

// takeAnswered removes from the sent queue the request a reply answers:
// the oldest, whose xid the reply must carry, since the server answers in
// order.
func (h *Handle) takeAnswered(hdr serialize.ReplyHeader, rc Error) (*completion.Entry, error) {
	h.mu.Lock()
	e := h.sent.Front()
	if e == nil || e.Xid != hdr.Xid {
		want := int32(0)
		if e != nil {
			want = e.Xid
		}
		h.mu.Unlock()
		return nil, xidMismatch(hdr.Xid, want)
	}
	h.sent.PopFront()
	h.countQueuedLocked()
	h.mu.Unlock()
	h.stats.inFlight.Add(-1)
	h.traceEnd(e, rc)
	if hdr.Zxid > 0 {
		// Only a request's reply moves last_zxid, as in zookeeper.c and
		// ClientCnxn: a ping reply carries the server's newest zxid, which
		// a lagging server would refuse on reconnect, and a reply that
		// matches no request is not trusted.
		h.lastZxid.Store(hdr.Zxid)
	}
	return e, nil
}

// completeReply completes a request with its reply's error code and body:
// watches are activated as rc allows, a synchronous caller gets the
// decoded result, an asynchronous one the body, for the completion
// goroutine to decode.
func (h *Handle) completeReply(e *completion.Entry, rc Error, body []byte) {
	if e.Op == serialize.OpClose {
		completion.Put(e)
		h.log.Info("session closed by request", "server", h.c.addr)
		h.shutdownConn(ErrClosing)
		return
	}
	if e.Watch.Watcher != nil {
		h.watches.Activate(e.Watch, rc)
	}
	if rc == 0 && (e.Op == serialize.OpRemoveWatches || e.Op == serialize.OpCheckWatches) {
		h.removeLocalWatches(e)
	}
	e.Rc = rc
	if !e.Synchronous() {
		e.Reply = append(e.Reply[:0], body...)
		h.c.completed.PushBack(e)
		return
	}
	if !e.Claim() {
		completion.Put(e) // the waiter gave up; the reply is consumed here
		return
	}
	if rc == 0 || e.Op == serialize.OpMulti && len(body) > 0 {
		if err := h.decodeResult(e, body, false); err != nil {
			e.Rc = ErrMarshalling
			h.log.Error("undecodable reply", "server", h.c.addr, "op", e.Op, "err", err)
		}
	}
	e.Deliver()
	h.c.woke = true
}

// refuseReply fails the request a reply over the maximum frame answers
// with ErrMarshalling, as an undecodable reply, instead of dropping the
// connection as zookeeper.c and ClientCnxn do: every retry would meet
// the same reply again. The caller skips the rest of the frame. hdr is
// the reply's header, size its frame's length.
func (h *Handle) refuseReply(hdr serialize.ReplyHeader, size int) error {
	h.stats.framesIn.Add(1)
	e, err := h.takeAnswered(hdr, ErrMarshalling)
	if err != nil {
		return err
	}
	h.log.Error("reply over the maximum frame (WithMaxFrame): the request fails with ErrMarshalling",
		"server", h.c.addr, "op", e.Op, "xid", hdr.Xid, "size", size, "max", h.cfg.maxFrame)
	h.completeReply(e, ErrMarshalling, nil)
	return nil
}

// processNotification collects the watchers of a watcher event
// (collectWatchers) and queues them with the event for the completion
// goroutine; the path given to them has the chroot stripped.
func (h *Handle) processNotification(body []byte) error {
	var ev serialize.WatcherEvent
	if _, err := ev.Decode(body); err != nil {
		return fmt.Errorf("watcher event: %w", err)
	}
	typ := EventType(ev.Type)
	switch typ {
	case EventCreated, EventDeleted, EventChanged, EventChild:
	default:
		h.log.Warn("ignoring watcher event of unknown type", "server", h.c.addr, "type", ev.Type, "path", ev.Path)
		return nil
	}
	e := newNotification(typ, State(ev.State), h.clientPath(ev.Path))
	e.Watchers = h.watches.Collect(e.Watchers, typ, ev.Path)
	if len(e.Watchers) == 0 {
		completion.Put(e)
		return nil
	}
	if h.trace.watch != nil {
		e.TraceStart = time.Now() // the event's arrival, for WatchDelivery.Delay
	}
	h.c.completed.PushBack(e)
	return nil
}

// newNotification returns an entry that delivers an event (path without
// the chroot) to the watchers the caller collects into it.
func newNotification(typ EventType, state State, path string) *completion.Entry {
	e := completion.Get()
	e.Op = serialize.OpNotify
	e.Xid = serialize.XidWatcherEvent
	e.EventType, e.State, e.Path = typ, state, path
	return e
}
