package cache

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/zkloop/zkloop/zhandle"
)

// An Option configures New.
type Option func(*config) error

type config struct {
	maxDepth  int                    // -1: no limit
	keep      func(path string) bool // nil: every node
	keepData  bool
	maxBytes  int64 // -1: no limit
	listeners []Listener
	renew     func(ctx context.Context) (*zhandle.Handle, error)
	log       *slog.Logger
}

func defaultConfig() config {
	return config{maxDepth: -1, keepData: true, maxBytes: -1, log: slog.New(slog.DiscardHandler)}
}

// WithMaxDepth keeps the nodes at most depth levels below the root: 0 keeps
// the root alone, 1 the root and its children. Deeper nodes are neither
// read nor kept; the Stat of a node at the last level still counts all its
// children (NumChildren, Cversion), while Children lists none.
func WithMaxDepth(depth int) Option {
	return func(c *config) error {
		if depth < 0 {
			return fmt.Errorf("cache: negative depth %d", depth)
		}
		c.maxDepth = depth
		return nil
	}
}

// WithFilter keeps only the nodes for which keep returns true, and none
// below a node it refuses: such a subtree is neither read nor kept, and
// Children does not list it. The root is always kept. keep runs on the
// cache's goroutine, for every path the cache considers (at each change
// under the root, for the path and its ancestors), so it must be quick and
// must not call the cache.
func WithFilter(keep func(path string) bool) Option {
	return func(c *config) error {
		if keep == nil {
			return fmt.Errorf("cache: nil filter")
		}
		c.keep = keep
		return nil
	}
}

// WithoutData keeps the tree and every Stat but no data: Get returns nil
// data (Stat.DataLength still says how long it is), for users who need only
// the shape of the tree.
func WithoutData() Option {
	return func(c *config) error {
		c.keepData = false
		return nil
	}
}

// WithMaxBytes bounds the data kept, in bytes summed over all nodes. A node
// whose data would exceed the bound is kept without it: Get returns nil
// data and a Stat whose DataLength is not zero, which tells the caller to
// read the node from ZooKeeper. Its data is kept again at its next change
// if it fits then. Stats counts such nodes.
func WithMaxBytes(n int64) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("cache: negative byte limit %d", n)
		}
		c.maxBytes = n
		return nil
	}
}

// WithListener adds a listener. Listeners are called one at a time, on one
// goroutine of the cache (not the handle's), in the order they were added,
// with the events in the order described at Event; the cache has published
// a change by the time its event is delivered. A listener that blocks
// delays the later events (they queue up, without bound) but not the cache
// itself. A listener may call the handle (synchronous calls included) and
// the cache, Close too.
func WithListener(l Listener) Option {
	return func(c *config) error {
		if l == nil {
			return fmt.Errorf("cache: nil listener")
		}
		c.listeners = append(c.listeners, l)
		return nil
	}
}

// WithRenewal makes the cache recover from a session expiry (or an
// authentication failure, not a Close of the handle) by itself: it
// calls renew for a new handle, retrying with a growing pause while renew
// fails, and rebuilds on that handle as Rebuild does. ctx ends when the
// cache is closed, and Close waits for renew to return. The handles renew
// returns belong to the caller, who closes them; the cache never does.
func WithRenewal(renew func(ctx context.Context) (*zhandle.Handle, error)) Option {
	return func(c *config) error {
		if renew == nil {
			return fmt.Errorf("cache: nil renewal function")
		}
		c.renew = renew
		return nil
	}
}

// WithLogger sends the cache's log (re-reads, nodes it could not read)
// to l. The default discards it.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return fmt.Errorf("cache: nil logger")
		}
		c.log = l
		return nil
	}
}

// keeps reports whether the cache keeps the node at p, given the depth
// limit and the filter: p is the root, or under it within the depth, and
// the filter accepts it and every ancestor below the root.
func (c *config) keeps(root, p string) bool {
	d := depthBelow(root, p)
	if d < 0 || c.maxDepth >= 0 && d > c.maxDepth {
		return false
	}
	if c.keep == nil {
		return true
	}
	for ; p != root; p = parentOf(p) {
		if !c.keep(p) {
			return false
		}
	}
	return true
}

// keepsChildren reports whether the depth limit lets the cache keep the
// children of a node it keeps at p.
func (c *config) keepsChildren(root, p string) bool {
	return c.maxDepth < 0 || depthBelow(root, p) < c.maxDepth
}
