package lock

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/zkloop/zkloop/recipe"
	"github.com/zkloop/zkloop/zhandle"
)

// errNoHandle is what a lock made with a nil handle returns.
var errNoHandle = errors.New("lock: nil *zhandle.Handle")

// contender acquires holds in one lock directory: Curator's LockInternals
// with the predicate of one driver. Its fields do not change after the
// lock is made.
type contender struct {
	h       *zhandle.Handle
	dir     string
	node    string   // the path of our nodes before the protection prefix: dir + "/lock-" ("__READ__", "__WRIT__", "lease-")
	markers []string // what the directory's children sort by (recipe.SortSequential)
	mode    zhandle.CreateMode
	cfg     config
	// admit decides from the sorted children and our index whether we
	// hold the lock, and which node to wait on if not.
	admit func(sorted []string, ours int) (held bool, watch string)
}

// exclusive admits the first of the children (maxLeases 1), and makes
// the others wait on their predecessor: StandardLockInternalsDriver.
func exclusive(sorted []string, ours int) (bool, string) {
	if ours == 0 {
		return true, ""
	}
	return false, sorted[ours-1]
}

// acquire creates a node and waits until it holds the lock, or, with try,
// looks once. On every exit without the lock the node is deleted
// (CURATOR.md P5).
func (c *contender) acquire(ctx context.Context, try bool) (*hold, error) {
	if c.h == nil {
		return nil, errNoHandle
	}
	hd := newHold(c.h, c.cfg.policy)
	held, err := c.createAndWait(ctx, hd, try)
	if !held {
		_ = hd.release() // never claimed: it cannot have been lost
		return nil, err
	}
	return hd, nil
}

// createAndWait creates hd's node and waits for the lock.
func (c *contender) createAndWait(ctx context.Context, hd *hold, try bool) (bool, error) {
	if err := c.create(ctx, hd); err != nil {
		return false, err
	}
	for {
		children, err := c.list(ctx, nil)
		if err != nil {
			return false, err
		}
		ours := slices.Index(children, hd.path[strings.LastIndexByte(hd.path, '/')+1:])
		if ours < 0 || hd.owner != c.h.ClientID().SessionID {
			// Our node is gone (its session's, or deleted by someone):
			// make another, as Curator's retry of attemptLock does.
			if err := c.create(ctx, hd); err != nil {
				return false, err
			}
			continue
		}
		held, watch := c.admit(children, ours)
		switch {
		case held && hd.claim():
			return true, nil
		case held: // the connection is in an error state: wait for a change
		case try:
			return false, nil
		default:
			// getData rather than exists: no watch stays on a node that
			// is already gone (NoNode means: look again).
			hd.wake.drain()
			_, _, err := c.h.WGet(ctx, recipe.Join(c.dir, watch), hd.wake)
			switch {
			case errors.Is(err, zhandle.ErrNoNode):
				continue
			case recipe.Retryable(err):
				if err := c.h.WaitConnected(ctx); err != nil {
					return false, err
				}
				continue
			case err != nil:
				return false, err
			}
		}
		if err := hd.wake.sleep(ctx); err != nil {
			return false, err
		}
	}
}

// create makes hd's node (again), deleting the one it had, if any.
func (c *contender) create(ctx context.Context, hd *hold) error {
	if hd.path != "" {
		recipe.DeleteGuaranteed(c.h, hd.path, nil)
		hd.path = ""
	}
	path, stat, err := recipe.CreateProtected(ctx, c.h, c.node, c.cfg.nodeData(), c.cfg.acl, c.mode)
	if err != nil {
		return err
	}
	hd.path, hd.owner = path, stat.EphemeralOwner
	return nil
}

// list returns the children of the directory in Curator's order, none
// when it does not exist; with w, it watches them. Connection losses are
// retried.
func (c *contender) list(ctx context.Context, w zhandle.Watcher) ([]string, error) {
	var children []string
	err := recipe.Retry(ctx, c.h, func() (err error) {
		if w == nil {
			children, err = c.h.GetChildren(ctx, c.dir, false)
		} else {
			children, err = c.h.WGetChildren(ctx, c.dir, w)
		}
		return err
	})
	if errors.Is(err, zhandle.ErrNoNode) {
		return nil, nil
	}
	recipe.SortSequential(children, c.markers...)
	return children, err
}
