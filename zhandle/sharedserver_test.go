package zhandle

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zkloop/zkloop/zktest"
)

// The standalone server most real-server tests share (ops_test.go,
// watch_test.go, context_test.go, ...), and realClient: a handle connected
// to it under a chroot of its own per test, with a recorder as its default
// watcher.

// containerCheckInterval is how often the shared server looks for empty
// containers and expired TTL nodes (one minute by default).
const containerCheckInterval = 100 * time.Millisecond

// shared is the standalone server of this test binary, started by the first
// test that needs it.
var shared struct {
	once sync.Once
	srv  *zktest.Server
	tb   *serverTB
}

// sharedServer returns the test binary's standalone server, starting it on
// first use. JVM starts cost seconds, so tests share it and keep apart by
// chroot (newRealClient). It skips or fails t as zktest.NewServer would. The
// server outlives the tests: TestMain's zktest.KillAll ends it (and
// Pdeathsig, should the binary die first).
func sharedServer(t testing.TB) *zktest.Server {
	t.Helper()
	shared.once.Do(func() {
		shared.tb = newServerTB()
		done := make(chan struct{})
		go func() { // zktest ends this goroutine on Fatal or Skip
			defer close(done)
			shared.srv = zktest.NewServer(shared.tb,
				zktest.WithSystemProperty("znode.container.checkIntervalMs", strconv.Itoa(int(containerCheckInterval.Milliseconds()))))
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
	events  *recorder
	connect string
	srv     *zktest.Server
}

// newRealClient connects to the shared server under a new chroot, named
// after the test, and creates the chroot node: Create("/") under a chroot
// creates the chroot itself, as in C and Java.
func newRealClient(t *testing.T, opts ...Option) *realClient {
	t.Helper()
	srv := sharedServer(t)
	chroot := uniquePath(t.Name())
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
	events := newRecorder()
	h := connectHandle(t, hosts, events, sessionTimeout, opts...)
	events.expect(t, sessionEvent(StateConnected))
	return &realClient{Handle: h, events: events, connect: hosts, srv: srv}
}

// sibling connects another session under the same chroot.
func (c *realClient) sibling(t *testing.T) *realClient {
	t.Helper()
	return dial(t, c.srv, c.connect)
}

// chroot returns the chroot of c's connect string.
func (c *realClient) chroot() string { return c.connect[len(c.srv.Addr()):] }
