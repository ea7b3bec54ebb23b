package hashtable

import (
	"strconv"
	"testing"

	"github.com/zkloop/zkloop/serialize"
)

// benchCycle runs the watch cycle of a client: a request sets reg's watch,
// the node changes, the watch fires and is set again.
func benchCycle(b *testing.B, tab *Tables, reg Registration) {
	b.ReportAllocs()
	dst := make([]Watcher, 0, 8)
	for b.Loop() {
		tab.Activate(reg, serialize.Ok)
		dst = tab.Collect(dst[:0], serialize.EventChanged, reg.Path)
	}
}

// BenchmarkCycle is the cycle alone in the registry.
func BenchmarkCycle(b *testing.B) {
	benchCycle(b, New(), Registration{KindData, "/service/config", &recorder{name: "w"}})
}

// BenchmarkCycleBusy is the cycle among 10,000 other watched paths and a
// persistent-recursive watch on the root.
func BenchmarkCycleBusy(b *testing.B) {
	tab := New()
	for i := range 10000 {
		r := &recorder{name: strconv.Itoa(i)}
		tab.Activate(Registration{KindData, "/n/" + strconv.Itoa(i), r}, serialize.Ok)
		tab.Activate(Registration{KindChild, "/n/" + strconv.Itoa(i), r}, serialize.Ok)
	}
	tab.Activate(Registration{KindPersistentRecursive, "/", &recorder{name: "root"}}, serialize.Ok)
	benchCycle(b, tab, Registration{KindExists, "/service/a/b/config", &recorder{name: "w"}})
}

// BenchmarkActivateRegistered is a watch set again before it fired.
func BenchmarkActivateRegistered(b *testing.B) {
	b.ReportAllocs()
	tab := New()
	reg := Registration{KindData, "/service/config", &recorder{name: "w"}}
	tab.Activate(reg, serialize.Ok)
	for b.Loop() {
		tab.Activate(reg, serialize.Ok)
	}
}

// BenchmarkCollectSession is a session event with 1,000 watchers.
func BenchmarkCollectSession(b *testing.B) {
	b.ReportAllocs()
	tab := New()
	for i := range 1000 {
		tab.Activate(Registration{KindData, "/n/" + strconv.Itoa(i), &recorder{}}, serialize.Ok)
	}
	dst := make([]Watcher, 0, 1000)
	for b.Loop() {
		dst = tab.CollectSession(dst[:0])
	}
}
