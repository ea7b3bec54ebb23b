package zhandle

import (
	"errors"
	"fmt"

	"github.com/zkloop/zkloop/internal/saslmd5"
	"github.com/zkloop/zkloop/serialize"
)

// The SASL exchange of a connection, as zookeeper.c runs it when built with
// Cyrus SASL (zoo_sasl_connect, queue_sasl_request, process_sasl_response):
//
//   - The handshake reply stores the session id, password and timeout
//     (finishHandshake) and, with WithSASLDigest, starts the exchange
//     instead of establishing the session: the connection moves to
//     phaseSASL and the first token (empty: DIGEST-MD5 has no initial
//     response) goes out in the loop's own write buffer.
//   - In phaseSASL the loop writes only that buffer (flush takes the
//     callers' queued requests only once established), sends no pings,
//     and hands every reply to processSASLReply. The state stays
//     StateAssociating, so AddAuth keeps its packets for the end of the
//     exchange, and Close does not wait for a CloseSession.
//   - Each SASL packet is a request (opcode sasl, 102) with an ordinary xid
//     from the handle's counter, as the C and Java clients send it; it is
//     not in the sent queue, so its reply is matched here, by that xid.
//   - When the server has proved it knows the password, establishSession
//     does what the handshake reply does without SASL (C's
//     finalize_session_establishment): state connected or read-only, auth
//     packets, SetWatches, the session event, then the queued requests.
//   - A refused exchange (the server answers AUTHFAILED, or
//     SESSIONCLOSEDREQUIRESASLAUTH when it requires SASL), or a server that
//     fails to prove itself, makes the handle StateAuthFailed, which is
//     unrecoverable (zoo_sasl_mark_failed). A connection lost during the
//     exchange is an ordinary connection loss: closeSocket resets the
//     phase, and the next handshake starts a fresh exchange.

// saslCredentials is what WithSASLDigest configures.
type saslCredentials struct {
	user, password string
}

// saslExchange is the SASL exchange of the current connection, owned by
// the I/O goroutine; meaningful only in phaseSASL.
type saslExchange struct {
	client   *saslmd5.Client
	xid      int32 // of the SASL request whose reply is due
	readOnly bool  // the handshake's read-only flag, for establishSession
}

// errSASLReply marks a reply in phaseSASL that cannot be the server's
// answer to the SASL request: the connection is dropped.
var errSASLReply = errors.New("bad reply to a SASL request")

// startSASL begins the exchange on a connection whose handshake reply
// has just been read.
func (h *Handle) startSASL(readOnly bool) {
	cred := h.cfg.sasl
	h.sasl = saslExchange{
		client:   saslmd5.NewClient(cred.user, cred.password, saslmd5.ZooKeeperDigestURI, saslmd5.NewCnonce()),
		readOnly: readOnly,
	}
	h.c.phase = phaseSASL
	h.log.Debug("handshake done, authenticating with SASL DIGEST-MD5", "server", h.c.addr, "user", cred.user)
	h.writeSASLToken(nil)
}

// writeSASLToken appends a SASL request (GetSASLRequest) carrying token to
// the loop's write buffer; Process flushes it after this turn's reads.
func (h *Handle) writeSASLToken(token []byte) {
	c := &h.c
	h.mu.Lock()
	h.xid++
	if h.xid <= 0 {
		h.xid = 1 // negative xids are the special ones
	}
	h.sasl.xid = h.xid
	h.mu.Unlock()
	if c.woff == len(c.wbuf) {
		c.wbuf, c.woff, c.wcounted = c.wbuf[:0], 0, 0
	}
	buf, start := serialize.BeginFrame(c.wbuf)
	hdr := serialize.RequestHeader{Xid: h.sasl.xid, Type: int32(serialize.OpSASL)}
	buf = hdr.Encode(buf)
	if token == nil {
		token = []byte{} // a nil buffer is sent as null (length -1), which the server cannot read
	}
	req := serialize.GetSASLRequest{Token: token}
	buf = req.Encode(buf)
	// A DIGEST-MD5 response is a few hundred bytes: no frame limit applies.
	c.wbuf, _ = serialize.FinishFrame(buf, start, max(h.cfg.maxFrame, len(buf)))
}

// processSASLReply handles a reply in phaseSASL: the server's next token
// goes to the mechanism, whose answer is sent; once the mechanism is done
// the session is established. A refusal ends the handle (StateAuthFailed);
// a reply that is not the SASL reply drops the connection.
func (h *Handle) processSASLReply(body []byte) error {
	var hdr serialize.ReplyHeader
	n, err := hdr.Decode(body)
	if err != nil {
		return fmt.Errorf("%w: %w", errSASLReply, err)
	}
	if hdr.Xid != h.sasl.xid {
		return fmt.Errorf("%w: %w", errSASLReply, xidMismatch(hdr.Xid, h.sasl.xid))
	}
	if hdr.Err != 0 {
		h.saslFailed(fmt.Errorf("the server refused the credentials: %w", Error(hdr.Err)))
		return nil
	}
	var resp serialize.SetSASLResponse
	if _, err := resp.Decode(body[n:]); err != nil {
		return fmt.Errorf("%w: %w", errSASLReply, err)
	}
	reply, done, err := h.sasl.client.Next(resp.Token)
	if err != nil {
		h.saslFailed(err)
		return nil
	}
	if reply != nil {
		h.writeSASLToken(reply)
	}
	if done {
		readOnly := h.sasl.readOnly
		h.sasl = saslExchange{}
		h.log.Debug("SASL authentication done", "server", h.c.addr, "user", h.cfg.sasl.user)
		h.establishSession(readOnly)
	}
	return nil
}

// saslFailed ends the handle after a failed exchange (zoo_sasl_mark_failed).
func (h *Handle) saslFailed(cause error) {
	h.sasl = saslExchange{}
	h.log.Error("SASL authentication failed", "server", h.c.addr, "user", h.cfg.sasl.user, "err", cause)
	h.authFailed(fmt.Errorf("%w: SASL DIGEST-MD5 authentication as %q with %s: %w", ErrAuthFailed, h.cfg.sasl.user, h.c.addr, cause))
}

// authFailed ends the handle as a failed auth packet does: StateAuthFailed,
// the session event, every pending request failed with ErrAuthFailed. err,
// which wraps ErrAuthFailed, is kept for WaitConnected.
func (h *Handle) authFailed(err error) {
	h.mu.Lock()
	h.authCause = err
	h.setStateLocked(StateAuthFailed)
	h.mu.Unlock()
	h.queueSessionEvent(StateAuthFailed)
	h.shutdownConn(ErrAuthFailed)
}

// authFailure is the error of a handle in StateAuthFailed: why SASL or
// TLS failed, or plain ErrAuthFailed (an auth packet was refused).
func (h *Handle) authFailure() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.authCause != nil {
		return h.authCause
	}
	return ErrAuthFailed
}
