package hashtable

import "github.com/zkloop/zkloop/serialize"

// Event is a watch or session notification (watched_event of the C client,
// WatchedEvent in Java).
type Event struct {
	Type  serialize.EventType
	State serialize.State
	Path  string // client path: chroot stripped; "" for session events
}

// String formats the event as Java's WatchedEvent.toString does, with the
// state named as the C client names it.
func (e Event) String() string {
	return "WatchedEvent state:" + e.State.String() + " type:" + e.Type.String() + " path:" + e.Path
}

// Watcher receives events (watcher_fn of the C client; Watcher in Java).
//
// Identity. A watcher registered twice on the same path in the same table is
// kept once, and a watcher registered in several tables fires once per event,
// as in C and Java. Two watchers are the same when Go's == says so: same
// dynamic type, comparable, equal values. A watcher whose dynamic type is not
// comparable — a WatcherFunc, a struct holding a func, map or slice — has no
// identity: each of its registrations is distinct (it fires once per
// registration) and it can only be removed together with all watchers of a
// path (RemoveWatches with a nil watcher). Register a pointer type to get
// deduplication and individual removal. Comparing watchers never panics.
type Watcher interface {
	Process(Event)
}

// WatcherFunc adapts a function to Watcher.
//
// A WatcherFunc has no identity (funcs are not comparable in Go): it is never
// deduplicated and cannot be removed individually; see Watcher. Wrap it in a
// pointer type when that matters.
type WatcherFunc func(Event)

// Process calls f(e).
func (f WatcherFunc) Process(e Event) { f(e) }
