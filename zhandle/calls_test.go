package zhandle

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// Every operation as one value, call, in its two forms (sync and async),
// so that a test runs both with the same expectations.

// reply is the outcome of one call, synchronous or asynchronous, with
// every slice copied out of the callback.
type reply struct {
	Err      error
	Path     string
	Data     []byte
	Stat     Stat
	HasStat  bool // a Stat was returned (a non-nil *Stat given to a callback)
	Children []string
	ACL      []ACL
	Results  []OpResult
}

// replyCmp compares replies: errors by errors.Is either way, children in
// any order, nil and empty slices alike.
var replyCmp = cmp.Options{
	cmp.Comparer(func(a, b error) bool { return errors.Is(a, b) || errors.Is(b, a) }),
	cmpopts.SortSlices(func(a, b string) bool { return a < b }),
	cmpopts.EquateEmpty(),
}

// replyFunc receives a reply; its methods adapt it to each completion type.
type replyFunc func(reply)

func statOf(s *Stat) (Stat, bool) {
	if s == nil {
		return Stat{}, false
	}
	return *s, true
}

func (f replyFunc) void() VoidCompletion { return func(err error) { f(reply{Err: err}) } }

func (f replyFunc) stat() StatCompletion {
	return func(err error, s *Stat) {
		r := reply{Err: err}
		r.Stat, r.HasStat = statOf(s)
		f(r)
	}
}

func (f replyFunc) data() DataCompletion {
	return func(err error, data []byte, s *Stat) {
		r := reply{Err: err, Data: bytes.Clone(data)}
		r.Stat, r.HasStat = statOf(s)
		f(r)
	}
}

func (f replyFunc) strings() StringsCompletion {
	return func(err error, children []string) { f(reply{Err: err, Children: append([]string(nil), children...)}) }
}

func (f replyFunc) stringsStat() StringsStatCompletion {
	return func(err error, children []string, s *Stat) {
		r := reply{Err: err, Children: append([]string(nil), children...)}
		r.Stat, r.HasStat = statOf(s)
		f(r)
	}
}

func (f replyFunc) str() StringCompletion {
	return func(err error, value string) { f(reply{Err: err, Path: value}) }
}

func (f replyFunc) strStat() StringStatCompletion {
	return func(err error, path string, s *Stat) {
		r := reply{Err: err, Path: path}
		r.Stat, r.HasStat = statOf(s)
		f(r)
	}
}

func (f replyFunc) acl() ACLCompletion {
	return func(err error, acl []ACL, s *Stat) {
		r := reply{Err: err, ACL: append([]ACL(nil), acl...)}
		r.Stat, r.HasStat = statOf(s)
		f(r)
	}
}

func (f replyFunc) multi() MultiCompletion {
	return func(err error, results []OpResult) { f(reply{Err: err, Results: append([]OpResult(nil), results...)}) }
}

// call is one operation in both its forms, applied to the node at p; async
// is nil for the few without an asynchronous form.
type call struct {
	sync  func(ctx context.Context, h *Handle, p string) reply
	async func(h *Handle, p string, done replyFunc) error
}

// run makes the call on p, asynchronously or not, and returns its reply.
// An asynchronous call refused when queued fails the test.
func (cl call) run(t *testing.T, h *Handle, async bool, p string) reply {
	t.Helper()
	if !async {
		return cl.sync(testContext(t), h, p)
	}
	if cl.async == nil {
		t.Fatal("the call has no asynchronous form")
	}
	return await(t, func(done func(reply)) error { return cl.async(h, p, done) })
}

// viaDefault, given as the watcher of a read call, makes it watch=true:
// the event goes to the handle's default watcher.
var viaDefault Watcher = newRecorder()

// The calls. A read call's watcher w is nil (no watch), viaDefault
// (watch=true) or any other (the W... form).

func createCall(data []byte, acl []ACL, mode CreateMode) call {
	return call{
		sync: func(ctx context.Context, h *Handle, p string) reply {
			path, err := h.Create(ctx, p, data, acl, mode)
			return reply{Err: err, Path: path}
		},
		async: func(h *Handle, p string, done replyFunc) error { return h.ACreate(p, data, acl, mode, done.str()) },
	}
}

func create2Call(data []byte, acl []ACL, mode CreateMode) call {
	return call{
		sync: func(ctx context.Context, h *Handle, p string) reply {
			path, st, err := h.Create2(ctx, p, data, acl, mode)
			return reply{Err: err, Path: path, Stat: st, HasStat: err == nil}
		},
		async: func(h *Handle, p string, done replyFunc) error { return h.ACreate2(p, data, acl, mode, done.strStat()) },
	}
}

func createTTLCall(data []byte, acl []ACL, mode CreateMode, ttl time.Duration) call {
	return call{
		sync: func(ctx context.Context, h *Handle, p string) reply {
			path, st, err := h.CreateTTL(ctx, p, data, acl, mode, ttl)
			return reply{Err: err, Path: path, Stat: st, HasStat: err == nil}
		},
		async: func(h *Handle, p string, done replyFunc) error {
			return h.ACreateTTL(p, data, acl, mode, ttl, done.strStat())
		},
	}
}

func deleteCall(version int32) call {
	return call{
		sync: func(ctx context.Context, h *Handle, p string) reply {
			return reply{Err: h.Delete(ctx, p, version)}
		},
		async: func(h *Handle, p string, done replyFunc) error { return h.ADelete(p, version, done.void()) },
	}
}

