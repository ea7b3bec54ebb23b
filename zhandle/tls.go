package zhandle

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/zkloop/zkloop/internal/hostlist"
	"github.com/zkloop/zkloop/internal/tlsconn"
)

// TLS over the poll loop (the ssl branches of zookeeper.c: zookeeper_init_ssl,
// ssl_connect in zookeeper_interest, the SSL_read/SSL_write of
// recv_buffer/send_buffer). The mechanism, crypto/tls over an in-memory
// transport the loop fills and drains, is internal/tlsconn; here is what
// it means for the connection: when the handshake starts and ends, and
// which failures are a refusal rather than a broken connection.

// tlsConfigFor returns the configuration for a connection to a: the
// handle's, verifying the server against the host as written in the host
// list (name or IP literal) unless it names a ServerName itself.
func (h *Handle) tlsConfigFor(a hostlist.Address) *tls.Config {
	cfg := h.cfg.tls
	if cfg.ServerName == "" {
		cfg = cfg.Clone()
		cfg.ServerName = a.Host
	}
	return cfg
}

// startTLS begins the handshake on a connected socket (ssl_connect); the
// ConnectRequest follows once it succeeds (tlsProgress).
func (h *Handle) startTLS(now time.Time) {
	c := &h.c
	c.tls = tlsconn.Client(h.tlsConfigFor(c.addr), h.loop.Wake)
	c.phase = phaseTLS
	c.lastSend, c.lastRecv = now, now
	h.log.Debug("connection opened, starting TLS", "server", c.addr)
	c.tls.StartHandshake(&c.handshakes, h.loop.Wake)
}

// tlsProgress acts on the end of the handshake, if it has ended: the
// ConnectRequest goes out on success; a failure drops the connection.
func (h *Handle) tlsProgress(now time.Time) {
	if err, ended := h.c.tls.HandshakeEnded(); ended {
		h.tlsHandshakeDone(now, err)
	}
}

// tlsInputEnded handles the end of the socket's input during the
// handshake. The bytes before it may hold the server's alert, which says
// more than the closed socket: the handshake reads them first, then the
// end, and its result decides.
func (h *Handle) tlsInputEnded(now time.Time, err error) {
	h.tlsHandshakeDone(now, h.c.tls.InputEnded(err))
}

// tlsHandshakeDone goes on with the connection once the handshake has
// ended: the ConnectRequest on success; a broken connection is dropped and
// retried, anything else is a refusal (tlsRefused).
func (h *Handle) tlsHandshakeDone(now time.Time, err error) {
	c := &h.c
	switch {
	case err == nil:
	case errors.Is(err, io.EOF):
		h.log.Info("server closed the connection during the TLS handshake (a port without TLS?)", "server", c.addr)
		h.dropConn(ErrConnectionLoss)
		return
	case tlsconn.BrokenConnection(err):
		h.log.Info("TLS handshake failed", "server", c.addr, "err", err)
		h.dropConn(ErrConnectionLoss)
		return
	default:
		h.tlsRefused(err)
		return
	}
	st := c.tls.State()
	h.log.Debug("TLS established", "server", c.addr, "version", tls.VersionName(st.Version), "cipher", tls.CipherSuiteName(st.CipherSuite))
	h.primeConnection(now)
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
	all := c.tlsRefusals >= h.hosts.Len()
	h.mu.Unlock()
	if all {
		by := ""
		if tlsconn.RemoteAlert(err) {
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
	for c.fd >= 0 && (more || c.tls.WholeRecord()) {
		room := c.readRoom()
		n, err := c.tls.Read(room)
		more = n == len(room)
		if n > 0 {
			c.rlen += n
			if err := h.consumeFrames(); err != nil {
				return err
			}
		}
		switch {
		case err == nil:
		case err == tlsconn.ErrNoInput:
			return nil
		case c.phase == phaseHandshaking && tlsconn.RemoteAlert(err):
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
