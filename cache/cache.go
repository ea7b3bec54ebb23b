package cache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zkloop/zkloop/internal/goid"
	"github.com/zkloop/zkloop/zhandle"
)

// ErrClosed is returned by the calls of a closed cache.
var ErrClosed = errors.New("cache: closed")

// A Cache is a local copy of a subtree of ZooKeeper, kept current by one
// persistent recursive watch. Its reads (Get, Children) are safe from any
// goroutine and take no lock.
type Cache struct {
	root string
	idx  *index

	handle atomic.Pointer[zhandle.Handle]
	gen    atomic.Uint64 // the attachment to the current handle
	// lost counts the session events that made the cache not fresh, as
	// the handle delivered them; freshMark is that count as of the inputs
	// the applier has handled when the cache is fresh, -1 when not. So a
	// loss is seen at once, before the applier handles it.
	lost      atomic.Uint64
	freshMark atomic.Int64
	// knownAt is when the cache last held every change (unix nanoseconds),
	// while it is not fresh; see Staleness.
	knownAt atomic.Int64

	in  queue[input] // to the applier
	out queue[Event] // to the dispatcher

	initialized chan struct{}
	fatal       chan struct{} // closed with err set: the cache cannot work
	err         error
	closing     chan struct{}
	closeOnce   sync.Once
	applied     chan struct{} // the applier has returned
	dispatched  chan struct{} // the dispatcher has returned
	dispatcher  uint64        // the dispatcher goroutine's id

	statsMu sync.Mutex
	stats   Stats
}

// Stats describes a cache.
type Stats struct {
	Nodes     int           // nodes cached
	DataBytes int64         // bytes of data kept
	Dataless  int           // nodes kept without their data because of WithMaxBytes
	PrimeTime time.Duration // from New to the end of the first priming
	Requests  int64         // requests sent to ZooKeeper (a MultiRead counts once)
	Resyncs   int           // re-reads completed after a reconnect or a Rebuild
	LastStale time.Duration // Event.Stale of the last re-read
}

// New starts a cache of root and everything below it on h, and returns at
// once; WaitInitialized waits for the first priming. The cache sets a
// persistent recursive watch on root (root need not exist) and reads the
// tree, in batches of MultiRead. It needs ZooKeeper 3.6 or later. It does
// not own h: close the cache before h.
func New(h *zhandle.Handle, root string, opts ...Option) (*Cache, error) {
	if h == nil {
		return nil, fmt.Errorf("cache: nil handle")
	}
	if err := checkRoot(root); err != nil {
		return nil, err
	}
	cfg := defaultConfig()
	for _, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("cache: nil option")
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	c := &Cache{
		root:        root,
		initialized: make(chan struct{}),
		fatal:       make(chan struct{}),
		closing:     make(chan struct{}),
		applied:     make(chan struct{}),
		dispatched:  make(chan struct{}),
	}
	c.in.init()
	c.out.init()
	c.knownAt.Store(time.Now().UnixNano())
	c.freshMark.Store(-1)
	a := newApplier(c, &cfg)
	c.idx = a.t.idx
	started := make(chan struct{})
	go func() {
		c.dispatcher = goid.Current()
		close(started)
		c.dispatch(cfg.listeners)
	}()
	<-started
	go a.run(h)
	return c, nil
}

// Get returns the data and Stat of the cached node at path, and whether
// it is cached. It allocates nothing and takes no lock. data is shared by
// every reader and never changes; do not modify it. It is nil when the
// cache keeps no data for the node (WithoutData, WithMaxBytes).
func (c *Cache) Get(path string) (data []byte, stat zhandle.Stat, ok bool) {
	n := c.idx.lookup(path)
	if n == nil {
		return nil, zhandle.Stat{}, false
	}
	v := n.view.Load()
	return v.data, v.stat, true
}

// Children returns the names of the cached children of the node at path,
// sorted, and whether the node is cached. It allocates nothing and takes
// no lock; the slice is shared and never changes, do not modify it. Nodes
// left out by WithMaxDepth or WithFilter are not listed; Stat.NumChildren
// counts them.
func (c *Cache) Children(path string) (children []string, ok bool) {
	n := c.idx.lookup(path)
	if n == nil {
		return nil, false
	}
	return n.view.Load().children, true
}

// Root returns the path the cache mirrors.
func (c *Cache) Root() string { return c.root }

// Fresh reports whether the cache is current: primed, connected to a
// read-write server, and not re-reading after a reconnect or a Rebuild.
// A fresh cache lags ZooKeeper only by the time an event and one read
// take (see the package documentation). Fresh turns false as soon as the
// handle loses its connection or its session.
func (c *Cache) Fresh() bool {
	h := c.handle.Load()
	return c.freshMark.Load() == int64(c.lost.Load()) && h != nil && h.State() == zhandle.StateConnected
}

