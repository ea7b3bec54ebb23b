package hashtable

import (
	"fmt"
	"sync"
	"testing"

	"github.com/zkloop/zkloop/serialize"
)

// TestConcurrent runs every method from several goroutines; run with -race.
func TestConcurrent(t *testing.T) {
	const (
		goroutines = 8
		rounds     = 200
	)
	tab := New()
	paths := []string{"/", "/a", "/a/b", "/a/b/c", "/d"}
	kinds := []Kind{KindData, KindExists, KindChild, KindPersistent, KindPersistentRecursive}
	events := []serialize.EventType{serialize.EventCreated, serialize.EventChanged, serialize.EventChild, serialize.EventDeleted}
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			ws := []Watcher{&recorder{name: fmt.Sprint(g)}, funcWatcher(func() {})}
			var dst []Watcher
			var keys WatchKeys
			for i := range rounds {
				p := paths[(g+i)%len(paths)]
				w := ws[i%len(ws)]
				tab.Activate(Registration{kinds[i%len(kinds)], p, w}, serialize.Ok)
				tab.Activate(Registration{KindExists, p, w}, serialize.ErrNoNode)
				dst = tab.Collect(dst[:0], events[i%len(events)], p)
				switch i % 7 {
				case 0:
					dst = tab.CollectSession(dst[:0])
				case 1:
					tab.Keys(&keys)
				case 2:
					tab.Contains(p, serialize.WatcherAny, w)
					tab.Remove(p, serialize.WatcherAny, w)
				case 3:
					tab.Remove(p, serialize.WatcherData, nil)
				case 4:
					_ = tab.Len()
				}
			}
		})
	}
	wg.Wait()
	tab.Clear()
	if n := tab.Len(); n != 0 {
		t.Errorf("Len after Clear = %d", n)
	}
}
