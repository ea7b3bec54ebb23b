package lock

import (
	"context"

	"github.com/zkloop/zkloop/recipe"

	"github.com/zkloop/zkloop/zhandle"
)

// A Mutex is a distributed lock on a ZooKeeper path, compatible with
// Curator's InterProcessMutex: Go and Java processes using the same path
// exclude each other. It is safe for concurrent use. See the package
// documentation for its znodes and its behaviour on connection trouble.
type Mutex struct {
	r reentrant
}

// NewMutex returns a Mutex on path, the lock's directory (Curator's
// lockPath). Nothing is sent until Lock.
func NewMutex(h *zhandle.Handle, path string, opts ...Option) *Mutex {
	c := &contender{h: h, dir: path, node: recipe.Join(path, "lock-"), markers: []string{"lock-"},
		mode: zhandle.EphemeralSequential, cfg: newConfig(opts), admit: exclusive}
	return &Mutex{r: newReentrant(c.acquire)}
}

// Lock blocks until the lock is held or ctx ends. Locking a Mutex that is
// already held returns at once and counts: it takes as many Unlocks to
// release it. It returns ctx's error if ctx ends first, the handle's if
// the session ends (zhandle.ErrSessionExpired, zhandle.ErrClosing), and
// ErrLost when re-entering a holding that was lost. On every return
// without the lock, the node it made is deleted. A ctx already done sends
// nothing.
func (m *Mutex) Lock(ctx context.Context) error {
	_, err := m.r.lock(ctx, false)
	return err
}

// TryLock takes the lock if no one holds it or waits for it ahead of us,
// without waiting for anyone: Curator's acquire with a zero timeout. It
// costs the same requests as Lock (the node is made, the directory listed)
// plus a delete when the lock is taken. It reports whether it took the
// lock; ctx bounds the requests.
func (m *Mutex) TryLock(ctx context.Context) (bool, error) {
	return m.r.lock(ctx, true)
}

// Unlock undoes one Lock; the last one releases the lock: its Lost
// channel closes and its node is deleted, in the background and across
// reconnects (a guaranteed delete), so Unlock does not wait for the
// server. It returns ErrNotHeld if the Mutex is not locked, and ErrLost
// if the holding had been lost (the lock is released all the same).
func (m *Mutex) Unlock() error {
	return m.r.unlock()
}

// Lost returns a channel that is closed when the current holding ends:
// lost (see ErrLost and WithErrorPolicy) or released by the last Unlock.
// It is pushed by the session's events, a watch on the lock's node and
// a timer at the handle's SessionAliveUntil, never polled. When the Mutex
// is not held, the channel returned is closed already.
func (m *Mutex) Lost() <-chan struct{} {
	return m.r.lost()
}

// Node returns the path of the lock's node while the Mutex holds it
// ("/locks/x/_c_<uuid>-lock-0000000007"), or "".
func (m *Mutex) Node() string {
	return m.r.node()
}
