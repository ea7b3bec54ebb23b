package zhandle

import (
	"fmt"
	"testing"
	"time"
)

// TestConfigTracking starts a handle that knows one server of three; with
// WithConfigTracking it learns the others from /zookeeper/config, so when
// its server dies it moves to one it was never told of.
func TestConfigTracking(t *testing.T) {
	ens := startEnsemble(t)
	first := ens.Member(0)
	h := connectHandle(t, first.Addr(), nil, 4*time.Second, WithConfigTracking())
	learned := func() int {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.hosts.Len()
	}
	// What the handle knows shows in no event: poll it.
	poll(t, func() (bool, string) {
		n := learned()
		return n == 3, fmt.Sprintf("the handle knows %d servers, want the ensemble's 3", n)
	})
	id := h.ClientID().SessionID
	first.Kill()
	poll(t, func() (bool, string) {
		cur, s := h.CurrentServer(), h.State()
		return cur != first.Addr() && s == StateConnected, fmt.Sprintf("still on %s (%v) after its server died", cur, s)
	})
	if got := h.ClientID().SessionID; got != id {
		t.Errorf("session %#x after the move, want %#x", got, id)
	}
	if _, err := h.Exists(testContext(t), "/", false); err != nil {
		t.Errorf("Exists on the new server: %v", err)
	}
}
