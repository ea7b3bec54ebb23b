package barrier

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/zkloop/zkloop/recipe"
	"github.com/zkloop/zkloop/zhandle"
)

// readyNode is the node the member that completes the barrier makes
// (Curator's READY_NODE).
const readyNode = "ready"

// A DoubleBarrier lets a set number of members start a computation
// together and finish it together: Curator's DistributedDoubleBarrier.
// Enter returns once that many members have entered, Leave once they have
// all left. Each member is a DoubleBarrier value of its own; one value
// runs one Enter or Leave at a time.
type DoubleBarrier struct {
	h       *zhandle.Handle
	path    string
	members int
	turn    chan struct{} // one slot: the Enter or Leave under way

	node string // our member node's name: a random UUID, drawn again after a failed Enter
}

// NewDoubleBarrier returns a member of the double barrier at path on h
// that releases members at a time. It sends nothing.
func NewDoubleBarrier(h *zhandle.Handle, path string, members int) *DoubleBarrier {
	return &DoubleBarrier{h: h, path: path, members: members, turn: make(chan struct{}, 1), node: recipe.RandomUUID()}
}

// take waits for the value's turn, or ctx's end; the caller gives it back.
func (b *DoubleBarrier) take(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	switch {
	case b.h == nil:
		return errNoHandle
	case b.members < 1:
		return fmt.Errorf("barrier: a double barrier of %d members", b.members)
	}
	select {
	case b.turn <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Enter makes our member node, an ephemeral path/<uuid> with
// recipe.DefaultData, and returns once the barrier is complete: when the
// node "ready" exists, or when we count enough members ourselves, in
// which case we make "ready" for the others.
//
// Unlike Curator 5.4, a wake-up is never taken for a release (GH-1290,
// CURATOR.md P8): connection events wake every watcher, so after each
// wake-up Enter looks again, and only "ready" seen created or existing
// lets a member through.
//
// If ctx ends or the session fails first, our member node is deleted
// (where Curator leaves it to be counted) and the error returned; a
// member that counted us meanwhile may have been let through.
func (b *DoubleBarrier) Enter(ctx context.Context) error {
	if err := b.take(ctx); err != nil {
		return err
	}
	defer func() { <-b.turn }()
	readyPath := recipe.Join(b.path, readyNode)
	w := newWaker(readyPath)
	defer w.forget(b.h, readyPath)
	ready, err := exists(ctx, b.h, readyPath, w)
	if err == nil {
		err = b.join(ctx)
	}
	if err == nil && !ready {
		err = b.awaitReady(ctx, w)
	}
	if err != nil {
		// A member node must not stay to be counted: delete it, and use
		// another name next time, which this late delete cannot hit.
		recipe.DeleteGuaranteed(b.h, recipe.Join(b.path, b.node), nil)
		b.node = recipe.RandomUUID()
	}
	return err
}

// join makes our member node. A node of our name that exists already is
// ours: a create whose reply was lost.
func (b *DoubleBarrier) join(ctx context.Context) error {
	err := recipe.Retry(ctx, b.h, func() error {
		_, _, err := recipe.Create(ctx, b.h, recipe.Join(b.path, b.node), recipe.DefaultData(), zhandle.OpenACLUnsafe, zhandle.Ephemeral)
		return err
	})
	if errors.Is(err, zhandle.ErrNodeExists) {
		return nil // the name is a UUID of this value's, which only this session uses
	}
	return err
}

// awaitReady counts the members until there are enough, making "ready",
// or until "ready" appears.
func (b *DoubleBarrier) awaitReady(ctx context.Context, w *waker) error {
	readyPath := recipe.Join(b.path, readyNode)
	for {
		members, err := b.list(ctx)
		if err != nil {
			return err
		}
		if len(members) >= b.members {
			err := recipe.Retry(ctx, b.h, func() error {
				_, err := b.h.Create(ctx, readyPath, recipe.DefaultData(), zhandle.OpenACLUnsafe, zhandle.Persistent)
				return err
			})
			if errors.Is(err, zhandle.ErrNodeExists) {
				return nil
			}
			return err
		}
		if err := w.sleep(ctx); err != nil {
			return err
		}
		if w.seenCreated() {
			return nil // made by the member that completed the barrier, maybe gone again since
		}
		ready, err := exists(ctx, b.h, readyPath, w) // a wake-up proves nothing: look
		if err != nil || ready {
			return err
		}
	}
}

// list returns the member nodes, without "ready", sorted as strings as
// Curator sorts them; none when the barrier's node does not exist.
func (b *DoubleBarrier) list(ctx context.Context) ([]string, error) {
	var children []string
	err := recipe.Retry(ctx, b.h, func() (err error) {
		children, err = b.h.GetChildren(ctx, b.path, false)
		return err
	})
	if errors.Is(err, zhandle.ErrNoNode) {
		return nil, nil
	}
	children = slices.DeleteFunc(children, func(name string) bool { return name == readyNode })
	slices.Sort(children)
	return children, err
}

// Leave deletes our member node and returns once the members have left,
// as Curator's leave does: the lowest member (by name) waits for the
// highest to go; every other deletes its node and waits for the lowest
// to go; the last one deletes "ready". It looks again after every
// wake-up. If ctx ends first, Leave returns its error and our node may
// still be there: call Leave again.
func (b *DoubleBarrier) Leave(ctx context.Context) error {
	if err := b.take(ctx); err != nil {
		return err
	}
	defer func() { <-b.turn }()
	ours := recipe.Join(b.path, b.node)
	present := true // our node should still be there
	w := newWaker("")
	for {
		members, err := b.list(ctx)
		if err != nil {
			return err
		}
		i := slices.Index(members, b.node)
		switch {
		case len(members) == 0:
		case i < 0 && present:
			return fmt.Errorf("barrier: our member node %s is gone (Leave without Enter, or deleted)", ours)
		case len(members) == 1:
			if present {
				err = deleteNode(ctx, b.h, ours)
			}
		default:
			err = b.waitOthers(ctx, members, i == 0, &present, w)
			if err == nil {
				continue
			}
		}
		if err != nil {
			return err
		}
		return deleteNode(ctx, b.h, recipe.Join(b.path, readyNode))
	}
}

// waitOthers is one round of Leave with others still there: the lowest
// member watches the highest; any other one watches the lowest and
// deletes its own node. It returns after a wake-up, or at once when the
// watched node is already gone.
func (b *DoubleBarrier) waitOthers(ctx context.Context, members []string, lowest bool, present *bool, w *waker) error {
	watched := members[0]
	if lowest {
		watched = members[len(members)-1]
	}
	there, err := exists(ctx, b.h, recipe.Join(b.path, watched), w)
	if err != nil {
		return err
	}
	if !lowest && *present {
		if err := deleteNode(ctx, b.h, recipe.Join(b.path, b.node)); err != nil {
			return err
		}
		*present = false
	}
	if !there {
		return nil
	}
	return w.sleep(ctx)
}
