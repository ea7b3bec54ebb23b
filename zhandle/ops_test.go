package zhandle

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zkloop/zkloop/serialize"
)

// Tests of the operations against the shared server (sharedserver_test.go).
// Every operation runs in both forms, sync and async (calls_test.go), with
// the same expectations.

var nodeData = []byte("data")

// forms runs f for the synchronous and the asynchronous form.
func forms(t *testing.T, f func(t *testing.T, async bool, form string)) {
	for _, async := range []bool{false, true} {
		form := "sync"
		if async {
			form = "async"
		}
		t.Run(form, func(t *testing.T) { f(t, async, form) })
	}
}

// opCase is one operation on a fresh node path p: setup prepares the
// server, the call runs on p+at, and want computes the expected reply once
// the call has returned (checking the server's state as it goes).
type opCase struct {
	name  string
	setup func(t *testing.T, c *realClient, p string)
	at    string
	call  call
	want  func(t *testing.T, c *realClient, p string) reply
}

func withNode(t *testing.T, c *realClient, p string) {
	mustCreate(t, c.Handle, p, nodeData, Persistent)
}

func withChildren(t *testing.T, c *realClient, p string) {
	withNode(t, c, p)
	mustCreate(t, c.Handle, p+"/a", nil, Persistent)
	mustCreate(t, c.Handle, p+"/b", nil, Ephemeral)
}

func failsWith(err error) func(*testing.T, *realClient, string) reply {
	return func(*testing.T, *realClient, string) reply { return reply{Err: err} }
}

func withStat(t *testing.T, c *realClient, p string) reply {
	return reply{Stat: mustStat(t, c.Handle, p), HasStat: true}
}

// checkGone fails t unless p is absent.
func checkGone(t *testing.T, c *realClient, p string) {
	t.Helper()
	if _, err := c.Exists(testContext(t), p, false); !errors.Is(err, ErrNoNode) {
		t.Errorf("Exists(%q) = %v, want ErrNoNode", p, err)
	}
}

// checkData fails t unless p holds data.
func checkData(t *testing.T, c *realClient, p string, data []byte) {
	t.Helper()
	got, _, err := c.Get(testContext(t), p, false)
	if err != nil || string(got) != string(data) {
		t.Errorf("Get(%q) = %q, %v; want %q", p, got, err, data)
	}
}

