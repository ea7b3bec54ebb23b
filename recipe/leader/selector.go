package leader

import (
	"context"
	"errors"
	"sync"

	"github.com/zkloop/zkloop/recipe/lock"
	"github.com/zkloop/zkloop/zhandle"
)

var errNoLead = errors.New("leader: nil lead function")

// A Selector runs a function while it leads an election compatible with
// Curator's LeaderSelector: the leadership is a lock.Mutex on the
// election's path, "_c_<uuid>-lock-NNNNNNNNNN" nodes holding the id, so a
// Go Selector, a Java LeaderSelector and a Java InterProcessMutex on one
// path exclude each other. The lead function runs while the lock is held
// (Curator's takeLeadership); its context is cancelled when the
// leadership is lost (see WithErrorPolicy), interrupted or closed, and
// the lock is released when it returns. It is safe for concurrent use.
type Selector struct {
	election
	m    *lock.Mutex
	lead func(ctx context.Context)
	cfg  config
	wake signal // a Requeue

	mu      sync.Mutex
	started bool
	closed  bool
	queued  bool               // waiting for the lock or leading (Curator's isQueued)
	term    context.Context    // while leading: the lead function's context
	stop    context.CancelFunc // ends term
	cancel  context.CancelFunc // ends the loop; from Start
	done    chan struct{}      // closed when the loop has returned
}

// NewSelector returns a Selector in the election at path (Curator's
// leaderPath) that calls lead each time it leads. The id is its node's
// data as UTF-8 (Curator's setId); empty, the node holds the local IP
// address as text (recipe.DefaultData), as Curator's does without an id.
// Nothing is sent until Start.
//
// lead must return promptly once its context is done: the lock is
// released only then, and while the connection is down it may no longer
// be ours.
func NewSelector(h *zhandle.Handle, path, id string, lead func(ctx context.Context), opts ...Option) *Selector {
	cfg := newConfig(opts)
	lockOpts := []lock.Option{lock.WithErrorPolicy(cfg.policy), lock.WithACL(cfg.acl)}
	if id != "" {
		lockOpts = append(lockOpts, lock.WithData([]byte(id)))
	}
	return &Selector{election: election{h, path, selectorMarker}, m: lock.NewMutex(h, path, lockOpts...), lead: lead, cfg: cfg,
		wake: make(signal, 1), done: make(chan struct{})}
}

// Start queues the Selector for the leadership and returns: it waits for
// its turn in the background, runs the lead function once it leads, and
// then, with WithAutoRequeue, queues again. A Selector starts once. If it
// cannot take the lock (the session ended, the lock's node was refused),
// it leaves the queue until Requeue; after the session's expiry, close it
// and make a new one on a new handle.
func (s *Selector) Start() error {
	switch {
	case s.h == nil:
		return errNoHandle
	case s.lead == nil:
		return errNoLead
	}
	run, cancel := context.WithCancel(context.Background())
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		cancel()
		return ErrClosed
	case s.started:
		cancel()
		return ErrStarted
	}
	s.started, s.queued, s.cancel = true, true, cancel
	go s.loop(run)
	return nil
}

// Requeue queues the Selector again after its lead function returned
// without WithAutoRequeue, or after a failure to take the lock. It
// reports whether it did: not when the Selector is queued or leading
// already, not started, or closed (Curator's requeue).
func (s *Selector) Requeue() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started || s.closed || s.queued {
		return false
	}
	s.queued = true
	s.wake.raise()
	return true
}

// Interrupt cancels the context of the lead function if it is running
// (Curator's interruptLeadership). With WithAutoRequeue the Selector
// queues again once the function has returned.
func (s *Selector) Interrupt() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stop != nil {
		s.stop()
	}
}

// IsLeader reports whether the lead function runs with the leadership
// held (Curator's hasLeadership): false once its context is done.
func (s *Selector) IsLeader() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.term != nil && s.term.Err() == nil
}

// Close leaves the election: the lead function's context is cancelled,
// Close waits for the function to return, and the lock's node is deleted
// (in the background, across reconnects). Close is idempotent; it does
// not close the handle, and like Latch.Close should come before the
// handle's.
func (s *Selector) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	cancel := s.cancel
	s.mu.Unlock()
	if cancel != nil {
		cancel()
		<-s.done
	}
	return nil
}

// loop takes turns at the leadership for as long as the Selector is
// queued, until it is closed.
func (s *Selector) loop(ctx context.Context) {
	defer close(s.done)
	for {
		err := s.turn(ctx)
		s.mu.Lock()
		// After a failure, queue again only on request: the failure
		// (a refusal, the end of the session) would come back at once.
		s.queued = s.cfg.autoRequeue && err == nil
		s.mu.Unlock()
		for !s.isQueued() {
			select {
			case <-s.wake:
			case <-ctx.Done():
				return
			}
		}
		if ctx.Err() != nil {
			return
		}
	}
}

func (s *Selector) isQueued() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queued
}

// turn waits for the lock, runs the lead function while holding it, and
// releases it.
func (s *Selector) turn(ctx context.Context) error {
	if err := s.m.Lock(ctx); err != nil {
		return err
	}
	term, stop := context.WithCancel(ctx)
	s.mu.Lock()
	s.term, s.stop = term, stop
	s.mu.Unlock()
	lost, watched := s.m.Lost(), make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case <-lost:
			stop()
		case <-term.Done():
		}
	}()
	s.lead(term)
	stop()
	<-watched
	s.mu.Lock()
	s.term, s.stop = nil, nil
	s.mu.Unlock()
	_ = s.m.Unlock() // ErrLost: the lead function was told, by its context
	return nil
}
