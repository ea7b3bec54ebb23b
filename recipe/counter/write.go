package counter

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/zkloop/zkloop/recipe"
	"github.com/zkloop/zkloop/zhandle"
)

// Errors of the counters.
var (
	// ErrIndeterminate is returned, wrapping the cause, when a write's
	// reply was lost (a connection loss, or the caller's context ending
	// while it was in flight) and whether it was applied cannot be told:
	// sent again, the conditional write was refused, as it would be if
	// the first one had been applied, or if another client had written
	// meanwhile. Curator retries then and may count twice; here the
	// caller decides, for example by reading the value back.
	ErrIndeterminate = errors.New("counter: the write may or may not have been applied")
	// ErrCorrupted is returned, wrapping a description, when a counter
	// node holds fewer bytes than its number needs (4 for a SharedCount,
	// 8 for an AtomicLong), as Curator's readers refuse it.
	ErrCorrupted = errors.New("counter: corrupted data")
	// ErrClosed is returned by the calls on a closed SharedCount.
	ErrClosed = errors.New("counter: closed")
	// errNoHandle is what a counter made with a nil handle returns.
	errNoHandle = errors.New("counter: nil *zhandle.Handle")
)

// conditional sends write, a write that cannot apply twice (a setData
// with a version, a create), and settles a lost reply: after a connection
// loss it sends it again once connected, and if that one fails, the
// first may have been applied: ErrIndeterminate. If ctx ends while the
// write is in flight, the outcome is unknown too. A ctx already done
// sends nothing.
func conditional(ctx context.Context, h *zhandle.Handle, write func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := write()
	inDoubt := false
	for {
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil && errors.Is(err, ctx.Err()), inDoubt && !recipe.Retryable(err):
			return fmt.Errorf("%w: %w", ErrIndeterminate, err)
		case !recipe.Retryable(err):
			return err
		}
		inDoubt = true
		if err := h.WaitConnected(ctx); err != nil {
			return fmt.Errorf("%w: %w", ErrIndeterminate, err)
		}
		err = write()
	}
}

// decode reads the big-endian number of size bytes at the start of data,
// as Java's ByteBuffer.getInt and getLong do: longer data is truncated,
// shorter is ErrCorrupted. Empty data is 0 when emptyIsZero, as
// DistributedAtomicValue reads it.
func decode(data []byte, size int, emptyIsZero bool) (int64, error) {
	switch {
	case len(data) == 0 && emptyIsZero:
		return 0, nil
	case len(data) < size:
		return 0, fmt.Errorf("%w: %d bytes, want %d: %x", ErrCorrupted, len(data), size, data)
	case size == 4:
		return int64(int32(binary.BigEndian.Uint32(data))), nil
	}
	return int64(binary.BigEndian.Uint64(data)), nil
}

// createNode makes the counter's node with data, persistent, its
// parents as containers, as Curator's counters make it.
func createNode(ctx context.Context, h *zhandle.Handle, path string, data []byte) error {
	_, _, err := recipe.Create(ctx, h, path, data, zhandle.OpenACLUnsafe, zhandle.Persistent)
	return err
}
