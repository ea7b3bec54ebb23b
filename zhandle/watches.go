package zhandle

import (
	"context"
	"fmt"

	"github.com/zkloop/zkloop/completion"
	"github.com/zkloop/zkloop/hashtable"
	"github.com/zkloop/zkloop/serialize"
)

// RemoveWatches removes the watches of type wt that w set on path
// (zoo_remove_watches); w nil removes every watcher of that type, as
// RemoveAllWatches. Unless local, the server is asked first: when no other
// watcher of the handle has that type of watch on the path (w nil, or w
// the only one), the server's watch is removed (removeWatches); otherwise
// other watchers still rely on it, so the server is only asked whether it
// still watches the path (checkWatches), as the Java client always does
// for one watcher. Each removed watcher receives a watch-removed
// event. ErrNoWatcher when nothing matches. A 3.8 server knows no
// persistent watcher types: removing persistent watches server-side works
// there only while the handle has no other watch on the path (it is then
// sent as "any"); otherwise the server answers ErrMarshalling.
func (h *Handle) RemoveWatches(ctx context.Context, path string, wt WatcherType, w Watcher, local bool) error {
	e := completion.GetSync(ctx)
	if err := h.queueRemoveWatches(e, path, wt, w, local); err != nil {
		return dropEntry(e, err)
	}
	if local {
		completion.Put(e)
		return nil
	}
	return h.waitVoid(e)
}

// RemoveAllWatches removes every watch of type wt on path
// (zoo_remove_all_watches).
func (h *Handle) RemoveAllWatches(ctx context.Context, path string, wt WatcherType, local bool) error {
	return h.RemoveWatches(ctx, path, wt, nil, local)
}

// watchRemoval is what a removeWatches request removes locally once the
// server agrees.
type watchRemoval struct {
	path    string // server path
	wt      WatcherType
	watcher Watcher
}

func (h *Handle) queueRemoveWatches(e *completion.Entry, path string, wt WatcherType, w Watcher, local bool) error {
	if err := validatePath(path, false); err != nil {
		return err
	}
	if wt < WatcherChildren || wt > WatcherPersistentRecursive {
		return fmt.Errorf("%w: unknown watcher type %d", ErrBadArguments, int32(wt))
	}
	if err := e.ContextErr(); err != nil {
		return err // a local removal too changes nothing once ctx is done
	}
	sp := h.serverPath(path)
	if !local {
		// The state first, as remove_watches in zookeeper.c: a closed or
		// expired handle says so rather than ErrNoWatcher (Close clears
		// the tables).
		if err := h.admit(e); err != nil {
			return err
		}
		h.mu.Unlock()
	}
	if !h.watches.Contains(sp, wt, w) {
		return ErrNoWatcher
	}
	if local {
		var events completion.List
		h.queueRemovedEvents(&events, sp, wt, w)
		h.completions.PushList(&events)
		return nil
	}
	e.Value = watchRemoval{path: sp, wt: wt, watcher: w}
	op := serialize.OpRemoveWatches
	if w != nil && !h.watches.Sole(sp, wt, w) {
		op = serialize.OpCheckWatches // the server's watch serves other watchers still
	}
	if err := h.admit(e); err != nil {
		return err
	}
	start := h.beginFrameLocked(e, op, sp)
	req := serialize.RemoveWatchesRequest{Path: sp, Type: int32(h.wireWatcherType(sp, wt))} // CheckWatchesRequest has the same layout
	h.out = req.Encode(h.out)
	return h.commitLocked(e, start)
}

// wireWatcherType is the type sent to the server to remove watches of type
// wt. Servers before 3.9 know only children, data and any, and "any"
// removes persistent watches too; so when persistent watches are all the
// handle has on the path, "any" removes exactly them on every server. With
// other watches there, the exact type is sent (3.9 and later).
func (h *Handle) wireWatcherType(sp string, wt WatcherType) WatcherType {
	if wt != WatcherPersistent && wt != WatcherPersistentRecursive {
		return wt
	}
	other := WatcherPersistent
	if wt == WatcherPersistent {
		other = WatcherPersistentRecursive
	}
	for _, t := range [...]WatcherType{WatcherChildren, WatcherData, other} {
		if h.watches.Contains(sp, t, nil) {
			return wt
		}
	}
	return WatcherAny
}

// removeLocalWatches runs on the loop when the server accepted a
// removeWatches or checkWatches request.
func (h *Handle) removeLocalWatches(e *completion.Entry) {
	if r, ok := e.Value.(watchRemoval); ok {
		h.queueRemovedEvents(&h.c.completed, r.path, r.wt, r.watcher)
		e.Value = nil
	}
}

// queueRemovedEvents removes the matching watchers from the tables and
// queues a watch-removed event for each on l.
func (h *Handle) queueRemovedEvents(l *completion.List, sp string, wt WatcherType, w Watcher) {
	for _, r := range h.watches.Remove(sp, wt, w) {
		n := newNotification(r.Type, h.State(), h.clientPath(sp))
		n.Watchers = append(n.Watchers, r.Watcher)
		l.PushBack(n)
	}
}

// AddWatchMode is the kind of watch AddWatch sets.
type AddWatchMode = serialize.AddWatchMode

// Add-watch modes.
const (
	AddWatchPersistent          = serialize.AddWatchPersistent
	AddWatchPersistentRecursive = serialize.AddWatchPersistentRecursive
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
	start := h.beginFrameLocked(e, serialize.OpAddWatch, sp)
	req := serialize.AddWatchRequest{Path: sp, Mode: int32(mode)}
	h.out = req.Encode(h.out)
	return h.commitLocked(e, start)
}
