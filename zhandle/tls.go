package zhandle

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// TLS over the poll loop (the ssl branches of zookeeper.c: zookeeper_init_ssl,
// ssl_connect in zookeeper_interest, the SSL_read/SSL_write of
// recv_buffer/send_buffer).
//
// The design is in the package documentation (doc.go, "TLS").

// tlsReadSize is the room a socket read into the transport is given: one
// whole TLS record (16 KiB of plaintext plus overhead).
const tlsReadSize = 16<<10 + 512

// tlsHeaderLen is the length of a TLS record header: type, version, and a
// 16-bit length of the body.
const tlsHeaderLen = 5

// errNoInput is the transport's answer when the loop has not yet received
// what crypto/tls asks for: temporary, so tls.Conn resumes on the next read.
var errNoInput error = noInputError{}

type noInputError struct{}

func (noInputError) Error() string   { return "zhandle: TLS record not yet received" }
func (noInputError) Timeout() bool   { return true }
func (noInputError) Temporary() bool { return true }

// errTransportClosed is what the handshake reads once the loop has dropped
// the connection.
var errTransportClosed = errors.New("zhandle: connection dropped during the TLS handshake")

// tlsTransport is the net.Conn under tls.Conn. in holds ciphertext received
// and not yet consumed; out holds ciphertext crypto/tls wrote and the loop
// has not taken. While the handshake goroutine runs, Read waits for input
// and Write wakes the loop; after it, only the loop calls in.
type tlsTransport struct {
	mu          sync.Mutex
	input       sync.Cond // in grew, the input ended, or the handshake is over
	in          []byte
	inOff       int
	recordLeft  int // bytes of the record being handed out still to hand; 0 at a record boundary
	out         []byte
	handshaking bool  // Read waits for input; Write wakes the loop
	end         error // no more input: io.EOF, a socket error, or errTransportClosed
	wake        func()
}

func newTLSTransport(wake func()) *tlsTransport {
	t := &tlsTransport{handshaking: true, wake: wake}
	t.input.L = &t.mu
	return t
}

// Read hands crypto/tls the ciphertext received so far, never beyond the
// end of the current record, and never part of a record header.
func (t *tlsTransport) Read(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for t.readable() == 0 && t.end == nil && t.handshaking {
		t.input.Wait()
	}
	avail := t.readable()
	if avail == 0 {
		if t.end != nil {
			return 0, t.end
		}
		return 0, errNoInput
	}
	if t.recordLeft == 0 {
		t.recordLeft = recordLen(t.in[t.inOff:])
	}
	n := copy(p, t.in[t.inOff:t.inOff+min(avail, t.recordLeft)])
	t.inOff += n
	t.recordLeft -= n
	if t.inOff == len(t.in) {
		t.in, t.inOff = t.in[:0], 0
	}
	return n, nil
}

// readable returns how many bytes Read may hand out: none at a record
// boundary until the whole header is in; everything after the end of
// input, so that crypto/tls sees a truncated record for what it is.
func (t *tlsTransport) readable() int {
	avail := len(t.in) - t.inOff
	if t.recordLeft == 0 && avail < tlsHeaderLen && t.end == nil {
		return 0
	}
	return avail
}

// wholeRecord reports whether the rest of a record has arrived, so that a
// read of tls.Conn will not come back empty-handed.
func (t *tlsTransport) wholeRecord() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	avail := len(t.in) - t.inOff
	if t.recordLeft > 0 {
		return avail >= t.recordLeft
	}
	return avail >= tlsHeaderLen && avail >= recordLen(t.in[t.inOff:])
}

// recordLen returns the length of the record whose header starts b.
func recordLen(b []byte) int {
	return tlsHeaderLen + (int(b[3])<<8 | int(b[4]))
}

// Write takes ciphertext for the loop to send.
func (t *tlsTransport) Write(p []byte) (int, error) {
	t.mu.Lock()
	if t.end == errTransportClosed {
		t.mu.Unlock()
		return 0, net.ErrClosed
	}
	t.out = append(t.out, p...)
	wake := t.handshaking
	t.mu.Unlock()
	if wake {
		t.wake()
	}
	return len(p), nil
}