func TestOperations(t *testing.T) {
	t.Parallel()
	c := newRealClient(t)
	cases := []opCase{
		{name: "Create", call: createCall(nodeData, OpenACLUnsafe, Persistent),
			want: func(t *testing.T, c *realClient, p string) reply {
				checkData(t, c, p, nodeData)
				return reply{Path: p}
			}},
		{name: "Create2", call: create2Call(nodeData, OpenACLUnsafe, Persistent),
			want: func(t *testing.T, c *realClient, p string) reply {
				return reply{Path: p, Stat: mustStat(t, c.Handle, p), HasStat: true}
			}},
		{name: "CreateTTL", call: createTTLCall(nodeData, OpenACLUnsafe, PersistentWithTTL, time.Hour),
			want: func(t *testing.T, c *realClient, p string) reply {
				return reply{Path: p, Stat: mustStat(t, c.Handle, p), HasStat: true}
			}},
		{name: "CreateMaxTTL", call: createTTLCall(nil, OpenACLUnsafe, PersistentWithTTL, serialize.MaxTTL*time.Millisecond),
			want: func(t *testing.T, c *realClient, p string) reply {
				return reply{Path: p, Stat: mustStat(t, c.Handle, p), HasStat: true}
			}},
		{name: "CreateExisting", setup: withNode, call: createCall(nil, OpenACLUnsafe, Persistent), want: failsWith(ErrNodeExists)},
		{name: "CreateNoParent", at: "/child", call: createCall(nil, OpenACLUnsafe, Persistent), want: failsWith(ErrNoNode)},
		{name: "CreateUnderEphemeral", at: "/child", call: createCall(nil, OpenACLUnsafe, Persistent),
			setup: func(t *testing.T, c *realClient, p string) { mustCreate(t, c.Handle, p, nil, Ephemeral) },
			want:  failsWith(ErrNoChildrenForEphemerals)},
		{name: "CreateCreatorACLWithoutAuth", call: createCall(nil, CreatorAllACL, Persistent), want: failsWith(ErrInvalidACL)},
		{name: "CreateUnknownACLScheme", want: failsWith(ErrInvalidACL),
			call: createCall(nil, []ACL{{Perms: PermAll, ID: ID{Scheme: "nosuch", ID: "x"}}}, Persistent)},
		{name: "Delete", setup: withNode, call: deleteCall(0),
			want: func(t *testing.T, c *realClient, p string) reply {
				checkGone(t, c, p)
				return reply{}
			}},
		{name: "DeleteMissing", call: deleteCall(-1), want: failsWith(ErrNoNode)},
		{name: "DeleteBadVersion", setup: withNode, call: deleteCall(5), want: failsWith(ErrBadVersion)},
		{name: "DeleteNotEmpty", setup: withChildren, call: deleteCall(-1), want: failsWith(ErrNotEmpty)},
		{name: "Exists", setup: withNode, call: existsCall(nil), want: withStat},
		{name: "ExistsMissing", call: existsCall(nil), want: failsWith(ErrNoNode)},
		{name: "Get", setup: withNode, call: getCall(nil),
			want: func(t *testing.T, c *realClient, p string) reply {
				return reply{Data: nodeData, Stat: mustStat(t, c.Handle, p), HasStat: true}
			}},
		{name: "GetEmpty", setup: func(t *testing.T, c *realClient, p string) { mustCreate(t, c.Handle, p, nil, Persistent) },
			call: getCall(nil), want: withStat},
		{name: "GetMissing", call: getCall(nil), want: failsWith(ErrNoNode)},
		{name: "Set", setup: withNode, call: setCall([]byte("new"), 0),
			want: func(t *testing.T, c *realClient, p string) reply {
				checkData(t, c, p, []byte("new"))
				st := mustStat(t, c.Handle, p)
				if st.Version != 1 {
					t.Errorf("version after Set = %d, want 1", st.Version)
				}
				return reply{Stat: st, HasStat: true}
			}},
		{name: "SetBadVersion", setup: withNode, call: setCall(nil, 7), want: failsWith(ErrBadVersion)},
		{name: "SetMissing", call: setCall(nil, -1), want: failsWith(ErrNoNode)},
		{name: "GetChildren", setup: withChildren, call: childrenCall(nil),
			want: func(*testing.T, *realClient, string) reply { return reply{Children: []string{"a", "b"}} }},
		{name: "GetChildrenNone", setup: withNode, call: childrenCall(nil),
			want: func(*testing.T, *realClient, string) reply { return reply{} }},
		{name: "GetChildrenMissing", call: childrenCall(nil), want: failsWith(ErrNoNode)},
		{name: "GetChildren2", setup: withChildren, call: children2Call(nil),
			want: func(t *testing.T, c *realClient, p string) reply {
				return reply{Children: []string{"a", "b"}, Stat: mustStat(t, c.Handle, p), HasStat: true}
			}},
		{name: "GetChildren2Missing", call: children2Call(nil), want: failsWith(ErrNoNode)},
		{name: "GetACL", setup: withNode, call: getACLCall(),
			want: func(t *testing.T, c *realClient, p string) reply {
				return reply{ACL: OpenACLUnsafe, Stat: mustStat(t, c.Handle, p), HasStat: true}
			}},
		{name: "GetACLMissing", call: getACLCall(), want: failsWith(ErrNoNode)},
		{name: "SetACL", setup: withNode, call: setACLCall(0, ReadACLUnsafe),
			want: func(t *testing.T, c *realClient, p string) reply {
				acl, st, err := c.GetACL(testContext(t), p)
				if err != nil || st.Aversion != 1 {
					t.Errorf("GetACL after SetACL: aversion %d, %v; want 1, nil", st.Aversion, err)
				}
				if diff := cmp.Diff(ReadACLUnsafe, acl); diff != "" {
					t.Errorf("ACL after SetACL (-want +got):\n%s", diff)
				}
				return reply{}
			}},
		{name: "SetACLBadVersion", setup: withNode, call: setACLCall(3, ReadACLUnsafe), want: failsWith(ErrBadVersion)},
		{name: "SetACLMissing", call: setACLCall(-1, ReadACLUnsafe), want: failsWith(ErrNoNode)},
		{name: "Sync", setup: withNode, call: syncCall(),
			want: func(_ *testing.T, _ *realClient, p string) reply { return reply{Path: p} }},
		{name: "Multi", call: multiCall(func(p string) []Op {
			return []Op{
				CreateOp{Path: p, ACL: OpenACLUnsafe},
				SetDataOp{Path: p, Data: nodeData, Version: 0},
				CheckOp{Path: p, Version: 1},
				CreateOp{Path: p + "-seq-", ACL: OpenACLUnsafe, Mode: PersistentSequential},
				CreateOp{Path: p + "-gone", ACL: OpenACLUnsafe, Mode: Ephemeral},
				DeleteOp{Path: p + "-gone", Version: 0},
			}
		}), want: func(t *testing.T, c *realClient, p string) reply {
			checkData(t, c, p, nodeData)
			checkGone(t, c, p+"-gone")
			children, err := c.GetChildren(testContext(t), "/", false)
			if err != nil {
				t.Fatal(err)
			}
			seq := ""
			for _, child := range children {
				if m := regexp.MustCompile(`^` + regexp.QuoteMeta(p[1:]+"-seq-") + `\d{10}$`).FindString(child); m != "" {
					seq = "/" + m
				}
			}
			return reply{Results: []OpResult{
				{Op: serialize.OpCreate, Path: p},
				{Op: serialize.OpSetData, Stat: mustStat(t, c.Handle, p)},
				{Op: serialize.OpCheck},
				{Op: serialize.OpCreate, Path: seq},
				{Op: serialize.OpCreate, Path: p + "-gone"},
				{Op: serialize.OpDelete},
			}}
		}},
		{name: "MultiContainerAndTTL", call: multiCall(func(p string) []Op {
			return []Op{
				CreateOp{Path: p, ACL: OpenACLUnsafe, Mode: Container},
				CreateOp{Path: p + "-ttl", ACL: OpenACLUnsafe, Mode: PersistentWithTTL, TTL: time.Hour},
			}
		}), want: func(t *testing.T, c *realClient, p string) reply {
			return reply{Results: []OpResult{
				{Op: serialize.OpCreate2, Path: p, Stat: mustStat(t, c.Handle, p)},
				{Op: serialize.OpCreate2, Path: p + "-ttl", Stat: mustStat(t, c.Handle, p+"-ttl")},
			}}
		}},
		// A failing transaction changes nothing; the operations before the
		// failure report Ok, the failing one its error, the rest a runtime
		// inconsistency (as the server's PrepRequestProcessor).
		{name: "MultiFails", call: multiCall(func(p string) []Op {
			return []Op{
				CreateOp{Path: p, ACL: OpenACLUnsafe},
				CheckOp{Path: p + "-missing", Version: 0},
				SetDataOp{Path: p, Data: nodeData, Version: -1},
			}
		}), want: func(t *testing.T, c *realClient, p string) reply {
			checkGone(t, c, p)
			return reply{Err: ErrNoNode, Results: []OpResult{
				{Op: serialize.OpError},
				{Op: serialize.OpError, Err: ErrNoNode},
				{Op: serialize.OpError, Err: ErrRuntimeInconsistency},
			}}
		}},
		{name: "MultiBadVersion", setup: withNode, call: multiCall(func(p string) []Op {
			return []Op{
				SetDataOp{Path: p, Data: []byte("new"), Version: 0},
				CheckOp{Path: p, Version: 0}, // the set above made it 1
			}
		}), want: func(t *testing.T, c *realClient, p string) reply {
			checkData(t, c, p, nodeData)
			return reply{Err: ErrBadVersion, Results: []OpResult{
				{Op: serialize.OpError},
				{Op: serialize.OpError, Err: ErrBadVersion},
			}}
		}},
		{name: "MultiEmpty", call: multiCall(func(string) []Op { return nil }),
			want: func(*testing.T, *realClient, string) reply { return reply{} }},
		// A standalone server without dynamic configuration has an empty
		// /zookeeper/config; a chroot does not apply to it.
		{name: "GetConfig", call: getConfigCall(),
			want: func(t *testing.T, c *realClient, _ string) reply {
				root := dial(t, c.srv, c.srv.Addr())
				st, err := root.Exists(testContext(t), serialize.ConfigNode, false)
				if err != nil {
					t.Fatalf("Exists(%s): %v", serialize.ConfigNode, err)
				}
				return reply{Stat: st, HasStat: true}
			}},
		{name: "AddAuth", call: addAuthCall("digest", []byte("user:password")),
			want: func(*testing.T, *realClient, string) reply { return reply{} }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			forms(t, func(t *testing.T, async bool, form string) {
				p := "/" + tc.name + "-" + form
				if tc.setup != nil {
					tc.setup(t, c, p)
				}
				got := tc.call.run(t, c.Handle, async, p+tc.at)
				want := tc.want(t, c, p+tc.at)
				if diff := cmp.Diff(want, got, replyCmp); diff != "" {
					t.Errorf("reply mismatch (-want +got):\n%s", diff)
				}
			})
		})
	}
}

