package hashtable

import "github.com/zkloop/zkloop/serialize"

// Removed is a watcher taken out of the tables by Remove, with the event it
// is to receive.
type Removed struct {
	Watcher Watcher
	Type    serialize.EventType // EventDataWatchRemoved, EventChildWatchRemoved or EventPersistentWatchRemoved
}

// Remove takes watchers off the server path for removeWatches (its local
// part; removeWatchers of zk_hashtable.c, removeWatcher of Java's
// ZKWatchManager). wt selects the tables:
//
//	WatcherChildren             child                               → EventChildWatchRemoved
//	WatcherData                 data, exist                         → EventDataWatchRemoved
//	WatcherPersistent           persistent                          → EventPersistentWatchRemoved
//	WatcherPersistentRecursive  persistent-recursive                → EventPersistentWatchRemoved
//	WatcherAny                  all five, each with its event above
//
// A nil w removes every watcher of those tables on path; otherwise only w,
// and a w without identity (a WatcherFunc; see Watcher) matches nothing.
// The result lists each removed watcher once per event type, in table order;
// it is empty when nothing matched (the caller then reports ErrNoWatcher).
func (t *Tables) Remove(path string, wt serialize.WatcherType, w Watcher) []Removed {
	if w != nil && !hasIdentity(w) {
		return nil
	}
	var out []Removed
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, tab := range tablesFor(wt) {
		m := t.paths[tab]
		list, ok := m[path]
		if !ok {
			continue
		}
		typ := tab.removedEvent()
		if w == nil {
			for _, e := range list {
				out = appendRemoved(out, e, typ)
			}
			delete(m, path)
			t.putSpare(list)
			continue
		}
		i := indexOf(list, w)
		if i < 0 {
			continue
		}
		out = appendRemoved(out, list[i], typ)
		if len(list) == 1 {
			delete(m, path)
			t.putSpare(list)
			continue
		}
		n := copy(list[i:], list[i+1:])
		list[i+n] = entry{}
		m[path] = list[:i+n]
	}
	return out
}

// appendRemoved appends e's watcher with event typ unless it is there with
// that event already (a watcher in both the data and the exist table is told
// once; Java gathers them in a Set per event type).
func appendRemoved(out []Removed, e entry, typ serialize.EventType) []Removed {
	if e.identity {
		for _, r := range out {
			if r.Type == typ && r.Watcher == e.w { // safe: e.w has an identity
				return out
			}
		}
	}
	return append(out, Removed{Watcher: e.w, Type: typ})
}

// Contains reports whether Remove(path, wt, w) would remove anything: the
// check made before a removeWatches goes to the server (pathHasWatcher of
// zk_hashtable.c, containsWatcher of Java). A nil w asks for any watcher.
func (t *Tables) Contains(path string, wt serialize.WatcherType, w Watcher) bool {
	if w != nil && !hasIdentity(w) {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, tab := range tablesFor(wt) {
		list := t.paths[tab][path]
		if len(list) > 0 && (w == nil || indexOf(list, w) >= 0) {
			return true
		}
	}
	return false
}

// Sole reports whether w, a watcher with an identity, is the only watcher
// of type wt on path: in every table wt covers, the path's list holds w
// and nothing else, or nothing. Removing it then leaves the server's watch
// of that type with no one to serve, so the handle asks the server to
// remove it.
func (t *Tables) Sole(path string, wt serialize.WatcherType, w Watcher) bool {
	if w == nil || !hasIdentity(w) {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	found := false
	for _, tab := range tablesFor(wt) {
		for _, e := range t.paths[tab][path] {
			if !e.identity || e.w != w {
				return false
			}
			found = true
		}
	}
	return found
}