// fill reads from the socket into in (the loop's side of Read). It returns
// what unix.Read returned and whether the read filled the room it had. in
// holds at most a partial record besides the room of one read.
func (t *tlsTransport) fill(fd int) (n int, full bool, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if cap(t.in)-len(t.in) < tlsReadSize {
		t.in = t.in[:copy(t.in, t.in[t.inOff:])]
		t.inOff = 0
	}
	if cap(t.in)-len(t.in) < tlsReadSize {
		t.in = append(t.in, make([]byte, tlsReadSize)...)[:len(t.in)]
	}
	room := t.in[len(t.in):cap(t.in)]
	n, err = unix.Read(fd, room)
	if n > 0 {
		t.in = t.in[:len(t.in)+n]
		t.input.Signal()
	}
	return n, n == len(room), err
}

// takeOutput swaps the ciphertext crypto/tls wrote into buf, which the
// loop then owns, and returns it; buf's old contents are discarded.
func (t *tlsTransport) takeOutput(buf []byte) []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	buf, t.out = t.out, buf[:0]
	return buf
}

func (t *tlsTransport) hasOutput() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.out) > 0
}

// endInput says that no more input will come: reads return what is left,
// then err.
func (t *tlsTransport) endInput(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.end == nil {
		t.end = err
	}
	t.input.Signal()
}

// handshakeOver makes Read and Write the loop's: no waiting, no wakeups.
func (t *tlsTransport) handshakeOver() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.handshaking = false
}

func (t *tlsTransport) Close() error {
	t.endInput(errTransportClosed)
	return nil
}

// crypto/tls needs the rest of net.Conn only for what it reports; the
// loop keeps its own deadlines.
func (t *tlsTransport) LocalAddr() net.Addr              { return tlsAddr{} }
func (t *tlsTransport) RemoteAddr() net.Addr             { return tlsAddr{} }
func (t *tlsTransport) SetDeadline(time.Time) error      { return nil }
func (t *tlsTransport) SetReadDeadline(time.Time) error  { return nil }
func (t *tlsTransport) SetWriteDeadline(time.Time) error { return nil }

type tlsAddr struct{}

func (tlsAddr) Network() string { return "tcp" }
func (tlsAddr) String() string  { return "zhandle socket" }

// tlsLayer is the TLS state of one connection. The loop owns it; the
// handshake goroutine shares only tr.
type tlsLayer struct {
	tr     *tlsTransport
	conn   *tls.Conn
	result chan error // the handshake's outcome, sent once
	done   bool       // result received: records flow through conn
	sealed []byte     // ciphertext taken from tr, being written to the socket
	soff   int        // sealed[soff:] is still due
}

// tlsConfigFor returns the configuration for a connection to a: the
// handle's, verifying the server against the host as written in the host
// list (name or IP literal) unless it names a ServerName itself.
func (h *Handle) tlsConfigFor(a address) *tls.Config {
	cfg := h.cfg.tls
	if cfg.ServerName == "" {
		cfg = cfg.Clone()
		cfg.ServerName = a.host
	}
	return cfg
}

// startTLS begins the handshake on a connected socket (ssl_connect); the
// ConnectRequest follows once it succeeds (tlsProgress).
func (h *Handle) startTLS(now time.Time) {
	c := &h.c
	tr := newTLSTransport(h.loop.Wake)
	l := &tlsLayer{tr: tr, conn: tls.Client(tr, h.tlsConfigFor(c.addr)), result: make(chan error, 1)}
	c.tls = l
	c.phase = phaseTLS
	c.lastSend, c.lastRecv = now, now
	h.log.Debug("connection opened, starting TLS", "server", c.addr)
	c.handshakes.Add(1)
	go func() {
		defer c.handshakes.Done()
		l.result <- l.conn.HandshakeContext(context.Background())
		h.loop.Wake()
	}()
}

// tlsProgress acts on the end of the handshake, if it has ended: the
// ConnectRequest goes out on success; a failure drops the connection.
func (h *Handle) tlsProgress(now time.Time) {
	l := h.c.tls
	select {
	case err := <-l.result:
		h.tlsHandshakeDone(now, err)
	default:
	}
}

// tlsInputEnded handles the end of the socket's input during the
// handshake. The bytes before it may hold the server's alert, which says
// more than the closed socket: the handshake reads them first, then the
// end, and its result decides.
func (h *Handle) tlsInputEnded(now time.Time, err error) {
	l := h.c.tls
	l.tr.endInput(err)
	h.tlsHandshakeDone(now, <-l.result)
}