// Every create mode, with the calls that take it. Stat.EphemeralOwner is
// the session for ephemerals and 0 otherwise: the server keeps its marks
// of containers and TTL nodes to itself (DataNode.copyStat), so
// TestContainerAndTTLExpire tells those apart.
func TestCreateModes(t *testing.T) {
	t.Parallel()
	c := newRealClient(t)
	const ttl = time.Hour
	session := c.ClientID().SessionID
	tests := []struct {
		mode  CreateMode
		owner int64
	}{
		{Persistent, 0},
		{Ephemeral, session},
		{PersistentSequential, 0},
		{EphemeralSequential, session},
		{Container, 0},
		{PersistentWithTTL, 0},
		{PersistentSequentialWithTTL, 0},
	}
	for _, tc := range tests {
		calls := map[string]call{
			"Create":  createCall(nodeData, OpenACLUnsafe, tc.mode),
			"Create2": create2Call(nodeData, OpenACLUnsafe, tc.mode),
		}
		if tc.mode.TTL() {
			calls = map[string]call{"CreateTTL": createTTLCall(nodeData, OpenACLUnsafe, tc.mode, ttl)}
		}
		for name, cl := range calls {
			t.Run(tc.mode.String()+"/"+name, func(t *testing.T) {
				forms(t, func(t *testing.T, async bool, form string) {
					p := fmt.Sprintf("/%v-%s-%s-", tc.mode, name, form)
					got := cl.run(t, c.Handle, async, p)
					if got.Err != nil {
						t.Fatalf("create: %v", got.Err)
					}
					want := regexp.QuoteMeta(p)
					if tc.mode.Sequential() {
						want += `\d{10}`
					}
					if !regexp.MustCompile(`^` + want + `$`).MatchString(got.Path) {
						t.Errorf("created %q, want a match for %s", got.Path, want)
					}
					st := mustStat(t, c.Handle, got.Path)
					if got.HasStat && got.Stat != st {
						t.Errorf("returned Stat %+v, server has %+v", got.Stat, st)
					}
					if st.EphemeralOwner != tc.owner {
						t.Errorf("EphemeralOwner = %#x, want %#x", uint64(st.EphemeralOwner), uint64(tc.owner))
					}
					checkData(t, c, got.Path, nodeData)
				})
			})
		}
	}
}

