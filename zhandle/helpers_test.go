package zhandle

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/sys/unix"

	"github.com/zkloop/zkloop/internal/zktest"
)

// Helpers of the real-server tests (ops_test.go, watch_test.go,
// example_test.go): one standalone server per test binary, a connected
// handle under a chroot of its own per test, a watcher that records events,
// and the two forms (sync, async) of every operation as one value.

const (
	// waitTimeout bounds every wait of these tests: a reply, a callback, an
	// event. On loopback each takes milliseconds; the rest is slack for a
	// loaded machine under -race.
	waitTimeout = 20 * time.Second
	// sessionTimeout is the session timeout the test handles ask for.
	sessionTimeout = 10 * time.Second
	// containerCheckInterval is how often the shared server looks for
	// empty containers and expired TTL nodes (one minute by default).
	containerCheckInterval = 100 * time.Millisecond
)

// shared is the standalone server of this test binary, started by the first
// test that needs it.
var shared struct {
	once sync.Once
	srv  *zktest.Server
	tb   *serverTB
}

// sharedServer returns the test binary's standalone server, starting it on
// first use. JVM starts cost seconds, so tests share it and keep apart by
// chroot (newRealClient). It skips or fails t as zktest.Standalone would. The
// server outlives the tests: TestMain's zktest.KillAll ends it (and
// Pdeathsig, should the binary die first).
func sharedServer(t testing.TB) *zktest.Server {
	t.Helper()
	shared.once.Do(func() {
		shared.tb = newServerTB()
		done := make(chan struct{})
		go func() { // zktest ends this goroutine on Fatal or Skip
			defer close(done)
			shared.srv = zktest.Standalone(shared.tb,
				zktest.WithJVMFlags("-Dznode.container.checkIntervalMs="+strconv.Itoa(int(containerCheckInterval.Milliseconds()))))
		}()
		<-done
		for _, line := range shared.tb.logs() {
			t.Log(line)
		}
	})
	if skip, why := shared.tb.outcome(); why != "" {
		if skip {
			t.Skip(why)
		}
		t.Fatal(why)
	}
	return shared.srv
}

// serverTB is the testing.TB of the shared server: it belongs to no test,
// so it outlives them all. It implements the methods zktest calls; the
// embedded nil TB stands for the rest, which zktest does not use. Its
// cleanups never run: the JVM is killed by TestMain, and the directory of a
// test binary that has exited is removed by the next one (sweepServerDirs).
type serverTB struct {
	testing.TB
	root string

	mu      sync.Mutex
	dirs    int
	lines   []string
	failure string // a Fatal, Error or Skip message
	skipped bool
}

// serverDirPrefix names the directories of shared servers, followed by the
// pid of the test binary that made one.
const serverDirPrefix = "zkloop-zhandle-test."

func newServerTB() *serverTB {
	sweepServerDirs()
	tb := &serverTB{root: filepath.Join(os.TempDir(), serverDirPrefix+strconv.Itoa(os.Getpid()))}
	if err := os.MkdirAll(tb.root, 0o755); err != nil {
		tb.failure = fmt.Sprintf("shared server directory: %v", err)
	}
	return tb
}

// sweepServerDirs removes the directories of shared servers whose test
// binary has exited.
func sweepServerDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), serverDirPrefix+"*")) // the pattern is valid
	for _, dir := range dirs {
		pid, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(dir), serverDirPrefix))
		if err == nil && unix.Kill(pid, 0) == unix.ESRCH {
			_ = os.RemoveAll(dir) // best effort: another run may sweep it at the same time
		}
	}
}

func (tb *serverTB) Helper()        {}
func (tb *serverTB) Name() string   { return "sharedServer" }
func (tb *serverTB) Cleanup(func()) {} // see serverTB

func (tb *serverTB) TempDir() string {
	tb.mu.Lock()
	tb.dirs++
	dir := filepath.Join(tb.root, strconv.Itoa(tb.dirs))
	tb.mu.Unlock()
	if err := os.Mkdir(dir, 0o755); err != nil {
		tb.Fatalf("TempDir: %v", err)
	}
	return dir
}

func (tb *serverTB) Logf(format string, args ...any) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.lines = append(tb.lines, fmt.Sprintf(format, args...))
}

func (tb *serverTB) Errorf(format string, args ...any) {
	tb.end(false, fmt.Sprintf(format, args...))
}

func (tb *serverTB) Fatalf(format string, args ...any) {
	tb.end(false, fmt.Sprintf(format, args...))
	runtime.Goexit()
}

func (tb *serverTB) Skipf(format string, args ...any) {
	tb.end(true, fmt.Sprintf(format, args...))
	runtime.Goexit()
}

func (tb *serverTB) Failed() bool {
	skipped, why := tb.outcome()
	return why != "" && !skipped
}

func (tb *serverTB) end(skip bool, why string) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if tb.failure == "" {
		tb.failure, tb.skipped = why, skip
	}
}

func (tb *serverTB) outcome() (skipped bool, why string) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return tb.skipped, tb.failure
}

func (tb *serverTB) logs() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return tb.lines
}

// realClient is a handle connected to the shared server, its default
// watcher's events, and the connect string that made it.
type realClient struct {
	*Handle
	events  *eventLog
	connect string
	srv     *zktest.Server
}

