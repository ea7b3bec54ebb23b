package zhandle

import (
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"

	"github.com/zkloop/zkloop/serialize"
)

func TestEventString(t *testing.T) {
	got := Event{Type: EventCreated, State: StateConnected, Path: "/a"}.String()
	if want := "WatchedEvent state:CONNECTED type:NodeCreated path:/a"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestWatcherFunc(t *testing.T) {
	var got Event
	var w Watcher = WatcherFunc(func(ev Event) { got = ev })
	want := Event{Type: EventDeleted, State: StateConnected, Path: "/x"}
	w.Process(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// Stat converts to and from the codec's record for free: the same fields
// in the same order, so that replies decode straight into the user's Stat.
func TestStatMatchesWireRecord(t *testing.T) {
	wire := serialize.Stat{Czxid: 1, Mzxid: 2, Ctime: 3, Mtime: 4, Version: 5, Cversion: 6, Aversion: 7,
		EphemeralOwner: 8, DataLength: 9, NumChildren: 10, Pzxid: 11}
	want := Stat{Czxid: 1, Mzxid: 2, Ctime: 3, Mtime: 4, Version: 5, Cversion: 6, Aversion: 7,
		EphemeralOwner: 8, DataLength: 9, NumChildren: 10, Pzxid: 11}
	if diff := cmp.Diff(want, Stat(wire)); diff != "" {
		t.Errorf("Stat(wire) (-want +got):\n%s", diff)
	}
	if unsafe.Sizeof(Stat{}) != unsafe.Sizeof(serialize.Stat{}) {
		t.Errorf("Stat is %d bytes, the record %d", unsafe.Sizeof(Stat{}), unsafe.Sizeof(serialize.Stat{}))
	}
}

func TestACLConversion(t *testing.T) {
	acl := []ACL{
		{Perms: PermAll, ID: ID{Scheme: "world", ID: "anyone"}},
		{Perms: PermRead | PermAdmin, ID: ID{Scheme: "digest", ID: "u:h"}},
	}
	var h Handle
	if diff := cmp.Diff(acl, userACL(h.wireACLLocked(acl))); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(acl[1:], userACL(h.wireACLLocked(acl[1:]))); diff != "" {
		t.Errorf("round trip reusing the buffer (-want +got):\n%s", diff)
	}
}