func existsCall(w Watcher) call {
	return call{
		sync: func(ctx context.Context, h *Handle, p string) reply {
			var st Stat
			var err error
			switch w {
			case nil, viaDefault:
				st, err = h.Exists(ctx, p, w != nil)
			default:
				st, err = h.WExists(ctx, p, w)
			}
			return reply{Err: err, Stat: st, HasStat: err == nil}
		},
		async: func(h *Handle, p string, done replyFunc) error {
			switch w {
			case nil, viaDefault:
				return h.AExists(p, w != nil, done.stat())
			}
			return h.AWExists(p, w, done.stat())
		},
	}
}

func getCall(w Watcher) call {
	return call{
		sync: func(ctx context.Context, h *Handle, p string) reply {
			var data []byte
			var st Stat
			var err error
			switch w {
			case nil, viaDefault:
				data, st, err = h.Get(ctx, p, w != nil)
			default:
				data, st, err = h.WGet(ctx, p, w)
			}
			return reply{Err: err, Data: data, Stat: st, HasStat: err == nil}
		},
		async: func(h *Handle, p string, done replyFunc) error {
			switch w {
			case nil, viaDefault:
				return h.AGet(p, w != nil, done.data())
			}
			return h.AWGet(p, w, done.data())
		},
	}
}

// getIntoCall is GetInto with a buffer of its own; it has no asynchronous
// form.
func getIntoCall() call {
	return call{sync: func(ctx context.Context, h *Handle, p string) reply {
		data, st, err := h.GetInto(ctx, p, make([]byte, 0, 64), false)
		return reply{Err: err, Data: data, Stat: st, HasStat: err == nil}
	}}
}

// removeWatchesCall is RemoveWatches; it has no asynchronous form.
func removeWatchesCall(wt WatcherType, w Watcher, local bool) call {
	return call{sync: func(ctx context.Context, h *Handle, p string) reply {
		return reply{Err: h.RemoveWatches(ctx, p, wt, w, local)}
	}}
}

func childrenCall(w Watcher) call {
	return call{
		sync: func(ctx context.Context, h *Handle, p string) reply {
			var children []string
			var err error
			switch w {
			case nil, viaDefault:
				children, err = h.GetChildren(ctx, p, w != nil)
			default:
				children, err = h.WGetChildren(ctx, p, w)
			}
			return reply{Err: err, Children: children}
		},
		async: func(h *Handle, p string, done replyFunc) error {
			switch w {
			case nil, viaDefault:
				return h.AGetChildren(p, w != nil, done.strings())
			}
			return h.AWGetChildren(p, w, done.strings())
		},
	}
}

func children2Call(w Watcher) call {
	return call{
		sync: func(ctx context.Context, h *Handle, p string) reply {
			var children []string
			var st Stat
			var err error
			switch w {
			case nil, viaDefault:
				children, st, err = h.GetChildren2(ctx, p, w != nil)
			default:
				children, st, err = h.WGetChildren2(ctx, p, w)
			}
			return reply{Err: err, Children: children, Stat: st, HasStat: err == nil}
		},
		async: func(h *Handle, p string, done replyFunc) error {
			switch w {
			case nil, viaDefault:
				return h.AGetChildren2(p, w != nil, done.stringsStat())
			}
			return h.AWGetChildren2(p, w, done.stringsStat())
		},
	}
}

func setCall(data []byte, version int32) call {
	return call{
		sync: func(ctx context.Context, h *Handle, p string) reply {
			st, err := h.Set(ctx, p, data, version)
			return reply{Err: err, Stat: st, HasStat: err == nil}
		},
		async: func(h *Handle, p string, done replyFunc) error { return h.ASet(p, data, version, done.stat()) },
	}
}

func getACLCall() call {
	return call{
		sync: func(ctx context.Context, h *Handle, p string) reply {
			acl, st, err := h.GetACL(ctx, p)
			return reply{Err: err, ACL: acl, Stat: st, HasStat: err == nil}
		},
		async: func(h *Handle, p string, done replyFunc) error { return h.AGetACL(p, done.acl()) },
	}
}

func setACLCall(version int32, acl []ACL) call {
	return call{
		sync: func(ctx context.Context, h *Handle, p string) reply {
			return reply{Err: h.SetACL(ctx, p, version, acl)}
		},
		async: func(h *Handle, p string, done replyFunc) error { return h.ASetACL(p, version, acl, done.void()) },
	}
}

func syncCall() call {
	return call{
		sync: func(ctx context.Context, h *Handle, p string) reply {
			path, err := h.Sync(ctx, p)
			return reply{Err: err, Path: path}
		},
		async: func(h *Handle, p string, done replyFunc) error { return h.ASync(p, done.str()) },
	}
}

// multiCall runs the operations ops(p) as one transaction.
func multiCall(ops func(p string) []Op) call {
	return call{
		sync: func(ctx context.Context, h *Handle, p string) reply {
			results, err := h.Multi(ctx, ops(p)...)
			return reply{Err: err, Results: results}
		},
		async: func(h *Handle, p string, done replyFunc) error { return h.AMulti(ops(p), done.multi()) },
	}
}

// getConfigCall ignores p: the config node is outside any chroot.
func getConfigCall() call {
	return call{
		sync: func(ctx context.Context, h *Handle, _ string) reply {
			data, st, err := h.GetConfig(ctx, false)
			return reply{Err: err, Data: data, Stat: st, HasStat: err == nil}
		},
		async: func(h *Handle, _ string, done replyFunc) error { return h.AGetConfig(false, done.data()) },
	}
}

// addAuthCall ignores p.
func addAuthCall(scheme string, cert []byte) call {
	return call{
		sync: func(ctx context.Context, h *Handle, _ string) reply {
			return reply{Err: h.AddAuth(ctx, scheme, cert)}
		},
		async: func(h *Handle, _ string, done replyFunc) error { return h.AAddAuth(scheme, cert, done.void()) },
	}
}
