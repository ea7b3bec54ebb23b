package zhandle

import "github.com/zkloop/zkloop/serialize"

// Completion callbacks of the asynchronous API (the *_completion_t types of
// zookeeper.h). They run on the completion goroutine in reply order. err is
// nil or an Error; on error the other arguments are zero. Slices and the
// Stat pointer are valid only until the callback returns: copy what you
// keep.
type (
	// VoidCompletion receives the result of a request without data
	// (void_completion_t).
	VoidCompletion func(err error)
	// StatCompletion receives a node's Stat (stat_completion_t).
	StatCompletion func(err error, stat *Stat)
	// DataCompletion receives a node's data and Stat (data_completion_t).
	DataCompletion func(err error, data []byte, stat *Stat)
	// StringsCompletion receives a list of names (strings_completion_t).
	StringsCompletion func(err error, children []string)
	// StringsStatCompletion receives a list of names and the parent's Stat
	// (strings_stat_completion_t).
	StringsStatCompletion func(err error, children []string, stat *Stat)
	// StringCompletion receives a path (string_completion_t).
	StringCompletion func(err error, value string)
	// StringStatCompletion receives a created path and the node's Stat
	// (string_stat_completion_t).
	StringStatCompletion func(err error, path string, stat *Stat)
	// ACLCompletion receives an ACL list and the node's Stat
	// (acl_completion_t).
	ACLCompletion func(err error, acl []ACL, stat *Stat)
	// MultiCompletion receives the per-operation results of a multi
	// (the results array of zoo_amulti).
	MultiCompletion func(err error, results []OpResult)
	// MultiReadCompletion receives the per-operation results of a MultiRead.
	MultiReadCompletion func(err error, results []ReadResult)
	// CountCompletion receives a number (GetAllChildrenNumber).
	CountCompletion func(err error, n int32)
	// WhoAmICompletion receives the identities of the session.
	WhoAmICompletion func(err error, ids []ClientInfo)
)

// errValues holds every return code as an error interface value, so that
// completing a request with an error allocates nothing.
var errValues = func() (v [256]error) {
	for i := range v {
		v[i] = serialize.Error(-i)
	}
	return v
}()

// asError converts a return code to an error: nil for Ok.
func asError(rc Error) error {
	switch {
	case rc == 0:
		return nil
	case rc < 0 && rc > -256:
		return errValues[-rc]
	}
	return rc
}
