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

// Tests that need no server: parsing, formats, the line editor.

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
		{zhandle.ErrNoAuth, "/x", "Authentication is not valid : /x"},
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

func TestHistory(t *testing.T) {
	name := filepath.Join(t.TempDir(), "h")
	if got := historyPath(func(k string) string { return map[string]string{"HOME": "/home/u"}[k] }); got != "/home/u/.zkcli_history" {
		t.Errorf("historyPath = %q", got)
	}
	if got := historyPath(func(k string) string { return map[string]string{"HOME": "/home/u", historyEnv: name}[k] }); got != name {
		t.Errorf("historyPath with %s = %q", historyEnv, got)
	}
	h := loadHistory(name)
	for _, line := range []string{"ls /", "ls /", " ", "get /a", "multi\nline"} {
		h.add(line)
	}
	if diff := cmp.Diff([]string{"ls /", "get /a"}, loadHistory(name).entries); diff != "" {
		t.Errorf("reloaded (-want +got):\n%s", diff)
	}
	if e, ok := h.newest(0); !ok || e != "get /a" {
		t.Errorf("newest(0) = %q, %v", e, ok)
	}
	if _, ok := h.newest(2); ok {
		t.Error("newest(2) exists")
	}
	// A file grown past twice the maximum is compacted on load.
	var b strings.Builder
	for i := range 2*historyMax + 5 {
		fmt.Fprintf(&b, "cmd %d\n", i)
	}
	if err := os.WriteFile(name, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	h = loadHistory(name)
	if len(h.entries) != historyMax || h.entries[0] != fmt.Sprintf("cmd %d", historyMax+5) {
		t.Errorf("loaded %d entries from %q", len(h.entries), h.entries[0])
	}
	data, _ := os.ReadFile(name)
	if n := strings.Count(string(data), "\n"); n != historyMax {
		t.Errorf("compacted file has %d lines, want %d", n, historyMax)
	}
}

func TestDecodeKey(t *testing.T) {
	tests := []struct {
		in   string
		want key
		n    int
	}{
		{"a", key{code: keyRune, r: 'a'}, 1},
		{"é", key{code: keyRune, r: 'é'}, 2},
		{"\xc3", key{}, 0},
		{"\r", key{code: keyEnter}, 1},
		{"\x7f", key{code: keyBackspace}, 1},
		{"\x1b[A", key{code: keyUp}, 3},
		{"\x1b[1;5C", key{code: keyWordRight}, 6},
		{"\x1b[3~", key{code: keyDelete}, 4},
		{"\x1bOH", key{code: keyHome}, 3},
		{"\x1b[", key{}, 0},
		{"\x1bb", key{code: keyWordLeft}, 2},
		{"\x1b", key{}, 0},
		{"\x03", key{code: keyCtrlC}, 1},
		{"\x07", key{code: keyNone}, 1},
	}
	for _, tt := range tests {
		k, n := decodeKey([]byte(tt.in))
		if k != tt.want || n != tt.n {
			t.Errorf("decodeKey(%q) = %+v, %d; want %+v, %d", tt.in, k, n, tt.want, tt.n)
		}
	}
}

// TestLineEditor types keys into the editor and checks the line and
// cursor.
func TestLineEditor(t *testing.T) {
	h := &history{entries: []string{"old one", "old two"}}
	tests := []struct {
		keys    string
		line    string
		pos     int
		comment string
	}{
		{"abc", "abc", 3, "typing"},
		{"abc\x02\x02X", "aXbc", 2, "Ctrl-B moves left"},
		{"abc\x01X\x05Y", "XabcY", 5, "Home and End"},
		{"abc\x7f", "ab", 2, "Backspace"},
		{"abc\x01\x1b[3~", "bc", 0, "Delete"},
		{"one two\x17", "one ", 4, "Ctrl-W"},
		{"one two\x1bb\x0b", "one ", 4, "Alt-B, Ctrl-K"},
		{"one two\x1bb\x15", "two", 0, "Ctrl-U"},
		{"ab\x14", "ba", 2, "Ctrl-T"},
		{"x\x1b[A", "old two", 7, "Up"},
		{"x\x1b[A\x1b[A\x1b[A", "old one", 7, "Up past the oldest"},
		{"x\x1b[A\x1b[A\x1b[B\x1b[B", "x", 1, "Down back to the typed line"},
	}
	for _, tt := range tests {
		var e lineEditor
		e.reset()
		for in := []byte(tt.keys); len(in) > 0; {
			k, n := decodeKey(in)
			if n == 0 {
				t.Fatalf("%s: undecodable %q", tt.comment, in)
			}
			in = in[n:]
			e.edit(k, h)
		}
		if string(e.buf) != tt.line || e.pos != tt.pos {
			t.Errorf("%s: line %q, cursor %d; want %q, %d", tt.comment, string(e.buf), e.pos, tt.line, tt.pos)
		}
	}
}

func TestRender(t *testing.T) {
	e := lineEditor{prompt: "> ", buf: []rune("0123456789"), pos: 10}
	tests := []struct {
		cols, pos int
		want      string
	}{
		{80, 10, "\r> 0123456789\x1b[K\r\x1b[12C"},
		{80, 0, "\r> 0123456789\x1b[K\r\x1b[2C"},
		{8, 10, "\r> 56789\x1b[K\r\x1b[7C"}, // scrolled: the cursor stays on screen
		{8, 0, "\r> 012345\x1b[K\r\x1b[2C"}, // cut at the right edge
	}
	for _, tt := range tests {
		e.pos = tt.pos
		if got := e.render(tt.cols); got != tt.want {
			t.Errorf("render(%d) at %d = %q, want %q", tt.cols, tt.pos, got, tt.want)
		}
	}
}

func TestCompletionHelpers(t *testing.T) {
	if got := commonPrefix([]string{"/a/alpha", "/a/alps", "/a/alpé"}); got != "/a/alp" {
		t.Errorf("commonPrefix = %q", got)
	}
	if got := commonPrefix([]string{"é", "è"}); got != "" {
		t.Errorf("commonPrefix cut a character: %q", got)
	}
	if got, want := columnize([]string{"a", "bbb", "cc"}, 10), "a    bbb\ncc\n"; got != want {
		t.Errorf("columnize = %q, want %q", got, want)
	}
	c := completeCommand(0, "get")
	if diff := cmp.Diff([]string{"get", "getAcl", "getAllChildrenNumber", "getEphemerals"}, c.items); diff != "" {
		t.Errorf("completeCommand(get) (-want +got):\n%s", diff)
	}
	if c := completeCommand(0, "ls2"); len(c.items) != 1 || c.items[0] != "ls2 " {
		t.Errorf("completeCommand(ls2) = %q", c.items)
	}
}

// TestRunInterrupt checks that Ctrl-C typed while a command runs cancels
// it, and that the other keys typed meanwhile wait for the next line.
func TestRunInterrupt(t *testing.T) {
	term := &terminal{input: make(chan []byte, 1), signals: make(chan os.Signal)}
	started := make(chan struct{})
	go func() {
		<-started
		term.input <- []byte("ab\x03cd")
	}()
	err := term.run(context.Background(), func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("run = %v, want context.Canceled", err)
	}
	if string(term.pending) != "abcd" {
		t.Errorf("pending input %q, want %q", term.pending, "abcd")
	}
}
