package recipe

import (
	"context"
	"errors"

	"github.com/zkloop/zkloop/zhandle"
)

// Retryable reports whether err leaves the session alive and the request
// worth sending again once the handle is connected: a connection loss
// (zhandle.ErrConnectionLoss, zhandle.ErrOperationTimeout) or a session
// that moved to another server (zhandle.ErrSessionMoved). These are the
// errors Curator's RetryLoop retries, less the expiry of a session, which
// ends a zhandle.Handle for good. A request that failed this way may or
// may not have been applied.
func Retryable(err error) bool {
	return errors.Is(err, zhandle.ErrConnectionLoss) ||
		errors.Is(err, zhandle.ErrOperationTimeout) ||
		errors.Is(err, zhandle.ErrSessionMoved)
}

// Retry runs op until it returns an error that is not Retryable (nil
// included), waiting after each retryable failure until the handle is
// connected again: requests sent while the handle is connecting fail at the
// next failed connection attempt, so retrying at once would spin. It
// returns op's last error, the handle's if the session ends (its
// expiry, the handle's Close) or ctx's if ctx ends first. op must be safe
// to repeat: reads, and writes made idempotent by a version or by
// treating NodeExists or NoNode as done. A ctx already done runs nothing.
func Retry(ctx context.Context, h *zhandle.Handle, op func() error) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := op()
		if !Retryable(err) {
			return err
		}
		if err := h.WaitConnected(ctx); err != nil {
			return err
		}
	}
}