// nodeSeq makes top-level node names unique across tests and -count
// repetitions.
var nodeSeq atomic.Int64

// uniqueNode returns a top-level path named after the test, new to the
// shared server.
func uniqueNode(t *testing.T) string {
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, t.Name())
	return fmt.Sprintf("/%s-%d", name, nodeSeq.Add(1))
}

// newRealClient connects to the shared server under a new chroot, named
// after the test, and creates the chroot node: Create("/") under a chroot
// creates the chroot itself, as in C and Java.
func newRealClient(t *testing.T, opts ...Option) *realClient {
	t.Helper()
	srv := sharedServer(t)
	chroot := uniqueNode(t)
	c := dial(t, srv, srv.Addr()+chroot, opts...)
	if p, err := c.Create(testContext(t), "/", nil, OpenACLUnsafe, Persistent); err != nil || p != "/" {
		t.Fatalf(`Create("/") under chroot %s = %q, %v; want "/", nil`, chroot, p, err)
	}
	return c
}

// dial connects a handle with connect string hosts, waits for the session,
// checks the session event and closes the handle when the test ends.
func dial(t *testing.T, srv *zktest.Server, hosts string, opts ...Option) *realClient {
	t.Helper()
	events := newEventLog()
	h, err := Init(hosts, events, sessionTimeout, opts...)
	if err != nil {
		t.Fatalf("Init(%q): %v", hosts, err)
	}
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if err := h.WaitConnected(testContext(t)); err != nil {
		t.Fatalf("WaitConnected(%q): %v", hosts, err)
	}
	events.expect(t, Event{Type: EventSession, State: StateConnected})
	return &realClient{Handle: h, events: events, connect: hosts, srv: srv}
}

// sibling connects another session under the same chroot.
func (c *realClient) sibling(t *testing.T) *realClient {
	t.Helper()
	return dial(t, c.srv, c.connect)
}

// testContext bounds the calls of a test.
func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

// barrier waits for an asynchronous round trip. Callbacks and watchers run
// in reply order on one goroutine, and the server sends a notification
// before any later reply, so once barrier returns every event due for the
// requests made before it has been delivered.
func (c *realClient) barrier(t *testing.T) {
	t.Helper()
	got := await(t, func(done func(reply)) error { return c.ASync("/", replyFunc(done).str()) })
	if got.Err != nil {
		t.Fatalf("barrier: ASync: %v", got.Err)
	}
}

// create makes a node or fails the test.
func (c *realClient) create(t *testing.T, p string, data []byte, mode CreateMode) {
	t.Helper()
	if _, err := c.Create(testContext(t), p, data, OpenACLUnsafe, mode); err != nil {
		t.Fatalf("Create(%q, %v): %v", p, mode, err)
	}
}

// set writes a node's data or fails the test.
func (c *realClient) set(t *testing.T, p string, data []byte) {
	t.Helper()
	if _, err := c.Set(testContext(t), p, data, -1); err != nil {
		t.Fatalf("Set(%q): %v", p, err)
	}
}

// stat returns a node's Stat or fails the test.
func (c *realClient) stat(t *testing.T, p string) Stat {
	t.Helper()
	st, err := c.Exists(testContext(t), p, false)
	if err != nil {
		t.Fatalf("Exists(%q): %v", p, err)
	}
	return st
}

// eventLog is a watcher that records events. It is a pointer type, so a
// registration of the same eventLog twice is one registration.
type eventLog struct{ ch chan Event }

func newEventLog() *eventLog { return &eventLog{ch: make(chan Event, 1024)} }

// Process records ev; it runs on the completion goroutine.
func (l *eventLog) Process(ev Event) { l.ch <- ev }

// next returns the next event, failing the test after waitTimeout.
func (l *eventLog) next(t *testing.T) Event {
	t.Helper()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	select {
	case ev := <-l.ch:
		return ev
	case <-timer.C:
		t.Fatalf("no event within %v", waitTimeout)
		return Event{}
	}
}

// expect checks that the next events are want, in order.
func (l *eventLog) expect(t *testing.T, want ...Event) {
	t.Helper()
	for _, w := range want {
		if diff := cmp.Diff(w, l.next(t)); diff != "" {
			t.Fatalf("event mismatch (-want +got):\n%s", diff)
		}
	}
}

// expectNone checks that no event is waiting; call it after a barrier.
func (l *eventLog) expectNone(t *testing.T) {
	t.Helper()
	select {
	case ev := <-l.ch:
		t.Fatalf("unexpected event %v", ev)
	default:
	}
}

// watchEvent is the event a one-shot watch delivers while connected.
func watchEvent(typ EventType, p string) Event {
	return Event{Type: typ, State: StateConnected, Path: p}
}

// await queues an asynchronous call and waits for its callback. It fails
// the test if the call is refused or the callback does not come.
func await[T any](t *testing.T, queue func(done func(T)) error) T {
	t.Helper()
	ch := make(chan T, 1)
	if err := queue(func(v T) { ch <- v }); err != nil {
		t.Fatalf("asynchronous call not queued: %v", err)
	}
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		t.Fatalf("no callback within %v", waitTimeout)
		var zero T
		return zero
	}
}

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
var viaDefault Watcher = newEventLog()

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
