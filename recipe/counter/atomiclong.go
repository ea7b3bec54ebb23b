package counter

import (
	"context"
	"encoding/binary"
	"errors"

	"github.com/zkloop/zkloop/recipe"
	"github.com/zkloop/zkloop/zhandle"
)

// An AtomicLong is a 64-bit counter in a ZooKeeper node, changed by
// optimistic compare-and-set: Curator's DistributedAtomicLong in its
// optimistic mode. The node holds the value as 8 bytes, big-endian; a
// missing node or empty data is 0. Every change reads the node and
// writes it back with the version read, and tries again when another
// client wrote in between, until it succeeds or ctx ends. It keeps no
// state: its methods are safe for concurrent use, and any number of
// values, Go or Java, may share the node.
type AtomicLong struct {
	h    *zhandle.Handle
	path string
}

// NewAtomicLong returns the counter in the node at path on h. It sends
// nothing; the node is made, with its parents as containers, at the
// first change.
func NewAtomicLong(h *zhandle.Handle, path string) *AtomicLong {
	return &AtomicLong{h: h, path: path}
}

// read returns the value and the node's version, -1 when the node does
// not exist.
func (a *AtomicLong) read(ctx context.Context) (int64, int32, error) {
	if a.h == nil {
		return 0, 0, errNoHandle
	}
	var data []byte
	var stat zhandle.Stat
	err := recipe.Retry(ctx, a.h, func() (err error) {
		data, stat, err = a.h.Get(ctx, a.path, false)
		return err
	})
	switch {
	case errors.Is(err, zhandle.ErrNoNode):
		return 0, -1, nil
	case err != nil:
		return 0, 0, err
	}
	v, err := decode(data, 8, true)
	return v, stat.Version, err
}

// Get returns the value: 0 when the node does not exist or is empty,
// ErrCorrupted when it holds fewer than 8 bytes.
func (a *AtomicLong) Get(ctx context.Context) (int64, error) {
	v, _, err := a.read(ctx)
	return v, err
}

// Increment adds 1 and returns the new value.
func (a *AtomicLong) Increment(ctx context.Context) (int64, error) { return a.Add(ctx, 1) }

// Add adds delta (wrapping around, as Java's long does) and returns the
// new value, retrying while other clients change the value in between.
// ErrIndeterminate means that it may have been added once (never twice).
func (a *AtomicLong) Add(ctx context.Context, delta int64) (int64, error) {
	for {
		v, version, err := a.read(ctx)
		if err != nil {
			return 0, err
		}
		next := v + delta
		switch err := a.write(ctx, next, version); {
		case err == nil:
			return next, nil
		case !lostRace(err):
			return 0, err
		}
	}
}

// write writes v if the node still has version (-1: does not exist yet).
func (a *AtomicLong) write(ctx context.Context, v int64, version int32) error {
	data := binary.BigEndian.AppendUint64(nil, uint64(v))
	return conditional(ctx, a.h, func() error {
		if version < 0 {
			return createNode(ctx, a.h, a.path, data)
		}
		_, err := a.h.Set(ctx, a.path, data, version)
		return err
	})
}

// lostRace reports whether a conditional write failed because another
// client changed the node first.
func lostRace(err error) bool {
	return !errors.Is(err, ErrIndeterminate) &&
		(errors.Is(err, zhandle.ErrBadVersion) || errors.Is(err, zhandle.ErrNodeExists) || errors.Is(err, zhandle.ErrNoNode))
}

// CompareAndSet sets the value to v if it is expected, and reports
// whether it did. It compares values, where Curator compares bytes: a
// missing or empty node is 0 here, so CompareAndSet(ctx, 0, v) makes the
// node, where Curator's compareAndSet fails. A change by another client
// between the read and the write makes it false, as in Curator.
func (a *AtomicLong) CompareAndSet(ctx context.Context, expected, v int64) (bool, error) {
	current, version, err := a.read(ctx)
	if err != nil || current != expected {
		return false, err
	}
	switch err := a.write(ctx, v, version); {
	case lostRace(err):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// ForceSet sets the value to v whatever it was (Curator's forceSet: a
// setData without a version, or a create).
func (a *AtomicLong) ForceSet(ctx context.Context, v int64) error {
	if a.h == nil {
		return errNoHandle
	}
	data := binary.BigEndian.AppendUint64(nil, uint64(v))
	return recipe.Retry(ctx, a.h, func() error {
		_, err := a.h.Set(ctx, a.path, data, -1)
		if errors.Is(err, zhandle.ErrNoNode) {
			if err = createNode(ctx, a.h, a.path, data); errors.Is(err, zhandle.ErrNodeExists) {
				_, err = a.h.Set(ctx, a.path, data, -1)
			}
		}
		return err
	})
}

// Initialize makes the node with the value v if it does not exist, and
// reports whether it did (Curator's initialize).
func (a *AtomicLong) Initialize(ctx context.Context, v int64) (bool, error) {
	if a.h == nil {
		return false, errNoHandle
	}
	switch err := a.write(ctx, v, -1); {
	case errors.Is(err, zhandle.ErrNodeExists) && !errors.Is(err, ErrIndeterminate):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}