// The server deletes a container once its last child is gone, and a TTL
// node once its TTL has passed without a change; the shared server checks
// every containerCheckInterval. The deletions fire exists watches.
func TestContainerAndTTLExpire(t *testing.T) {
	t.Parallel()
	c := newRealClient(t)
	ctx := testContext(t)
	mustCreate(t, c.Handle, "/container", nil, Container)
	mustCreate(t, c.Handle, "/container/child", nil, Persistent)
	mustCreate(t, c.Handle, "/persistent", nil, Persistent)
	mustCreate(t, c.Handle, "/persistent/child", nil, Persistent)
	// Long enough to set the watch before the server may delete the node.
	const ttl = 500 * time.Millisecond
	for _, tc := range []struct {
		call call
		path string
	}{
		{createTTLCall(nil, OpenACLUnsafe, PersistentWithTTL, ttl), "/ttl"},
		{createTTLCall(nil, OpenACLUnsafe, PersistentSequentialWithTTL, ttl), "/ttl-seq-"},
	} {
		if r := tc.call.run(t, c.Handle, true, tc.path); r.Err != nil {
			t.Fatalf("ACreateTTL(%q): %v", tc.path, r.Err)
		} else if _, err := c.Exists(ctx, r.Path, true); err != nil {
			t.Fatalf("Exists(%q): %v", r.Path, err)
		}
	}
	for _, p := range []string{"/container", "/persistent"} {
		if _, err := c.Exists(ctx, p, true); err != nil {
			t.Fatal(err)
		}
		if err := c.Delete(ctx, p+"/child", -1); err != nil {
			t.Fatal(err)
		}
	}
	// Three deletions, in the order the server's checks find them; the
	// persistent node stays.
	got := map[string]EventType{}
	for range 3 {
		ev := c.events.next(t)
		got[ev.Path] = ev.Type
	}
	want := map[string]EventType{"/container": EventDeleted, "/ttl": EventDeleted, "/ttl-seq-0000000003": EventDeleted}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if _, err := c.Exists(ctx, "/persistent", false); err != nil {
		t.Errorf("the persistent node: %v", err)
	}
}

// Sequence numbers count the parent's child creations, in every form;
// a sequential path may end in "/".
func TestSequentialNames(t *testing.T) {
	t.Parallel()
	c := newRealClient(t)
	ctx := testContext(t)
	mustCreate(t, c.Handle, "/q", nil, Persistent)
	var got []string
	p, err := c.Create(ctx, "/q/n-", nil, OpenACLUnsafe, PersistentSequential)
	got = append(got, p)
	if err != nil {
		t.Fatal(err)
	}
	r := await(t, func(done func(reply)) error {
		return c.ACreate("/q/n-", nil, OpenACLUnsafe, EphemeralSequential, replyFunc(done).str())
	})
	got = append(got, r.Path)
	p, _, err = c.CreateTTL(ctx, "/q/n-", nil, OpenACLUnsafe, PersistentSequentialWithTTL, time.Hour)
	got = append(got, p)
	if err != nil {
		t.Fatal(err)
	}
	p, err = c.Create(ctx, "/q/", nil, OpenACLUnsafe, PersistentSequential)
	got = append(got, p)
	if err != nil || r.Err != nil {
		t.Fatal(err, r.Err)
	}
	want := []string{"/q/n-0000000000", "/q/n-0000000001", "/q/n-0000000002", "/q/0000000003"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sequential names (-want +got):\n%s", diff)
	}
}

// The server accepts every path validatePath accepts.
func TestGoodPathsOnServer(t *testing.T) {
	t.Parallel()
	c := newRealClient(t)
	mustCreate(t, c.Handle, "/a", nil, Persistent) // the parent of "/a/b.c"
	for _, tc := range goodPaths {
		if tc.path == "/" || tc.path == "/a" {
			continue // exist already
		}
		t.Run(tc.name, func(t *testing.T) {
			forms(t, func(t *testing.T, async bool, form string) {
				p := tc.path + "-" + form
				if got := createCall(nodeData, OpenACLUnsafe, Persistent).run(t, c.Handle, async, p); got.Err != nil || got.Path != p {
					t.Fatalf("create %q = %q, %v", p, got.Path, got.Err)
				}
				checkData(t, c, p, nodeData)
				if got := deleteCall(0).run(t, c.Handle, async, p); got.Err != nil {
					t.Fatalf("delete %q: %v", p, got.Err)
				}
			})
		})
	}
}

