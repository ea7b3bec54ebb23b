package zhandle

import (
	"fmt"
	"time"

	"github.com/zkloop/zkloop/completion"
	"github.com/zkloop/zkloop/hashtable"
	"github.com/zkloop/zkloop/serialize"
)

// Requests are queued the way zoo_a* functions queue them: under the
// handle lock, the frame is appended to the output buffer and the entry to
// the sent queue (add_completion + queue_buffer_bytes), in xid order; then
// the loop is woken. Each request has a queue function shared by its sync
// and async forms, written out rather than built from closures so that
// nothing escapes to the heap.

// admit takes h.mu when the request of e may be queued; otherwise it
// returns why not, with the lock released: the synchronous caller's
// context is already done (then nothing is sent), or the handle is
// closing, expired or refused.
func (h *Handle) admit(e *completion.Entry) error {
	if err := e.ContextErr(); err != nil {
		return err
	}
	h.mu.Lock()
	var err error
	switch {
	case h.closing:
		err = ErrClosing
	case h.state == StateExpiredSession:
		err = ErrSessionExpired
	case h.state == StateAuthFailed:
		err = ErrAuthFailed
	default:
		return nil
	}
	h.mu.Unlock()
	return err
}

// beginFrameLocked gives e the next xid and starts its frame with the
// request header (get_xid + serialize_RequestHeader); h.mu is held. sp is
// the request's server path ("" for none), for the tracer.
func (h *Handle) beginFrameLocked(e *completion.Entry, op serialize.OpCode, sp string) int {
	h.xid++
	if h.xid <= 0 {
		h.xid = 1 // negative xids are the special ones
	}
	e.Xid, e.Op = h.xid, op
	if h.trace.request != nil {
		e.TracePath = sp
	}
	var start int
	h.out, start = serialize.BeginFrame(h.out)
	hdr := serialize.RequestHeader{Xid: e.Xid, Type: int32(op)}
	h.out = hdr.Encode(h.out)
	return start
}

// finishFrameLocked closes the frame begun at start and appends e to the
// sent queue. An oversized request is removed again and refused.
func (h *Handle) finishFrameLocked(e *completion.Entry, start int) error {
	var err error
	h.out, err = serialize.FinishFrame(h.out, start, h.cfg.maxFrame)
	if err != nil {
		return fmt.Errorf("%w: %v request: %w", ErrBadArguments, e.Op, err)
	}
	h.sent.PushBack(e)
	h.countQueuedLocked()
	return nil
}

// commitLocked finishes the frame, tells the tracer, releases h.mu and
// wakes the loop.
func (h *Handle) commitLocked(e *completion.Entry, start int) error {
	err := h.finishFrameLocked(e, start)
	if err == nil {
		h.traceStartLocked(e)
	}
	h.mu.Unlock()
	if err == nil {
		h.loop.Wake()
	}
	return err
}

// watcherFor is the watcher a request registers: none, the default
// watcher (watch=true), or w.
func (h *Handle) watcherFor(watch bool) Watcher {
	if watch {
		return h.defaultRef
	}
	return nil
}

// wait waits for a synchronous entry. On nil the caller owns e, whose
// result is ready; otherwise e is gone (recycled here, or by the loop when
// ctx ended first).
func (h *Handle) wait(e *completion.Entry) error {
	if err := e.Wait(); err != nil {
		return err
	}
	if e.Rc != 0 {
		rc := e.Rc
		completion.Put(e)
		return rc
	}
	return nil
}

// dropEntry recycles an entry that was never queued and returns err.
func dropEntry(e *completion.Entry, err error) error {
	completion.Put(e)
	return err
}

func (h *Handle) queueCreate(e *completion.Entry, path string, data []byte, acl []ACL, mode CreateMode, ttl time.Duration, withStat bool) error {
	op, err := createOp(mode, ttl, withStat)
	if err != nil {
		return err
	}
	if err := validatePath(path, mode.Sequential()); err != nil {
		return err
	}
	if len(acl) == 0 {
		return fmt.Errorf("%w: empty ACL", ErrInvalidACL)
	}
	sp := h.serverPath(path)
	if err := h.admit(e); err != nil {
		return err
	}
	start := h.beginFrameLocked(e, op, sp)
	h.out = appendCreateRequest(h.out, op, sp, data, h.wireACLLocked(acl), mode, ttl)
	return h.commitLocked(e, start)
}

// appendCreateRequest appends a CreateTTLRequest for op createTTL, else a
// CreateRequest.
func appendCreateRequest(dst []byte, op serialize.OpCode, sp string, data []byte, wire []serialize.ACL, mode CreateMode, ttl time.Duration) []byte {
	if op == serialize.OpCreateTTL {
		req := serialize.CreateTTLRequest{Path: sp, Data: data, ACL: wire, Flags: int32(mode), TTL: ttl.Milliseconds()}
		return req.Encode(dst)
	}
	req := serialize.CreateRequest{Path: sp, Data: data, ACL: wire, Flags: int32(mode)}
	return req.Encode(dst)
}

