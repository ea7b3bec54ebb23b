//go:build !race

package zhandle_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/zkloop/zkloop/internal/zktest"
	"github.com/zkloop/zkloop/zhandle"
)

// idleHandleBudget is issue 3's promise: an idle connected handle holds
// less than 64 KiB (heap and goroutine stacks). The stacks include those of
// the OS thread the loop goroutine keeps while it sleeps in poll(2): its g0
// and signal stacks come from the Go heap too, and dominate the figure.
const idleHandleBudget = 64 << 10

func memInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc + m.StackInuse
}

func TestIdleHandleMemory(t *testing.T) {
	srv := zktest.Standalone(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// Warm up what any first handle pays once per process (resolver,
	// pools, the slog discard handler), so that the measurement is per
	// handle.
	warm, err := zhandle.Init(srv.Addr(), nil, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := warm.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	warm.Close()

	const handles = 8
	before := memInUse()
	hs := make([]*zhandle.Handle, handles)
	for i := range hs {
		h, err := zhandle.Init(srv.Addr(), nil, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		if err := h.WaitConnected(ctx); err != nil {
			t.Fatal(err)
		}
		hs[i] = h
	}
	perHandle := (int64(memInUse()) - int64(before)) / handles
	t.Logf("idle connected handle: %d bytes (heap + stacks), budget %d", perHandle, idleHandleBudget)
	if perHandle >= idleHandleBudget {
		t.Errorf("an idle handle holds %d bytes, want < %d", perHandle, idleHandleBudget)
	}
	runtime.KeepAlive(hs)
}
