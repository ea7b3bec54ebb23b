package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zkloop/zkloop/zhandle"
)

// Tests that need no server: parsing, formats, completion.

// checkErr checks err against want, "" for none, and reports whether the
// case expected an error (and so has nothing more to check).
func checkErr(t *testing.T, what string, err error, want string) bool {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("%s: %v", what, err)
	case want != "" && (err == nil || err.Error() != want):
		t.Errorf("%s: error %v, want %q", what, err, want)
	}
	return want != ""
}

func TestSplitLine(t *testing.T) {
	tests := []struct {
		line string
		want []string
		err  string
	}{
		{line: "", want: nil},
		{line: "  ls   /a  ", want: []string{"ls", "/a"}},
		{line: `create /a "hello world"`, want: []string{"create", "/a", "hello world"}},
		{line: `set /a 'say "hi"'`, want: []string{"set", "/a", `say "hi"`}},
		{line: `set /a {"k":"v"}`, want: []string{"set", "/a", `{"k":"v"}`}},
		{line: `set /a ""`, want: []string{"set", "/a", ""}},
		{line: `set /a "x"y`, want: []string{"set", "/a", "x", "y"}},
		{line: "get\t/a\r", want: []string{"get", "/a"}},
		{line: `set /a "open`, err: "unterminated \" quote"},
	}
	for _, tt := range tests {
		got, err := splitLine(tt.line)
		if checkErr(t, fmt.Sprintf("splitLine(%q)", tt.line), err, tt.err) {
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("splitLine(%q) (-want +got):\n%s", tt.line, diff)
		}
	}
}

func TestOptSpecParse(t *testing.T) {
	spec := optSpec{"s", "e", "v:", "members:"}
	tests := []struct {
		words []string
		set   map[string]string
		args  []string
		err   string
	}{
		{words: []string{"c", "/a"}, set: map[string]string{}, args: []string{"c", "/a"}},
		{words: []string{"c", "-s", "/a", "-v", "3"}, set: map[string]string{"s": "", "v": "3"}, args: []string{"c", "/a"}},
		{words: []string{"c", "-se", "-v7", "/a"}, set: map[string]string{"s": "", "e": "", "v": "7"}, args: []string{"c", "/a"}},
		{words: []string{"c", "-members", "a,b", "--members=c"}, set: map[string]string{"members": "c"}, args: []string{"c"}},
		{words: []string{"c", "/a", "-1", "-2.5"}, set: map[string]string{}, args: []string{"c", "/a", "-1", "-2.5"}},
		{words: []string{"c", "--", "-s", "-"}, set: map[string]string{}, args: []string{"c", "-s", "-"}},
		{words: []string{"c", "-q"}, err: "Unrecognized option: -q"},
		{words: []string{"c", "-sq"}, err: "Unrecognized option: -sq"},
		{words: []string{"c", "-v"}, err: "Missing argument for option: v"},
		{words: []string{"c", "--s=1"}, err: "Unrecognized option: --s=1"},
	}
	for _, tt := range tests {
		got, err := spec.parse(tt.words)
		if checkErr(t, fmt.Sprintf("parse(%q)", tt.words), err, tt.err) {
			continue
		}
		if diff := cmp.Diff(opts{tt.set, tt.args}, got, cmp.AllowUnexported(opts{})); diff != "" {
			t.Errorf("parse(%q) (-want +got):\n%s", tt.words, diff)
		}
	}
}

