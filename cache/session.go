package cache

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/zkloop/zkloop/zhandle"
)

// The session side of the applier: attaching to a handle, the epochs
// between connection losses, expiry and renewal, and Sync's barriers.

// A barrier is one call of Sync.
type barrier struct {
	done chan struct{}
	err  error // set before done is closed
}

// A watcher receives the events of one attachment to a handle: the
// persistent recursive watch and the session events.
type watcher struct {
	c   *Cache
	gen uint64
}

// Process runs on the handle's completion goroutine: it makes no call to
// the handle, and marks the cache not fresh at once when the session is
// not connected to a read-write server.
func (w *watcher) Process(ev zhandle.Event) {
	counted := false
	if ev.Type == zhandle.EventSession && ev.State != zhandle.StateConnected && w.gen == w.c.gen.Load() {
		w.c.lost.Add(1)
		counted = true
	}
	w.c.in.push(input{kind: inEvent, gen: w.gen, event: ev, counted: counted})
}

// attach starts using h, which the cache did not use before.
func (a *applier) attach(h *zhandle.Handle) {
	a.gen++
	a.c.gen.Store(a.gen)
	a.h, a.dead = h, false
	a.c.handle.Store(h)
	a.w = &watcher{c: a.c, gen: a.gen}
	a.unwatch = h.AddSessionWatcher(a.w)
	// A state reached before the watcher was added sent no event to it;
	// one reached since may come again as an event, which changes nothing.
	if st := h.State(); st != zhandle.StateConnecting && st != zhandle.StateAssociating && st != zhandle.StateNotConnected {
		a.session(st)
	}
}

// detach stops using the handle: its session watcher and its watch are
// removed from the handle's tables. The server keeps the watch (see the
// package documentation); its events no longer reach the cache.
func (a *applier) detach() {
	if a.h == nil {
		return
	}
	a.unwatch()
	// A local removal only fails when the watch was never set (the cache
	// was closed or moved before AddWatch succeeded): nothing to remove.
	_ = a.h.RemoveWatches(context.Background(), a.root, zhandle.WatcherPersistentRecursive, a.w, true)
	a.h = nil
}

func (a *applier) shutdown() {
	a.renewCancel()
	a.detach()
	a.renewing.Wait()
}

// rebuild moves the cache to h.
func (a *applier) rebuild(h *zhandle.Handle) {
	a.lose(nil)
	a.detach()
	a.attach(h)
}

func (a *applier) session(st zhandle.State) {
	switch st {
	case zhandle.StateConnected, zhandle.StateReadOnly:
		a.readOnly = st == zhandle.StateReadOnly
		a.connect()
	case zhandle.StateConnecting, zhandle.StateAssociating, zhandle.StateNotConnected:
		a.lose(zhandle.ErrConnectionLoss)
	case zhandle.StateExpiredSession:
		a.lose(zhandle.ErrSessionExpired)
		a.end()
	case zhandle.StateAuthFailed:
		a.lose(zhandle.ErrAuthFailed)
		a.end()
	case zhandle.StateClosed:
		a.lose(zhandle.ErrClosing)
		a.dead = true // closed by its owner: nothing to renew
	}
}

// connect starts an epoch: the watch (the handle restores it after a
// reconnect, but not after a failed AddWatch; setting it again is
// harmless), a sync so that a new session reads no older state than the
// cache holds, and a sweep.
func (a *applier) connect() {
	if a.connected || a.dead {
		return
	}
	a.connected = true
	a.epoch++
	gen, epoch := a.gen, a.epoch
	err := a.h.AAddWatch(a.root, zhandle.AddWatchPersistentRecursive, a.w, func(err error) {
		a.c.in.push(input{kind: inWatchSet, gen: gen, epoch: epoch, err: err})
	})
	a.requests++
	if err != nil && !sessionProblem(err) {
		a.fatal(err)
		return
	}
	// Only its order matters: the reads sent after it see what it saw. If
	// it was not queued, neither are they, and the session event follows.
	_ = a.h.ASync(a.root, func(error, string) {})
	a.requests++
	a.t.publish()
	a.startSweep()
	for _, b := range a.barriers {
		a.sync(b)
	}
	a.barriers = nil
}

