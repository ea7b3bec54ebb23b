package zhandle

import (
	"bytes"
	"fmt"
	"time"

	"github.com/zkloop/zkloop/completion"
	"github.com/zkloop/zkloop/serialize"
)

// deliver runs on the completion goroutine (process_completions): it
// calls the watchers of a notification, or decodes an asynchronous reply
// and calls its callback, then recycles the entry.
func (h *Handle) deliver(e *completion.Entry) {
	defer completion.Put(e)
	if e.Op == serialize.OpNotify {
		h.notify(e)
		return
	}
	rc := e.Rc
	if rc == 0 || e.Op == serialize.OpMulti && len(e.Reply) > 0 {
		if err := h.decodeResult(e, e.Reply, true); err != nil {
			h.log.Error("undecodable reply", "op", e.Op, "err", err)
			rc = ErrMarshalling
		}
	}
	err := asError(rc)
	var stat *Stat
	if err == nil {
		stat = (*Stat)(&e.Stat)
	}
	switch cb := e.Callback.(type) {
	case VoidCompletion:
		if cb != nil {
			cb(err)
		}
	case StatCompletion:
		if cb != nil {
			cb(err, stat)
		}
	case DataCompletion:
		if cb != nil {
			cb(err, e.Data, stat)
		}
	case StringsCompletion:
		if cb != nil {
			cb(err, e.Children)
		}
	case StringsStatCompletion:
		if cb != nil {
			cb(err, e.Children, stat)
		}
	case StringCompletion:
		if cb != nil {
			cb(err, e.Path)
		}
	case StringStatCompletion:
		if cb != nil {
			cb(err, e.Path, stat)
		}
	case ACLCompletion:
		if cb != nil {
			acl, _ := e.Value.([]ACL)
			cb(err, acl, stat)
		}
	case CountCompletion:
		if cb != nil {
			n, _ := e.Value.(int32)
			cb(err, n)
		}
	case WhoAmICompletion:
		if cb != nil {
			ids, _ := e.Value.([]ClientInfo)
			cb(err, ids)
		}
	case MultiReadCompletion:
		if cb != nil {
			results, _ := e.Value.([]ReadResult)
			cb(err, results)
		}
	case MultiCompletion:
		if cb != nil {
			results, _ := e.Value.([]OpResult)
			cb(multiError(rc, results), results)
		}
	}
}

// decodeResult decodes a successful reply body into e's result fields
// (deserialize_response). With alias, data slices point into body (the
// callback path); without, they are copied — into e.Data's capacity when
// the caller gave one (GetInto).
func (h *Handle) decodeResult(e *completion.Entry, body []byte, alias bool) error {
	switch e.Op {
	case serialize.OpCreate:
		var resp serialize.CreateResponse
		if _, err := resp.Decode(body); err != nil {
			return err
		}
		e.Path = h.clientPath(resp.Path)
	case serialize.OpCreate2, serialize.OpCreateContainer, serialize.OpCreateTTL:
		var resp serialize.Create2Response
		if _, err := resp.Decode(body); err != nil {
			return err
		}
		e.Path, e.Stat = h.clientPath(resp.Path), resp.Stat
	case serialize.OpSync:
		var resp serialize.SyncResponse
		if _, err := resp.Decode(body); err != nil {
			return err
		}
		e.Path = h.clientPath(resp.Path)
	case serialize.OpExists, serialize.OpSetData:
		// ExistsResponse and SetDataResponse are a bare Stat.
		if _, err := e.Stat.Decode(body); err != nil {
			return err
		}
	case serialize.OpGetData, serialize.OpReconfig:
		return h.decodeData(e, body, alias)
	case serialize.OpGetChildren, serialize.OpGetChildren2:
		rd := serialize.NewReader(body)
		rd.SetMaxBuffer(h.cfg.maxFrame)
		e.Children = rd.Strings(e.Children[:0])
		if err := rd.Err(); err != nil {
			return err
		}
		if e.Op == serialize.OpGetChildren2 {
			if _, err := e.Stat.Decode(body[rd.Offset():]); err != nil {
				return err
			}
		}
	case serialize.OpGetACL:
		var resp serialize.GetACLResponse
		if _, err := resp.Decode(body); err != nil {
			return err
		}
		e.Value, e.Stat = userACL(resp.ACL), resp.Stat
	case serialize.OpMulti:
		results, err := h.decodeMulti(body)
		if err != nil {
			return err
		}
		e.Value = results
	case serialize.OpGetEphemerals:
		rd := serialize.NewReader(body)
		rd.SetMaxBuffer(h.cfg.maxFrame)
		e.Children = rd.Strings(e.Children[:0])
		if err := rd.Err(); err != nil {
			return err
		}
		for i, p := range e.Children {
			e.Children[i] = h.clientPath(p)
		}
	case serialize.OpGetAllChildrenNumber:
		var resp serialize.GetAllChildrenNumberResponse
		if _, err := resp.Decode(body); err != nil {
			return err
		}
		e.Value = resp.TotalNumber
	case serialize.OpWhoAmI:
		var resp serialize.WhoAmIResponse
		if _, err := resp.Decode(body); err != nil {
			return err
		}
		ids := make([]ClientInfo, len(resp.ClientInfo))
		for i, id := range resp.ClientInfo {
			ids[i] = ClientInfo(id)
		}
		e.Value = ids
	case serialize.OpMultiRead:
		results, err := h.decodeMultiRead(body)
		if err != nil {
			return err
		}
		e.Value = results
	case serialize.OpDelete, serialize.OpSetACL, serialize.OpCheck, serialize.OpSetAuth,
		serialize.OpRemoveWatches, serialize.OpCheckWatches, serialize.OpAddWatch:
		// No result beyond the return code.
	default:
		return fmt.Errorf("no decoder for %v replies", e.Op)
	}
	return nil
}

// decodeData decodes a GetDataResponse: data (aliased, appended to the
// caller's buffer, or copied) and Stat.
func (h *Handle) decodeData(e *completion.Entry, body []byte, alias bool) error {
	rd := serialize.NewReader(body)
	rd.SetMaxBuffer(h.cfg.maxFrame)
	data := rd.BufferAlias()
	if err := rd.Err(); err != nil {
		return err
	}
	if _, err := e.Stat.Decode(body[rd.Offset():]); err != nil {
		return err
	}
	switch {
	case alias:
		e.Data = data
	case e.Data != nil:
		e.Data = append(e.Data[:0], data...)
	default:
		e.Data = bytes.Clone(data)
	}
	return nil
}

// notify delivers an event to the watchers collected for it, telling the
// tracer: of a session event before the watchers get it, of a watch event
// after.
func (h *Handle) notify(e *completion.Entry) {
	ev := Event{Type: e.EventType, State: e.State, Path: e.Path}
	if ev.Type == EventSession && h.trace.session != nil {
		h.trace.session.TraceSessionState(SessionEvent{State: ev.State, SessionID: h.sessionID.Load()})
	}
	var delay time.Duration
	if !e.TraceStart.IsZero() {
		delay = time.Since(e.TraceStart)
	}
	for _, w := range e.Watchers {
		w.(Watcher).Process(ev)
	}
	if ev.Type != EventSession && h.trace.watch != nil {
		h.trace.watch.TraceWatchDelivered(WatchDelivery{Event: ev, Watchers: len(e.Watchers), Delay: delay})
	}
}
