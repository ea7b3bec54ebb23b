package zhandle

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/zkloop/zkloop/serialize"
	"github.com/zkloop/zkloop/zktest"
)

// doneContexts are the two ways a context is over before a call starts.
func doneContexts(t *testing.T) []struct {
	name string
	ctx  context.Context
	want error
} {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	passed, cancelPassed := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	t.Cleanup(cancelPassed)
	return []struct {
		name string
		ctx  context.Context
		want error
	}{
		{"cancelled", cancelled, context.Canceled},
		{"deadline passed", passed, context.DeadlineExceeded},
	}
}

// sentOps returns the opcodes of the request frames the proxy recorded,
// pings left out (the loop sends them on its own schedule).
func sentOps(t *testing.T, p *zktest.Proxy) []serialize.OpCode {
	t.Helper()
	var ops []serialize.OpCode
	for _, frame := range p.ClientFrames() {
		if len(frame) < 8 {
			t.Fatalf("recorded frame of %d bytes, shorter than a request header", len(frame))
		}
		if op := serialize.OpCode(int32(binary.BigEndian.Uint32(frame[4:8]))); op != serialize.OpPing {
			ops = append(ops, op)
		}
	}
	return ops
}

// A write whose context is done before the call starts returns the
// context's error and never reaches the server: 500 calls of each kind
// leave the tree as it was, seen from another session, and the proxy
// between handle and server carries none of them.
func TestDoneContextWritesNothing(t *testing.T) {
	owner := newRealClient(t)
	proxy := zktest.NewProxy(t, owner.srv.Addr())
	c := dial(t, owner.srv, proxy.Addr()+owner.chroot())
	ctx := testContext(t)

	const calls = 500
	mustCreate(t, owner.Handle, "/kept", []byte("original"), Persistent)
	mustCreate(t, owner.Handle, "/parent", nil, Persistent)
	before := mustStat(t, owner.Handle, "/kept")

	writes := []struct {
		name string
		call func(ctx context.Context, i int) error
	}{
		{"Set", func(ctx context.Context, _ int) error {
			_, err := c.Set(ctx, "/kept", []byte("changed"), -1)
			return err
		}},
		{"Create", func(ctx context.Context, i int) error {
			_, err := c.Create(ctx, "/parent/n"+strconv.Itoa(i), nil, OpenACLUnsafe, Persistent)
			return err
		}},
		{"Delete", func(ctx context.Context, _ int) error {
			return c.Delete(ctx, "/kept", -1)
		}},
		{"Multi", func(ctx context.Context, i int) error {
			_, err := c.Multi(ctx,
				CreateOp{Path: "/parent/m" + strconv.Itoa(i), ACL: OpenACLUnsafe},
				SetDataOp{Path: "/kept", Data: []byte("multi"), Version: -1})
			return err
		}},
	}
	for _, done := range doneContexts(t) {
		for _, w := range writes {
			t.Run(w.name+"/"+done.name, func(t *testing.T) {
				proxy.RecordClientFrames()
				for i := range calls {
					if err := w.call(done.ctx, i); !errors.Is(err, done.want) {
						t.Fatalf("call %d: err = %v, want %v", i, err, done.want)
					}
				}
				// Replies come in request order: once this one is back,
				// anything the calls above had sent would have been applied.
				if _, err := c.Sync(ctx, "/"); err != nil {
					t.Fatalf("Sync: %v", err)
				}
				if diff := cmp.Diff([]serialize.OpCode{serialize.OpSync}, sentOps(t, proxy)); diff != "" {
					t.Errorf("requests that reached the proxy (-want +got):\n%s", diff)
				}
				data, stat, err := owner.Get(ctx, "/kept", false)
				if err != nil || string(data) != "original" || stat.Version != before.Version {
					t.Errorf("/kept seen by another session: %q version %d, %v; want %q version %d",
						data, stat.Version, err, "original", before.Version)
				}
				if kids, err := owner.GetChildren(ctx, "/parent", false); err != nil || len(kids) != 0 {
					t.Errorf("children of /parent seen by another session: %q, %v; want none", kids, err)
				}
			})
		}
	}
}