// GetInto appends to dst[:0], in place when dst has the capacity.
func TestGetInto(t *testing.T) {
	t.Parallel()
	c := newRealClient(t)
	ctx := testContext(t)
	mustCreate(t, c.Handle, "/n", []byte("hello"), Persistent)
	mustCreate(t, c.Handle, "/empty", nil, Persistent)
	tests := []struct {
		name    string
		path    string
		dst     []byte
		inPlace bool
		want    string
	}{
		{"fits", "/n", make([]byte, 3, 64), true, "hello"},
		{"too small", "/n", make([]byte, 1, 2), false, "hello"},
		{"nil", "/n", nil, false, "hello"},
		{"empty node", "/empty", []byte("old"), true, ""},
	}
	for _, tc := range tests {
		got, st, err := c.GetInto(ctx, tc.path, tc.dst, false)
		if err != nil || string(got) != tc.want || st != mustStat(t, c.Handle, tc.path) {
			t.Errorf("%s: GetInto = %q, %+v, %v; want %q, the node's Stat", tc.name, got, st, err, tc.want)
			continue
		}
		if inPlace := cap(got) == cap(tc.dst) && &got[:1][0] == &tc.dst[:1][0]; inPlace != tc.inPlace {
			t.Errorf("%s: GetInto used dst in place: %v, want %v", tc.name, inPlace, tc.inPlace)
		}
	}
	if _, _, err := c.GetInto(ctx, "/missing", make([]byte, 8), false); !errors.Is(err, ErrNoNode) {
		t.Errorf("GetInto(missing) = %v, want ErrNoNode", err)
	}
}

// A reply over the handle's maximum frame (WithMaxFrame) fails its own
// request with ErrMarshalling, a data read or a listing alike, and the
// connection goes on: the calls after it succeed on the same session
// without a reconnect.
func TestReplyOverMaxFrame(t *testing.T) {
	t.Parallel()
	const maxFrame = 16 << 10
	c := newRealClient(t)
	ctx := testContext(t)
	mustCreate(t, c.Handle, "/big", bytes.Repeat([]byte("b"), 4*maxFrame), Persistent)
	mustCreate(t, c.Handle, "/dir", nil, Persistent)
	name := strings.Repeat("n", 60)
	for i := range maxFrame / len(name) {
		mustCreate(t, c.Handle, fmt.Sprintf("/dir/%s%04d", name, i), nil, Persistent)
	}
	small := dial(t, c.srv, c.connect, WithMaxFrame(maxFrame))
	for range 2 {
		if _, _, err := small.Get(ctx, "/big", false); !errors.Is(err, ErrMarshalling) {
			t.Errorf("Get of %d bytes with a %d-byte maximum: %v, want ErrMarshalling", 4*maxFrame, maxFrame, err)
		}
		if _, err := small.GetChildren(ctx, "/dir", false); !errors.Is(err, ErrMarshalling) {
			t.Errorf("GetChildren of %d long names: %v, want ErrMarshalling", maxFrame/len(name), err)
		}
		if children, err := small.GetChildren(ctx, "/", false); err != nil || len(children) != 2 {
			t.Errorf("GetChildren(/) after the refused replies = %v, %v; want 2 children", children, err)
		}
	}
	if s := small.Stats(); s.Reconnects != 0 {
		t.Errorf("Stats().Reconnects = %d, want 0: the connection is kept", s.Reconnects)
	}
}

// digestID is the digest scheme's id for user:password,
// user:base64(sha1(user:password)).
func digestID(user, password string) string {
	sum := sha1.Sum([]byte(user + ":" + password))
	return user + ":" + base64.StdEncoding.EncodeToString(sum[:])
}

