package zhandle

import (
	"context"
	"fmt"
	"time"

	"github.com/zkloop/zkloop/completion"
	"github.com/zkloop/zkloop/serialize"
)

// Op is one operation of a Multi transaction (zoo_op_t): a CreateOp,
// DeleteOp, SetDataOp or CheckOp.
type Op interface {
	// appendOp validates the operation and appends its MultiHeader and
	// request record to dst.
	appendOp(h *Handle, dst []byte) ([]byte, error)
}

// CreateOp creates a node (zoo_create_op_init). TTL is for the TTL modes.
type CreateOp struct {
	Path string
	Data []byte
	ACL  []ACL
	Mode CreateMode
	TTL  time.Duration
}

// DeleteOp deletes a node if its version matches (zoo_delete_op_init).
type DeleteOp struct {
	Path    string
	Version int32
}

// SetDataOp sets a node's data if its version matches (zoo_set_op_init).
type SetDataOp struct {
	Path    string
	Data    []byte
	Version int32
}

// CheckOp checks a node's version without changing it
// (zoo_check_op_init).
type CheckOp struct {
	Path    string
	Version int32
}

// OpResult is the outcome of one operation of a Multi (zoo_op_result_t).
// Path is set for creates, Stat for setData and stat-returning creates.
type OpResult struct {
	Op   OpCode
	Err  error
	Path string
	Stat Stat
}

func appendMultiHeader(dst []byte, op serialize.OpCode) []byte {
	mh := serialize.MultiHeader{Type: int32(op), Done: false, Err: -1}
	return mh.Encode(dst)
}

func (o CreateOp) appendOp(h *Handle, dst []byte) ([]byte, error) {
	op, err := createOp(o.Mode, o.TTL, false)
	if err != nil {
		return dst, err
	}
	if err := validatePath(o.Path, o.Mode.Sequential()); err != nil {
		return dst, err
	}
	if len(o.ACL) == 0 {
		return dst, fmt.Errorf("%w: empty ACL for %q", ErrInvalidACL, o.Path)
	}
	return appendCreateRequest(appendMultiHeader(dst, op), op, h.serverPath(o.Path), o.Data, h.wireACLLocked(o.ACL), o.Mode, o.TTL), nil
}

func (o DeleteOp) appendOp(h *Handle, dst []byte) ([]byte, error) {
	if err := validatePath(o.Path, false); err != nil {
		return dst, err
	}
	req := serialize.DeleteRequest{Path: h.serverPath(o.Path), Version: o.Version}
	return req.Encode(appendMultiHeader(dst, serialize.OpDelete)), nil
}

func (o SetDataOp) appendOp(h *Handle, dst []byte) ([]byte, error) {
	if err := validatePath(o.Path, false); err != nil {
		return dst, err
	}
	req := serialize.SetDataRequest{Path: h.serverPath(o.Path), Data: o.Data, Version: o.Version}
	return req.Encode(appendMultiHeader(dst, serialize.OpSetData)), nil
}

func (o CheckOp) appendOp(h *Handle, dst []byte) ([]byte, error) {
	if err := validatePath(o.Path, false); err != nil {
		return dst, err
	}
	req := serialize.CheckVersionRequest{Path: h.serverPath(o.Path), Version: o.Version}
	return req.Encode(appendMultiHeader(dst, serialize.OpCheck)), nil
}

// Multi runs the operations as one transaction: all succeed or none does
// (zoo_multi). The results are per operation; when the transaction fails,
// err is the first failure and each result's Err says what happened to
// that operation. If ctx ends while the request is in flight, the
// transaction may or may not have been applied; a CheckOp on a version the
// transaction changes makes a retry fail instead of applying twice.
func (h *Handle) Multi(ctx context.Context, ops ...Op) ([]OpResult, error) {
	e := completion.GetSync(ctx)
	if err := h.queueMulti(e, ops); err != nil {
		return nil, dropEntry(e, err)
	}
	if err := e.Wait(); err != nil {
		return nil, err
	}
	results, _ := e.Value.([]OpResult)
	err := multiError(e.Rc, results)
	completion.Put(e)
	return results, err
}

