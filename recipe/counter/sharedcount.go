package counter

import (
	"context"
	"encoding/binary"
	"errors"
	"sync"

	"github.com/zkloop/zkloop/recipe"
	"github.com/zkloop/zkloop/zhandle"
)

// VersionedCount is a count with the version of the node's data that
// holds it (Curator's VersionedValue<Integer>): what TrySetCount compares.
type VersionedCount struct {
	Count   int32
	Version int32
}

// A SharedCount is a 32-bit count that every participant sees, kept in
// memory and up to date by a watch: Curator's SharedCount. The node holds
// the count as 4 bytes, big-endian. Its methods are safe for concurrent
// use.
type SharedCount struct {
	h       *zhandle.Handle
	path    string
	seed    int32
	changes recipe.Broadcast[VersionedCount]

	mu      sync.Mutex
	started bool
	closed  bool
	tracker *recipe.Tracker
	current VersionedCount
	czxid   int64 // of the node current was read from: a node made again starts its versions again
	corrupt error // why the node's data is no count, or nil
}

// NewSharedCount returns the count in the node at path on h, which Start
// makes with seed if it does not exist. It sends nothing.
func NewSharedCount(h *zhandle.Handle, path string, seed int32) *SharedCount {
	return &SharedCount{h: h, path: path, seed: seed}
}

// errNotStarted is returned by the calls before Start.
var errNotStarted = errors.New("counter: SharedCount not started")

// Start makes the node with the seed unless it exists (its parents as
// containers), reads the count and watches it, as Curator's start does.
// From then on every change of the node, and every reconnection, reads
// it again. A SharedCount starts once; a Start that fails closes it.
func (c *SharedCount) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.h == nil {
		return errNoHandle
	}
	c.mu.Lock()
	switch {
	case c.closed:
		c.mu.Unlock()
		return ErrClosed
	case c.started:
		c.mu.Unlock()
		return errors.New("counter: SharedCount started twice")
	}
	c.started = true
	c.mu.Unlock()
	err := recipe.Retry(ctx, c.h, func() error {
		return createNode(ctx, c.h, c.path, binary.BigEndian.AppendUint32(nil, uint32(c.seed)))
	})
	if err == nil || errors.Is(err, zhandle.ErrNodeExists) {
		tracker := recipe.NewTracker(c.h, c.connectionChanged)
		c.mu.Lock()
		c.tracker = tracker
		c.mu.Unlock()
		err = c.read(ctx)
	}
	if err != nil {
		c.Close()
	}
	return err
}

// read reads the node with a watch, synchronously.
func (c *SharedCount) read(ctx context.Context) error {
	var data []byte
	var stat zhandle.Stat
	err := recipe.Retry(ctx, c.h, func() (err error) {
		data, stat, err = c.h.WGet(ctx, c.path, (*countWatcher)(c))
		return err
	})
	if err == nil {
		c.take(&stat, data)
	}
	return err
}

// take keeps what the node holds if it is newer than what was kept, and
// tells the subscribers. Curator keeps only higher versions; the czxid
// also lets in a node deleted and made again.
func (c *SharedCount) take(stat *zhandle.Stat, data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	newer := stat.Czxid > c.czxid || stat.Czxid == c.czxid && stat.Version > c.current.Version
	if c.closed || !newer {
		return
	}
	c.czxid = stat.Czxid
	count, err := decode(data, 4, false)
	c.current, c.corrupt = VersionedCount{Count: int32(count), Version: stat.Version}, err
	if err == nil {
		c.changes.Publish(c.current)
	}
}

// countWatcher is the watch on the node: a type of its own, a pointer to
// the count, so that the handle keeps one registration.
type countWatcher SharedCount

func (w *countWatcher) Process(ev zhandle.Event) {
	if ev.Type != zhandle.EventSession && ev.Type != zhandle.EventNotWatching {
		(*SharedCount)(w).readAsync()
	}
}

// connectionChanged is the Tracker's listener: after a reconnection the
// count is read again, as Curator's SharedValue does.
func (c *SharedCount) connectionChanged(s recipe.ConnectionState) {
	if s == recipe.Reconnected {
		c.readAsync()
	}
}