// A digest identity added with AddAuth is enforced: another session without
// it gets ErrNoAuth until it adds the same identity.
func TestAuthDigest(t *testing.T) {
	t.Parallel()
	owner := newRealClient(t)
	ctx := testContext(t)
	if err := owner.AddAuth(ctx, "digest", []byte("alice:secret")); err != nil {
		t.Fatalf("AddAuth: %v", err)
	}
	alice := ID{Scheme: "digest", ID: digestID("alice", "secret")}
	if _, err := owner.Create(ctx, "/private", nodeData, CreatorAllACL, Persistent); err != nil {
		t.Fatalf("Create with CreatorAllACL: %v", err)
	}
	readable := []ACL{{Perms: PermRead, ID: ID{Scheme: "world", ID: "anyone"}}, {Perms: PermAll, ID: alice}}
	if _, err := owner.Create(ctx, "/readable", nodeData, readable, Persistent); err != nil {
		t.Fatalf("Create with a digest ACL: %v", err)
	}
	acl, _, err := owner.GetACL(ctx, "/private")
	if diff := cmp.Diff([]ACL{{Perms: PermAll, ID: alice}}, acl); err != nil || diff != "" {
		t.Fatalf("GetACL: %v (-want +got):\n%s", err, diff)
	}

	other := owner.sibling(t)
	denied := []struct {
		name string
		call call
		path string
	}{
		{"Get", getCall(nil), "/private"},
		{"GetChildren", childrenCall(nil), "/private"},
		{"Set", setCall(nil, -1), "/private"},
		{"SetACL", setACLCall(-1, OpenACLUnsafe), "/private"},
		{"CreateChild", createCall(nil, OpenACLUnsafe, PersistentSequential), "/private/child-"},
		{"SetReadable", setCall(nil, -1), "/readable"},
		{"MultiSet", multiCall(func(p string) []Op { return []Op{SetDataOp{Path: p, Version: -1}} }), "/private"},
	}
	check := func(phase string, want error) {
		for _, tc := range denied {
			t.Run(phase+"/"+tc.name, func(t *testing.T) {
				forms(t, func(t *testing.T, async bool, _ string) {
					if got := tc.call.run(t, other.Handle, async, tc.path); !errors.Is(got.Err, want) {
						t.Errorf("%s: %v, want %v", tc.path, got.Err, want)
					}
				})
			})
		}
	}
	check("without auth", ErrNoAuth)
	if _, _, err := other.Get(ctx, "/readable", false); err != nil {
		t.Errorf("Get of a world-readable node: %v", err)
	}
	if _, err := other.Exists(ctx, "/private", false); err != nil {
		t.Errorf("Exists is not subject to ACLs, got %v", err)
	}
	// A wrong password is another identity: accepted, but no use.
	if r := addAuthCall("digest", []byte("alice:wrong")).run(t, other.Handle, true, ""); r.Err != nil {
		t.Fatalf("AAddAuth(wrong password): %v", r.Err)
	}
	check("wrong password", ErrNoAuth)
	if r := addAuthCall("digest", []byte("alice:secret")).run(t, other.Handle, true, ""); r.Err != nil {
		t.Fatalf("AAddAuth: %v", r.Err)
	}
	check("with auth", nil)
}

// An auth the server rejects (an unknown scheme) makes the session
// unrecoverable, as ZOO_AUTH_FAILED_STATE in C.
func TestAuthFailed(t *testing.T) {
	t.Parallel()
	c := newRealClient(t)
	ctx := testContext(t)
	if err := c.AddAuth(ctx, "nosuch", []byte("x")); !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("AddAuth(unknown scheme) = %v, want ErrAuthFailed", err)
	}
	c.events.expect(t, Event{Type: EventSession, State: StateAuthFailed})
	if s := c.State(); s != StateAuthFailed {
		t.Errorf("State = %v, want %v", s, StateAuthFailed)
	}
	if _, err := c.Exists(ctx, "/", false); !errors.Is(err, ErrAuthFailed) {
		t.Errorf("Exists after auth failure = %v, want ErrAuthFailed", err)
	}
	if err := c.AExists("/", false, nil); !errors.Is(err, ErrAuthFailed) {
		t.Errorf("AExists after auth failure = %v, want ErrAuthFailed", err)
	}
	if err := c.WaitConnected(ctx); !errors.Is(err, ErrAuthFailed) {
		t.Errorf("WaitConnected after auth failure = %v, want ErrAuthFailed", err)
	}
}

// Callbacks run in reply order, which is request order: 100 asynchronous
// requests of every kind complete in the order they were queued.
func TestCallbackOrder(t *testing.T) {
	t.Parallel()
	c := newRealClient(t)
	mustCreate(t, c.Handle, "/o", nil, Persistent)
	const n = 100
	var (
		mu    sync.Mutex
		order []int
		errs  []error
	)
	all := make(chan struct{})
	record := func(i int) replyFunc {
		return func(r reply) {
			mu.Lock()
			defer mu.Unlock()
			order = append(order, i)
			if r.Err != nil {
				errs = append(errs, fmt.Errorf("request %d: %w", i, r.Err))
			}
			if len(order) == n {
				close(all)
			}
		}
	}
	kinds := []call{
		createCall(nil, OpenACLUnsafe, PersistentSequential),
		existsCall(nil),
		getCall(nil),
		setCall(nodeData, -1),
		childrenCall(nil),
		children2Call(nil),
		getACLCall(),
		syncCall(),
		multiCall(func(p string) []Op { return []Op{CheckOp{Path: p, Version: -1}} }),
		create2Call(nil, OpenACLUnsafe, EphemeralSequential),
	}
	for i := range n {
		p := "/o"
		if i%len(kinds) == 0 || i%len(kinds) == len(kinds)-1 {
			p = "/o/n-"
		}
		if err := kinds[i%len(kinds)].async(c.Handle, p, record(i)); err != nil {
			t.Fatalf("request %d not queued: %v", i, err)
		}
	}
	recv(t, all, "callback of every request")
	barrier(t, c.Handle) // a duplicate callback would have run by now
	mu.Lock()
	defer mu.Unlock()
	want := make([]int, n)
	for i := range want {
		want[i] = i
	}
	if diff := cmp.Diff(want, order); diff != "" {
		t.Errorf("completion order (-want +got):\n%s", diff)
	}
	if len(errs) > 0 {
		t.Errorf("failed requests: %v", errs)
	}
}