// lose ends the epoch, if one is under way: the connection or the session
// is lost (err), or the cache moves to another handle (err nil).
func (a *applier) lose(err error) {
	if a.connected {
		a.endEpoch()
	}
	terminal := err != nil && !errors.Is(err, zhandle.ErrConnectionLoss)
	if (a.initialized && !a.stale) || terminal {
		a.emit(Event{Type: EventStale, Err: err})
	}
	if !a.stale {
		a.stale = true
		a.knownAt = time.Now()
		if err != nil && a.h != nil {
			// Every notification the server sent before answering
			// the last ping arrived, and was handled, before this.
			if alive := a.h.SessionAliveUntil(); !alive.IsZero() {
				a.knownAt = alive.Add(-a.h.RecvTimeout())
			}
		}
		a.c.knownAt.Store(a.knownAt.UnixNano())
	}
}

// end marks the handle unusable after its session ended, and renews it if
// the user said how.
func (a *applier) end() {
	a.dead = true
	if a.cfg.renew == nil {
		return
	}
	a.renewing.Add(1)
	go func() {
		defer a.renewing.Done()
		pause := renewPause
		for {
			h, err := a.cfg.renew(a.renewCtx)
			if err == nil && h != nil {
				a.c.in.push(input{kind: inRebuild, handle: h})
				return
			}
			a.log.Warn("cache: renewing the handle failed", "err", err)
			select {
			case <-a.renewCtx.Done():
				return
			case <-time.After(pause):
			}
			pause = min(2*pause, maxRenewPause)
		}
	}()
}

// Pauses between attempts to renew the handle.
const (
	renewPause    = 100 * time.Millisecond
	maxRenewPause = 10 * time.Second
)

func (a *applier) fatal(err error) {
	a.log.Error("cache: stopped", "err", err)
	a.c.fail(err)
}

// endEpoch cuts the order of changes at a connection loss. The slots
// already resolved at the head are applied. The rest can no longer be
// ordered: their changes and the reads that would have resolved them are
// lost. They join the next sweep, which reads their paths again and
// reports what changed between the cut and its end, after EventStale.
func (a *applier) endEpoch() {
	a.drain()
	a.connected = false
	a.epoch++
	if a.group == nil {
		a.group = map[string]obs{}
	}
	for _, s := range a.queue.take() {
		switch {
		case s.kind == slotBarrier:
			a.barriers = append(a.barriers, s.barrier)
		case !s.kept:
		default:
			if s.filled {
				a.group[s.path] = s.obs
			}
			a.carried[s.path] = true
		}
	}
	clear(a.latest)
	a.barriers = append(a.barriers, a.syncing...)
	a.syncing = nil
	a.sw.stop()
	a.evReads = a.evReads[:0]
	clear(a.evAsked)
}

// barrier handles a call of Sync.
func (a *applier) barrier(b *barrier) {
	if a.connected {
		a.sync(b)
	} else {
		a.barriers = append(a.barriers, b)
	}
}

// sync sends b's Sync; its reply puts b in the order of changes.
func (a *applier) sync(b *barrier) {
	gen, epoch := a.gen, a.epoch
	err := a.h.ASync(a.root, func(err error, _ string) {
		a.c.in.push(input{kind: inSynced, gen: gen, epoch: epoch, barrier: b, err: err})
	})
	a.requests++
	if err != nil {
		a.barriers = append(a.barriers, b) // the session event follows
		return
	}
	a.syncing = append(a.syncing, b)
}

func (a *applier) synced(in *input) {
	if in.epoch != a.epoch {
		return // sent again in a later epoch
	}
	a.syncing = slices.DeleteFunc(a.syncing, func(b *barrier) bool { return b == in.barrier })
	switch {
	case in.err != nil && sessionProblem(in.err):
		a.sync(in.barrier) // fails at once, or follows the session event
		return
	case in.err != nil:
		in.barrier.err = in.err
		a.released = append(a.released, in.barrier)
		return
	}
	a.queue.push(&slot{kind: slotBarrier, seq: a.seq, resolved: true, barrier: in.barrier})
}

// sessionProblem reports whether err comes from the connection or the
// session, which a session event follows, rather than from the request.
func sessionProblem(err error) bool {
	for _, e := range []error{zhandle.ErrConnectionLoss, zhandle.ErrOperationTimeout, zhandle.ErrSessionExpired,
		zhandle.ErrSessionMoved, zhandle.ErrClosing, zhandle.ErrAuthFailed, zhandle.ErrRequestTimeout} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