func (h *Handle) tlsHandshakeDone(now time.Time, err error) {
	c := &h.c
	l := c.tls
	l.done = true
	l.tr.handshakeOver()
	switch {
	case err == nil:
	case errors.Is(err, io.EOF):
		h.log.Info("server closed the connection during the TLS handshake (a port without TLS?)", "server", c.addr)
		h.dropConn(ErrConnectionLoss)
		return
	case brokenConnection(err):
		h.log.Info("TLS handshake failed", "server", c.addr, "err", err)
		h.dropConn(ErrConnectionLoss)
		return
	default:
		h.tlsRefused(err)
		return
	}
	st := l.conn.ConnectionState()
	h.log.Debug("TLS established", "server", c.addr, "version", tls.VersionName(st.Version), "cipher", tls.CipherSuiteName(st.CipherSuite))
	h.primeConnection(now)
}

// brokenConnection reports whether a handshake error is the connection's
// (the socket ended or failed, or the loop dropped it) rather than TLS's.
func brokenConnection(err error) bool {
	var sysErr *os.SyscallError
	return errors.Is(err, errTransportClosed) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &sysErr)
}

// remoteAlert reports whether err is an alert the server sent.
func remoteAlert(err error) bool {
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "remote error"
}

// tlsRefused handles a TLS failure that is not a broken connection: the
// server's certificate failed verification, or the server refused ours
// (an alert). Retrying the same server at once would fail the same way, so
// the handle moves on; once every server of a pass over the list has
// refused, it gives up with StateAuthFailed and err as the cause, as for a
// failed SASL exchange.
func (h *Handle) tlsRefused(err error) {
	c := &h.c
	h.log.Warn("TLS refused", "server", c.addr, "err", err)
	c.tlsRefusals++
	h.mu.Lock()
	all := c.tlsRefusals >= h.hosts.len()
	h.mu.Unlock()
	if all {
		by := ""
		if remoteAlert(err) {
			by = ", refused by the server"
		}
		h.authFailed(fmt.Errorf("%w: TLS with %s%s: %w", ErrAuthFailed, c.addr, by, err))
		return
	}
	h.dropConn(ErrConnectionLoss)
}

// decryptFrames decrypts the records received into rbuf and dispatches
// every whole frame (the TLS side of readSocket, after the handshake). A
// TLS error drops the connection; an alert before the ConnectResponse is
// the server refusing our certificate (TLS 1.3 sends it after the client
// has finished its handshake).
func (h *Handle) decryptFrames() error {
	c := &h.c
	more := false // plaintext may be left in tls.Conn
	for c.fd >= 0 && (more || c.tls.tr.wholeRecord()) {
		room := c.readRoom()
		n, err := c.tls.conn.Read(room)
		more = n == len(room)
		if n > 0 {
			c.rlen += n
			if err := h.consumeFrames(); err != nil {
				return err
			}
		}
		switch {
		case err == nil:
		case err == errNoInput:
			return nil
		case c.phase == phaseHandshaking && remoteAlert(err):
			h.tlsRefused(err)
			return nil
		case errors.Is(err, io.EOF):
			h.log.Info("server closed the TLS session", "server", c.addr)
			h.dropConn(ErrConnectionLoss)
			return nil
		default:
			h.log.Warn("TLS read failed", "server", c.addr, "err", err)
			h.dropConn(ErrConnectionLoss)
			return nil
		}
	}
	return nil
}

// seal encrypts p into records and returns the ciphertext due: p's
// records after any the handshake left. The loop writes it before it
// seals more, so at most one batch of requests waits in ciphertext.
func (l *tlsLayer) seal(p []byte) ([]byte, error) {
	if len(p) > 0 {
		if _, err := l.conn.Write(p); err != nil {
			return nil, err
		}
	}
	if cap(l.sealed) > keepBufMax {
		l.sealed = nil
	}
	l.sealed, l.soff = l.tr.takeOutput(l.sealed), 0
	return l.sealed, nil
}

// pending reports whether ciphertext waits to be written.
func (l *tlsLayer) pending() bool {
	return l.soff < len(l.sealed) || l.tr.hasOutput()
}
