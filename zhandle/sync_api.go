package zhandle

import (
	"context"
	"time"

	"github.com/zkloop/zkloop/completion"
	"github.com/zkloop/zkloop/hashtable"
	"github.com/zkloop/zkloop/serialize"
)

// The synchronous API (zoo_create, zoo_get, ...). Each call queues the
// request like its asynchronous twin and waits on the entry's condition
// variable; the loop decodes the reply straight into the entry. A ctx
// already done sends nothing; ctx ending later abandons the wait and
// returns ctx.Err(), and the request may still take effect on the server
// (the package doc, "Contexts").

// Create creates a node and returns its path (the sequential name when the
// mode is sequential) (zoo_create). For TTL modes use CreateTTL.
// If ctx ends while the request is in flight, the node may or may not
// have been created: Exists tells for a plain name; a sequential name is
// unknown then, which is why recipes put a unique prefix in it.
func (h *Handle) Create(ctx context.Context, path string, data []byte, acl []ACL, mode CreateMode) (string, error) {
	e := completion.GetSync(ctx)
	if err := h.queueCreate(e, path, data, acl, mode, 0, false); err != nil {
		return "", dropEntry(e, err)
	}
	if err := h.wait(e); err != nil {
		return "", err
	}
	created := e.Path
	completion.Put(e)
	return created, nil
}

// Create2 creates a node and returns its path and Stat (zoo_create2).
// A ctx that ends in flight leaves the outcome unknown, as for Create.
func (h *Handle) Create2(ctx context.Context, path string, data []byte, acl []ACL, mode CreateMode) (string, Stat, error) {
	return h.create2(ctx, path, data, acl, mode, 0)
}

// CreateTTL creates a node with a time to live, for the modes
// PersistentWithTTL and PersistentSequentialWithTTL (zoo_create2_ttl).
// A ctx that ends in flight leaves the outcome unknown, as for Create.
func (h *Handle) CreateTTL(ctx context.Context, path string, data []byte, acl []ACL, mode CreateMode, ttl time.Duration) (string, Stat, error) {
	return h.create2(ctx, path, data, acl, mode, ttl)
}

func (h *Handle) create2(ctx context.Context, path string, data []byte, acl []ACL, mode CreateMode, ttl time.Duration) (string, Stat, error) {
	e := completion.GetSync(ctx)
	if err := h.queueCreate(e, path, data, acl, mode, ttl, true); err != nil {
		return "", Stat{}, dropEntry(e, err)
	}
	if err := h.wait(e); err != nil {
		return "", Stat{}, err
	}
	created, stat := e.Path, Stat(e.Stat)
	completion.Put(e)
	return created, stat, nil
}

// Delete deletes a node if its version matches; -1 matches any (zoo_delete).
// If ctx ends while the request is in flight, the node may or may not have
// been deleted; Exists tells.
func (h *Handle) Delete(ctx context.Context, path string, version int32) error {
	e := completion.GetSync(ctx)
	if err := h.queueDelete(e, path, version); err != nil {
		return dropEntry(e, err)
	}
	return h.waitVoid(e)
}

// waitVoid waits for a request whose only result is its return code.
func (h *Handle) waitVoid(e *completion.Entry) error {
	if err := h.wait(e); err != nil {
		return err
	}
	completion.Put(e)
	return nil
}

// Exists returns the Stat of a node, or ErrNoNode (zoo_exists). With watch,
// the default watcher is told when the node is created, changed or deleted.
func (h *Handle) Exists(ctx context.Context, path string, watch bool) (Stat, error) {
	return h.exists(ctx, path, h.watcherFor(watch))
}

// WExists is Exists with a watcher of the caller's (zoo_wexists).
func (h *Handle) WExists(ctx context.Context, path string, w Watcher) (Stat, error) {
	return h.exists(ctx, path, w)
}

func (h *Handle) exists(ctx context.Context, path string, w Watcher) (Stat, error) {
	e := completion.GetSync(ctx)
	if err := h.queuePathWatch(e, serialize.OpExists, hashtable.KindExists, path, w); err != nil {
		return Stat{}, dropEntry(e, err)
	}
	return h.waitStat(e)
}

