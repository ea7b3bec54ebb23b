package cache

import (
	"fmt"
	"time"

	"github.com/zkloop/zkloop/zhandle"
)

// EventType says what an Event reports.
type EventType int

const (
	// EventCreated: a node entered the cache (NODE_CREATED of CuratorCache).
	// The first priming reports every node it finds this way.
	EventCreated EventType = iota + 1
	// EventChanged: a cached node's data changed: its Mzxid moved
	// (NODE_CHANGED). Changes to a node's children alone, which move only
	// Cversion, NumChildren and Pzxid, are not reported.
	EventChanged
	// EventDeleted: a node left the cache (NODE_DELETED).
	EventDeleted
	// EventInitialized: the first priming is complete, once, after the
	// EventCreated of every node it found (initialized()).
	EventInitialized
	// EventStale: the cache stopped seeing changes, and Fresh is false:
	// the connection was lost (Err is zhandle.ErrConnectionLoss), the
	// session expired or the handle was closed (zhandle.ErrSessionExpired,
	// zhandle.ErrAuthFailed, zhandle.ErrClosing), or Rebuild was called
	// (Err is nil).
	EventStale
	// EventResynced: a re-read after a reconnect or a Rebuild is complete;
	// the changes it found were reported just before. Event.Stale says
	// how long the cache may have missed changes.
	EventResynced
)

func (t EventType) String() string {
	switch t {
	case EventCreated:
		return "created"
	case EventChanged:
		return "changed"
	case EventDeleted:
		return "deleted"
	case EventInitialized:
		return "initialized"
	case EventStale:
		return "stale"
	case EventResynced:
		return "resynced"
	}
	return fmt.Sprintf("EventType(%d)", int(t))
}

// A Node is one state of a cached node.
type Node struct {
	Data []byte // nil when the cache keeps no data for it; never written, do not modify
	Stat zhandle.Stat
}

// An Event is a change of the cache, for listeners.
//
// While the cache is connected, node events come in zxid order: an
// EventCreated at the node's Czxid, an EventChanged at the Mzxid of the
// change, an EventDeleted where the deletion happened among the others
// (ZooKeeper does not say its zxid). Quick successive changes of one node
// may merge into one event carrying the latest data, as in CuratorCache;
// so may a creation and the changes that follow it before the cache reads
// the node.
//
// Between EventStale and EventResynced come the changes that a re-read
// found: first the deletions, deepest first, then the creations and data
// changes in zxid order (Czxid for a creation, Mzxid for a change).
// A node deleted and created again under the same name meanwhile (a new
// Czxid) is reported as EventDeleted then EventCreated. (One case escapes:
// a node deleted while the cache was cut off, created again, and deleted
// again after the watch was restored but before the re-read reached it, is
// reported deleted once, at the second deletion: the cache cannot tell
// which node that deletion removed.)
type Event struct {
	Type  EventType
	Path  string        // EventCreated, EventChanged, EventDeleted
	Old   Node          // EventChanged, EventDeleted: the state the cache held
	New   Node          // EventCreated, EventChanged: the new state
	Err   error         // EventStale: why
	Stale time.Duration // EventResynced: from the last moment the cache was known complete to the end of the re-read
}

func (e Event) String() string {
	switch e.Type {
	case EventCreated:
		return fmt.Sprintf("created %s version:%d czxid:%#x", e.Path, e.New.Stat.Version, e.New.Stat.Czxid)
	case EventChanged:
		return fmt.Sprintf("changed %s version:%d mzxid:%#x", e.Path, e.New.Stat.Version, e.New.Stat.Mzxid)
	case EventDeleted:
		return fmt.Sprintf("deleted %s", e.Path)
	case EventStale:
		if e.Err == nil {
			return "stale: handle replaced"
		}
		return fmt.Sprintf("stale: %v", e.Err)
	case EventResynced:
		return fmt.Sprintf("resynced after %v", e.Stale)
	}
	return e.Type.String()
}

// A Listener receives the cache's events (CuratorCacheListener).
type Listener func(Event)
