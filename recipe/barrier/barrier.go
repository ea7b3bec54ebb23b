package barrier

import (
	"context"
	"errors"
	"sync"

	"github.com/zkloop/zkloop/recipe"
	"github.com/zkloop/zkloop/zhandle"
)

// errNoHandle is what a barrier made with a nil handle returns.
var errNoHandle = errors.New("barrier: nil *zhandle.Handle")

// A Barrier holds up the processes that Wait on it while its node exists:
// Curator's DistributedBarrier. Set puts it up and Remove takes it down;
// anyone may do either. Its methods are safe for concurrent use.
type Barrier struct {
	h    *zhandle.Handle
	path string
}

// NewBarrier returns the barrier whose node is path on h. It sends
// nothing.
func NewBarrier(h *zhandle.Handle, path string) *Barrier {
	return &Barrier{h: h, path: path}
}

// Set puts the barrier up: it makes its node, persistent, with
// recipe.DefaultData as Curator does, and its parents as containers. A
// barrier already up is left as it is.
func (b *Barrier) Set(ctx context.Context) error {
	if b.h == nil {
		return errNoHandle
	}
	err := recipe.Retry(ctx, b.h, func() error {
		_, _, err := recipe.Create(ctx, b.h, b.path, recipe.DefaultData(), zhandle.OpenACLUnsafe, zhandle.Persistent)
		return err
	})
	if errors.Is(err, zhandle.ErrNodeExists) {
		return nil
	}
	return err
}

// Remove takes the barrier down, releasing its waiters. A barrier not up
// is left as it is.
func (b *Barrier) Remove(ctx context.Context) error {
	if b.h == nil {
		return errNoHandle
	}
	return deleteNode(ctx, b.h, b.path)
}

// deleteNode deletes path, whatever its version; NoNode is done.
func deleteNode(ctx context.Context, h *zhandle.Handle, path string) error {
	err := recipe.Retry(ctx, h, func() error { return h.Delete(ctx, path, -1) })
	if errors.Is(err, zhandle.ErrNoNode) {
		return nil
	}
	return err
}

// Wait returns once the barrier is down, at once if it is not up, or
// when ctx ends. It watches the node and looks again after every
// wake-up, connection events included, as Curator's waitOnBarrier does.
func (b *Barrier) Wait(ctx context.Context) error {
	if b.h == nil {
		return errNoHandle
	}
	w := newWaker("")
	defer w.forget(b.h, b.path)
	for {
		up, err := exists(ctx, b.h, b.path, w)
		if err != nil || !up {
			return err
		}
		if err := w.sleep(ctx); err != nil {
			return err
		}
	}
}

// exists reports whether path exists, and watches it with w.
func exists(ctx context.Context, h *zhandle.Handle, path string, w *waker) (bool, error) {
	err := recipe.Retry(ctx, h, func() error {
		_, err := h.WExists(ctx, path, w)
		return err
	})
	if errors.Is(err, zhandle.ErrNoNode) {
		return false, nil
	}
	return err == nil, err
}

// A waker is the watcher of one waiting call. It wakes the waiter on
// every event, connection events included, so the waiter must look again
// each time; it also remembers whether it saw one node of interest
// created, an event that cannot be spurious. One pending wake-up is
// enough: the waiter looks at everything when it wakes.
type waker struct {
	wake    chan struct{}
	created string // the node whose creation counts

	mu         sync.Mutex
	sawCreated bool
}

func newWaker(created string) *waker {
	return &waker{wake: make(chan struct{}, 1), created: created}
}

func (w *waker) Process(ev zhandle.Event) {
	if ev.Type == zhandle.EventCreated && ev.Path == w.created {
		w.mu.Lock()
		w.sawCreated = true
		w.mu.Unlock()
	}
	select { // the completion goroutine must never block
	case w.wake <- struct{}{}:
	default:
	}
}

// sleep waits for a wake-up or the end of ctx.
func (w *waker) sleep(ctx context.Context) error {
	select {
	case <-w.wake:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// forget removes w's watch on path from the handle, locally, when its
// wait is over: a barrier can stay up, or down, for long, and a watcher
// for every wait would pile up until the node changes.
func (w *waker) forget(h *zhandle.Handle, path string) {
	_ = h.RemoveWatches(context.Background(), path, zhandle.WatcherData, w, true) // ErrNoWatcher: it fired already
}

// seenCreated reports whether the node of interest was seen created.
func (w *waker) seenCreated() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.sawCreated
}