// waitStat waits for a request whose result is a Stat.
func (h *Handle) waitStat(e *completion.Entry) (Stat, error) {
	if err := h.wait(e); err != nil {
		return Stat{}, err
	}
	stat := Stat(e.Stat)
	completion.Put(e)
	return stat, nil
}

// Get returns a node's data and Stat (zoo_get). The data is a new slice.
func (h *Handle) Get(ctx context.Context, path string, watch bool) ([]byte, Stat, error) {
	return h.get(ctx, path, nil, h.watcherFor(watch))
}

// GetInto is Get appending the data to dst[:0]: it allocates nothing when
// dst has the capacity. It returns the extended slice.
func (h *Handle) GetInto(ctx context.Context, path string, dst []byte, watch bool) ([]byte, Stat, error) {
	if dst == nil {
		dst = []byte{}
	}
	return h.get(ctx, path, dst[:0], h.watcherFor(watch))
}

// WGet is Get with a watcher of the caller's (zoo_wget).
func (h *Handle) WGet(ctx context.Context, path string, w Watcher) ([]byte, Stat, error) {
	return h.get(ctx, path, nil, w)
}

func (h *Handle) get(ctx context.Context, path string, dst []byte, w Watcher) ([]byte, Stat, error) {
	e := completion.GetSync(ctx)
	e.Data = dst
	if err := h.queuePathWatch(e, serialize.OpGetData, hashtable.KindData, path, w); err != nil {
		return nil, Stat{}, dropEntry(e, err)
	}
	return h.waitData(e)
}

// waitData waits for a request whose result is data and a Stat.
func (h *Handle) waitData(e *completion.Entry) ([]byte, Stat, error) {
	if err := h.wait(e); err != nil {
		return nil, Stat{}, err
	}
	data, stat := e.Data, Stat(e.Stat)
	e.Data = nil
	completion.Put(e)
	return data, stat, nil
}

// Set writes a node's data if its version matches; -1 matches any
// (zoo_set2). It returns the new Stat. If ctx ends while the request is
// in flight, the data may or may not have been written: read the node
// back, or retry with the version read before so it cannot apply twice.
func (h *Handle) Set(ctx context.Context, path string, data []byte, version int32) (Stat, error) {
	e := completion.GetSync(ctx)
	if err := h.queueSetData(e, path, data, version); err != nil {
		return Stat{}, dropEntry(e, err)
	}
	return h.waitStat(e)
}

// GetChildren returns the names of a node's children (zoo_get_children).
func (h *Handle) GetChildren(ctx context.Context, path string, watch bool) ([]string, error) {
	children, _, err := h.children(ctx, serialize.OpGetChildren, path, h.watcherFor(watch))
	return children, err
}

// GetChildren2 returns the children and the node's Stat
// (zoo_get_children2).
func (h *Handle) GetChildren2(ctx context.Context, path string, watch bool) ([]string, Stat, error) {
	return h.children(ctx, serialize.OpGetChildren2, path, h.watcherFor(watch))
}

// WGetChildren is GetChildren with a watcher of the caller's
// (zoo_wget_children).
func (h *Handle) WGetChildren(ctx context.Context, path string, w Watcher) ([]string, error) {
	children, _, err := h.children(ctx, serialize.OpGetChildren, path, w)
	return children, err
}

// WGetChildren2 is GetChildren2 with a watcher of the caller's
// (zoo_wget_children2).
func (h *Handle) WGetChildren2(ctx context.Context, path string, w Watcher) ([]string, Stat, error) {
	return h.children(ctx, serialize.OpGetChildren2, path, w)
}

func (h *Handle) children(ctx context.Context, op serialize.OpCode, path string, w Watcher) ([]string, Stat, error) {
	e := completion.GetSync(ctx)
	if err := h.queuePathWatch(e, op, hashtable.KindChild, path, w); err != nil {
		return nil, Stat{}, dropEntry(e, err)
	}
	if err := h.wait(e); err != nil {
		return nil, Stat{}, err
	}
	children, stat := e.Children, Stat(e.Stat)
	e.Children = nil // handed to the caller
	completion.Put(e)
	return children, stat, nil
}

// GetACL returns a node's ACL and Stat (zoo_get_acl).
func (h *Handle) GetACL(ctx context.Context, path string) ([]ACL, Stat, error) {
	e := completion.GetSync(ctx)
	if err := h.queuePath(e, serialize.OpGetACL, path); err != nil {
		return nil, Stat{}, dropEntry(e, err)
	}
	if err := h.wait(e); err != nil {
		return nil, Stat{}, err
	}
	acl, stat := e.Value.([]ACL), Stat(e.Stat)
	completion.Put(e)
	return acl, stat, nil
}

