//go:build !race

package zhandle

import (
	"crypto/tls"
	"runtime"
	"testing"
	"time"

	"github.com/zkloop/zkloop/zktest"
)

// idleHandleBudget is the promise of an idle handle's size: an idle
// connected handle holds less than 64 KiB (heap and goroutine stacks). The stacks include those of
// the OS thread the loop goroutine keeps while it sleeps in poll(2): its g0
// and signal stacks come from the Go heap too, and dominate the figure.
const idleHandleBudget = 64 << 10

// idleTLSBudget bounds the heap TLS adds to an idle handle: crypto/tls
// keeps a record's worth of buffers, the transport the room of one socket
// read.
const idleTLSBudget = 32 << 10

// memInUse returns the heap and stack memory in use after a full GC.
func memInUse() (heap, stack int64) {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc), int64(m.StackInuse)
}

func TestIdleHandleMemory(t *testing.T) {
	ca := zktest.NewCA(t, "zkloop test CA")
	srv := startServer(t, zktest.WithServerTLS(zktest.ServerTLS{Cert: ca.ServerCert(t, zktest.CertOptions{Hosts: []string{"127.0.0.1"}})}))
	heap, stack := idleHandleMemory(t, srv.Addr())
	t.Logf("idle connected handle: %d bytes (heap %d + stacks %d), budget %d", heap+stack, heap, stack, idleHandleBudget)
	if heap+stack >= idleHandleBudget {
		t.Errorf("an idle handle holds %d bytes, want < %d", heap+stack, idleHandleBudget)
	}
	// The stacks are the loop's thread's, and threads outlive handles: a
	// second measurement reuses the first's. Heap is what TLS adds.
	tlsHeap, _ := idleHandleMemory(t, srv.SecureAddr(), WithTLS(&tls.Config{RootCAs: ca.Pool()}))
	t.Logf("idle connected handle over TLS: heap %d bytes, %d more than without", tlsHeap, tlsHeap-heap)
	if tlsHeap-heap >= idleTLSBudget {
		t.Errorf("TLS adds %d bytes of heap to an idle handle, want < %d", tlsHeap-heap, idleTLSBudget)
	}
}

// idleHandleMemory returns the memory an idle handle connected to addr
// holds: the growth of heap and stacks over 8 of them, per handle.
func idleHandleMemory(t *testing.T, addr string, opts ...Option) (heap, stack int64) {
	ctx := testContext(t)
	// Warm up what any first handle pays once per process (resolver,
	// pools, the slog discard handler, crypto tables), so that the
	// measurement is per handle.
	warm, err := Init(addr, nil, 10*time.Second, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := warm.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	warm.Close()

	const handles = 8
	heap0, stack0 := memInUse()
	hs := make([]*Handle, handles)
	for i := range hs {
		h, err := Init(addr, nil, 10*time.Second, opts...)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		if err := h.WaitConnected(ctx); err != nil {
			t.Fatal(err)
		}
		hs[i] = h
	}
	heap1, stack1 := memInUse()
	runtime.KeepAlive(hs)
	return (heap1 - heap0) / handles, (stack1 - stack0) / handles
}
