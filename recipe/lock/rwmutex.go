package lock

import (
	"context"
	"strings"

	"github.com/zkloop/zkloop/recipe"
	"github.com/zkloop/zkloop/zhandle"
)

// The markers of Curator's InterProcessReadWriteLock nodes, both eight
// characters long, in one directory.
const (
	readMarker  = "__READ__"
	writeMarker = "__WRIT__"
)

// readWriteMarkers sort both kinds into one queue: Curator strips through
// the last "__READ__", then through the last "__WRIT__".
var readWriteMarkers = []string{readMarker, writeMarker}

// An RWMutex is a distributed reader/writer lock, compatible with
// Curator's InterProcessReadWriteLock: readers hold it together, a writer
// alone, in the order of one queue of "__READ__" and "__WRIT__" nodes, so a
// reader that comes after a waiting writer waits for it. It is safe for
// concurrent use; each side is re-entrant as a Mutex is. A holder of the
// write lock may take the read lock too, at once (a downgrade), then
// release the write lock and keep reading; the reverse, taking the write
// lock while holding the read lock, waits for the read lock's release, as
// with sync.RWMutex.
type RWMutex struct {
	write, read reentrant
}

// NewRWMutex returns an RWMutex on path, the lock's directory. Nothing is
// sent until Lock or RLock.
func NewRWMutex(h *zhandle.Handle, path string, opts ...Option) *RWMutex {
	cfg := newConfig(opts)
	writer := &contender{h: h, dir: path, node: recipe.Join(path, writeMarker), markers: readWriteMarkers,
		mode: zhandle.EphemeralSequential, cfg: cfg, admit: exclusive}
	reader := *writer
	reader.node, reader.admit = recipe.Join(path, readMarker), admitReader
	// A downgrade's read node is not sequential: it takes the write node's
	// number, so it sorts where the write node does and no writer queued
	// behind the write node gets in when it goes (CURATOR-621, fixed so in
	// Curator 5.5; 5.4 made a new sequential node).
	downgrade := reader
	downgrade.mode, downgrade.admit = zhandle.Ephemeral, func([]string, int) (bool, string) { return true, "" }

	rw := &RWMutex{write: newReentrant(writer.acquire)}
	rw.read = newReentrant(func(ctx context.Context, try bool) (*hold, error) {
		w := rw.write.heldNode()
		if w == nil {
			return reader.acquire(ctx, try)
		}
		d := downgrade
		d.node = reader.node + recipe.SequenceKey(w.path, writeMarker)
		return d.acquire(ctx, false)
	})
	return rw
}

// admitReader is the reader's predicate (Curator's readLockPredicate): a
// reader holds the lock when no write node is ahead of it, and otherwise
// waits on the first write node ahead, so that every reader queued behind
// one writer waits on the same node. Two nodes with the same number, a
// downgrade's, are simply two nodes.
func admitReader(sorted []string, ours int) (bool, string) {
	for _, child := range sorted[:ours] {
		if strings.Contains(child, writeMarker) {
			return false, child
		}
	}
	return true, ""
}

// Lock takes the write lock, as Mutex.Lock.
func (rw *RWMutex) Lock(ctx context.Context) error {
	_, err := rw.write.lock(ctx, false)
	return err
}

// TryLock takes the write lock if it can without waiting, as
// Mutex.TryLock.
func (rw *RWMutex) TryLock(ctx context.Context) (bool, error) {
	return rw.write.lock(ctx, true)
}

// Unlock undoes one Lock, as Mutex.Unlock.
func (rw *RWMutex) Unlock() error { return rw.write.unlock() }

// Lost returns the Lost channel of the write lock, as Mutex.Lost.
func (rw *RWMutex) Lost() <-chan struct{} { return rw.write.lost() }

// Node returns the path of the write lock's node while it is held, or "".
func (rw *RWMutex) Node() string { return rw.write.node() }

// RLock takes the read lock, waiting while a writer holds the lock or
// waits ahead; with the write lock held by rw, at once. Otherwise as
// Mutex.Lock.
func (rw *RWMutex) RLock(ctx context.Context) error {
	_, err := rw.read.lock(ctx, false)
	return err
}

// TryRLock takes the read lock if it can without waiting, as
// Mutex.TryLock.
func (rw *RWMutex) TryRLock(ctx context.Context) (bool, error) {
	return rw.read.lock(ctx, true)
}

// RUnlock undoes one RLock, as Mutex.Unlock.
func (rw *RWMutex) RUnlock() error { return rw.read.unlock() }

// RLost returns the Lost channel of the read lock, as Mutex.Lost.
func (rw *RWMutex) RLost() <-chan struct{} { return rw.read.lost() }

// RNode returns the path of the read lock's node while it is held, or "".
func (rw *RWMutex) RNode() string { return rw.read.node() }