// A chroot is invisible to the client: paths in replies, Sync and events
// are client paths.
func TestChroot(t *testing.T) {
	t.Parallel()
	c := newRealClient(t)
	root := dial(t, c.srv, c.srv.Addr())
	chroot := c.chroot()
	ctx := testContext(t)

	got := []string{}
	add := func(p string, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p)
	}
	add(c.Create(ctx, "/a", nodeData, OpenACLUnsafe, Persistent))
	p, _, err := c.Create2(ctx, "/s-", nil, OpenACLUnsafe, PersistentSequential)
	add(p, err)
	results, err := c.Multi(ctx, CreateOp{Path: "/m", ACL: OpenACLUnsafe})
	if err != nil || len(results) != 1 {
		t.Fatalf("Multi = %v, %v", results, err)
	}
	add(results[0].Path, nil)
	add(c.Sync(ctx, "/a"))
	add(c.Sync(ctx, "/"))
	r := syncCall().run(t, c.Handle, true, "/m")
	add(r.Path, r.Err)
	want := []string{"/a", "/s-0000000001", "/m", "/a", "/", "/m"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("client paths (-want +got):\n%s", diff)
	}

	// The nodes are under the chroot on the server.
	children, err := root.GetChildren(ctx, chroot, false)
	if diff := cmp.Diff([]string{"a", "m", "s-0000000001"}, children, replyCmp); err != nil || diff != "" {
		t.Errorf("GetChildren(%s): %v (-want +got):\n%s", chroot, err, diff)
	}

	// Events carry client paths, "/" for the chroot node itself.
	w := newRecorder()
	if _, _, err := c.WGet(ctx, "/a", w); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetChildren(ctx, "/", true); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WExists(ctx, "/", w); err != nil {
		t.Fatal(err)
	}
	mustSet(t, root.Handle, chroot+"/a", nil)
	w.expect(t, watchEvent(EventChanged, "/a"))
	mustCreate(t, root.Handle, chroot+"/b", nil, Persistent)
	c.events.expect(t, watchEvent(EventChild, "/"))
	mustSet(t, root.Handle, chroot, nil)
	w.expect(t, watchEvent(EventChanged, "/"))
}

// A chroot that does not exist yet behaves as in C: the session is
// established, operations fail with ErrNoNode, and once the node is created
// everything works, an exists watch on "/" firing.
func TestMissingChroot(t *testing.T) {
	t.Parallel()
	srv := sharedServer(t)
	chroot := uniquePath(t.Name())
	root := dial(t, srv, srv.Addr())
	c := dial(t, srv, srv.Addr()+chroot)
	ctx := testContext(t)
	for _, tc := range []struct {
		name string
		call call
		p    string
	}{
		{"Create", createCall(nil, OpenACLUnsafe, Persistent), "/a"},
		{"Get", getCall(nil), "/"},
		{"GetChildren", childrenCall(nil), "/"},
		{"Set", setCall(nil, -1), "/"},
		{"Exists", existsCall(viaDefault), "/"}, // leaves an exists watch
	} {
		t.Run(tc.name, func(t *testing.T) {
			forms(t, func(t *testing.T, async bool, _ string) {
				if got := tc.call.run(t, c.Handle, async, tc.p); !errors.Is(got.Err, ErrNoNode) {
					t.Errorf("%s(%q) under a missing chroot = %v, want ErrNoNode", tc.name, tc.p, got.Err)
				}
			})
		})
	}
	mustCreate(t, root.Handle, chroot, nil, Persistent)
	c.events.expect(t, watchEvent(EventCreated, "/"))
	if p, err := c.Create(ctx, "/a", nil, OpenACLUnsafe, Persistent); err != nil || p != "/a" {
		t.Errorf("Create once the chroot exists = %q, %v", p, err)
	}
	barrier(t, c.Handle)
	c.events.expectNone(t) // one-shot: the second exists watch was the same default watcher
}

