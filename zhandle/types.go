package zhandle

import (
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
type Stat struct {
	Czxid          int64 // zxid of the change that created the node
	Mzxid          int64 // zxid of the last change to its data
	Ctime          int64 // creation time, milliseconds since the epoch
	Mtime          int64 // time of the last data change, milliseconds since the epoch
	Version        int32 // number of changes to the data
	Cversion       int32 // number of changes to the children
	Aversion       int32 // number of changes to the ACL
	EphemeralOwner int64 // the owning session of an ephemeral node, else 0 (also for containers and TTL nodes)
	DataLength     int32 // length of the data in bytes
	NumChildren    int32 // number of children
	Pzxid          int64 // zxid of the last change to the children
}

// ID names an identity in a scheme (struct Id): "world"/"anyone",
// "digest"/"user:base64(sha1(user:password))", "ip"/"10.0.0.0/8",
// "auth"/"" (the identities of the creating session), "sasl"/user,
// "x509"/subject.
type ID struct {
	Scheme string
	ID     string
}

// ACL is one access control entry (struct ACL): what ID may do.
type ACL struct {
	Perms Perm
	ID    ID
}

// Event is a watch or session notification (watched_event of the C
// client, WatchedEvent in Java).
type Event struct {
	Type  EventType // EventSession for a change of the session's state
	State State     // the session's state when the event was delivered
	Path  string    // the node, chroot stripped; "" for session events
}

// String formats the event as Java's WatchedEvent.toString does, with the
// state named as the C client names it.
func (e Event) String() string {
	return "WatchedEvent state:" + e.State.String() + " type:" + e.Type.String() + " path:" + e.Path
}

// Watcher receives events (watcher_fn). Watchers run on the completion
// goroutine, in order with callbacks, and must not block it.
//
// A watcher registered twice on the same path and kind is kept once, and
// one registered in several kinds fires once per event, as in C and Java,
// when it has an identity: its dynamic type is comparable (a pointer, say)
// and == says two are the same. A WatcherFunc, or a struct holding a func,
// map or slice, has none: each registration is distinct, and it can be
// removed only with all the watchers of a path (RemoveWatches with w nil).
type Watcher interface {
	Process(Event)
}

// WatcherFunc adapts a function to Watcher. It has no identity; see
// Watcher.
type WatcherFunc func(Event)

// Process calls f(ev).
func (f WatcherFunc) Process(ev Event) { f(ev) }

// ClientInfo is one identity of a session, as WhoAmI reports it.
type ClientInfo struct {
	AuthScheme string // "ip", "digest", "sasl", "x509", ...
	User       string // the identity within the scheme
}

// OpCode names a ZooKeeper operation (ZOO_*_OP), as the results of Multi
// and MultiRead and the tracer's hooks report them.
type OpCode = serialize.OpCode

// Operation codes of the requests a Handle sends.
const (
	OpCreate               = serialize.OpCreate
	OpCreate2              = serialize.OpCreate2
	OpCreateContainer      = serialize.OpCreateContainer
	OpCreateTTL            = serialize.OpCreateTTL
	OpDelete               = serialize.OpDelete
	OpExists               = serialize.OpExists
	OpGetData              = serialize.OpGetData
	OpSetData              = serialize.OpSetData
	OpGetACL               = serialize.OpGetACL
	OpSetACL               = serialize.OpSetACL
	OpGetChildren          = serialize.OpGetChildren
	OpGetChildren2         = serialize.OpGetChildren2
	OpSync                 = serialize.OpSync
	OpCheck                = serialize.OpCheck
	OpMulti                = serialize.OpMulti
	OpMultiRead            = serialize.OpMultiRead
	OpReconfig             = serialize.OpReconfig
	OpCheckWatches         = serialize.OpCheckWatches
	OpRemoveWatches        = serialize.OpRemoveWatches
	OpAddWatch             = serialize.OpAddWatch
	OpGetEphemerals        = serialize.OpGetEphemerals
	OpGetAllChildrenNumber = serialize.OpGetAllChildrenNumber
	OpWhoAmI               = serialize.OpWhoAmI
	OpSetAuth              = serialize.OpSetAuth
	OpError                = serialize.OpError // the result of an operation of a failed transaction
)

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
	OpenACLUnsafe = []ACL{{Perms: PermAll, ID: ID{Scheme: "world", ID: "anyone"}}}
	// ReadACLUnsafe gives everyone read permission.
	ReadACLUnsafe = []ACL{{Perms: PermRead, ID: ID{Scheme: "world", ID: "anyone"}}}
	// CreatorAllACL gives every permission to the identities authenticated
	// on the creating session.
	CreatorAllACL = []ACL{{Perms: PermAll, ID: ID{Scheme: "auth", ID: ""}}}
)
