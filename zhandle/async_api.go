package zhandle

import (
	"time"

	"github.com/zkloop/zkloop/completion"
	"github.com/zkloop/zkloop/hashtable"
	"github.com/zkloop/zkloop/serialize"
)

// The asynchronous API (zoo_acreate, zoo_aget, ...). Each call validates
// its arguments, queues the request and returns; the callback runs later on
// the completion goroutine, exactly once, in reply order. An error returned
// here means the request was not queued and the callback will not run.
// A nil callback is allowed: the reply is then only consumed.

// asyncEntry returns a fresh entry for an asynchronous request with the
// typed callback cb.
func asyncEntry(cb any) *completion.Entry {
	e := completion.Get()
	e.Callback = cb
	return e
}

// settle recycles e when queueing it failed, and returns err.
func settle(e *completion.Entry, err error) error {
	if err != nil {
		completion.Put(e)
	}
	return err
}

// ACreate is the asynchronous Create (zoo_acreate).
func (h *Handle) ACreate(path string, data []byte, acl []ACL, mode CreateMode, cb StringCompletion) error {
	e := asyncEntry(cb)
	return settle(e, h.queueCreate(e, path, data, acl, mode, 0, false))
}

// ACreate2 is the asynchronous Create2 (zoo_acreate2).
func (h *Handle) ACreate2(path string, data []byte, acl []ACL, mode CreateMode, cb StringStatCompletion) error {
	return h.aCreate2(path, data, acl, mode, 0, cb)
}

// ACreateTTL is the asynchronous CreateTTL (zoo_acreate2_ttl).
func (h *Handle) ACreateTTL(path string, data []byte, acl []ACL, mode CreateMode, ttl time.Duration, cb StringStatCompletion) error {
	return h.aCreate2(path, data, acl, mode, ttl, cb)
}

func (h *Handle) aCreate2(path string, data []byte, acl []ACL, mode CreateMode, ttl time.Duration, cb StringStatCompletion) error {
	e := asyncEntry(cb)
	return settle(e, h.queueCreate(e, path, data, acl, mode, ttl, true))
}

// ADelete is the asynchronous Delete (zoo_adelete).
func (h *Handle) ADelete(path string, version int32, cb VoidCompletion) error {
	e := asyncEntry(cb)
	return settle(e, h.queueDelete(e, path, version))
}

// AExists is the asynchronous Exists (zoo_aexists).
func (h *Handle) AExists(path string, watch bool, cb StatCompletion) error {
	return h.aPathWatch(serialize.OpExists, hashtable.KindExists, path, h.watcherFor(watch), cb)
}

// AWExists is the asynchronous WExists (zoo_awexists).
func (h *Handle) AWExists(path string, w Watcher, cb StatCompletion) error {
	return h.aPathWatch(serialize.OpExists, hashtable.KindExists, path, w, cb)
}

// AGet is the asynchronous Get (zoo_aget). data aliases the reply buffer.
func (h *Handle) AGet(path string, watch bool, cb DataCompletion) error {
	return h.aPathWatch(serialize.OpGetData, hashtable.KindData, path, h.watcherFor(watch), cb)
}

// AWGet is the asynchronous WGet (zoo_awget).
func (h *Handle) AWGet(path string, w Watcher, cb DataCompletion) error {
	return h.aPathWatch(serialize.OpGetData, hashtable.KindData, path, w, cb)
}

// AGetChildren is the asynchronous GetChildren (zoo_aget_children).
func (h *Handle) AGetChildren(path string, watch bool, cb StringsCompletion) error {
	return h.aPathWatch(serialize.OpGetChildren, hashtable.KindChild, path, h.watcherFor(watch), cb)
}

// AWGetChildren is the asynchronous WGetChildren (zoo_awget_children).
func (h *Handle) AWGetChildren(path string, w Watcher, cb StringsCompletion) error {
	return h.aPathWatch(serialize.OpGetChildren, hashtable.KindChild, path, w, cb)
}

// AGetChildren2 is the asynchronous GetChildren2 (zoo_aget_children2).
func (h *Handle) AGetChildren2(path string, watch bool, cb StringsStatCompletion) error {
	return h.aPathWatch(serialize.OpGetChildren2, hashtable.KindChild, path, h.watcherFor(watch), cb)
}

// AWGetChildren2 is the asynchronous WGetChildren2 (zoo_awget_children2).
func (h *Handle) AWGetChildren2(path string, w Watcher, cb StringsStatCompletion) error {
	return h.aPathWatch(serialize.OpGetChildren2, hashtable.KindChild, path, w, cb)
}

// aPathWatch queues a path+watch request with cb, a typed callback.
func (h *Handle) aPathWatch(op serialize.OpCode, kind hashtable.Kind, path string, w Watcher, cb any) error {
	e := asyncEntry(cb)
	return settle(e, h.queuePathWatch(e, op, kind, path, w))
}

// ASet is the asynchronous Set (zoo_aset).
func (h *Handle) ASet(path string, data []byte, version int32, cb StatCompletion) error {
	e := asyncEntry(cb)
	return settle(e, h.queueSetData(e, path, data, version))
}

// AGetACL is the asynchronous GetACL (zoo_aget_acl).
func (h *Handle) AGetACL(path string, cb ACLCompletion) error {
	return h.aPath(serialize.OpGetACL, path, cb)
}

// ASync is the asynchronous Sync (zoo_async).
func (h *Handle) ASync(path string, cb StringCompletion) error {
	return h.aPath(serialize.OpSync, path, cb)
}

func (h *Handle) aPath(op serialize.OpCode, path string, cb any) error {
	e := asyncEntry(cb)
	return settle(e, h.queuePath(e, op, path))
}

// ASetACL is the asynchronous SetACL (zoo_aset_acl).
func (h *Handle) ASetACL(path string, version int32, acl []ACL, cb VoidCompletion) error {
	e := asyncEntry(cb)
	return settle(e, h.queueSetACL(e, path, version, acl))
}

// AGetConfig is the asynchronous GetConfig (zoo_agetconfig).
func (h *Handle) AGetConfig(watch bool, cb DataCompletion) error {
	return h.AGetConfigW(h.watcherFor(watch), cb)
}

// AGetConfigW is AGetConfig with a watcher of the caller's
// (zoo_awgetconfig).
func (h *Handle) AGetConfigW(w Watcher, cb DataCompletion) error {
	e := asyncEntry(cb)
	return settle(e, h.queueServerPathWatch(e, serialize.OpGetData, hashtable.KindData, serialize.ConfigNode, w))
}

// AReconfig is the asynchronous Reconfig (zoo_areconfig).
func (h *Handle) AReconfig(joining, leaving, members string, fromConfig int64, cb DataCompletion) error {
	e := asyncEntry(cb)
	return settle(e, h.queueReconfig(e, joining, leaving, members, fromConfig))
}

// AGetEphemerals is the asynchronous GetEphemerals.
func (h *Handle) AGetEphemerals(prefix string, cb StringsCompletion) error {
	e := asyncEntry(cb)
	return settle(e, h.queuePath(e, serialize.OpGetEphemerals, prefix))
}

// AGetAllChildrenNumber is the asynchronous GetAllChildrenNumber.
func (h *Handle) AGetAllChildrenNumber(path string, cb CountCompletion) error {
	e := asyncEntry(cb)
	return settle(e, h.queuePath(e, serialize.OpGetAllChildrenNumber, path))
}

// AWhoAmI is the asynchronous WhoAmI.
func (h *Handle) AWhoAmI(cb WhoAmICompletion) error {
	e := asyncEntry(cb)
	return settle(e, h.queueWhoAmI(e))
}