// multiError is the error of a whole transaction: the reply's, or else the
// first failed operation's (the server reports failures per operation).
func multiError(rc Error, results []OpResult) error {
	if rc != 0 {
		return asError(rc)
	}
	for _, r := range results {
		if r.Err != nil {
			return r.Err
		}
	}
	return nil
}

// AMulti is the asynchronous Multi (zoo_amulti).
func (h *Handle) AMulti(ops []Op, cb MultiCompletion) error {
	e := asyncEntry(cb)
	return settle(e, h.queueMulti(e, ops))
}

func (h *Handle) queueMulti(e *completion.Entry, ops []Op) error {
	return h.queueOps(e, serialize.OpMulti, len(ops), func(i int, dst []byte) ([]byte, error) {
		if ops[i] == nil {
			return dst, fmt.Errorf("%w: nil operation", ErrBadArguments)
		}
		return ops[i].appendOp(h, dst)
	})
}

// queueOps queues a multi or multiRead request: n operations, each a
// MultiHeader and its request, then a MultiHeader with done set. A bad
// operation removes the whole frame again.
func (h *Handle) queueOps(e *completion.Entry, op serialize.OpCode, n int, appendOp func(i int, dst []byte) ([]byte, error)) error {
	if err := h.admit(e); err != nil {
		return err
	}
	start := h.beginFrameLocked(e, op, "")
	for i := range n {
		var err error
		if h.out, err = appendOp(i, h.out); err != nil {
			h.out = h.out[:start]
			h.mu.Unlock()
			return err
		}
	}
	end := serialize.MultiHeader{Type: -1, Done: true, Err: -1}
	h.out = end.Encode(h.out)
	return h.commitLocked(e, start)
}

// decodeOps walks the results of a multi or multiRead reply: a
// MultiHeader before each result, decoded by decodeOne (which returns the
// bytes it consumed), and a final one with done set.
func decodeOps(body []byte, decodeOne func(mh *serialize.MultiHeader, rest []byte) (int, error)) error {
	for off := 0; ; {
		var mh serialize.MultiHeader
		n, err := mh.Decode(body[off:])
		if err != nil {
			return err
		}
		off += n
		if mh.Done {
			return nil
		}
		if n, err = decodeOne(&mh, body[off:]); err != nil {
			return err
		}
		off += n
	}
}

// decodeMulti decodes a MultiResponse into per-operation results.
func (h *Handle) decodeMulti(body []byte) ([]OpResult, error) {
	var results []OpResult
	err := decodeOps(body, func(mh *serialize.MultiHeader, rest []byte) (n int, err error) {
		r := OpResult{Op: OpCode(mh.Type)}
		switch r.Op {
		case serialize.OpCreate:
			var resp serialize.CreateResponse
			n, err = resp.Decode(rest)
			r.Path = h.clientPath(resp.Path)
		case serialize.OpCreate2, serialize.OpCreateContainer, serialize.OpCreateTTL:
			var resp serialize.Create2Response
			n, err = resp.Decode(rest)
			r.Path, r.Stat = h.clientPath(resp.Path), Stat(resp.Stat)
		case serialize.OpSetData:
			n, err = (*serialize.Stat)(&r.Stat).Decode(rest)
		case serialize.OpDelete, serialize.OpCheck:
		case serialize.OpError:
			var resp serialize.ErrorResponse
			n, err = resp.Decode(rest)
			r.Err = asError(Error(resp.Err))
		default:
			return 0, fmt.Errorf("multi: unknown result type %d", mh.Type)
		}
		results = append(results, r)
		return n, err
	})
	return results, err
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

// AMultiRead is the asynchronous MultiRead. Unlike other callbacks' slices,
// the results (their data and children included) are the callback's to
// keep: they are decoded into memory of their own.
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