// readAsync reads the node again with a watch; on the completion
// goroutine, it must not wait. A missing node is watched for its return.
// Errors are left to the next event: a reconnection reads again.
func (c *SharedCount) readAsync() {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return
	}
	_ = c.h.AWGet(c.path, (*countWatcher)(c), func(err error, data []byte, stat *zhandle.Stat) { // not queued: the handle is closed, nothing to follow
		switch {
		case err == nil:
			c.take(stat, data)
		case errors.Is(err, zhandle.ErrNoNode):
			_ = c.h.AWExists(c.path, (*countWatcher)(c), func(err error, _ *zhandle.Stat) { // likewise
				if err == nil { // back meanwhile
					c.readAsync()
				}
			})
		}
	})
}

// state returns the count as last read, or why there is none.
func (c *SharedCount) state() (VersionedCount, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return VersionedCount{}, ErrClosed
	case !c.started:
		return VersionedCount{}, errNotStarted
	}
	return c.current, c.corrupt
}

// VersionedCount returns the count and its version as last read (Curator's
// getVersionedValue), or ErrCorrupted when the node holds fewer than 4
// bytes.
func (c *SharedCount) VersionedCount() (VersionedCount, error) { return c.state() }

// Subscribe returns a channel that receives the count after every change
// seen (Curator's SharedCountListener), the latest when the receiver
// falls behind, and a function that ends the subscription. Changes made
// through this SharedCount are included, where Curator does not tell its
// own. Close closes the channel.
func (c *SharedCount) Subscribe() (<-chan VersionedCount, func()) { return c.changes.Subscribe() }

// SetCount sets the count whatever it was (Curator's setCount: a setData
// without a version).
func (c *SharedCount) SetCount(ctx context.Context, count int32) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := c.state(); err != nil && !errors.Is(err, ErrCorrupted) {
		return err
	}
	data := binary.BigEndian.AppendUint32(nil, uint32(count))
	var stat zhandle.Stat
	err := recipe.Retry(ctx, c.h, func() (err error) {
		stat, err = c.h.Set(ctx, c.path, data, -1)
		return err
	})
	if err == nil {
		c.take(&stat, data)
	}
	return err
}

// TrySetCount sets the count to count if prev is still the count and
// version, and reports whether it did, as Curator's trySetCount: it
// compares prev with the count as last read first, sending nothing when
// they differ, then writes with prev's version. When another client
// wrote first, it reads the count again and returns false; then
// VersionedCount gives the new one. ErrIndeterminate means the write's
// reply was lost and it may have been applied (Curator returns false
// then, and a caller that tries again may count twice).
func (c *SharedCount) TrySetCount(ctx context.Context, prev VersionedCount, count int32) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	current, err := c.state()
	switch {
	case err != nil && !errors.Is(err, ErrCorrupted):
		return false, err
	case prev.Version != current.Version || err == nil && prev.Count != current.Count:
		return false, nil
	}
	data := binary.BigEndian.AppendUint32(nil, uint32(count))
	var stat zhandle.Stat
	err = conditional(ctx, c.h, func() (err error) {
		stat, err = c.h.Set(ctx, c.path, data, prev.Version)
		return err
	})
	switch {
	case err == nil:
		c.take(&stat, data)
		return true, nil
	case errors.Is(err, ErrIndeterminate):
		return false, err
	case errors.Is(err, zhandle.ErrBadVersion):
		return false, c.read(ctx)
	}
	return false, err
}

// Close stops following the node, removing its watch from the handle
// (locally: nothing is sent), and ends the subscriptions. It is
// idempotent.
func (c *SharedCount) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	tracker := c.tracker
	c.mu.Unlock()
	if tracker != nil {
		tracker.Stop()
		// Locally, nothing sent; an error means the watch fired already
		// or the handle is closed.
		_ = c.h.RemoveWatches(context.Background(), c.path, zhandle.WatcherData, (*countWatcher)(c), true)
	}
	c.changes.Close()
	return nil
}
