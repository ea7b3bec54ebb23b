package lock

import (
	"context"
	"errors"
	"sync"

	"github.com/zkloop/zkloop/recipe"
	"github.com/zkloop/zkloop/zhandle"
)

// Errors of the locks.
var (
	// ErrNotHeld is returned by an unlock or release of something not
	// held.
	ErrNotHeld = errors.New("lock: not held")
	// ErrLost is returned by an unlock or release, and by a re-entrant
	// Lock, when the holding had been lost before: the session ended or
	// may have (recipe.Lost), the connection was lost under
	// recipe.StandardErrorPolicy, or someone deleted the lock's node. The
	// critical section may have overlapped another holder's.
	ErrLost = errors.New("lock: lost")
)

// closed is the Lost channel of what is not held.
var closed = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// wakeup wakes a waiter: it is the watcher of the node a waiter waits on
// and is told of every connection change. It never blocks the completion
// goroutine: one pending wake-up is enough, since the waiter re-reads
// everything when it wakes.
type wakeup chan struct{}

func (w wakeup) Process(zhandle.Event) { w.notify() }

func (w wakeup) notify() {
	select {
	case w <- struct{}{}:
	default:
	}
}

func (w wakeup) drain() {
	select {
	case <-w:
	default:
	}
}

// sleep waits for a wake-up or the end of ctx.
func (w wakeup) sleep(ctx context.Context) error {
	select {
	case <-w:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// hold is one node of ours in a lock directory, from its creation to its
// deletion: what a Mutex, each side of an RWMutex and a Lease hold. While
// it waits, its Tracker wakes the waiter on every connection change; once
// claimed, the Tracker, a watch on the node itself and the node's
// existence decide whether it is lost.
type hold struct {
	h       *zhandle.Handle
	policy  recipe.ErrorPolicy
	wake    wakeup
	tracker *recipe.Tracker

	// Set by the waiter before the claim, read by callbacks after it.
	path  string // our node
	owner int64  // its ephemeralOwner: the session that created it

	mu    sync.Mutex
	held  bool          // claimed
	ended bool          // lost or released: done is closed
	lost  bool          // ended by a loss
	done  chan struct{} // the Lost channel
}

func newHold(h *zhandle.Handle, policy recipe.ErrorPolicy) *hold {
	hd := &hold{h: h, policy: policy, wake: make(wakeup, 1), done: make(chan struct{})}
	hd.tracker = recipe.NewTracker(h, hd.connectionChanged)
	return hd
}

// connectionChanged is the Tracker's listener.
func (hd *hold) connectionChanged(s recipe.ConnectionState) {
	hd.mu.Lock()
	if hd.held && hd.policy.IsError(s) {
		hd.endLocked(true)
	}
	rewatch := hd.held && !hd.ended && s == recipe.Reconnected
	hd.mu.Unlock()
	if rewatch {
		hd.watchNode() // the watch set before the loss may not have been
	}
	hd.wake.notify()
}

// claim makes the hold held, unless the node is not the session's
// (CURATOR.md P2: a node listed for a session that is gone is no lock) or
// the connection is in an error state of the policy. It reports whether
// it did.
func (hd *hold) claim() bool {
	if hd.owner != hd.h.ClientID().SessionID {
		return false
	}
	hd.mu.Lock()
	// The Tracker sets its state before it calls the listener: either the
	// state read here is already the error, or the listener, which waits
	// for hd.mu, finds the hold held.
	if hd.policy.IsError(hd.tracker.State()) {
		hd.mu.Unlock()
		return false
	}
	hd.held = true
	hd.mu.Unlock()
	hd.watchNode()
	return true
}

// watchNode watches our node, so that a deletion by anyone else ends the
// hold; a node already gone ends it at once.
func (hd *hold) watchNode() {
	err := hd.h.AWExists(hd.path, (*nodeWatch)(hd), func(err error, _ *zhandle.Stat) {
		if err != nil && !recipe.Retryable(err) {
			hd.end(true) // gone, or the session is over
		}
	})
	if err != nil {
		hd.end(true) // the handle is closed
	}
}

// nodeWatch is the watcher of our own node.
type nodeWatch hold

func (w *nodeWatch) Process(ev zhandle.Event) {
	if ev.Type == zhandle.EventDeleted {
		(*hold)(w).end(true)
	}
}

// end ends a held hold, as lost or not.
func (hd *hold) end(lost bool) {
	hd.mu.Lock()
	defer hd.mu.Unlock()
	if hd.held {
		hd.endLocked(lost)
	}
}

func (hd *hold) endLocked(lost bool) {
	if !hd.ended {
		hd.ended, hd.lost = true, lost
		close(hd.done)
	}
}

// isLost reports whether the hold ended by a loss.
func (hd *hold) isLost() bool {
	hd.mu.Lock()
	defer hd.mu.Unlock()
	return hd.lost
}

// release gives the hold up, held or not: the Lost channel closes, the
// tracking stops and the node is deleted, across reconnects if need be
// (recipe.DeleteGuaranteed), without waiting for the server. It returns
// ErrLost when the hold had been lost.
func (hd *hold) release() error {
	hd.mu.Lock()
	lost := hd.lost
	hd.endLocked(false)
	hd.held = false
	hd.mu.Unlock()
	hd.tracker.Stop()
	if hd.path != "" {
		recipe.DeleteGuaranteed(hd.h, hd.path, nil)
	}
	if lost {
		return ErrLost
	}
	return nil
}