// Every other synchronous call also returns the context's error without
// sending anything when its context is done before it starts; AddAuth
// does not even keep the identity for later reconnects.
func TestDoneContextSendsNothing(t *testing.T) {
	owner := newRealClient(t)
	proxy := zktest.NewProxy(t, owner.srv.Addr())
	c := dial(t, owner.srv, proxy.Addr()+owner.chroot())
	mustCreate(t, owner.Handle, "/n", []byte("x"), Persistent)

	calls := map[string]func(ctx context.Context) error{
		"Create2": func(ctx context.Context) error {
			_, _, err := c.Create2(ctx, "/c2", nil, OpenACLUnsafe, Persistent)
			return err
		},
		"CreateTTL": func(ctx context.Context) error {
			_, _, err := c.CreateTTL(ctx, "/ttl", nil, OpenACLUnsafe, PersistentWithTTL, time.Minute)
			return err
		},
		"Exists":  func(ctx context.Context) error { _, err := c.Exists(ctx, "/n", true); return err },
		"WExists": func(ctx context.Context) error { _, err := c.WExists(ctx, "/n", newRecorder()); return err },
		"Get":     func(ctx context.Context) error { _, _, err := c.Get(ctx, "/n", true); return err },
		"GetInto": func(ctx context.Context) error {
			_, _, err := c.GetInto(ctx, "/n", make([]byte, 0, 8), false)
			return err
		},
		"WGet":          func(ctx context.Context) error { _, _, err := c.WGet(ctx, "/n", newRecorder()); return err },
		"GetChildren":   func(ctx context.Context) error { _, err := c.GetChildren(ctx, "/n", true); return err },
		"GetChildren2":  func(ctx context.Context) error { _, _, err := c.GetChildren2(ctx, "/n", false); return err },
		"WGetChildren":  func(ctx context.Context) error { _, err := c.WGetChildren(ctx, "/n", newRecorder()); return err },
		"WGetChildren2": func(ctx context.Context) error { _, _, err := c.WGetChildren2(ctx, "/n", newRecorder()); return err },
		"GetACL":        func(ctx context.Context) error { _, _, err := c.GetACL(ctx, "/n"); return err },
		"SetACL":        func(ctx context.Context) error { return c.SetACL(ctx, "/n", -1, ReadACLUnsafe) },
		"Sync":          func(ctx context.Context) error { _, err := c.Sync(ctx, "/n"); return err },
		"GetConfig":     func(ctx context.Context) error { _, _, err := c.GetConfig(ctx, false); return err },
		"Reconfig": func(ctx context.Context) error {
			_, _, err := c.Reconfig(ctx, "", "1", "", -1)
			return err
		},
		"AddAuth":  func(ctx context.Context) error { return c.AddAuth(ctx, "digest", []byte("user:secret")) },
		"AddWatch": func(ctx context.Context) error { return c.AddWatch(ctx, "/n", AddWatchPersistent, nil) },
		"RemoveWatches": func(ctx context.Context) error {
			return c.RemoveWatches(ctx, "/n", WatcherAny, nil, false)
		},
		"RemoveWatches local": func(ctx context.Context) error {
			return c.RemoveAllWatches(ctx, "/n", WatcherAny, true)
		},
		"WhoAmI":               func(ctx context.Context) error { _, err := c.WhoAmI(ctx); return err },
		"GetEphemerals":        func(ctx context.Context) error { _, err := c.GetEphemerals(ctx, "/"); return err },
		"GetAllChildrenNumber": func(ctx context.Context) error { _, err := c.GetAllChildrenNumber(ctx, "/n"); return err },
		"MultiRead": func(ctx context.Context) error {
			_, err := c.MultiRead(ctx, GetDataOp{Path: "/n"}, GetChildrenOp{Path: "/n"})
			return err
		},
	}
	// A watch the handle holds, so that a local removal would have
	// something to remove.
	if _, err := c.Exists(testContext(t), "/n", true); err != nil {
		t.Fatalf("Exists: %v", err)
	}
	for _, done := range doneContexts(t) {
		for name, call := range calls {
			t.Run(name+"/"+done.name, func(t *testing.T) {
				proxy.RecordClientFrames()
				if err := call(done.ctx); !errors.Is(err, done.want) {
					t.Fatalf("err = %v, want %v", err, done.want)
				}
				if _, err := c.Sync(testContext(t), "/"); err != nil {
					t.Fatalf("Sync: %v", err)
				}
				if diff := cmp.Diff([]serialize.OpCode{serialize.OpSync}, sentOps(t, proxy)); diff != "" {
					t.Errorf("requests that reached the proxy (-want +got):\n%s", diff)
				}
			})
		}
	}

	// Nothing changed: the ACL is still open, the watch still there, and
	// after a reconnect the session holds no digest identity.
	if acl, _, err := owner.GetACL(testContext(t), "/n"); err != nil || fmt.Sprint(acl) != fmt.Sprint(OpenACLUnsafe) {
		t.Errorf("ACL of /n = %v, %v; want %v", acl, err, OpenACLUnsafe)
	}
	events := newRecorder()
	c.SetWatcher(events)
	proxy.Cut()
	mustSet(t, owner.Handle, "/n", []byte("y"))
	events.expect(t, Event{Type: EventSession, State: StateConnecting}, Event{Type: EventSession, State: StateConnected},
		watchEvent(EventChanged, "/n"))
	ids, err := c.WhoAmI(testContext(t))
	if err != nil {
		t.Fatalf("WhoAmI: %v", err)
	}
	for _, id := range ids {
		if id.AuthScheme == "digest" {
			t.Errorf("WhoAmI after reconnect = %+v: an AddAuth with a done context was kept", ids)
		}
	}
}
