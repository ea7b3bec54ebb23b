package zhandle

import (
	"context"
	"time"

	"github.com/zkloop/zkloop/internal/hostlist"
	"github.com/zkloop/zkloop/serialize"
)

// The loop's decisions about leaving the current server, or the session,
// beyond the C client's receive deadline: re-resolution of host names,
// moves asked by SetServers, and client-side expiry.

// Bounds on resolving host names: on the loop, which blocks meanwhile (a
// re-resolution before connecting), and in a call (Init, SetServers, and
// config tracking's goroutine).
const (
	resolveTimeout     = 2 * time.Second
	resolveCallTimeout = 10 * time.Second
)

// reresolve resolves the host names again before a connect attempt, at most
// once per WithResolutionDelay (update_addrs with a reference time), and
// rebalances when the addresses changed.
func (h *Handle) reresolve(now time.Time) {
	c := &h.c
	h.mu.Lock()
	spec, names := h.hostSpec, h.hostNames
	h.mu.Unlock()
	if !names || h.cfg.resolveDelay < 0 || !c.lastResolve.IsZero() && now.Sub(c.lastResolve) < h.cfg.resolveDelay {
		return
	}
	c.lastResolve = now
	ctx, cancel := context.WithTimeout(context.Background(), min(resolveTimeout, h.RecvTimeout()/3))
	defer cancel()
	addrs, err := h.resolve(ctx, spec)
	if err != nil {
		h.log.Warn("re-resolving servers failed; keeping the last addresses", "hosts", spec, "err", err)
		return
	}
	h.mu.Lock()
	h.hosts.Update(addrs, hostlist.Address{}) // not connected: nothing to leave
	h.mu.Unlock()
}

// leaveForMove acts on a move SetServers asked for (the snapshot's move):
// it takes the request and, when connected, drops the connection so that
// the next turn connects elsewhere, reporting whether it did.
func (h *Handle) leaveForMove(move bool) bool {
	if !move {
		return false
	}
	h.mu.Lock()
	h.moveServer = false
	h.mu.Unlock()
	if h.c.fd < 0 {
		return false
	}
	h.log.Info("leaving server to rebalance the new server list", "server", h.c.addr)
	h.dropConn(ErrConnectionLoss)
	return true
}

// untilClientExpiry is how long client-side expiry leaves the handle to
// reach a server; a long time when it is off or no session was lost.
func (h *Handle) untilClientExpiry(now time.Time) time.Duration {
	if !h.cfg.clientExpiry || h.c.lostAt.IsZero() {
		return time.Hour
	}
	return h.RecvTimeout() - now.Sub(h.c.lostAt)
}

// sessionGone applies client-side expiry (ZOOKEEPER-4508): the session
// timeout has passed since the connection was lost without any server
// taking the session back, so the server has expired it. The handle then
// ends as on a server-reported expiry.
func (h *Handle) sessionGone(now time.Time) bool {
	if h.c.phase == phaseEstablished || h.untilClientExpiry(now) > 0 {
		return false
	}
	h.log.Warn("no server reached within the session timeout; session expired (client-side)", "timeout", h.RecvTimeout())
	h.mu.Lock()
	h.setStateLocked(StateExpiredSession)
	h.mu.Unlock()
	h.queueSessionEvent(StateExpiredSession)
	h.shutdownConn(serialize.ErrSessionExpired)
	return true
}
