package zhandle

import (
	"context"
	"fmt"

	"github.com/zkloop/zkloop/completion"
	"github.com/zkloop/zkloop/serialize"
)

// Identities added to the session (zoo_add_auth, send_auth_info,
// auth_completion_func): kept for the life of the handle, sent now when a
// session is established, and again before anything else after every
// handshake.

// AddAuth adds an identity to the session, e.g. scheme "digest" with
// "user:password" (zoo_add_auth). The handle keeps it and sends it again
// after every reconnect. A failed authentication makes the session
// unrecoverable (StateAuthFailed). If ctx ends while the request is in
// flight, the handle still keeps the identity and the server's answer
// still decides the session's state.
func (h *Handle) AddAuth(ctx context.Context, scheme string, cert []byte) error {
	e := completion.GetSync(ctx)
	if err := h.queueAuth(e, scheme, cert); err != nil {
		return dropEntry(e, err)
	}
	return h.waitVoid(e)
}

// AAddAuth is the asynchronous AddAuth; cb runs when the server has
// answered the auth packet.
func (h *Handle) AAddAuth(scheme string, cert []byte, cb VoidCompletion) error {
	e := asyncEntry(cb)
	return settle(e, h.queueAuth(e, scheme, cert))
}

// queueAuth records the auth and, when a session is established, sends
// the auth packet now; otherwise the handshake sends it.
func (h *Handle) queueAuth(e *completion.Entry, scheme string, cert []byte) error {
	if scheme == "" {
		return fmt.Errorf("%w: empty auth scheme", ErrBadArguments)
	}
	packet, err := authPacket(scheme, cert, h.cfg.maxFrame)
	if err != nil {
		return fmt.Errorf("%w: auth packet: %w", ErrBadArguments, err)
	}
	if err := h.admit(e); err != nil {
		return err
	}
	defer h.mu.Unlock()
	e.Op = serialize.OpSetAuth
	e.Xid = serialize.XidAuth
	a := authInfo{packet: packet}
	if h.state == StateConnected || h.state == StateReadOnly {
		h.out = append(h.out, packet...)
		h.authSent.PushBack(e)
		h.countQueuedLocked()
		defer h.loop.Wake()
	} else {
		a.pending = e
	}
	h.traceStartLocked(e)
	h.auths = append(h.auths, a)
	return nil
}

// authInfo is one AddAuth (auth_info of zookeeper.c), kept for the life of
// the handle and re-sent after every handshake.
type authInfo struct {
	packet  []byte            // the framed auth packet (xid -4)
	pending *completion.Entry // the AddAuth waiting for its first reply, if it has not been sent
}

// appendAuthsLocked appends an auth packet (xid -4) for every AddAuth so
// far (send_auth_info) and records who waits for each reply.
func (h *Handle) appendAuthsLocked(dst []byte) []byte {
	for i := range h.auths {
		a := &h.auths[i]
		dst = append(dst, a.packet...)
		waiter := a.pending
		if waiter == nil {
			waiter = completion.Get() // a placeholder: nobody waits for a re-sent auth
		}
		a.pending = nil
		h.authSent.PushBack(waiter)
	}
	h.countQueuedLocked()
	return dst
}

// authPacket frames an auth packet (xid -4), refusing one larger than
// maxFrame.
func authPacket(scheme string, cert []byte, maxFrame int) ([]byte, error) {
	dst, start := serialize.BeginFrame(nil)
	hdr := serialize.RequestHeader{Xid: serialize.XidAuth, Type: int32(serialize.OpSetAuth)}
	dst = hdr.Encode(dst)
	pkt := serialize.AuthPacket{Type: 0, Scheme: scheme, Auth: cert}
	return serialize.FinishFrame(pkt.Encode(dst), start, maxFrame)
}

// processAuthReply completes the oldest AddAuth (auth_completion_func). A
// failed auth makes the session unrecoverable (ZOO_AUTH_FAILED_STATE).
func (h *Handle) processAuthReply(rc Error) {
	h.mu.Lock()
	e := h.authSent.PopFront()
	if rc != 0 {
		h.setStateLocked(StateAuthFailed)
	}
	h.countQueuedLocked()
	h.mu.Unlock()
	h.stats.inFlight.Add(-1)
	if e != nil {
		if e.Callback == nil && !e.Synchronous() {
			completion.Put(e) // a re-sent auth nobody waits for
		} else {
			e.Rc = rc
			h.complete(e)
		}
	}
	if rc != 0 {
		h.log.Error("authentication failed", "server", h.c.addr, "err", rc)
		h.queueSessionEvent(StateAuthFailed)
		h.shutdownConn(ErrAuthFailed)
	}
}
