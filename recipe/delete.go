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
	d := &guaranteedDelete{h: h, path: path, done: done}
	d.send()
}

// guaranteedDelete is one DeleteGuaranteed.
type guaranteedDelete struct {
	h    *zhandle.Handle
	path string
	done func(error)
}

func (d *guaranteedDelete) send() {
	if err := d.h.ADelete(d.path, -1, d.deleted); err != nil {
		d.finish(err) // not queued: the handle is closed, or the path is bad
	}
}

// deleted is the delete's completion, on the completion goroutine: it
// must not wait for the connection there, so a retry waits on a goroutine.
func (d *guaranteedDelete) deleted(err error) {
	if !Retryable(err) {
		d.finish(err)
		return
	}
	go func() {
		if err := d.h.WaitConnected(context.Background()); err != nil {
			d.finish(err)
			return
		}
		d.send()
	}()
}

func (d *guaranteedDelete) finish(err error) {
	if errors.Is(err, zhandle.ErrNoNode) {
		err = nil
	}
	if d.done != nil {
		d.done(err)
	}
}
