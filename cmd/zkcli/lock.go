package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/zkloop/zkloop/recipe/lock"
	"github.com/zkloop/zkloop/zhandle"
)

// stopGrace is how long a command stopped by SIGTERM (the lock was lost,
// or zkcli interrupted) has to exit before it is killed.
const stopGrace = 5 * time.Second

// cmdLock is "lock path [-- command [args...]]": it takes a lock on path
// that Curator's InterProcessMutex respects (recipe/lock), runs the
// command while holding it and releases it when the command exits; with
// no command it holds the lock until interrupted. When the lock is lost
// (the session expires, or may have, or the lock's node is deleted), the
// command gets SIGTERM, and the command fails.
func cmdLock(ctx context.Context, s *shell, h *zhandle.Handle, o opts) error {
	path := o.args[1]
	m := lock.NewMutex(h, path)
	if err := m.Lock(ctx); err != nil {
		return err
	}
	if len(o.args) == 2 {
		fmt.Fprintf(s.out, "Holding lock %s (node %s); interrupt to release it\n", path, m.Node())
		select {
		case <-ctx.Done():
		case <-m.Lost():
		}
		if err := m.Unlock(); err != nil {
			return lockLost(path, err)
		}
		fmt.Fprintf(s.out, "Released lock %s\n", path)
		return nil
	}
	err := runHolding(ctx, s, m, o.args[2:])
	if unlockErr := m.Unlock(); unlockErr != nil {
		return lockLost(path, unlockErr)
	}
	return err
}

// runHolding runs a command while m is held, stopping it when the lock is
// lost or ctx ends. Its standard input is empty; its output goes where the
// shell's goes.
func runHolding(ctx context.Context, s *shell, m *lock.Mutex, args []string) error {
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var lost atomic.Bool
	go func() {
		select {
		case <-m.Lost():
			lost.Store(true)
			cancel()
		case <-cctx.Done():
		}
	}()
	cmd := exec.CommandContext(cctx, args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = s.out, s.errOut
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = stopGrace
	err := cmd.Run()
	switch {
	case lost.Load():
		return nil // the Unlock that follows reports the loss
	case ctx.Err() != nil:
		return ctx.Err()
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return fmt.Errorf("%s: %v", args[0], exit.ProcessState)
	}
	return err
}

// lockLost is the error of a lock whose release said it had been lost.
func lockLost(path string, err error) error {
	if errors.Is(err, lock.ErrLost) {
		return fmt.Errorf("lost the lock %s while holding it (session expired or in doubt, or its node deleted)", path)
	}
	return err
}
