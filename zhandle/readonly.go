package zhandle

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zkloop/zkloop/internal/hostlist"
)

// While the session is served by a read-only server, the handle looks for
// a read/write one as the C client does in zookeeper_interest: every
// interval (200 ms, doubling up to 60 s) it asks the next server of the
// list "isro" and moves when one answers "rw". The C client blocks its I/O
// thread on that probe; here a short-lived goroutine runs it, so the loop
// keeps serving the read-only session meanwhile.
const (
	minRWProbeInterval = 200 * time.Millisecond // MIN_RW_TIMEOUT
	maxRWProbeInterval = 60 * time.Second       // MAX_RW_TIMEOUT
	rwProbeTimeout     = time.Second            // zookeeper_set_sock_timeout(…, 1) in ping_rw_server
)

// rwProbe is the loop's state of the search (last_ping_rw, ping_rw_timeout).
type rwProbe struct {
	last     time.Time
	interval time.Duration
	running  atomic.Bool
	wg       sync.WaitGroup // Close waits for a probe in flight
}

func (p *rwProbe) reset() {
	p.last = time.Time{}
	p.interval = minRWProbeInterval
}

// probeRW starts a probe when one is due and returns the time until the
// next one is.
func (h *Handle) probeRW(now time.Time) time.Duration {
	p := &h.c.probe
	if p.last.IsZero() {
		p.last = now
	}
	if wait := p.interval - now.Sub(p.last); wait > 0 {
		return wait
	}
	p.last = now
	p.interval = min(2*p.interval, maxRWProbeInterval)
	if p.running.Load() {
		return p.interval
	}
	h.mu.Lock()
	target := h.hosts.Next()
	h.mu.Unlock()
	if target.SameServer(h.c.addr) {
		return p.interval // a single server: nowhere to go
	}
	p.running.Store(true)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer p.running.Store(false)
		if !h.isReadWrite(target) {
			return
		}
		h.log.Info("read/write server found", "server", target)
		h.mu.Lock()
		h.rwServer, h.moveServer = target, true
		h.mu.Unlock()
		h.loop.Wake()
	}()
	return p.interval
}

// isReadWrite asks a server the four-letter word "isro" (ping_rw_server),
// over TLS with WithTLS. The probe's connection is its own, on this
// goroutine; the loop's socket is not involved.
func (h *Handle) isReadWrite(a hostlist.Address) bool {
	dialer := &net.Dialer{Timeout: rwProbeTimeout}
	var conn net.Conn
	var err error
	if h.cfg.tls != nil {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: h.tlsConfigFor(a)}).Dial("tcp", a.String())
	} else {
		conn, err = dialer.Dial("tcp", a.String())
	}
	if err != nil {
		return false
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(rwProbeTimeout)); err != nil {
		return false
	}
	if _, err := conn.Write([]byte("isro")); err != nil {
		return false
	}
	answer, err := io.ReadAll(io.LimitReader(conn, 10))
	if err != nil && len(answer) == 0 {
		return false
	}
	return bytes.Equal(bytes.TrimSpace(answer), []byte("rw"))
}
