package zhandle

import (
	"context"
	"testing"
	"time"

	"github.com/zkloop/zkloop/internal/zktest"
)

// TestConfigTracking starts a handle that knows one server of three; with
// WithConfigTracking it learns the others from /zookeeper/config, so when
// its server dies it moves to one it was never told of.
func TestConfigTracking(t *testing.T) {
	ens := zktest.StartEnsemble(t, 3)
	first := ens.Servers[0]
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, err := Init(first.Addr(), nil, 4*time.Second, WithConfigTracking())
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := h.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	learned := func() int {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.hosts.Len()
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for learned() != 3 {
		select {
		case <-ctx.Done():
			t.Fatalf("the handle knows %d servers, want the ensemble's 3", learned())
		case <-tick.C:
		}
	}
	id := h.ClientID().SessionID
	first.Kill()
	for h.CurrentServer() == first.Addr() || h.State() != StateConnected {
		select {
		case <-ctx.Done():
			t.Fatalf("still on %s (%v) after its server died", h.CurrentServer(), h.State())
		case <-tick.C:
		}
	}
	if got := h.ClientID().SessionID; got != id {
		t.Errorf("session %#x after the move, want %#x", got, id)
	}
	if _, err := h.Exists(ctx, "/", false); err != nil {
		t.Errorf("Exists on the new server: %v", err)
	}
}