// Requests with bad arguments are refused before anything is queued: the
// call returns the error, an asynchronous callback never runs. No server is
// needed: the handle never connects.
func TestRejectedBeforeQueueing(t *testing.T) {
	h, err := Init("127.0.0.1:1", nil, sessionTimeout)
	if err != nil {
		t.Fatal(err)
	}
	var callbacks atomic.Int32
	w := newRecorder()
	type rejected struct {
		name string
		call call
		path string
		want error
	}
	pathCalls := []struct {
		name string
		call call
	}{
		{"Create", createCall(nil, OpenACLUnsafe, Persistent)},
		{"CreateSequential", createCall(nil, OpenACLUnsafe, PersistentSequential)},
		{"Create2", create2Call(nil, OpenACLUnsafe, Container)},
		{"CreateTTL", createTTLCall(nil, OpenACLUnsafe, PersistentWithTTL, time.Minute)},
		{"Delete", deleteCall(-1)},
		{"Exists", existsCall(nil)},
		{"ExistsWatch", existsCall(viaDefault)},
		{"WExists", existsCall(w)},
		{"Get", getCall(nil)},
		{"GetWatch", getCall(viaDefault)},
		{"WGet", getCall(w)},
		{"GetInto", getIntoCall()},
		{"Set", setCall(nil, -1)},
		{"GetChildren", childrenCall(nil)},
		{"WGetChildren", childrenCall(w)},
		{"GetChildren2", children2Call(viaDefault)},
		{"WGetChildren2", children2Call(w)},
		{"GetACL", getACLCall()},
		{"SetACL", setACLCall(-1, OpenACLUnsafe)},
		{"Sync", syncCall()},
		{"RemoveWatches", removeWatchesCall(WatcherAny, w, false)},
		{"MultiCreate", multiCall(func(p string) []Op { return []Op{CreateOp{Path: p, ACL: OpenACLUnsafe}} })},
		{"MultiDelete", multiCall(func(p string) []Op { return []Op{DeleteOp{Path: p}} })},
		{"MultiSetData", multiCall(func(p string) []Op { return []Op{SetDataOp{Path: p}} })},
		{"MultiCheck", multiCall(func(p string) []Op { return []Op{CheckOp{Path: "/ok"}, CheckOp{Path: p}} })},
	}
	// With the sequence number appended these are good, in C as here.
	sequentialOK := map[string]bool{"/a/": true, "/a/.": true, "/..": true}
	var cases []rejected
	for _, bad := range badPaths {
		for _, pc := range pathCalls {
			if pc.name == "CreateSequential" && sequentialOK[bad.path] {
				continue
			}
			cases = append(cases, rejected{pc.name + "/" + bad.name, pc.call, bad.path, ErrBadArguments})
		}
	}
	createOp := func(o CreateOp) call {
		return multiCall(func(p string) []Op { o.Path = p; return []Op{o} })
	}
	for _, acl := range [][]ACL{nil, {}} {
		for _, cl := range []call{
			createCall(nil, acl, Persistent),
			create2Call(nil, acl, Persistent),
			createTTLCall(nil, acl, PersistentWithTTL, time.Minute),
			setACLCall(-1, acl),
			createOp(CreateOp{ACL: acl}),
		} {
			cases = append(cases, rejected{fmt.Sprintf("empty ACL %#v", acl), cl, "/a", ErrInvalidACL})
		}
	}
	for _, tc := range []struct {
		mode CreateMode
		ttl  time.Duration
	}{
		{PersistentWithTTL, 0},
		{PersistentWithTTL, -time.Millisecond},
		{PersistentWithTTL, time.Millisecond - 1},
		{PersistentWithTTL, (serialize.MaxTTL + 1) * time.Millisecond},
		{PersistentSequentialWithTTL, 0},
		{Persistent, time.Minute},
		{Ephemeral, time.Minute},
		{Container, time.Minute},
		{CreateMode(7), 0},
		{CreateMode(-1), 0},
	} {
		name := fmt.Sprintf("mode %v TTL %v", tc.mode, tc.ttl)
		cases = append(cases,
			rejected{name, createTTLCall(nil, OpenACLUnsafe, tc.mode, tc.ttl), "/a", ErrBadArguments},
			rejected{name + " in multi", createOp(CreateOp{ACL: OpenACLUnsafe, Mode: tc.mode, TTL: tc.ttl}), "/a", ErrBadArguments})
		if tc.ttl == 0 {
			cases = append(cases, rejected{name + " without TTL", createCall(nil, OpenACLUnsafe, tc.mode), "/a", ErrBadArguments})
		}
	}
	cases = append(cases,
		rejected{"nil multi op", multiCall(func(string) []Op { return []Op{CheckOp{Path: "/a"}, nil} }), "", ErrBadArguments},
		rejected{"empty auth scheme", addAuthCall("", []byte("x")), "", ErrBadArguments},
		rejected{"auth packet over the frame limit", addAuthCall("digest", make([]byte, serialize.DefaultMaxBuffer)), "", ErrBadArguments},
		rejected{"watcher type 0", removeWatchesCall(WatcherType(0), nil, false), "/a", ErrBadArguments},
		rejected{"watcher type 6", removeWatchesCall(WatcherType(6), nil, true), "/a", ErrBadArguments},
		rejected{"no watcher", removeWatchesCall(WatcherAny, nil, false), "/a", ErrNoWatcher},
		rejected{"no watcher locally", removeWatchesCall(WatcherData, w, true), "/a", ErrNoWatcher},
	)
	for _, tc := range cases {
		if err := tc.call.sync(testContext(t), h, tc.path).Err; !errors.Is(err, tc.want) {
			t.Errorf("%s: sync call on %q = %v, want %v", tc.name, tc.path, err, tc.want)
		}
		if tc.call.async == nil {
			continue
		}
		if err := tc.call.async(h, tc.path, func(reply) { callbacks.Add(1) }); !errors.Is(err, tc.want) {
			t.Errorf("%s: async call on %q = %v, want %v", tc.name, tc.path, err, tc.want)
		}
	}
	h.mu.Lock()
	queued, bytes := h.sent.Len(), len(h.out)
	h.mu.Unlock()
	if queued != 0 || bytes != 0 {
		t.Errorf("after refused requests: %d queued, %d bytes to send; want none", queued, bytes)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if n := callbacks.Load(); n != 0 {
		t.Errorf("%d callbacks of refused requests ran", n)
	}
}
