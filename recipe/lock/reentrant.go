package lock

import (
	"context"
	"sync"
)

// reentrant makes a contender's holds re-entrant within the process: the
// lock belongs to the value holding it, not to a goroutine, and a Lock
// while it is held only counts (Curator's per-thread lockData, per value
// here). One acquisition runs at a time per value; a Lock that comes
// meanwhile waits for its outcome and then re-enters or tries itself.
type reentrant struct {
	acquire func(ctx context.Context, try bool) (*hold, error)
	turn    chan struct{} // one slot: the acquisition under way

	mu    sync.Mutex
	hold  *hold // nil when not held
	count int
}

func newReentrant(acquire func(context.Context, bool) (*hold, error)) reentrant {
	return reentrant{acquire: acquire, turn: make(chan struct{}, 1)}
}

// lock is Lock (try false) and TryLock (try true). A ctx already done
// sends nothing.
func (r *reentrant) lock(ctx context.Context, try bool) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if held, err := r.reenter(); held || err != nil {
		return held, err
	}
	select {
	case r.turn <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-r.turn }()
	if held, err := r.reenter(); held || err != nil {
		return held, err // another Lock acquired it meanwhile
	}
	hd, err := r.acquire(ctx, try)
	if hd == nil {
		return false, err
	}
	r.mu.Lock()
	r.hold, r.count = hd, 1
	r.mu.Unlock()
	return true, nil
}

// reenter counts one more Lock of a holding that is not lost; a lost one
// gives ErrLost.
func (r *reentrant) reenter() (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.hold == nil:
		return false, nil
	case r.hold.isLost():
		return false, ErrLost
	}
	r.count++
	return true, nil
}

// unlock undoes one Lock; the last one releases the hold.
func (r *reentrant) unlock() error {
	r.mu.Lock()
	hd := r.hold
	if hd == nil {
		r.mu.Unlock()
		return ErrNotHeld
	}
	if r.count--; r.count > 0 {
		r.mu.Unlock()
		if hd.isLost() {
			return ErrLost
		}
		return nil
	}
	r.hold = nil
	r.mu.Unlock()
	return hd.release()
}

// lost returns the Lost channel of the holding, or a closed one when
// nothing is held.
func (r *reentrant) lost() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.hold == nil {
		return closed
	}
	return r.hold.done
}

// node returns the path of the held node, or "".
func (r *reentrant) node() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.hold == nil {
		return ""
	}
	return r.hold.path
}

// heldNode returns the held hold when it is not lost, else nil.
func (r *reentrant) heldNode() *hold {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.hold == nil || r.hold.isLost() {
		return nil
	}
	return r.hold
}
