package zhandle

import (
	"github.com/zkloop/zkloop/hashtable"
	"github.com/zkloop/zkloop/serialize"
)

// Error is a ZooKeeper return code (enum ZOO_ERRORS of zookeeper.h),
// comparable with == and errors.Is.
type Error = serialize.Error

// Return codes returned by the handle, with the values of zookeeper.h.
const (
	ErrSystem                       = serialize.ErrSystem
	ErrRuntimeInconsistency         = serialize.ErrRuntimeInconsistency
	ErrDataInconsistency            = serialize.ErrDataInconsistency
	ErrConnectionLoss               = serialize.ErrConnectionLoss
	ErrMarshalling                  = serialize.ErrMarshalling
	ErrUnimplemented                = serialize.ErrUnimplemented
	ErrOperationTimeout             = serialize.ErrOperationTimeout
	ErrBadArguments                 = serialize.ErrBadArguments
	ErrInvalidState                 = serialize.ErrInvalidState
	ErrUnknownSession               = serialize.ErrUnknownSession
	ErrNewConfigNoQuorum            = serialize.ErrNewConfigNoQuorum
	ErrReconfigInProgress           = serialize.ErrReconfigInProgress
	ErrSSLConnection                = serialize.ErrSSLConnection
	ErrAPIError                     = serialize.ErrAPIError
	ErrNoNode                       = serialize.ErrNoNode
	ErrNoAuth                       = serialize.ErrNoAuth
	ErrBadVersion                   = serialize.ErrBadVersion
	ErrNoChildrenForEphemerals      = serialize.ErrNoChildrenForEphemerals
	ErrNodeExists                   = serialize.ErrNodeExists
	ErrNotEmpty                     = serialize.ErrNotEmpty
	ErrSessionExpired               = serialize.ErrSessionExpired
	ErrInvalidCallback              = serialize.ErrInvalidCallback
	ErrInvalidACL                   = serialize.ErrInvalidACL
	ErrAuthFailed                   = serialize.ErrAuthFailed
	ErrClosing                      = serialize.ErrClosing
	ErrNothing                      = serialize.ErrNothing
	ErrSessionMoved                 = serialize.ErrSessionMoved
	ErrNotReadOnly                  = serialize.ErrNotReadOnly
	ErrEphemeralOnLocalSession      = serialize.ErrEphemeralOnLocalSession
	ErrNoWatcher                    = serialize.ErrNoWatcher
	ErrRequestTimeout               = serialize.ErrRequestTimeout
	ErrReconfigDisabled             = serialize.ErrReconfigDisabled
	ErrSessionClosedRequireSASLAuth = serialize.ErrSessionClosedRequireSASLAuth
	ErrQuotaExceeded                = serialize.ErrQuotaExceeded
	ErrThrottled                    = serialize.ErrThrottled
)

// State is a session state (ZOO_*_STATE).
type State = serialize.State

// Session states.
const (
	StateClosed         = serialize.StateClosed
	StateConnecting     = serialize.StateConnecting
	StateAssociating    = serialize.StateAssociating
	StateConnected      = serialize.StateConnected
	StateReadOnly       = serialize.StateReadOnly
	StateNotConnected   = serialize.StateNotConnected
	StateExpiredSession = serialize.StateExpiredSession
	StateAuthFailed     = serialize.StateAuthFailed
)

// EventType is the type of a watch event (ZOO_*_EVENT).
type EventType = serialize.EventType

// Event types.
const (
	EventCreated                = serialize.EventCreated
	EventDeleted                = serialize.EventDeleted
	EventChanged                = serialize.EventChanged
	EventChild                  = serialize.EventChild
	EventDataWatchRemoved       = serialize.EventDataWatchRemoved
	EventChildWatchRemoved      = serialize.EventChildWatchRemoved
	EventPersistentWatchRemoved = serialize.EventPersistentWatchRemoved
	EventSession                = serialize.EventSession
	EventNotWatching            = serialize.EventNotWatching
)

// CreateMode is the kind of node Create makes (ZOO_PERSISTENT, ...).
type CreateMode = serialize.CreateMode

// Create modes.
const (
	Persistent                  = serialize.Persistent
	Ephemeral                   = serialize.Ephemeral
	PersistentSequential        = serialize.PersistentSequential
	EphemeralSequential         = serialize.EphemeralSequential
	Container                   = serialize.Container
	PersistentWithTTL           = serialize.PersistentWithTTL
	PersistentSequentialWithTTL = serialize.PersistentSequentialWithTTL
)

// Perm is a set of ACL permission bits (ZOO_PERM_*).
type Perm = serialize.Perm

// Permission bits.
const (
	PermRead   = serialize.PermRead
	PermWrite  = serialize.PermWrite
	PermCreate = serialize.PermCreate
	PermDelete = serialize.PermDelete
	PermAdmin  = serialize.PermAdmin
	PermAll    = serialize.PermAll
)

// WatcherType selects the watches RemoveWatches removes (ZWATCHTYPE_*).
type WatcherType = serialize.WatcherType

// Watcher types.
const (
	WatcherChildren            = serialize.WatcherChildren
	WatcherData                = serialize.WatcherData
	WatcherAny                 = serialize.WatcherAny
	WatcherPersistent          = serialize.WatcherPersistent
	WatcherPersistentRecursive = serialize.WatcherPersistentRecursive
)

// Stat is the metadata of a znode (struct Stat).
type Stat = serialize.Stat

// ID names an identity in a scheme (struct Id): "world"/"anyone",
// "digest"/"user:base64(sha1)", "ip"/"10.0.0.0/8", "auth"/"".
type ID = serialize.Id

// ACL is one access control entry (struct ACL).
type ACL = serialize.ACL

// Event is a watch or session notification (watched_event); its Path has
// the chroot stripped.
type Event = hashtable.Event

// Watcher receives events (watcher_fn). Watchers run on the completion
// goroutine. A watcher whose dynamic type is comparable (a pointer, say) is
// registered at most once per path and kind, as in zk_hashtable.c; a
// WatcherFunc is never recognised as a duplicate.
type Watcher = hashtable.Watcher

// WatcherFunc adapts a function to Watcher.
type WatcherFunc = hashtable.WatcherFunc

// ClientID identifies a session so that another handle can resume it
// (clientid_t).
type ClientID struct {
	SessionID int64
	Passwd    [serialize.PasswdLen]byte
}

// Standard ACL lists (ZOO_OPEN_ACL_UNSAFE, ZOO_READ_ACL_UNSAFE and
// ZOO_CREATOR_ALL_ACL). The handle never modifies an ACL slice it is given;
// callers must not modify these either.
var (
	// OpenACLUnsafe gives everyone every permission.
	OpenACLUnsafe = []ACL{{Perms: int32(PermAll), ID: ID{Scheme: "world", ID: "anyone"}}}
	// ReadACLUnsafe gives everyone read permission.
	ReadACLUnsafe = []ACL{{Perms: int32(PermRead), ID: ID{Scheme: "world", ID: "anyone"}}}
	// CreatorAllACL gives every permission to the identities authenticated
	// on the creating session.
	CreatorAllACL = []ACL{{Perms: int32(PermAll), ID: ID{Scheme: "auth", ID: ""}}}
)
