package tlsconn

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"sync"
)

// keepSealedMax is the largest ciphertext buffer a Conn keeps between
// batches; a larger one, grown by a burst, goes to the collector.
const keepSealedMax = 64 << 10

// A Conn is the TLS of one connection: crypto/tls's client over a
// Transport, the handshake's goroutine, and the ciphertext being written.
// The loop owns it; the handshake goroutine shares only the Transport.
type Conn struct {
	tr     *Transport
	tls    *tls.Conn
	result chan error // the handshake's outcome, sent once
	done   bool       // the handshake is over: records flow through tls
	sealed []byte     // ciphertext taken from tr, being written to the socket
	soff   int        // sealed[soff:] is still due
}

// Client returns a Conn for a client with cfg; wake asks the loop for a
// turn (the handshake wrote, or ended).
func Client(cfg *tls.Config, wake func()) *Conn {
	tr := NewTransport(wake)
	return &Conn{tr: tr, tls: tls.Client(tr, cfg), result: make(chan error, 1)}
}

// StartHandshake runs the handshake on a goroutine counted in wg, which
// blocks on the Transport, never on the socket, and wakes the loop when
// it ends: tls.Conn cannot stop a handshake half-way and resume it.
func (c *Conn) StartHandshake(wg *sync.WaitGroup, wake func()) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.result <- c.tls.HandshakeContext(context.Background())
		wake()
	}()
}

// HandshakeEnded returns the handshake's outcome once it has ended: ok
// false while it runs. From then on the loop reads and writes through
// the Conn itself.
func (c *Conn) HandshakeEnded() (err error, ok bool) {
	select {
	case err = <-c.result:
		c.finish()
		return err, true
	default:
		return nil, false
	}
}

// InputEnded tells the handshake that the socket's input ended with err
// and waits for its outcome: the bytes before the end may hold the
// server's alert, which says more than the closed socket.
func (c *Conn) InputEnded(err error) error {
	c.tr.EndInput(err)
	err = <-c.result
	c.finish()
	return err
}

func (c *Conn) finish() {
	c.done = true
	c.tr.HandshakeOver()
}

// Handshaken reports whether the handshake is over.
func (c *Conn) Handshaken() bool { return c.done }

// State returns the TLS connection's state (version, cipher suite, ...).
func (c *Conn) State() tls.ConnectionState { return c.tls.ConnectionState() }

// Fill reads ciphertext from the socket with read (Transport.Fill).
func (c *Conn) Fill(read func([]byte) (int, error)) (n int, full bool, err error) {
	return c.tr.Fill(read)
}

// WholeRecord reports whether a whole record has arrived
// (Transport.WholeRecord).
func (c *Conn) WholeRecord() bool { return c.tr.WholeRecord() }

// Read decrypts into p: plaintext tls.Conn holds, or the next record;
// ErrNoInput when no whole record has arrived.
func (c *Conn) Read(p []byte) (int, error) { return c.tls.Read(p) }

// Due returns the ciphertext still to write, sealing p first when the
// previous batch is written: at most one batch waits as ciphertext.
func (c *Conn) Due(p []byte) ([]byte, error) {
	if c.soff < len(c.sealed) {
		return c.sealed[c.soff:], nil
	}
	if len(p) > 0 {
		if _, err := c.tls.Write(p); err != nil {
			return nil, err
		}
	}
	if cap(c.sealed) > keepSealedMax {
		c.sealed = nil
	}
	c.sealed, c.soff = c.tr.TakeOutput(c.sealed), 0
	return c.sealed, nil
}

// Sealing reports whether ciphertext has yet to be handed out by Due:
// the rest of a batch, or what the handshake wrote.
func (c *Conn) Sealing() bool { return c.soff < len(c.sealed) }

// Wrote records that n bytes of what Due returned were written.
func (c *Conn) Wrote(n int) { c.soff += n }

// Pending reports whether ciphertext waits to be written.
func (c *Conn) Pending() bool {
	return c.soff < len(c.sealed) || c.tr.HasOutput()
}

// Close ends a handshake still running; the socket is the loop's to close.
func (c *Conn) Close() { c.tr.Close() }

// BrokenConnection reports whether a handshake error is the connection's
// (the socket ended or failed, or the loop dropped it) rather than TLS's.
func BrokenConnection(err error) bool {
	var sysErr *os.SyscallError
	return errors.Is(err, ErrClosed) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &sysErr)
}

// RemoteAlert reports whether err is an alert the server sent: crypto/tls
// reports one as a *net.OpError with Op "remote error"
// (TestRemoteAlertRecognised pins this).
func RemoteAlert(err error) bool {
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "remote error"
}
