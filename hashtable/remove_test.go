package hashtable

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zkloop/zkloop/serialize"
)

func TestRemove(t *testing.T) {
	// w sits in every table on /a; v in data and child; others elsewhere.
	acts := append(inEveryTable("/a", "w"),
		ok(KindData, "/a", "v"),
		ok(KindChild, "/a", "v"),
		ok(KindData, "/b", "w"),
		ok(KindPersistentRecursive, "/", "w"),
	)
	const (
		data  = serialize.EventDataWatchRemoved
		child = serialize.EventChildWatchRemoved
		pers  = serialize.EventPersistentWatchRemoved
	)
	tests := []struct {
		name string
		path string
		wt   serialize.WatcherType
		w    string // "" for all watchers
		want []removedName
		left int
	}{
		{"children w", "/a", serialize.WatcherChildren, "w", []removedName{{"w", child}}, 8},
		{"children all", "/a", serialize.WatcherChildren, "", []removedName{{"w", child}, {"v", child}}, 7},
		{"data w: data and exist, told once", "/a", serialize.WatcherData, "w", []removedName{{"w", data}}, 7},
		{"data all", "/a", serialize.WatcherData, "", []removedName{{"w", data}, {"v", data}}, 6},
		{"persistent w", "/a", serialize.WatcherPersistent, "w", []removedName{{"w", pers}}, 8},
		{"persistent all", "/a", serialize.WatcherPersistent, "", []removedName{{"w", pers}}, 8},
		{"recursive w", "/a", serialize.WatcherPersistentRecursive, "w", []removedName{{"w", pers}}, 8},
		{"recursive root", "/", serialize.WatcherPersistentRecursive, "", []removedName{{"w", pers}}, 8},
		{"any w", "/a", serialize.WatcherAny, "w", []removedName{{"w", data}, {"w", child}, {"w", pers}}, 4},
		{"any v", "/a", serialize.WatcherAny, "v", []removedName{{"v", data}, {"v", child}}, 7},
		{"any all", "/a", serialize.WatcherAny, "", []removedName{{"w", data}, {"v", data}, {"w", child}, {"v", child}, {"w", pers}}, 2},
		{"no such path", "/zzz", serialize.WatcherAny, "", []removedName{}, 9},
		{"no such watcher", "/a", serialize.WatcherAny, "stranger", []removedName{}, 9},
		{"v not persistent", "/a", serialize.WatcherPersistent, "v", []removedName{}, 9},
		{"unknown type", "/a", serialize.WatcherType(9), "", []removedName{}, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab, ws := setup(acts)
			var w Watcher
			if tt.w != "" {
				r, found := ws[tt.w]
				if !found {
					r = &recorder{name: tt.w}
				}
				w = r
			}
			if got, want := tab.Contains(tt.path, tt.wt, w), len(tt.want) > 0; got != want {
				t.Errorf("Contains = %v, want %v", got, want)
			}
			got := tab.Remove(tt.path, tt.wt, w)
			if diff := cmp.Diff(tt.want, removedNames(got)); diff != "" {
				t.Errorf("removed (-want +got):\n%s", diff)
			}
			if n := tab.Len(); n != tt.left {
				t.Errorf("Len after Remove = %d, want %d", n, tt.left)
			}
			if tab.Contains(tt.path, tt.wt, w) {
				t.Error("Contains after Remove = true")
			}
		})
	}
}

// TestRemoveKeepsOthers removes from the front, middle and end of a list.
func TestRemoveKeepsOthers(t *testing.T) {
	for _, victim := range []string{"a", "b", "c"} {
		tab, ws := setup([]act{ok(KindData, "/p", "a"), ok(KindData, "/p", "b"), ok(KindData, "/p", "c")})
		if got := tab.Remove("/p", serialize.WatcherData, ws[victim]); len(got) != 1 {
			t.Fatalf("removed %v, want %s", removedNames(got), victim)
		}
		var want []string
		for _, n := range []string{"a", "b", "c"} {
			if n != victim {
				want = append(want, n)
			}
		}
		if diff := cmp.Diff(want, names(tab.Collect(nil, serialize.EventChanged, "/p"))); diff != "" {
			t.Errorf("after removing %s (-want +got):\n%s", victim, diff)
		}
	}
}

func TestRemoveAllWithoutIdentity(t *testing.T) {
	tab := New()
	f := funcWatcher(func() {})
	tab.Activate(Registration{KindData, "/a", f}, serialize.Ok)
	tab.Activate(Registration{KindExists, "/a", f}, serialize.ErrNoNode)
	if !tab.Contains("/a", serialize.WatcherData, nil) {
		t.Error("Contains(nil) = false")
	}
	got := tab.Remove("/a", serialize.WatcherData, nil)
	want := []removedName{{"func", serialize.EventDataWatchRemoved}, {"func", serialize.EventDataWatchRemoved}}
	if diff := cmp.Diff(want, removedNames(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// Sole tells whether removing a watcher leaves its type of watch on the
// path with no one: then the server's watch may go too.
func TestSole(t *testing.T) {
	acts := append(inEveryTable("/a", "w"),
		ok(KindData, "/a", "v"),
		ok(KindData, "/b", "w"),
		act{KindExists, "/b", "w", serialize.ErrNoNode},
	)
	tests := []struct {
		path, w string
		wt      serialize.WatcherType
		want    bool
	}{
		{"/a", "w", serialize.WatcherChildren, true},
		{"/a", "w", serialize.WatcherPersistent, true},
		{"/a", "w", serialize.WatcherData, false}, // v watches the data too
		{"/a", "v", serialize.WatcherData, false},
		{"/a", "w", serialize.WatcherAny, false},
		{"/b", "w", serialize.WatcherData, true}, // in both data and exist tables
		{"/b", "v", serialize.WatcherData, false},
		{"/zzz", "w", serialize.WatcherData, false},
	}
	tab, ws := setup(acts)
	for _, tt := range tests {
		if got := tab.Sole(tt.path, tt.wt, ws[tt.w]); got != tt.want {
			t.Errorf("Sole(%s, %v, %s) = %v, want %v", tt.path, tt.wt, tt.w, got, tt.want)
		}
	}
	f := funcWatcher(func() {})
	tab.Activate(Registration{KindChild, "/c", f}, serialize.Ok)
	if tab.Sole("/c", serialize.WatcherChildren, f) || tab.Sole("/c", serialize.WatcherChildren, nil) {
		t.Error("Sole true for a watcher without identity, or for nil")
	}
}
