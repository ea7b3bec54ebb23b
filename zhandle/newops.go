package zhandle

import (
	"context"
	"fmt"

	"github.com/zkloop/zkloop/completion"
	"github.com/zkloop/zkloop/hashtable"
	"github.com/zkloop/zkloop/serialize"
)

// Requests the C client of 3.8 does not have, added with the Java client's
// semantics: persistent watches (addWatch), getEphemerals,
// getAllChildrenNumber, whoAmI and multiRead.

// AddWatchMode is the kind of watch AddWatch sets.
type AddWatchMode = serialize.AddWatchMode

// Add-watch modes.
const (
	AddWatchPersistent          = serialize.AddWatchPersistent
	AddWatchPersistentRecursive = serialize.AddWatchPersistentRecursive
)

// Callbacks of the newer requests.
type (
	// CountCompletion receives a number (GetAllChildrenNumber).
	CountCompletion func(err error, n int32)
	// WhoAmICompletion receives the identities of the session.
	WhoAmICompletion func(err error, ids []ClientInfo)
	// MultiReadCompletion receives the per-operation results of a MultiRead.
	MultiReadCompletion func(err error, results []ReadResult)
)

// AddWatch sets a watch that is not removed when it fires (addWatch,
// opcode 106): AddWatchPersistent sees every event on path, including
// child events; AddWatchPersistentRecursive sees created, changed and
// deleted events on path and every descendant, and never child events.
// w nil means the default watcher. RemoveWatches with WatcherPersistent or
// WatcherPersistentRecursive removes it. If ctx ends while the request is
// in flight, the watch may or may not be set; RemoveWatches clears it.
func (h *Handle) AddWatch(ctx context.Context, path string, mode AddWatchMode, w Watcher) error {
	e := completion.GetSync(ctx)
	if err := h.queueAddWatch(e, path, mode, w); err != nil {
		return dropEntry(e, err)
	}
	return h.waitVoid(e)
}

// AAddWatch is the asynchronous AddWatch.
func (h *Handle) AAddWatch(path string, mode AddWatchMode, w Watcher, cb VoidCompletion) error {
	e := asyncEntry(cb)
	return settle(e, h.queueAddWatch(e, path, mode, w))
}

