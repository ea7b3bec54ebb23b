package serialize

import "strconv"

// CreateMode is the kind of node a create makes (ZOO_PERSISTENT ... of
// zookeeper.h; the flags field of CreateRequest).
type CreateMode int32

// Create modes.
const (
	Persistent                  CreateMode = 0
	Ephemeral                   CreateMode = 1
	PersistentSequential        CreateMode = 2
	EphemeralSequential         CreateMode = 3
	Container                   CreateMode = 4
	PersistentWithTTL           CreateMode = 5
	PersistentSequentialWithTTL CreateMode = 6
)

// MaxTTL is the largest TTL in milliseconds (0xFFFFFFFFFF, EphemeralType.TTL).
const MaxTTL = 0xFFFFFFFFFF

func (m CreateMode) String() string {
	switch m {
	case Persistent:
		return "PERSISTENT"
	case Ephemeral:
		return "EPHEMERAL"
	case PersistentSequential:
		return "PERSISTENT_SEQUENTIAL"
	case EphemeralSequential:
		return "EPHEMERAL_SEQUENTIAL"
	case Container:
		return "CONTAINER"
	case PersistentWithTTL:
		return "PERSISTENT_WITH_TTL"
	case PersistentSequentialWithTTL:
		return "PERSISTENT_SEQUENTIAL_WITH_TTL"
	}
	return "CreateMode(" + strconv.Itoa(int(m)) + ")"
}

// Valid reports whether m is one of the seven modes.
func (m CreateMode) Valid() bool { return m >= Persistent && m <= PersistentSequentialWithTTL }

// Sequential reports whether the server appends a sequence number.
func (m CreateMode) Sequential() bool {
	return m == PersistentSequential || m == EphemeralSequential || m == PersistentSequentialWithTTL
}

// Ephemeral reports whether the node ends with the session.
func (m CreateMode) Ephemeral() bool { return m == Ephemeral || m == EphemeralSequential }

// TTL reports whether the mode takes a time to live.
func (m CreateMode) TTL() bool { return m == PersistentWithTTL || m == PersistentSequentialWithTTL }

// Perm is a set of ACL permission bits (ZOO_PERM_*).
type Perm int32

// Permission bits.
const (
	PermRead   Perm = 1 << 0
	PermWrite  Perm = 1 << 1
	PermCreate Perm = 1 << 2
	PermDelete Perm = 1 << 3
	PermAdmin  Perm = 1 << 4
	PermAll    Perm = 0x1f
)

// String returns the zkCli.sh letters for the bits, in its order: "cdrwa".
func (p Perm) String() string {
	var b []byte
	for _, f := range [...]struct {
		bit    Perm
		letter byte
	}{{PermCreate, 'c'}, {PermDelete, 'd'}, {PermRead, 'r'}, {PermWrite, 'w'}, {PermAdmin, 'a'}} {
		if p&f.bit != 0 {
			b = append(b, f.letter)
		}
	}
	return string(b)
}

// AddWatchMode is the mode of an AddWatchRequest.
type AddWatchMode int32

// Add-watch modes.
const (
	AddWatchPersistent          AddWatchMode = 0
	AddWatchPersistentRecursive AddWatchMode = 1
)

func (m AddWatchMode) String() string {
	switch m {
	case AddWatchPersistent:
		return "PERSISTENT"
	case AddWatchPersistentRecursive:
		return "PERSISTENT_RECURSIVE"
	}
	return "AddWatchMode(" + strconv.Itoa(int(m)) + ")"
}

// WatcherType selects watches in checkWatches/removeWatches (WatcherType of
// Java; ZWATCHTYPE_* of zookeeper.h).
type WatcherType int32

// Watcher types.
const (
	WatcherChildren            WatcherType = 1
	WatcherData                WatcherType = 2
	WatcherAny                 WatcherType = 3
	WatcherPersistent          WatcherType = 4
	WatcherPersistentRecursive WatcherType = 5
)

func (t WatcherType) String() string {
	switch t {
	case WatcherChildren:
		return "Children"
	case WatcherData:
		return "Data"
	case WatcherAny:
		return "Any"
	case WatcherPersistent:
		return "Persistent"
	case WatcherPersistentRecursive:
		return "PersistentRecursive"
	}
	return "WatcherType(" + strconv.Itoa(int(t)) + ")"
}
