package leader_test

import (
	"context"
	"testing"

	"github.com/zkloop/zkloop/internal/recipetest"
	"github.com/zkloop/zkloop/zhandle"
)

func TestMain(m *testing.M) { recipetest.Main(m) }

// TestRealServer runs the package's real-server tests on one server.
func TestRealServer(t *testing.T) {
	srv := recipetest.Start(t)
	for _, tt := range []struct {
		name string
		test func(*testing.T, *recipetest.Site)
		slow bool
	}{
		{"LatchSingleLeader", testLatchSingleLeader, false},
		{"LatchObserver", testLatchObserver, false},
		{"LatchClose", testLatchClose, false},
		{"LatchOnlyThePredecessorIsWatched", testLatchOnlyPredecessorWatched, false},
		{"DoneContextSendsNothing", testDoneContext, false},
		{"LatchLostBeforeServerExpiry", testLatchLostBeforeServerExpiry, true},
		{"LatchReconnect", testLatchReconnect, false},
		{"LatchOutsideDelete", testLatchOutsideDelete, false},
		{"LatchSessionKilled", testLatchSessionKilled, false},
		{"LatchHandleClosed", testLatchHandleClosed, false},
		{"LatchNotTheSessionsNode", testLatchNotTheSessionsNode, false},
		{"CloseLeavesNoGoroutine", testCloseLeavesNoGoroutine, false},
		{"SelectorTurns", testSelectorTurns, false},
		{"SelectorRequeue", testSelectorRequeue, false},
		{"SelectorCancel", testSelectorCancel, false},
		{"SelectorParticipants", testSelectorParticipants, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.slow && testing.Short() {
				t.Skip("slow: runs without -short")
			}
			tt.test(t, recipetest.NewSite(t, srv))
		})
	}
}

// sessionEvents registers a session watcher on h, told after every
// watcher registered before it, and returns its events.
func sessionEvents(t *testing.T, h *zhandle.Handle) <-chan zhandle.Event {
	events := make(chan zhandle.Event, 16)
	remove := h.AddSessionWatcher(zhandle.WatcherFunc(func(ev zhandle.Event) {
		select {
		case events <- ev:
		default: // a test that stopped reading
		}
	}))
	t.Cleanup(remove)
	return events
}

// waitState waits for the session event of state s.
func waitState(t *testing.T, events <-chan zhandle.Event, s zhandle.State) {
	t.Helper()
	for recipetest.Receive(t, events, "session state "+s.String()).State != s {
	}
}

// ctxDone is a context that is already done.
func ctxDone() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}
