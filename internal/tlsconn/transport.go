package tlsconn

import (
	"errors"
	"net"
	"sync"
	"time"
)

// readSize is the room a socket read into the transport is given: one
// whole TLS record (16 KiB of plaintext plus overhead).
const readSize = 16<<10 + 512

// headerLen is the length of a TLS record header: type, version, and a
// 16-bit length of the body.
const headerLen = 5

// ErrNoInput is the transport's answer when the loop has not yet received
// what crypto/tls asks for. It is a temporary net.Error, which tls.Conn
// returns without recording, so that its next read resumes
// (TestTemporaryErrorNotSticky pins this).
var ErrNoInput error = noInputError{}

type noInputError struct{}

func (noInputError) Error() string   { return "tlsconn: TLS record not yet received" }
func (noInputError) Timeout() bool   { return true }
func (noInputError) Temporary() bool { return true }

// ErrClosed is what the handshake reads once the loop has dropped the
// connection.
var ErrClosed = errors.New("tlsconn: connection dropped during the TLS handshake")

// A Transport is the net.Conn under tls.Conn. in holds ciphertext received
// and not yet consumed; out holds ciphertext crypto/tls wrote and the loop
// has not taken. While the handshake goroutine runs, Read waits for input
// and Write wakes the loop; after HandshakeOver, only the loop calls in.
type Transport struct {
	mu          sync.Mutex
	input       sync.Cond // in grew, the input ended, or the handshake is over
	in          []byte
	inOff       int
	recordLeft  int // bytes of the record being handed out still to hand; 0 at a record boundary
	out         []byte
	handshaking bool  // Read waits for input; Write wakes the loop
	end         error // no more input: io.EOF, a socket error, or ErrClosed
	wake        func()
}

// NewTransport returns a transport in its handshake mode; wake is called
// when crypto/tls has written ciphertext for the loop to send.
func NewTransport(wake func()) *Transport {
	t := &Transport{handshaking: true, wake: wake}
	t.input.L = &t.mu
	return t
}

// Read hands crypto/tls the ciphertext received so far, never beyond the
// end of the current record, and never part of a record header.
func (t *Transport) Read(p []byte) (int, error) {
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
		return 0, ErrNoInput
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
func (t *Transport) readable() int {
	avail := len(t.in) - t.inOff
	if t.recordLeft == 0 && avail < headerLen && t.end == nil {
		return 0
	}
	return avail
}

// WholeRecord reports whether the rest of a record has arrived, so that a
// read of tls.Conn will not come back empty-handed. (tls.Conn allocates
// on every attempt to read a record, so the loop asks first.)
func (t *Transport) WholeRecord() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	avail := len(t.in) - t.inOff
	if t.recordLeft > 0 {
		return avail >= t.recordLeft
	}
	return avail >= headerLen && avail >= recordLen(t.in[t.inOff:])
}

// recordLen returns the length of the record whose header starts b.
func recordLen(b []byte) int {
	return headerLen + (int(b[3])<<8 | int(b[4]))
}

// Write takes ciphertext for the loop to send.
func (t *Transport) Write(p []byte) (int, error) {
	t.mu.Lock()
	if t.end == ErrClosed {
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

// Fill reads from the socket into the input with read, a non-blocking
// read of the socket (the loop's side of Read). It returns what read
// returned and whether the read filled the room it had. The input holds
// at most a partial record besides the room of one read.
func (t *Transport) Fill(read func([]byte) (int, error)) (n int, full bool, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if cap(t.in)-len(t.in) < readSize {
		t.in = t.in[:copy(t.in, t.in[t.inOff:])]
		t.inOff = 0
	}
	if cap(t.in)-len(t.in) < readSize {
		t.in = append(t.in, make([]byte, readSize)...)[:len(t.in)]
	}
	room := t.in[len(t.in):cap(t.in)]
	n, err = read(room)
	if n > 0 {
		t.in = t.in[:len(t.in)+n]
		t.input.Signal()
	}
	return n, n == len(room), err
}

// TakeOutput swaps the ciphertext crypto/tls wrote into buf, which the
// caller then owns, and returns it; buf's old contents are discarded.
func (t *Transport) TakeOutput(buf []byte) []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	buf, t.out = t.out, buf[:0]
	return buf
}

// HasOutput reports whether crypto/tls wrote ciphertext not yet taken.
func (t *Transport) HasOutput() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.out) > 0
}

// EndInput says that no more input will come: reads return what is left,
// then err.
func (t *Transport) EndInput(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.end == nil {
		t.end = err
	}
	t.input.Signal()
}

// HandshakeOver makes Read and Write the loop's: no waiting, no wakeups.
func (t *Transport) HandshakeOver() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.handshaking = false
}

// Close ends the input with ErrClosed, which ends a handshake still
// waiting for it.
func (t *Transport) Close() error {
	t.EndInput(ErrClosed)
	return nil
}

// crypto/tls needs the rest of net.Conn only for what it reports; the
// loop keeps its own deadlines.

// LocalAddr is a placeholder: the socket is the loop's.
func (t *Transport) LocalAddr() net.Addr { return socketAddr{} }

// RemoteAddr is a placeholder: the socket is the loop's.
func (t *Transport) RemoteAddr() net.Addr { return socketAddr{} }

// SetDeadline does nothing: the loop keeps the deadlines.
func (t *Transport) SetDeadline(time.Time) error { return nil }

// SetReadDeadline does nothing: the loop keeps the deadlines.
func (t *Transport) SetReadDeadline(time.Time) error { return nil }

// SetWriteDeadline does nothing: the loop keeps the deadlines.
func (t *Transport) SetWriteDeadline(time.Time) error { return nil }

type socketAddr struct{}

func (socketAddr) Network() string { return "tcp" }
func (socketAddr) String() string  { return "poll loop socket" }