// SetACL replaces a node's ACL if its ACL version matches; -1 matches any
// (zoo_set_acl). If ctx ends while the request is in flight, the ACL may
// or may not have been replaced; GetACL tells.
func (h *Handle) SetACL(ctx context.Context, path string, version int32, acl []ACL) error {
	e := completion.GetSync(ctx)
	if err := h.queueSetACL(e, path, version, acl); err != nil {
		return dropEntry(e, err)
	}
	return h.waitVoid(e)
}

// Sync makes the server the handle is connected to catch up with the
// leader, and returns the path (zoo_async's synchronous twin).
func (h *Handle) Sync(ctx context.Context, path string) (string, error) {
	e := completion.GetSync(ctx)
	if err := h.queuePath(e, serialize.OpSync, path); err != nil {
		return "", dropEntry(e, err)
	}
	if err := h.wait(e); err != nil {
		return "", err
	}
	synced := e.Path
	completion.Put(e)
	return synced, nil
}

// GetConfig returns the ensemble configuration, the data of
// /zookeeper/config, which is outside any chroot (zoo_getconfig).
func (h *Handle) GetConfig(ctx context.Context, watch bool) ([]byte, Stat, error) {
	e := completion.GetSync(ctx)
	if err := h.queueServerPathWatch(e, serialize.OpGetData, hashtable.KindData, serialize.ConfigNode, h.watcherFor(watch)); err != nil {
		return nil, Stat{}, dropEntry(e, err)
	}
	return h.waitData(e)
}

// Reconfig changes the ensemble membership, incrementally (joining,
// leaving: comma-separated server specs and ids) or wholesale (members),
// if the current config version is fromConfig (-1: any); it returns the
// new configuration (zoo_reconfig). An empty string is an argument not
// given and travels as null, as the C client's NULL: the reconfig is
// incremental unless members is non-empty. If ctx ends while the request
// is in flight, the reconfiguration may or may not have happened;
// GetConfig tells, and a fromConfig other than -1 keeps a retry from
// applying twice.
func (h *Handle) Reconfig(ctx context.Context, joining, leaving, members string, fromConfig int64) ([]byte, Stat, error) {
	e := completion.GetSync(ctx)
	if err := h.queueReconfig(e, joining, leaving, members, fromConfig); err != nil {
		return nil, Stat{}, dropEntry(e, err)
	}
	return h.waitData(e)
}

// GetEphemerals returns the ephemeral nodes of the session whose paths
// start with prefix ("/" for all) (getEphemerals, opcode 103).
func (h *Handle) GetEphemerals(ctx context.Context, prefix string) ([]string, error) {
	e := completion.GetSync(ctx)
	if err := h.queuePath(e, serialize.OpGetEphemerals, prefix); err != nil {
		return nil, dropEntry(e, err)
	}
	if err := h.wait(e); err != nil {
		return nil, err
	}
	paths := e.Children
	e.Children = nil // handed to the caller
	completion.Put(e)
	return paths, nil
}

// GetAllChildrenNumber returns the number of descendants of path
// (getAllChildrenNumber, opcode 104).
func (h *Handle) GetAllChildrenNumber(ctx context.Context, path string) (int32, error) {
	e := completion.GetSync(ctx)
	if err := h.queuePath(e, serialize.OpGetAllChildrenNumber, path); err != nil {
		return 0, dropEntry(e, err)
	}
	if err := h.wait(e); err != nil {
		return 0, err
	}
	n, _ := e.Value.(int32)
	completion.Put(e)
	return n, nil
}

// WhoAmI returns the identities the server knows the session by (whoAmI,
// opcode 107).
func (h *Handle) WhoAmI(ctx context.Context) ([]ClientInfo, error) {
	e := completion.GetSync(ctx)
	if err := h.queueWhoAmI(e); err != nil {
		return nil, dropEntry(e, err)
	}
	if err := h.wait(e); err != nil {
		return nil, err
	}
	ids, _ := e.Value.([]ClientInfo)
	completion.Put(e)
	return ids, nil
}