func TestParseACL(t *testing.T) {
	acl := func(perms zhandle.Perm, scheme, id string) zhandle.ACL {
		return zhandle.ACL{Perms: perms, ID: zhandle.ID{Scheme: scheme, ID: id}}
	}
	tests := []struct {
		in   string
		want []zhandle.ACL
		err  string
	}{
		{in: "world:anyone:cdrwa", want: []zhandle.ACL{acl(zhandle.PermAll, "world", "anyone")}},
		{in: "digest:bob:hash=:rw,ip:10.0.0.0/8:a", want: []zhandle.ACL{
			acl(zhandle.PermRead|zhandle.PermWrite, "digest", "bob:hash="), acl(zhandle.PermAdmin, "ip", "10.0.0.0/8")}},
		{in: "auth::c", want: []zhandle.ACL{acl(zhandle.PermCreate, "auth", "")}},
		{in: "world:anyone:", want: []zhandle.ACL{acl(0, "world", "anyone")}},
		{in: "world:anyone", err: "world:anyone does not have the form scheme:id:perm"},
		{in: "world:anyone:rx", err: "Unknown perm type: x"},
	}
	for _, tt := range tests {
		got, err := parseACL(tt.in)
		if checkErr(t, fmt.Sprintf("parseACL(%q)", tt.in), err, tt.err) {
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("parseACL(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestWriteACL(t *testing.T) {
	var b strings.Builder
	writeACL(&b, []zhandle.ACL{
		{Perms: zhandle.PermAll, ID: zhandle.ID{Scheme: "world", ID: "anyone"}},
		{Perms: zhandle.PermRead | zhandle.PermDelete, ID: zhandle.ID{Scheme: "x509", ID: "CN=a,O=b}%"}},
	})
	want := "'world,'anyone\n: cdrwa\n'x509,'CN=a%2CO=b%7D%25\n: dr\n"
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestWriteStat(t *testing.T) {
	var b strings.Builder
	st := zhandle.Stat{Czxid: 9, Mzxid: 0xd, Ctime: 1795317728000, Mtime: 1795317729500, Version: 2, Cversion: 1,
		Aversion: 3, EphemeralOwner: -1, DataLength: 4, NumChildren: 5, Pzxid: 0x100000000}
	writeStat(&b, &st, time.UTC)
	want := `cZxid = 0x9
ctime = Sun Nov 22 03:22:08 UTC 2026
mZxid = 0xd
mtime = Sun Nov 22 03:22:09 UTC 2026
pZxid = 0x100000000
cversion = 1
dataVersion = 2
aclVersion = 3
ephemeralOwner = 0xffffffffffffffff
dataLength = 4
numChildren = 5
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestFormatData(t *testing.T) {
	tests := []struct {
		data []byte
		f    dataFormat
		want string
	}{
		{nil, dataText, "null"},
		{[]byte{}, dataText, ""},
		{[]byte("a\tb\nc é"), dataText, "a\tb\nc é"},
		{[]byte("\x1b[2Jboom\r"), dataText, `"\x1b[2Jboom\r"`},
		{[]byte{0xff, 0x00}, dataText, `"\xff\x00"`},
		{nil, dataBase64, ""},
		{[]byte("hi"), dataBase64, "aGk="},
		{nil, dataHex, ""},
		{[]byte("0123456789abcdef\x00\x7f"), dataHex, "" +
			"         +-------------------------------------------------+\n" +
			"         |  0  1  2  3  4  5  6  7  8  9  a  b  c  d  e  f |\n" +
			"+--------+-------------------------------------------------+----------------+\n" +
			"|00000000| 30 31 32 33 34 35 36 37 38 39 61 62 63 64 65 66 |0123456789abcdef|\n" +
			"|00000010| 00 7f                                           |..              |\n" +
			"+--------+-------------------------------------------------+----------------+"},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, formatData(tt.data, tt.f)); diff != "" {
			t.Errorf("formatData(%q, %d) (-want +got):\n%s", tt.data, tt.f, diff)
		}
	}
}

func TestErrorLine(t *testing.T) {
	tests := []struct {
		err  error
		path string
		want string
	}{
		{zhandle.ErrNoNode, "/x", "Node does not exist: /x"},
		{zhandle.ErrNodeExists, "/x", "Node already exists: /x"},
		{zhandle.ErrNotEmpty, "/x", "Node not empty: /x"},
		{zhandle.ErrBadVersion, "/x", "version No is not valid : /x"},
		{zhandle.ErrNoAuth, "/x", "Insufficient permission : /x"},
		{zhandle.ErrInvalidACL, "/x", "Acl is not valid : /x"},
		{zhandle.ErrNoChildrenForEphemerals, "/x", "Ephemerals cannot have children: /x"},
		{zhandle.ErrConnectionLoss, "/x", "KeeperErrorCode = ConnectionLoss for /x"},
		{zhandle.ErrSessionExpired, "", "KeeperErrorCode = Session expired"},
		{zhandle.ErrClosing, "/x", "KeeperErrorCode = zookeeper is closing for /x"},
		{fmt.Errorf("%w: invalid path %q: trailing slash", zhandle.ErrBadArguments, "/x/"), "/x/", `bad arguments: invalid path "/x/": trailing slash`},
		{context.Canceled, "/x", "Interrupted"},
		{errors.New("plain"), "/x", "plain"},
	}
	for _, tt := range tests {
		if got := errorLine(tt.err, tt.path); got != tt.want {
			t.Errorf("errorLine(%v, %q) = %q, want %q", tt.err, tt.path, got, tt.want)
		}
	}
}

func TestWatcherLines(t *testing.T) {
	tests := []struct {
		ev   zhandle.Event
		want string
	}{
		{zhandle.Event{Type: zhandle.EventChanged, State: zhandle.StateConnected, Path: "/a"}, "state:SyncConnected type:NodeDataChanged path:/a"},
		{zhandle.Event{Type: zhandle.EventSession, State: zhandle.StateConnecting}, "state:Disconnected type:None path:null"},
		{zhandle.Event{Type: zhandle.EventSession, State: zhandle.StateExpiredSession}, "state:Expired type:None path:null"},
		{zhandle.Event{Type: zhandle.EventSession, State: zhandle.StateAuthFailed}, "state:AuthFailed type:None path:null"},
		{zhandle.Event{Type: zhandle.EventSession, State: zhandle.StateReadOnly}, "state:ConnectedReadOnly type:None path:null"},
		{zhandle.Event{Type: zhandle.EventSession, State: zhandle.StateClosed}, "state:Closed type:None path:null"},
	}
	for _, tt := range tests {
		want := "\nWATCHER::\n\nWatchedEvent " + tt.want + "\n"
		if got := watcherLines(tt.ev); got != want {
			t.Errorf("watcherLines(%+v) = %q, want %q", tt.ev, got, want)
		}
	}
}

func TestClientConfig(t *testing.T) {
	config := "server.2=127.0.0.1:2889:3889:participant;127.0.0.1:2182\n" +
		"server.1=127.0.0.1:2888:3888:participant;2181\n" +
		"server.3=127.0.0.1:2890:3890:observer\nversion=100000000"
	if got, want := clientConfig(config), "100000000 0.0.0.0:2181,127.0.0.1:2182"; got != want {
		t.Errorf("clientConfig = %q, want %q", got, want)
	}
}

func TestCreateFlags(t *testing.T) {
	tests := []struct {
		word string
		want zhandle.CreateMode
		err  string
	}{
		{"+e", zhandle.Ephemeral, ""},
		{"+s", zhandle.PersistentSequential, ""},
		{"+es", zhandle.EphemeralSequential, ""},
		{"+c", zhandle.Container, ""},
		{"+t=500", zhandle.PersistentWithTTL, ""},
		{"+st=500", zhandle.PersistentSequentialWithTTL, ""},
		{"+ce", 0, "-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential."},
		{"+t", 0, "Missing ttl value after +t"},
		{"+t=0", 0, "ttl value must be a positive integer"},
		{"+q", 0, "Unknown option: q"},
	}
	for _, tt := range tests {
		var f createFlags
		err := cliMtFlags(tt.word, &f)
		var mode zhandle.CreateMode
		if err == nil {
			mode, err = f.mode()
		}
		if !checkErr(t, tt.word, err, tt.err) && mode != tt.want {
			t.Errorf("%s: mode %v, want %v", tt.word, mode, tt.want)
		}
	}
}

func TestParseInvocation(t *testing.T) {
	env := func(k string) string {
		if k == "ZOOKEEPER_SERVERS" {
			return "10.0.0.1:2181"
		}
		return ""
	}
	tests := []struct {
		args []string
		want invocation
		err  string
	}{
		{args: nil, want: invocation{session: session{server: "10.0.0.1:2181", timeout: 30 * time.Second}}},
		{args: []string{"-server", "a:1/app", "-timeout", "5000", "-r", "-waitforconnection", "ls", "-s", "/"},
			want: invocation{session: session{server: "a:1/app", timeout: 5 * time.Second, readOnly: true, wait: true}, trailing: []string{"ls", "-s", "/"}}},
		{args: []string{"--host=b:2", "-m", "f", "--cmd", "ls /", "-c", "get /", "--readonly", "-d", "-timeout", "2s"},
			want: invocation{session: session{server: "b:2", timeout: 2 * time.Second, readOnly: true, clientIDFile: "f"}, debug: true, commands: []string{"ls /", "get /"}}},
		{args: []string{"-hc:3", "-clientid", "g", "--", "-x"},
			want: invocation{session: session{server: "c:3", timeout: 30 * time.Second, clientIDFile: "g"}, trailing: []string{"-x"}}},
		{args: []string{"-c", "ls /", "get", "/"}, err: "give a command either with -c or after the options, not both"},
		{args: []string{"-timeout", "0"}, err: "-timeout \"0\": want milliseconds or a duration such as 30s"},
		{args: []string{"-zap"}, err: "Unknown option: -zap"},
	}
	for _, tt := range tests {
		got, err := parseInvocation(tt.args, env)
		if checkErr(t, fmt.Sprintf("parseInvocation(%q)", tt.args), err, tt.err) {
			continue
		}
		if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(invocation{}, session{}, securityFlags{}, fileFlag{}, security{})); diff != "" {
			t.Errorf("parseInvocation(%q) (-want +got):\n%s", tt.args, diff)
		}
	}
}

func TestClientIDFile(t *testing.T) {
	name := filepath.Join(t.TempDir(), "myid")
	if id, err := readClientID(name); err != nil || id.SessionID != 0 {
		t.Fatalf("missing file: %+v, %v", id, err)
	}
	want := zhandle.ClientID{SessionID: 0x1000abc}
	copy(want.Passwd[:], "0123456789abcdef")
	if err := writeClientID(name, want); err != nil {
		t.Fatal(err)
	}
	got, err := readClientID(name)
	if err != nil || got != want {
		t.Fatalf("readClientID = %+v, %v; want %+v", got, err, want)
	}
	if fi, err := os.Stat(name); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, %v; want 0600: the file holds the session password", fi.Mode(), err)
	}
	if err := os.WriteFile(name, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := readClientID(name); err == nil {
		t.Error("a 5-byte file read as a client id")
	}
}

func TestHistoryPath(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{env: map[string]string{"HOME": "/home/u"}, want: "/home/u/.zkcli_history"},
		{env: map[string]string{"HOME": "/home/u", historyEnv: "/tmp/h"}, want: "/tmp/h"},
		{env: map[string]string{}, want: ""},
	}
	for _, tt := range tests {
		if got := historyPath(func(k string) string { return tt.env[k] }); got != tt.want {
			t.Errorf("historyPath with %v = %q, want %q", tt.env, got, tt.want)
		}
	}
}

func TestCompleteCommand(t *testing.T) {
	tests := []struct {
		word string
		want []string
	}{
		{word: "get", want: []string{"get", "getAcl", "getAllChildrenNumber", "getEphemerals"}},
		{word: "ls2", want: []string{"ls2 "}}, // final: a space follows
		{word: "zap", want: nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, completeCommand(0, tt.word).Items); diff != "" {
			t.Errorf("completeCommand(%q) (-want +got):\n%s", tt.word, diff)
		}
	}
}
