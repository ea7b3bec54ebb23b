//go:build !race

package hashtable

import (
	"testing"

	"github.com/zkloop/zkloop/serialize"
)

// TestAllocs holds the zero-allocation promises of the watch cycle.
func TestAllocs(t *testing.T) {
	w := &recorder{name: "w"}
	other := &recorder{name: "other"}
	dst := make([]Watcher, 0, 8)

	tests := []struct {
		name  string
		setup func(*Tables)
		run   func(*Tables)
	}{
		{
			name: "activate an already registered watcher",
			setup: func(tab *Tables) {
				tab.Activate(Registration{KindData, "/a/b", w}, serialize.Ok)
			},
			run: func(tab *Tables) {
				tab.Activate(Registration{KindData, "/a/b", w}, serialize.Ok)
			},
		},
		{
			name: "fire and re-arm a one-shot watch",
			run: func(tab *Tables) {
				tab.Activate(Registration{KindExists, "/a/b", w}, serialize.Ok)
				tab.Activate(Registration{KindChild, "/a/b", other}, serialize.Ok)
				dst = tab.Collect(dst[:0], serialize.EventDeleted, "/a/b")
			},
		},
		{
			name: "collect persistent and recursive watchers",
			setup: func(tab *Tables) {
				tab.Activate(Registration{KindPersistent, "/a/b", w}, serialize.Ok)
				tab.Activate(Registration{KindPersistentRecursive, "/a", other}, serialize.Ok)
				tab.Activate(Registration{KindPersistentRecursive, "/", w}, serialize.Ok)
			},
			run: func(tab *Tables) {
				dst = tab.Collect(dst[:0], serialize.EventChanged, "/a/b")
			},
		},
		{
			name: "collect session",
			setup: func(tab *Tables) {
				tab.Activate(Registration{KindData, "/a", w}, serialize.Ok)
				tab.Activate(Registration{KindChild, "/b", other}, serialize.Ok)
			},
			run: func(tab *Tables) {
				dst = tab.CollectSession(dst[:0])
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := New()
			if tt.setup != nil {
				tt.setup(tab)
			}
			tt.run(tab) // warm up: maps and spare lists
			if n := testing.AllocsPerRun(100, func() { tt.run(tab) }); n != 0 {
				t.Errorf("%v allocations per run, want 0", n)
			}
		})
	}
}

func TestKeysAllocs(t *testing.T) {
	tab, _ := setup([]act{ok(KindData, "/a", "w"), ok(KindData, "/b", "w"), ok(KindChild, "/c", "w")})
	var keys WatchKeys
	tab.Keys(&keys)
	if n := testing.AllocsPerRun(100, func() { tab.Keys(&keys) }); n != 0 {
		t.Errorf("Keys into reused WatchKeys: %v allocations per run, want 0", n)
	}
}
