package hashtable

import (
	"slices"
	"sync"

	"github.com/zkloop/zkloop/serialize"
)

// Tables is the watcher registry of one handle: the data, exist and child
// tables of zk_hashtable.c plus the persistent and persistent-recursive
// tables of Java's ZKWatchManager, each a map from server path to a list of
// distinct watchers.
//
// The zero value is an empty registry ready to use; New returns one too.
// A Tables must not be copied after first use. Every method is safe for
// concurrent use: one mutex, held only inside these methods; no watcher is
// ever called by this package.
type Tables struct {
	mu    sync.Mutex
	paths [numTables]map[string][]entry // nil until first used
	spare [][]entry                     // emptied path lists, reused for new paths
}

// Bounds on the lists kept for reuse: enough for the paths of a busy
// fire-and-re-arm cycle, never much memory.
const (
	maxSpare    = 64
	maxSpareCap = 16
)

// New returns an empty registry.
func New() *Tables { return new(Tables) }

// Activate files reg's watcher now that its request completed with rc
// (activateWatcher and the result checkers of zk_hashtable.c):
//
//	KindExists               Ok → data table, ErrNoNode → exist table
//	KindData                 Ok → data table
//	KindChild                Ok → child table
//	KindPersistent           Ok → persistent table
//	KindPersistentRecursive  Ok → persistent-recursive table
//
// Any other rc, KindNone or a nil watcher files nothing. A watcher already in
// the path's list of that table is not added again (add_to_list); see Watcher
// for what "already" means. reg.Path is kept as the table key.
func (t *Tables) Activate(reg Registration, rc serialize.Error) {
	if reg.Watcher == nil {
		return
	}
	tab, ok := reg.Kind.table(rc)
	if !ok {
		return
	}
	e := entry{w: reg.Watcher, identity: hasIdentity(reg.Watcher)}
	t.mu.Lock()
	defer t.mu.Unlock()
	m := t.paths[tab]
	if m == nil {
		m = make(map[string][]entry)
		t.paths[tab] = m
	}
	list, found := m[reg.Path]
	if e.identity && indexOf(list, e.w) >= 0 {
		return
	}
	if !found {
		list = t.takeSpare()
	}
	m[reg.Path] = append(list, e)
}

// Collect appends to dst the watchers that an event of type typ on the server
// path fires, and returns the extended slice (collectWatchers of
// zk_hashtable.c, materialize of Java's ZKWatchManager). One-shot watchers
// are removed; persistent ones stay:
//
//	event                       one-shot (removed)    persistent (kept)
//	EventCreated, EventChanged  data, exist           persistent, recursive
//	EventDeleted                data, exist, child    persistent, recursive
//	EventChild                  child                 persistent only
//	EventSession                as CollectSession
//	anything else               nothing
//
// "persistent" means the persistent watchers on path; "recursive" the
// persistent-recursive watchers on path and on every ancestor up to "/".
// Watchers come in table order — data, exist, child, persistent, recursive
// (path first, then ancestors upwards) — and each appears once, even when it
// sits in several tables (see Watcher for identity). Collect does not keep
// path. It does not allocate when dst has room, unless one event fires more
// than 32 watchers (then a set finds duplicates).
func (t *Tables) Collect(dst []Watcher, typ serialize.EventType, path string) []Watcher {
	switch typ {
	case serialize.EventCreated, serialize.EventChanged, serialize.EventChild, serialize.EventDeleted:
	case serialize.EventSession:
		return t.CollectSession(dst)
	default:
		return dst
	}
	c := newCollector(dst)
	t.mu.Lock()
	defer t.mu.Unlock()
	if typ != serialize.EventChild {
		t.take(&c, tableData, path)
		t.take(&c, tableExist, path)
	}
	if typ == serialize.EventChild || typ == serialize.EventDeleted {
		t.take(&c, tableChild, path)
	}
	c.add(t.paths[tablePersistent][path])
	// Persistent-recursive watches promise no child events, yet the server
	// sends them for descendants that also carry a child watch: filter them
	// here, as Java's addPersistentWatches does.
	if rec := t.paths[tableRecursive]; typ != serialize.EventChild && len(rec) > 0 {
		for p, ok := path, true; ok; p, ok = parent(p) {
			c.add(rec[p])
		}
	}
	return c.dst
}

// take moves the watchers of path in table tab to c (a one-shot fire).
func (t *Tables) take(c *collector, tab table, path string) {
	m := t.paths[tab]
	list, ok := m[path]
	if !ok {
		return
	}
	delete(m, path)
	c.add(list)
	t.putSpare(list)
}

// CollectSession appends to dst every watcher of every table, once each, and
// returns the extended slice: a session event goes to all of them. Nothing is
// removed (collectWatchers for ZOO_SESSION_EVENT copies). The default watcher
// is not here; the caller adds it. Watchers come in table order; within a
// table the order is unspecified.
func (t *Tables) CollectSession(dst []Watcher) []Watcher {
	c := newCollector(dst)
	t.mu.Lock()
	defer t.mu.Unlock()
	c.expect(t.lenLocked())
	for _, m := range t.paths {
		for _, list := range m {
			c.add(list)
		}
	}
	return c.dst
}

// WatchKeys holds the paths of each table, as SetWatches (data, exist,
// child) and SetWatches2 (all five) send them on reconnect.
type WatchKeys struct {
	Data, Exist, Child, Persistent, PersistentRecursive []string
}

// Keys fills dst with the paths of each table, sorted, reusing the capacity
// of dst's slices. The strings are the server paths, chroot included.
func (t *Tables) Keys(dst *WatchKeys) {
	fields := [numTables]*[]string{
		tableData:       &dst.Data,
		tableExist:      &dst.Exist,
		tableChild:      &dst.Child,
		tablePersistent: &dst.Persistent,
		tableRecursive:  &dst.PersistentRecursive,
	}
	t.mu.Lock()
	for tab, keys := range fields {
		*keys = (*keys)[:0]
		for path := range t.paths[tab] {
			*keys = append(*keys, path)
		}
	}
	t.mu.Unlock()
	for _, keys := range fields {
		slices.Sort(*keys)
	}
}

// Len returns the number of (path, watcher) registrations in all tables.
func (t *Tables) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lenLocked()
}

func (t *Tables) lenLocked() int {
	n := 0
	for _, m := range t.paths {
		for _, list := range m {
			n += len(list)
		}
	}
	return n
}

// Clear drops every registration (the handle is destroyed; destroy_watchers
// of zk_hashtable.c). The registry stays usable.
func (t *Tables) Clear() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.paths = [numTables]map[string][]entry{}
	t.spare = nil
}

// takeSpare returns an empty list for a new path, reused when possible.
func (t *Tables) takeSpare() []entry {
	n := len(t.spare)
	if n == 0 {
		return nil
	}
	list := t.spare[n-1]
	t.spare[n-1] = nil
	t.spare = t.spare[:n-1]
	return list
}

// putSpare keeps a list whose path left its table, for a later new path. It
// drops the list's watchers so they can be collected.
func (t *Tables) putSpare(list []entry) {
	clear(list)
	if cap(list) <= maxSpareCap && len(t.spare) < maxSpare {
		t.spare = append(t.spare, list[:0])
	}
}
