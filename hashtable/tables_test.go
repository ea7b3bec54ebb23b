package hashtable

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zkloop/zkloop/serialize"
)

func TestActivate(t *testing.T) {
	tests := []struct {
		name string
		act  act
		want WatchKeys
	}{
		{"exists ok → data", ok(KindExists, "/a", "w"), WatchKeys{Data: []string{"/a"}}},
		{"exists no node → exist", act{KindExists, "/a", "w", serialize.ErrNoNode}, WatchKeys{Exist: []string{"/a"}}},
		{"exists other error", act{KindExists, "/a", "w", serialize.ErrNoAuth}, WatchKeys{}},
		{"data ok → data", ok(KindData, "/a", "w"), WatchKeys{Data: []string{"/a"}}},
		{"data no node", act{KindData, "/a", "w", serialize.ErrNoNode}, WatchKeys{}},
		{"child ok → child", ok(KindChild, "/a", "w"), WatchKeys{Child: []string{"/a"}}},
		{"child no node", act{KindChild, "/a", "w", serialize.ErrNoNode}, WatchKeys{}},
		{"persistent ok", ok(KindPersistent, "/a", "w"), WatchKeys{Persistent: []string{"/a"}}},
		{"persistent error", act{KindPersistent, "/a", "w", serialize.ErrNoNode}, WatchKeys{}},
		{"recursive ok", ok(KindPersistentRecursive, "/a", "w"), WatchKeys{PersistentRecursive: []string{"/a"}}},
		{"recursive error", act{KindPersistentRecursive, "/a", "w", serialize.ErrConnectionLoss}, WatchKeys{}},
		{"none", ok(KindNone, "/a", "w"), WatchKeys{}},
		{"unknown kind", ok(Kind(99), "/a", "w"), WatchKeys{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab, _ := setup([]act{tt.act})
			var got WatchKeys
			tab.Keys(&got)
			if diff := cmp.Diff(tt.want, got, cmpKeys); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
		})
	}
}

// cmpKeys treats nil and empty key lists alike.
var cmpKeys = cmp.Transformer("nilEmpty", func(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
})

func TestActivateNilWatcher(t *testing.T) {
	tab := New()
	tab.Activate(Registration{Kind: KindData, Path: "/a"}, serialize.Ok)
	if n := tab.Len(); n != 0 {
		t.Errorf("Len after nil watcher = %d, want 0", n)
	}
}

