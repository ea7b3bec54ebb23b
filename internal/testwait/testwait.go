// Package testwait holds the two waits every zkloop test package needs: a
// context that ends after a bound or at the test's cleanup, and a receive that
// fails the test when nothing comes in time. Each package passes its own
// bound.
package testwait

import (
	"context"
	"testing"
	"time"
)

// Context returns a context that ends after d, or at the test's cleanup
// (after the cleanups registered later, which may still use it).
func Context(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// Receive waits up to d for a value on ch and returns it, failing the
// test otherwise; what names the value in the failure.
func Receive[T any](t testing.TB, ch <-chan T, what string, d time.Duration) T {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		t.Fatalf("no %s within %v", what, d)
		var none T
		return none
	}
}