func (h *Handle) queueAddWatch(e *completion.Entry, path string, mode AddWatchMode, w Watcher) error {
	kind := hashtable.KindPersistent
	switch mode {
	case AddWatchPersistent:
	case AddWatchPersistentRecursive:
		kind = hashtable.KindPersistentRecursive
	default:
		return fmt.Errorf("%w: unknown add-watch mode %d", ErrBadArguments, int32(mode))
	}
	if err := validatePath(path, false); err != nil {
		return err
	}
	if w == nil {
		w = h.defaultRef
	}
	sp := h.serverPath(path)
	e.Watch = hashtable.Registration{Kind: kind, Path: sp, Watcher: w}
	if err := h.admit(e); err != nil {
		return err
	}
	start := h.beginFrameLocked(e, serialize.OpAddWatch)
	req := serialize.AddWatchRequest{Path: sp, Mode: int32(mode)}
	h.out = req.Encode(h.out)
	return h.commitLocked(e, start)
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

// AGetEphemerals is the asynchronous GetEphemerals.
func (h *Handle) AGetEphemerals(prefix string, cb StringsCompletion) error {
	e := asyncEntry(cb)
	return settle(e, h.queuePath(e, serialize.OpGetEphemerals, prefix))
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

// AGetAllChildrenNumber is the asynchronous GetAllChildrenNumber.
func (h *Handle) AGetAllChildrenNumber(path string, cb CountCompletion) error {
	e := asyncEntry(cb)
	return settle(e, h.queuePath(e, serialize.OpGetAllChildrenNumber, path))
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

// AWhoAmI is the asynchronous WhoAmI.
func (h *Handle) AWhoAmI(cb WhoAmICompletion) error {
	e := asyncEntry(cb)
	return settle(e, h.queueWhoAmI(e))
}

func (h *Handle) queueWhoAmI(e *completion.Entry) error {
	if err := h.admit(e); err != nil {
		return err
	}
	start := h.beginFrameLocked(e, serialize.OpWhoAmI)
	return h.commitLocked(e, start) // the request is the header alone
}

// ReadOp is one operation of a MultiRead: a GetDataOp or a GetChildrenOp.
type ReadOp interface {
	appendReadOp(h *Handle, dst []byte) ([]byte, error)
}

// GetDataOp reads a node's data and Stat in a MultiRead.
type GetDataOp struct{ Path string }

// GetChildrenOp reads a node's children in a MultiRead.
type GetChildrenOp struct{ Path string }

// ReadResult is the outcome of one ReadOp: Data and Stat for a GetDataOp,
// Children for a GetChildrenOp, or Err.
type ReadResult struct {
	Op       OpCode
	Err      error
	Data     []byte
	Stat     Stat
	Children []string
}

func (o GetDataOp) appendReadOp(h *Handle, dst []byte) ([]byte, error) {
	return appendPathRead(h, dst, serialize.OpGetData, o.Path)
}

func (o GetChildrenOp) appendReadOp(h *Handle, dst []byte) ([]byte, error) {
	return appendPathRead(h, dst, serialize.OpGetChildren, o.Path)
}

func appendPathRead(h *Handle, dst []byte, op serialize.OpCode, path string) ([]byte, error) {
	if err := validatePath(path, false); err != nil {
		return dst, err
	}
	// GetDataRequest and GetChildrenRequest share one layout; a multi-read
	// sets no watches.
	req := serialize.GetDataRequest{Path: h.serverPath(path)}
	return req.Encode(appendMultiHeader(dst, op)), nil
}

// MultiRead runs read operations in one request (multiRead, opcode 22).
// Unlike Multi it is not a transaction: each result has its own error, and
// err is only about the request as a whole.
func (h *Handle) MultiRead(ctx context.Context, ops ...ReadOp) ([]ReadResult, error) {
	e := completion.GetSync(ctx)
	if err := h.queueMultiRead(e, ops); err != nil {
		return nil, dropEntry(e, err)
	}
	if err := h.wait(e); err != nil {
		return nil, err
	}
	results, _ := e.Value.([]ReadResult)
	completion.Put(e)
	return results, nil
}

// AMultiRead is the asynchronous MultiRead.
func (h *Handle) AMultiRead(ops []ReadOp, cb MultiReadCompletion) error {
	e := asyncEntry(cb)
	return settle(e, h.queueMultiRead(e, ops))
}

func (h *Handle) queueMultiRead(e *completion.Entry, ops []ReadOp) error {
	return h.queueOps(e, serialize.OpMultiRead, len(ops), func(i int, dst []byte) ([]byte, error) {
		if ops[i] == nil {
			return dst, fmt.Errorf("%w: nil read operation", ErrBadArguments)
		}
		return ops[i].appendReadOp(h, dst)
	})
}

// decodeMultiRead decodes the reply of a multiRead: a MultiHeader before
// each GetDataResponse, GetChildrenResponse or ErrorResponse, and a final
// one with done set. Data is always copied: results outlive the buffer.
func (h *Handle) decodeMultiRead(body []byte) ([]ReadResult, error) {
	var results []ReadResult
	err := decodeOps(body, func(mh *serialize.MultiHeader, rest []byte) (n int, err error) {
		r := ReadResult{Op: OpCode(mh.Type)}
		switch r.Op {
		case serialize.OpGetData:
			var resp serialize.GetDataResponse
			n, err = resp.Decode(rest)
			r.Data, r.Stat = resp.Data, Stat(resp.Stat)
		case serialize.OpGetChildren:
			var resp serialize.GetChildrenResponse
			n, err = resp.Decode(rest)
			r.Children = resp.Children
		case serialize.OpError:
			var resp serialize.ErrorResponse
			n, err = resp.Decode(rest)
			r.Err = asError(Error(resp.Err))
		default:
			return 0, fmt.Errorf("multiRead: unknown result type %d", mh.Type)
		}
		results = append(results, r)
		return n, err
	})
	return results, err
}
