package zhandle

import (
	"time"

	"github.com/zkloop/zkloop/completion"
)

// A Tracer is told what a handle does (WithTracer). It implements any of
// RequestTracer, ConnTracer, SessionTracer and WatchTracer; the handle
// finds which once, when it is made, and calls only those. Hooks run on
// the handle's own goroutines, each named in its doc: they must return
// quickly and must not call the Handle, or they stall every request. The
// structs they get are values: keep what you need, nothing aliases the
// handle's memory.
//
// Without a tracer a request costs nothing more than a nil check; with
// one that does nothing, no allocation either.
type Tracer any

// A RequestTracer follows every request from the moment it is queued to
// its end. Each request queued gets exactly one TraceRequestStart and one
// TraceRequestEnd, whatever ends it: its reply, a connection loss
// (ErrConnectionLoss), the session's expiry (ErrSessionExpired), Close
// (ErrClosing) or a refused authentication (ErrAuthFailed). A call refused
// before anything is queued (a bad path, a closed handle, a done context)
// gets neither.
type RequestTracer interface {
	// TraceRequestStart runs on the goroutine that made the call, while
	// the handle holds its lock.
	TraceRequestStart(RequestStart)
	// TraceRequestEnd runs on the I/O goroutine when the request ends:
	// before its caller returns or its callback runs.
	TraceRequestEnd(RequestEnd)
}

// RequestStart describes a request as it is queued.
type RequestStart struct {
	Op   OpCode
	Path string // as the caller gave it; "" for requests without a path (Multi, WhoAmI, ...)
	Xid  int32  // the request's number on the wire; AddAuth's is -4
	Time time.Time
}

// RequestEnd describes how a request ended.
type RequestEnd struct {
	Op       OpCode
	Path     string
	Xid      int32
	Duration time.Duration // from RequestStart.Time
	Err      error         // nil, or an Error: the server's or the one that failed the request
}

// A ConnTracer follows the handle's connections to servers. Its hooks run
// on the I/O goroutine.
type ConnTracer interface {
	// TraceConnecting: a connection to Server is being opened.
	TraceConnecting(ConnEvent)
	// TraceConnected: the session is established on Server (after TLS and
	// SASL, when used).
	TraceConnected(ConnEvent)
	// TraceDisconnected: the established connection to Server was lost;
	// Err says why (ErrConnectionLoss, ErrOperationTimeout for a silent
	// server, ErrClosing, ...).
	TraceDisconnected(ConnEvent)
}

// ConnEvent describes a step of a connection.
type ConnEvent struct {
	Server    string // host:port
	SessionID int64  // 0 before the first session
	Err       error  // for TraceDisconnected
}

// A SessionTracer is told of the session's state changes, as the session
// events watchers get (connecting after a loss, connected, read-only,
// expired, auth failed), and last of StateClosed when the handle is
// closed. It runs on the completion goroutine, in order
// with callbacks and watchers, before the watchers get the event.
type SessionTracer interface {
	TraceSessionState(SessionEvent)
}

// SessionEvent describes a change of the session's state.
type SessionEvent struct {
	State     State
	SessionID int64
}

// A WatchTracer is told of every watch event delivered. It runs on the
// completion goroutine, after the watchers.
type WatchTracer interface {
	TraceWatchDelivered(WatchDelivery)
}

// WatchDelivery describes the delivery of a watch event.
type WatchDelivery struct {
	Event    Event
	Watchers int           // how many watchers got it
	Delay    time.Duration // from the event's arrival on the socket to the start of its delivery
}

// tracers holds the hooks of a Tracer, each nil when not implemented.
type tracers struct {
	request RequestTracer
	conn    ConnTracer
	session SessionTracer
	watch   WatchTracer
}

func newTracers(t Tracer) tracers {
	var tr tracers
	tr.request, _ = t.(RequestTracer)
	tr.conn, _ = t.(ConnTracer)
	tr.session, _ = t.(SessionTracer)
	tr.watch, _ = t.(WatchTracer)
	return tr
}

// traceStartLocked tells the tracer that e is queued; h.mu is held, so it
// comes before the request's end. e.TracePath holds the server path.
func (h *Handle) traceStartLocked(e *completion.Entry) {
	if h.trace.request == nil {
		return
	}
	e.TracePath, e.TraceStart = h.clientPath(e.TracePath), time.Now()
	h.trace.request.TraceRequestStart(RequestStart{Op: e.Op, Path: e.TracePath, Xid: e.Xid, Time: e.TraceStart})
}

// traceEnd tells the tracer that e ended with rc, once.
func (h *Handle) traceEnd(e *completion.Entry, rc Error) {
	if h.trace.request == nil || e.TraceStart.IsZero() {
		return
	}
	h.trace.request.TraceRequestEnd(RequestEnd{Op: e.Op, Path: e.TracePath, Xid: e.Xid,
		Duration: time.Since(e.TraceStart), Err: asError(rc)})
	e.TraceStart = time.Time{}
}

// traceConn tells the tracer of a connection step on the I/O goroutine.
func (h *Handle) traceConn(hook func(ConnTracer, ConnEvent), err error) {
	if h.trace.conn == nil {
		return
	}
	hook(h.trace.conn, ConnEvent{Server: h.c.addr.String(), SessionID: h.sessionID.Load(), Err: err})
}
