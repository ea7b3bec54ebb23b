package recipe

import (
	"context"
	"errors"

	"github.com/zkloop/zkloop/zhandle"
)

// DeleteGuaranteed deletes the node at path, whatever its version, and
// keeps at it across connection losses until it is gone: Curator's
// delete().guaranteed(), which recipes use to give up a lock, a lease or a
// latch node. It returns at once; the delete is sent asynchronously and,
// after a retryable failure (Retryable), sent again once the handle is
// connected. NoNode counts as done.
//
// done, if not nil, is called once with the outcome: nil when the node is
// gone, or the error that made DeleteGuaranteed give up: the end of the
// session (its expiry or the handle's Close, which remove an ephemeral node
// anyway) or a refusal such as zhandle.ErrNotEmpty or zhandle.ErrNoAuth.
// It runs on the handle's completion goroutine, or on a goroutine of
// DeleteGuaranteed's own after a connection loss, and must not block.
func DeleteGuaranteed(h *zhandle.Handle, path string, done func(error)) {
	err := h.ADelete(path, -1, func(err error) {
		if !Retryable(err) {
			finishDelete(done, err)
			return
		}
		// On the completion goroutine: wait for the connection elsewhere.
		go func() {
			if err := h.WaitConnected(context.Background()); err != nil {
				finishDelete(done, err)
				return
			}
			DeleteGuaranteed(h, path, done)
		}()
	})
	if err != nil {
		finishDelete(done, err) // not queued: the handle is closed, or the path is bad
	}
}

// finishDelete tells done, if any, the outcome of a guaranteed delete.
func finishDelete(done func(error), err error) {
	if errors.Is(err, zhandle.ErrNoNode) {
		err = nil
	}
	if done != nil {
		done(err)
	}
}
