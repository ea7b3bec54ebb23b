package testwait

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestContextEndsAfterTheBound(t *testing.T) {
	ctx := Context(t, time.Millisecond)
	<-ctx.Done()
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Errorf("Err = %v, want the deadline", ctx.Err())
	}
}

func TestReceive(t *testing.T) {
	ch := make(chan int, 1)
	ch <- 7
	if got := Receive(t, ch, "a number", time.Second); got != 7 {
		t.Errorf("Receive = %d, want 7", got)
	}
}
