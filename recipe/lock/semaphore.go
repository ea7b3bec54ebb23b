package lock

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/zkloop/zkloop/recipe"
	"github.com/zkloop/zkloop/zhandle"
)

// A Semaphore hands out at most a fixed number of leases across
// processes, compatible with Curator's InterProcessSemaphoreV2: the leases
// are nodes under "<path>/leases", and a lock at "<path>/locks" (a Mutex's
// directory) lets one acquirer at a time add its lease and wait until the
// leases are few enough. Only that acquirer watches "leases"; the others
// wait on the lock, each on its predecessor, so a release wakes one
// process, not all of them.
//
// The maximum is not stored in ZooKeeper: as with Curator, every
// participant, Go or Java, must be given the same one. A Semaphore is safe
// for concurrent use; each Acquire is a contender of its own.
type Semaphore struct {
	max    int
	locks  contender
	leases contender
}

// NewSemaphore returns a Semaphore on path with maxLeases leases. WithData
// sets the data of the lease nodes; the lock's nodes get the default data.
// Nothing is sent until Acquire.
func NewSemaphore(h *zhandle.Handle, path string, maxLeases int, opts ...Option) *Semaphore {
	cfg := newConfig(opts)
	lockCfg := cfg
	lockCfg.dataSet, lockCfg.policy = false, recipe.SessionErrorPolicy
	locks, leases := recipe.Join(path, "locks"), recipe.Join(path, "leases")
	return &Semaphore{
		max: maxLeases,
		locks: contender{h: h, dir: locks, node: recipe.Join(locks, "lock-"), markers: []string{"lock-"},
			mode: zhandle.EphemeralSequential, cfg: lockCfg, admit: exclusive},
		leases: contender{h: h, dir: leases, node: recipe.Join(leases, "lease-"),
			mode: zhandle.EphemeralSequential, cfg: cfg},
	}
}

// A Lease is one lease of a Semaphore, held until Release.
type Lease struct {
	hd   *hold
	once sync.Once
}

// Acquire waits until it holds a lease, or ctx ends: it takes the
// semaphore's lock, adds its lease node and waits, still holding the lock,
// until there are at most maxLeases lease nodes (Curator's
// internalAcquire1Lease); then it releases the lock. Every lease node
// counts, other kinds of nodes under "leases" too. On every return
// without a lease, the nodes it made are deleted. A ctx already done sends
// nothing.
func (s *Semaphore) Acquire(ctx context.Context) (*Lease, error) {
	return s.acquire(ctx, false)
}

// TryAcquire takes a lease if one is free and no other acquirer is ahead
// of it in the semaphore's lock, and returns nil otherwise, without
// waiting (Curator's acquire with a zero wait). Like Acquire, it leaves no
// node behind when it gets no lease; ctx bounds the requests it sends.
func (s *Semaphore) TryAcquire(ctx context.Context) (*Lease, error) {
	return s.acquire(ctx, true)
}

// acquire is Acquire, or with try TryAcquire.
func (s *Semaphore) acquire(ctx context.Context, try bool) (*Lease, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.max < 1 {
		return nil, fmt.Errorf("%w: a semaphore of %d leases", zhandle.ErrBadArguments, s.max)
	}
	lk, err := s.locks.acquire(ctx, try)
	if lk == nil {
		return nil, err // with try and no error: another acquirer is ahead
	}
	defer func() { _ = lk.release() }() // only we held it: it cannot matter that it was lost
	hd := newHold(s.leases.h, s.leases.cfg.policy)
	if held, err := s.waitLease(ctx, hd, try); !held {
		_ = hd.release() // never claimed
		return nil, err
	}
	return &Lease{hd: hd}, nil
}

// waitLease creates hd's lease node and waits until the leases are few
// enough, or, with try, looks once.
func (s *Semaphore) waitLease(ctx context.Context, hd *hold, try bool) (bool, error) {
	c := &s.leases
	if err := c.create(ctx, hd); err != nil {
		return false, err
	}
	for {
		hd.wake.drain()
		children, err := c.list(ctx, hd.wake)
		if err != nil {
			return false, err
		}
		ours := slices.Index(children, hd.path[strings.LastIndexByte(hd.path, '/')+1:])
		switch {
		case ours < 0 || hd.owner != c.h.ClientID().SessionID:
			if err := c.create(ctx, hd); err != nil { // our lease is gone: make another
				return false, err
			}
			continue
		case len(children) <= s.max && hd.claim():
			return true, nil
		case try && len(children) > s.max:
			return false, nil
		}
		if err := hd.wake.sleep(ctx); err != nil {
			return false, err
		}
	}
}

// Release gives the lease back: its Lost channel closes and its node is
// deleted in the background, across reconnects if need be. It returns
// ErrLost if the lease had been lost, and ErrNotHeld when called again.
func (l *Lease) Release() error {
	err := ErrNotHeld
	l.once.Do(func() { err = l.hd.release() })
	return err
}

// Lost returns a channel that is closed when the lease ends: lost (see
// ErrLost and WithErrorPolicy) or released.
func (l *Lease) Lost() <-chan struct{} { return l.hd.done }

// Node returns the path of the lease's node.
func (l *Lease) Node() string { return l.hd.path }
