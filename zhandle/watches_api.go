package zhandle

import (
	"context"
	"fmt"

	"github.com/zkloop/zkloop/completion"
	"github.com/zkloop/zkloop/serialize"
)

// AddAuth adds an identity to the session, e.g. scheme "digest" with
// "user:password" (zoo_add_auth). The handle keeps it and sends it again
// after every reconnect. A failed authentication makes the session
// unrecoverable (StateAuthFailed). If ctx ends while the request is in
// flight, the handle still keeps the identity and the server's answer
// still decides the session's state.
func (h *Handle) AddAuth(ctx context.Context, scheme string, cert []byte) error {
	e := completion.GetSync(ctx)
	if err := h.queueAuth(e, scheme, cert); err != nil {
		return dropEntry(e, err)
	}
	return h.waitVoid(e)
}

// AAddAuth is the asynchronous AddAuth; cb runs when the server has
// answered the auth packet.
func (h *Handle) AAddAuth(scheme string, cert []byte, cb VoidCompletion) error {
	e := asyncEntry(cb)
	return settle(e, h.queueAuth(e, scheme, cert))
}

// queueAuth records the auth and, when a session is established, sends
// the auth packet now; otherwise the handshake sends it.
func (h *Handle) queueAuth(e *completion.Entry, scheme string, cert []byte) error {
	if scheme == "" {
		return fmt.Errorf("%w: empty auth scheme", ErrBadArguments)
	}
	// RequestHeader, AuthPacket type, and the two length prefixes.
	if size := 8 + 4 + 4 + len(scheme) + 4 + len(cert); size > h.cfg.maxFrame {
		return fmt.Errorf("%w: auth packet of %d bytes exceeds the frame limit", ErrBadArguments, size)
	}
	if err := h.admit(e); err != nil {
		return err
	}
	defer h.mu.Unlock()
	e.Op = serialize.OpSetAuth
	e.Xid = serialize.XidAuth
	a := authInfo{scheme: scheme, cert: append([]byte(nil), cert...)}
	if h.state == StateConnected || h.state == StateReadOnly {
		h.out = appendAuthPacket(h.out, scheme, a.cert, h.cfg.maxFrame)
		h.authSent.PushBack(e)
		defer h.loop.Wake()
	} else {
		a.pending = e
	}
	h.auths = append(h.auths, a)
	return nil
}

// RemoveWatches removes the watches of type wt that w set on path
// (zoo_remove_watches); w nil removes every watcher of that type, as
// RemoveAllWatches. Unless local, the server is asked first, as the Java
// client asks it: for one watcher it checks that the server still watches
// the path (checkWatches; other watchers of the handle may rely on the
// server's watch, so it stays), for all of them it removes the server's
// watch (removeWatches). Each removed watcher receives a watch-removed
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
	if w != nil {
		op = serialize.OpCheckWatches
	}
	if err := h.admit(e); err != nil {
		return err
	}
	start := h.beginFrameLocked(e, op)
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
