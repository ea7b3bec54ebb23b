package hashtable

import (
	"strconv"

	"github.com/zkloop/zkloop/serialize"
)

// Kind is the kind of request that carries a watcher; it decides which table
// the watcher goes to when the reply arrives (the result checker of a
// watcher_registration_t in the C client: data_result_checker,
// exists_result_checker, child_result_checker).
type Kind uint8

// Kinds of watch registration.
const (
	KindNone                Kind = iota // no watcher
	KindData                            // getData
	KindExists                          // exists
	KindChild                           // getChildren, getChildren2
	KindPersistent                      // addWatch PERSISTENT
	KindPersistentRecursive             // addWatch PERSISTENT_RECURSIVE
)

// String returns the name of the kind.
func (k Kind) String() string {
	switch k {
	case KindNone:
		return "None"
	case KindData:
		return "Data"
	case KindExists:
		return "Exists"
	case KindChild:
		return "Child"
	case KindPersistent:
		return "Persistent"
	case KindPersistentRecursive:
		return "PersistentRecursive"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Registration is a watcher waiting for the reply of the request that sets it
// (watcher_registration_t of the C client; WatchRegistration in Java).
type Registration struct {
	Kind    Kind
	Path    string // server path, chroot included; kept by Activate as a table key
	Watcher Watcher
}

// table identifies one of the five tables.
type table uint8

const (
	tableData table = iota
	tableExist
	tableChild
	tablePersistent
	tableRecursive
	numTables
)

// table returns the table a watcher of kind k goes to when its request
// completed with rc, and false when it is not to be kept (the result
// checkers of zk_hashtable.c; Java's WatchRegistration.shouldAddWatch).
func (k Kind) table(rc serialize.Error) (table, bool) {
	switch k {
	case KindNone:
		return 0, false
	case KindData:
		return tableData, rc == serialize.Ok
	case KindExists:
		switch rc {
		case serialize.Ok:
			return tableData, true
		case serialize.ErrNoNode:
			return tableExist, true
		}
		return 0, false
	case KindChild:
		return tableChild, rc == serialize.Ok
	case KindPersistent:
		return tablePersistent, rc == serialize.Ok
	case KindPersistentRecursive:
		return tableRecursive, rc == serialize.Ok
	}
	return 0, false
}

// removedEvent is the event delivered to a watcher removed from tab by
// removeWatches (Java's ZKWatchManager.removeWatcher).
func (tab table) removedEvent() serialize.EventType {
	switch tab {
	case tableData, tableExist:
		return serialize.EventDataWatchRemoved
	case tableChild:
		return serialize.EventChildWatchRemoved
	}
	return serialize.EventPersistentWatchRemoved
}

// Tables selected by each WatcherType in removeWatches and checkWatches,
// in table order. Any covers all five, as in Java.
var (
	childTables      = []table{tableChild}
	dataTables       = []table{tableData, tableExist}
	anyTables        = []table{tableData, tableExist, tableChild, tablePersistent, tableRecursive}
	persistentTables = []table{tablePersistent}
	recursiveTables  = []table{tableRecursive}
)

// tablesFor returns the tables wt selects; nil for an unknown type.
func tablesFor(wt serialize.WatcherType) []table {
	switch wt {
	case serialize.WatcherChildren:
		return childTables
	case serialize.WatcherData:
		return dataTables
	case serialize.WatcherAny:
		return anyTables
	case serialize.WatcherPersistent:
		return persistentTables
	case serialize.WatcherPersistentRecursive:
		return recursiveTables
	}
	return nil
}