func TestCollect(t *testing.T) {
	// One watcher per table on /a, and others elsewhere to show they stay.
	acts := []act{
		ok(KindData, "/a", "data"),
		{KindExists, "/a", "exist", serialize.ErrNoNode},
		ok(KindChild, "/a", "child"),
		ok(KindPersistent, "/a", "pers"),
		ok(KindPersistentRecursive, "/a", "rec"),
		ok(KindPersistentRecursive, "/", "recRoot"),
		ok(KindData, "/b", "other"),
		ok(KindPersistentRecursive, "/a/b", "recBelow"),
	}
	tests := []struct {
		typ         serialize.EventType
		path        string
		first, then []string
		left        int // registrations left after the first collect
	}{
		{serialize.EventCreated, "/a", []string{"data", "exist", "pers", "rec", "recRoot"}, []string{"pers", "rec", "recRoot"}, 6},
		{serialize.EventChanged, "/a", []string{"data", "exist", "pers", "rec", "recRoot"}, []string{"pers", "rec", "recRoot"}, 6},
		{serialize.EventChild, "/a", []string{"child", "pers"}, []string{"pers"}, 7},
		{serialize.EventDeleted, "/a", []string{"data", "exist", "child", "pers", "rec", "recRoot"}, []string{"pers", "rec", "recRoot"}, 5},
		{serialize.EventDeleted, "/a/b/c", []string{"recBelow", "rec", "recRoot"}, []string{"recBelow", "rec", "recRoot"}, 8},
		{serialize.EventChild, "/a/b", []string{}, []string{}, 8},
		{serialize.EventChanged, "/zzz", []string{"recRoot"}, []string{"recRoot"}, 8},
		{serialize.EventDataWatchRemoved, "/a", []string{}, []string{}, 8},
		{serialize.EventNotWatching, "/a", []string{}, []string{}, 8},
	}
	for _, tt := range tests {
		t.Run(tt.typ.String()+tt.path, func(t *testing.T) {
			tab, _ := setup(acts)
			got := tab.Collect(nil, tt.typ, tt.path)
			if diff := cmp.Diff(tt.first, names(got)); diff != "" {
				t.Errorf("first collect (-want +got):\n%s", diff)
			}
			if n := tab.Len(); n != tt.left {
				t.Errorf("Len after first collect = %d, want %d", n, tt.left)
			}
			got = tab.Collect(nil, tt.typ, tt.path)
			if diff := cmp.Diff(tt.then, names(got)); diff != "" {
				t.Errorf("second collect (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCollectAppendsToDst(t *testing.T) {
	tab, ws := setup([]act{ok(KindData, "/a", "w")})
	// A watcher already in dst is not looked at: dedup covers this
	// collection only.
	dst := []Watcher{ws["w"]}
	got := tab.Collect(dst, serialize.EventChanged, "/a")
	if diff := cmp.Diff([]string{"w", "w"}, names(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestCollectDedup(t *testing.T) {
	tests := []struct {
		name string
		acts []act
		typ  serialize.EventType
		path string
		want []string
		left int
	}{
		{
			name: "registered twice on the same path and table",
			acts: []act{ok(KindData, "/a", "w"), ok(KindData, "/a", "w"), ok(KindExists, "/a", "w")},
			typ:  serialize.EventChanged, path: "/a",
			want: []string{"w"},
		},
		{
			name: "data and exist tables",
			acts: []act{ok(KindData, "/a", "w"), {KindExists, "/a", "w", serialize.ErrNoNode}},
			typ:  serialize.EventCreated, path: "/a",
			want: []string{"w"},
		},
		{
			name: "every table and ancestors",
			acts: append(inEveryTable("/a/b", "w"),
				ok(KindPersistentRecursive, "/a", "w"), ok(KindPersistentRecursive, "/", "w"),
				ok(KindChild, "/a/b", "x")),
			typ: serialize.EventDeleted, path: "/a/b",
			want: []string{"w", "x"},
			left: 4,
		},
		{
			name: "persistent and one-shot",
			acts: []act{ok(KindChild, "/a", "w"), ok(KindPersistent, "/a", "w")},
			typ:  serialize.EventChild, path: "/a",
			want: []string{"w"},
			left: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab, _ := setup(tt.acts)
			got := tab.Collect(nil, tt.typ, tt.path)
			if diff := cmp.Diff(tt.want, names(got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if n := tab.Len(); n != tt.left {
				t.Errorf("Len after collect = %d, want %d", n, tt.left)
			}
		})
	}
}

func TestDuplicateRegistration(t *testing.T) {
	tab, _ := setup([]act{ok(KindData, "/a", "w"), ok(KindData, "/a", "w"), ok(KindData, "/a", "v")})
	if n := tab.Len(); n != 2 {
		t.Errorf("Len = %d, want 2", n)
	}
	tab.Activate(Registration{KindData, "/a", valueWatcher{"x"}}, serialize.Ok)
	tab.Activate(Registration{KindData, "/a", valueWatcher{"x"}}, serialize.Ok) // equal value: same watcher
	tab.Activate(Registration{KindData, "/a", valueWatcher{"y"}}, serialize.Ok)
	got := tab.Collect(nil, serialize.EventChanged, "/a")
	if diff := cmp.Diff([]string{"w", "v", "value:x", "value:y"}, names(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestWatcherWithoutIdentity: funcs (and values holding them) are never
// duplicates, and nothing panics.
func TestWatcherWithoutIdentity(t *testing.T) {
	tab := New()
	f := funcWatcher(func() {})
	h1 := funcHolder{inner: f}
	h2 := funcHolder{inner: f}
	for _, w := range []Watcher{f, f, h1, h2} {
		tab.Activate(Registration{KindData, "/a", w}, serialize.Ok)
		tab.Activate(Registration{KindExists, "/a", w}, serialize.ErrNoNode)
		tab.Activate(Registration{KindPersistent, "/a", w}, serialize.Ok)
	}
	if n := tab.Len(); n != 12 {
		t.Errorf("Len = %d, want 12", n)
	}
	if tab.Contains("/a", serialize.WatcherData, f) || tab.Contains("/a", serialize.WatcherData, h1) {
		t.Error("Contains found a watcher without identity")
	}
	if got := tab.Remove("/a", serialize.WatcherAny, f); len(got) != 0 {
		t.Errorf("Remove of a func removed %v", removedNames(got))
	}
	want := []string{"func", "func", "holder", "holder", "func", "func", "holder", "holder", "func", "func", "holder", "holder"}
	if diff := cmp.Diff(want, names(tab.CollectSession(nil))); diff != "" {
		t.Errorf("session (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, names(tab.Collect(nil, serialize.EventChanged, "/a"))); diff != "" {
		t.Errorf("changed (-want +got):\n%s", diff)
	}
	// Mixed with identity watchers of other types: still no panic.
	r := &recorder{name: "r"}
	tab.Activate(Registration{KindChild, "/a", r}, serialize.Ok)
	tab.Activate(Registration{KindChild, "/a", h1}, serialize.Ok)
	got := tab.Collect(nil, serialize.EventChild, "/a")
	if diff := cmp.Diff([]string{"r", "holder", "func", "func", "holder", "holder"}, names(got)); diff != "" {
		t.Errorf("child (-want +got):\n%s", diff)
	}
}

func TestCollectSession(t *testing.T) {
	tab, _ := setup([]act{
		ok(KindData, "/a", "a"),
		ok(KindData, "/b", "a"),
		{KindExists, "/c", "c", serialize.ErrNoNode},
		ok(KindChild, "/a", "d"),
		ok(KindPersistent, "/a", "e"),
		ok(KindPersistentRecursive, "/", "f"),
		ok(KindPersistentRecursive, "/x", "a"),
	})
	for range 2 { // copies, does not remove
		got := tab.CollectSession(nil)
		if diff := cmp.Diff([]string{"a", "c", "d", "e", "f"}, names(got)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		got = tab.Collect(nil, serialize.EventSession, "")
		if diff := cmp.Diff([]string{"a", "c", "d", "e", "f"}, names(got)); diff != "" {
			t.Errorf("Collect(EventSession) (-want +got):\n%s", diff)
		}
		if n := tab.Len(); n != 7 {
			t.Errorf("Len = %d, want 7", n)
		}
	}
}

// TestCollectMany crosses the point where duplicates are found with a set.
func TestCollectMany(t *testing.T) {
	tab := New()
	var want []string
	rs := make([]*recorder, 3*linearScanMax)
	for i := range rs {
		rs[i] = &recorder{name: string(rune('A' + i))}
		want = append(want, rs[i].name)
		tab.Activate(Registration{KindData, "/a", rs[i]}, serialize.Ok)
		tab.Activate(Registration{KindExists, "/a", rs[i]}, serialize.ErrNoNode)
		tab.Activate(Registration{KindPersistentRecursive, "/", rs[i]}, serialize.Ok)
	}
	f := funcWatcher(func() {})
	tab.Activate(Registration{KindPersistentRecursive, "/", f}, serialize.Ok)
	want = append(want, "func")
	if diff := cmp.Diff(want, names(tab.Collect(nil, serialize.EventChanged, "/a"))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestKeys(t *testing.T) {
	tab, _ := setup([]act{
		ok(KindData, "/b", "w"), ok(KindData, "/a", "w"), ok(KindData, "/a", "v"),
		{KindExists, "/e", "w", serialize.ErrNoNode}, ok(KindExists, "/c", "w"),
		ok(KindChild, "/z", "w"), ok(KindChild, "/y", "w"),
		ok(KindPersistent, "/p", "w"), ok(KindPersistentRecursive, "/", "w"),
	})
	dst := WatchKeys{Data: make([]string, 5, 10), Exist: []string{"stale"}}
	data := &dst.Data[:1][0]
	tab.Keys(&dst)
	want := WatchKeys{
		Data:                []string{"/a", "/b", "/c"},
		Exist:               []string{"/e"},
		Child:               []string{"/y", "/z"},
		Persistent:          []string{"/p"},
		PersistentRecursive: []string{"/"},
	}
	if diff := cmp.Diff(want, dst); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if &dst.Data[0] != data {
		t.Error("Keys did not reuse dst.Data")
	}
	tab.Clear()
	tab.Keys(&dst)
	if diff := cmp.Diff(WatchKeys{}, dst, cmpKeys); diff != "" {
		t.Errorf("after Clear (-want +got):\n%s", diff)
	}
}

func TestClear(t *testing.T) {
	tab, ws := setup([]act{ok(KindData, "/a", "w"), ok(KindPersistentRecursive, "/", "w")})
	tab.Clear()
	if n := tab.Len(); n != 0 {
		t.Errorf("Len after Clear = %d", n)
	}
	if got := tab.Collect(nil, serialize.EventChanged, "/a"); len(got) != 0 {
		t.Errorf("collected %v after Clear", names(got))
	}
	tab.Activate(Registration{KindData, "/a", ws["w"]}, serialize.Ok) // still usable
	if n := tab.Len(); n != 1 {
		t.Errorf("Len after Clear and Activate = %d, want 1", n)
	}
}

func TestZeroValue(t *testing.T) {
	var tab Tables
	if got := tab.Collect(nil, serialize.EventDeleted, "/a"); len(got) != 0 {
		t.Errorf("empty registry collected %v", names(got))
	}
	tab.Activate(Registration{KindChild, "/a", &recorder{name: "w"}}, serialize.Ok)
	if diff := cmp.Diff([]string{"w"}, names(tab.Collect(nil, serialize.EventChild, "/a"))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestStrings(t *testing.T) {
	got := []string{KindNone.String(), KindData.String(), KindExists.String(), KindChild.String(),
		KindPersistent.String(), KindPersistentRecursive.String(), Kind(42).String()}
	want := []string{"None", "Data", "Exists", "Child", "Persistent", "PersistentRecursive", "Kind(42)"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
