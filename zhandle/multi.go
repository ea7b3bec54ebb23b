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
	Op   serialize.OpCode
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
	dst = appendMultiHeader(dst, op)
	sp := h.serverPath(o.Path)
	if op == serialize.OpCreateTTL {
		req := serialize.CreateTTLRequest{Path: sp, Data: o.Data, ACL: o.ACL, Flags: int32(o.Mode), TTL: o.TTL.Milliseconds()}
		return req.Encode(dst), nil
	}
	req := serialize.CreateRequest{Path: sp, Data: o.Data, ACL: o.ACL, Flags: int32(o.Mode)}
	return req.Encode(dst), nil
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
// that operation.
func (h *Handle) Multi(ctx context.Context, ops ...Op) ([]OpResult, error) {
	e := completion.Get(true)
	if err := h.queueMulti(e, ops); err != nil {
		return nil, dropEntry(e, err)
	}
	if err := e.Wait(ctx); err != nil {
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
	if err := h.lockForRequest(); err != nil {
		return err
	}
	start := h.beginFrameLocked(e, serialize.OpMulti)
	for _, op := range ops {
		var err error
		if op == nil {
			err = fmt.Errorf("%w: nil operation", ErrBadArguments)
		} else {
			h.out, err = op.appendOp(h, h.out)
		}
		if err != nil {
			h.out = h.out[:start]
			h.mu.Unlock()
			return err
		}
	}
	end := serialize.MultiHeader{Type: -1, Done: true, Err: -1}
	h.out = end.Encode(h.out)
	return h.commitLocked(e, start)
}

// decodeMulti decodes a MultiResponse: a MultiHeader before each result
// and a final one with done set.
func (h *Handle) decodeMulti(body []byte) ([]OpResult, error) {
	var results []OpResult
	for off := 0; ; {
		var mh serialize.MultiHeader
		n, err := mh.Decode(body[off:])
		if err != nil {
			return nil, err
		}
		off += n
		if mh.Done {
			return results, nil
		}
		r := OpResult{Op: serialize.OpCode(mh.Type)}
		switch r.Op {
		case serialize.OpCreate:
			var resp serialize.CreateResponse
			n, err = resp.Decode(body[off:])
			r.Path = h.clientPath(resp.Path)
		case serialize.OpCreate2, serialize.OpCreateContainer, serialize.OpCreateTTL:
			var resp serialize.Create2Response
			n, err = resp.Decode(body[off:])
			r.Path, r.Stat = h.clientPath(resp.Path), resp.Stat
		case serialize.OpSetData:
			n, err = r.Stat.Decode(body[off:])
		case serialize.OpDelete, serialize.OpCheck:
			n = 0
		case serialize.OpError:
			var resp serialize.ErrorResponse
			n, err = resp.Decode(body[off:])
			r.Err = asError(Error(resp.Err))
		default:
			return nil, fmt.Errorf("multi: unknown result type %d", mh.Type)
		}
		if err != nil {
			return nil, err
		}
		off += n
		results = append(results, r)
	}
}
