package serialize

import "strconv"

// State is a session state (the ZOO_*_STATE values of zookeeper.h).
// States below zero are unrecoverable.
type State int32

// Session states.
const (
	StateClosed         State = 0 // between a cleanup and the next connect (C: 0)
	StateConnecting     State = 1
	StateAssociating    State = 2
	StateConnected      State = 3
	StateReadOnly       State = 5
	StateNotConnected   State = 999
	StateExpiredSession State = -112
	StateAuthFailed     State = -113
)

// String returns the name of the state as the C client logs it
// (state2String in zookeeper.c).
func (s State) String() string {
	switch s {
	case StateClosed:
		return "CLOSED"
	case StateConnecting:
		return "CONNECTING"
	case StateAssociating:
		return "ASSOCIATING"
	case StateConnected:
		return "CONNECTED"
	case StateReadOnly:
		return "READONLY"
	case StateNotConnected:
		return "NOTCONNECTED"
	case StateExpiredSession:
		return "EXPIRED_SESSION"
	case StateAuthFailed:
		return "AUTH_FAILED"
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// Unrecoverable reports whether the state is final (is_unrecoverable in
// zookeeper.c: state < 0).
func (s State) Unrecoverable() bool { return s < 0 }

// EventType is a watch event type (the ZOO_*_EVENT values of zookeeper.h,
// plus the watch-removed events of Java's Watcher.Event.EventType).
type EventType int32

// Event types.
const (
	EventCreated                EventType = 1
	EventDeleted                EventType = 2
	EventChanged                EventType = 3
	EventChild                  EventType = 4
	EventDataWatchRemoved       EventType = 5
	EventChildWatchRemoved      EventType = 6
	EventPersistentWatchRemoved EventType = 7
	EventSession                EventType = -1
	EventNotWatching            EventType = -2
)

// String returns the Java name of the event type (NodeCreated, ...), the
// one zkCli.sh prints.
func (t EventType) String() string {
	switch t {
	case EventCreated:
		return "NodeCreated"
	case EventDeleted:
		return "NodeDeleted"
	case EventChanged:
		return "NodeDataChanged"
	case EventChild:
		return "NodeChildrenChanged"
	case EventDataWatchRemoved:
		return "DataWatchRemoved"
	case EventChildWatchRemoved:
		return "ChildWatchRemoved"
	case EventPersistentWatchRemoved:
		return "PersistentWatchRemoved"
	case EventSession:
		return "None"
	case EventNotWatching:
		return "NotWatching"
	}
	return "EventType(" + strconv.Itoa(int(t)) + ")"
}

// KeeperState is the session state carried in a WatcherEvent on the wire
// (Java's Watcher.Event.KeeperState). Servers send SyncConnected (3) with
// every notification.
type KeeperState int32

// Keeper states as they appear on the wire.
const (
	KeeperDisconnected      KeeperState = 0
	KeeperSyncConnected     KeeperState = 3
	KeeperAuthFailed        KeeperState = 4
	KeeperConnectedReadOnly KeeperState = 5
	KeeperSASLAuthenticated KeeperState = 6
	KeeperExpired           KeeperState = -112
	KeeperClosed            KeeperState = 7
)