// createOp picks the opcode for a create, as zoo_acreate2_ttl does:
// containers and TTL nodes have their own, and checks the TTL.
func createOp(mode CreateMode, ttl time.Duration, withStat bool) (serialize.OpCode, error) {
	switch {
	case !mode.Valid():
		return 0, fmt.Errorf("%w: unknown create mode %d", ErrBadArguments, int32(mode))
	case mode.TTL():
		if ms := ttl.Milliseconds(); ms <= 0 || ms > serialize.MaxTTL {
			return 0, fmt.Errorf("%w: TTL %v out of range (1ms to %dms)", ErrBadArguments, ttl, int64(serialize.MaxTTL))
		}
		return serialize.OpCreateTTL, nil
	case ttl != 0:
		return 0, fmt.Errorf("%w: TTL given for mode %v", ErrBadArguments, mode)
	case mode == Container:
		return serialize.OpCreateContainer, nil
	case withStat:
		return serialize.OpCreate2, nil
	}
	return serialize.OpCreate, nil
}

func (h *Handle) queueDelete(e *completion.Entry, path string, version int32) error {
	if err := validatePath(path, false); err != nil {
		return err
	}
	sp := h.serverPath(path)
	if err := h.admit(e); err != nil {
		return err
	}
	start := h.beginFrameLocked(e, serialize.OpDelete, sp)
	req := serialize.DeleteRequest{Path: sp, Version: version}
	h.out = req.Encode(h.out)
	return h.commitLocked(e, start)
}

// queuePathWatch queues the requests made of a path and a watch flag
// (exists, getData, getChildren, getChildren2) and registers w for
// activation when the reply comes.
func (h *Handle) queuePathWatch(e *completion.Entry, op serialize.OpCode, kind hashtable.Kind, path string, w Watcher) error {
	if err := validatePath(path, false); err != nil {
		return err
	}
	return h.queueServerPathWatch(e, op, kind, h.serverPath(path), w)
}

// queueServerPathWatch is queuePathWatch for a path already in server form.
func (h *Handle) queueServerPathWatch(e *completion.Entry, op serialize.OpCode, kind hashtable.Kind, sp string, w Watcher) error {
	if w != nil {
		e.Watch = hashtable.Registration{Kind: kind, Path: sp, Watcher: w}
	}
	if err := h.admit(e); err != nil {
		return err
	}
	start := h.beginFrameLocked(e, op, sp)
	// ExistsRequest, GetDataRequest, GetChildrenRequest and
	// GetChildren2Request share one layout: path, watch flag.
	req := serialize.GetDataRequest{Path: sp, Watch: w != nil}
	h.out = req.Encode(h.out)
	return h.commitLocked(e, start)
}

func (h *Handle) queueSetData(e *completion.Entry, path string, data []byte, version int32) error {
	if err := validatePath(path, false); err != nil {
		return err
	}
	sp := h.serverPath(path)
	if err := h.admit(e); err != nil {
		return err
	}
	start := h.beginFrameLocked(e, serialize.OpSetData, sp)
	req := serialize.SetDataRequest{Path: sp, Data: data, Version: version}
	h.out = req.Encode(h.out)
	return h.commitLocked(e, start)
}

// queuePath queues a request that is only a path (getACL, sync,
// getEphemerals, getAllChildrenNumber).
func (h *Handle) queuePath(e *completion.Entry, op serialize.OpCode, path string) error {
	if err := validatePath(path, false); err != nil {
		return err
	}
	sp := h.serverPath(path)
	if err := h.admit(e); err != nil {
		return err
	}
	start := h.beginFrameLocked(e, op, sp)
	// These requests are all a single path string.
	req := serialize.SyncRequest{Path: sp}
	h.out = req.Encode(h.out)
	return h.commitLocked(e, start)
}

func (h *Handle) queueSetACL(e *completion.Entry, path string, version int32, acl []ACL) error {
	if err := validatePath(path, false); err != nil {
		return err
	}
	if len(acl) == 0 {
		return fmt.Errorf("%w: empty ACL", ErrInvalidACL)
	}
	sp := h.serverPath(path)
	if err := h.admit(e); err != nil {
		return err
	}
	start := h.beginFrameLocked(e, serialize.OpSetACL, sp)
	req := serialize.SetACLRequest{Path: sp, ACL: h.wireACLLocked(acl), Version: version}
	h.out = req.Encode(h.out)
	return h.commitLocked(e, start)
}

func (h *Handle) queueReconfig(e *completion.Entry, joining, leaving, members string, fromConfig int64) error {
	if err := h.admit(e); err != nil {
		return err
	}
	start := h.beginFrameLocked(e, serialize.OpReconfig, "")
	req := serialize.ReconfigRequest{JoiningServers: joining, LeavingServers: leaving, NewMembers: members, CurConfigID: fromConfig}
	h.out = req.Encode(h.out)
	return h.commitLocked(e, start)
}

func (h *Handle) queueWhoAmI(e *completion.Entry) error {
	if err := h.admit(e); err != nil {
		return err
	}
	start := h.beginFrameLocked(e, serialize.OpWhoAmI, "")
	return h.commitLocked(e, start) // the request is the header alone
}