// Staleness returns how long ago the cache last held every change made in
// ZooKeeper: 0 while it is fresh; while it is not, the time since the last
// moment it is known to have seen everything (before the first priming,
// since New). After a connection loss that moment is the send time of the
// last ping the server answered, when every earlier notification had
// arrived.
func (c *Cache) Staleness() time.Duration {
	if c.Fresh() {
		return 0
	}
	return time.Since(time.Unix(0, c.knownAt.Load()))
}

// WaitInitialized waits for the end of the first priming, the cache's
// failure (an error that says why), Close (ErrClosed) or ctx.
func (c *Cache) WaitInitialized(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return c.await(ctx, c.initialized)
}

// await waits for done, the cache's failure or closing, or ctx.
func (c *Cache) await(ctx context.Context, done <-chan struct{}) error {
	select {
	case <-done:
		return nil
	case <-c.fatal:
		return c.err
	case <-c.closing:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Sync waits until the cache holds every change made in ZooKeeper before
// Sync was called, as a zhandle Sync followed by reads would see it:
// it syncs the cache's session with the leader and waits for the cache to
// apply every event that came before the sync's reply. While the cache is
// not connected, or is re-reading, it waits for that to end first. A ctx
// already done does nothing and returns ctx.Err().
func (c *Cache) Sync(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b := &barrier{done: make(chan struct{})}
	c.in.push(input{kind: inBarrier, barrier: b})
	if err := c.await(ctx, b.done); err != nil {
		return err
	}
	return b.err
}

// Rebuild moves the cache to h and reads the tree again there, reporting
// what changed (EventStale, the changes, EventResynced): after the
// session expired, on a handle with a new session; or to move the cache to
// another handle. The cache stops using its previous handle at once
// (without closing it). Rebuild returns at once; Sync or Fresh tell when
// the cache is current again.
func (c *Cache) Rebuild(h *zhandle.Handle) error {
	if h == nil {
		return fmt.Errorf("cache: nil handle")
	}
	select {
	case <-c.closing:
		return ErrClosed
	default:
	}
	c.in.push(input{kind: inRebuild, handle: h})
	return nil
}

// Stats returns figures about the cache.
func (c *Cache) Stats() Stats {
	c.statsMu.Lock()
	defer c.statsMu.Unlock()
	return c.stats
}

// Close stops the cache: it removes its watches from the handle (see the
// package documentation for the server's side), stops its goroutines and
// returns once they have ended, or, called from a listener, without
// waiting for the listener's goroutine, which ends when the listener
// returns. Events not yet delivered are dropped. Reads keep returning the
// last state. Close is idempotent.
func (c *Cache) Close() error {
	c.closeOnce.Do(func() {
		close(c.closing)
		c.in.close()
		<-c.applied
		c.freshMark.Store(-1)
		c.out.close()
	})
	if goid.Current() != c.dispatcher { // a listener may close the cache
		<-c.dispatched
	}
	return nil
}

// fail records why the cache cannot work, once.
func (c *Cache) fail(err error) {
	select {
	case <-c.fatal:
	default:
		c.err = err
		close(c.fatal)
	}
}

// dispatch delivers events to the listeners until Close.
func (c *Cache) dispatch(listeners []Listener) {
	defer close(c.dispatched)
	var batch []Event
	for {
		var ok bool
		if batch, ok = c.out.take(batch[:0]); !ok {
			return
		}
		for _, ev := range batch {
			for _, l := range listeners {
				l(ev)
			}
		}
		clear(batch)
	}
}

// A queue is an unbounded FIFO between goroutines: push never blocks,
// take waits for items or close.
type queue[T any] struct {
	mu     sync.Mutex
	items  []T
	closed bool
	wake   chan struct{}
}

func (q *queue[T]) init() { q.wake = make(chan struct{}, 1) }

// push adds items unless the queue is closed.
func (q *queue[T]) push(items ...T) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.items = append(q.items, items...)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// take appends every queued item to dst, waiting for one if there is
// none; false once the queue is closed.
func (q *queue[T]) take(dst []T) ([]T, bool) {
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return dst, false
		}
		if len(q.items) > 0 {
			dst = append(dst, q.items...)
			clear(q.items)
			q.items = q.items[:0]
			q.mu.Unlock()
			return dst, true
		}
		q.mu.Unlock()
		<-q.wake
	}
}

func (q *queue[T]) close() {
	q.mu.Lock()
	q.closed = true
	q.items = nil
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}
