package zktest

import (
	"bytes"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zkloop/zkloop/internal/goid"
)

const (
	// leakSettle bounds how long VerifyNoLeaks waits for goroutines to
	// end after the test's cleanups: a closed handle's goroutines end in
	// milliseconds, on a loaded machine in more.
	leakSettle = 5 * time.Second
	// leakPoll is how often VerifyNoLeaks looks again meanwhile.
	leakPoll = 10 * time.Millisecond
)

// zkloopPrefix starts the function names of zkloop's packages in stack
// traces.
const zkloopPrefix = "github.com/zkloop/zkloop/"

// harnessPrefixes are the packages of zkloop that run tests rather than
// ZooKeeper clients: their goroutines are this package's business, ended
// in cleanups of their own.
var harnessPrefixes = []string{
	zkloopPrefix + "zktest.",
	zkloopPrefix + "internal/jvm.",
	zkloopPrefix + "internal/fakeserver.",
	zkloopPrefix + "internal/curator.",
}

// VerifyNoLeaks fails the test if a handle of zkloop, a recipe, a cache or
// any other goroutine running zkloop's code, started during the test,
// outlives it: once the test's cleanups have run, it waits up to 5 s for
// such goroutines to end and reports those that remain, with their stacks.
// Call it first in the test, so that its check runs after every cleanup
// registered later (a handle closed in t.Cleanup does not count as a
// leak):
//
//	func TestAgent(t *testing.T) {
//		zktest.VerifyNoLeaks(t)
//		srv := zktest.NewServer(t)
//		...
//
// A goroutine belongs to the test when the test's goroutine started it,
// or a goroutine started since the call did (directly or through other
// goroutines), so tests running in parallel do not see each other's
// handles, and neither does a test see those of a server or handle shared
// by the package's tests. One exception: a goroutine whose creator has
// ended and was itself started by a test running in parallel cannot be
// told apart from this test's, and counts.
func VerifyNoLeaks(t testing.TB) {
	t.Helper()
	verifyNoLeaks(t, leakSettle)
}

// verifyNoLeaks is VerifyNoLeaks with the time allowed to settle.
func verifyNoLeaks(t testing.TB, settle time.Duration) {
	t.Helper()
	self := goid.Current()
	before := map[uint64]bool{} // the goroutines at the call
	for _, g := range goroutines() {
		before[g.id] = true
	}
	t.Cleanup(func() {
		t.Helper()
		deadline := time.Now().Add(settle)
		ticker := time.NewTicker(leakPoll)
		defer ticker.Stop()
		for {
			leaked := leakedGoroutines(goroutines(), self, before, goid.Current())
			if len(leaked) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("zktest: %d goroutine(s) of zkloop outlived the test by %v:\n\n%s", len(leaked), settle, strings.Join(leaked, "\n\n"))
				return
			}
			<-ticker.C
		}
	})
}

// goroutine is one goroutine of a stack dump.
type goroutine struct {
	id      uint64
	creator uint64 // 0 for none (the main goroutine, the runtime's)
	stack   string // the whole entry, for the report
	zkloop  bool   // a frame or its creator is in zkloop's client packages
	test    bool   // it runs a test (testing.tRunner)
}

// leakedGoroutines returns the stacks of the goroutines of gs, other than
// current (the caller's), that run zkloop's code and belong to the test
// whose goroutine is self, begun when the goroutines before were running
// (see VerifyNoLeaks). Goroutine ids are unique but not in the order the
// goroutines were started (each P takes them from the runtime in
// batches), so "started since" is "not running before".
func leakedGoroutines(gs []goroutine, self uint64, before map[uint64]bool, current uint64) []string {
	byID := make(map[uint64]goroutine, len(gs))
	for _, g := range gs {
		byID[g.id] = g
	}
	var leaked []string
	for _, g := range gs {
		if g.id == current || g.id == self || before[g.id] || !g.zkloop {
			continue
		}
		if belongsTo(g, byID, self, before) {
			leaked = append(leaked, g.stack)
		}
	}
	return leaked
}

// belongsTo follows g's creators to the test's goroutine (yes), to another
// test's or a goroutine without a creator (no), or to a creator that has
// ended: yes if it was not running before the test's call.
func belongsTo(g goroutine, byID map[uint64]goroutine, self uint64, before map[uint64]bool) bool {
	for range len(byID) { // a chain is never longer; guards a malformed dump
		if g.creator == self {
			return true
		}
		if g.creator == 0 {
			return false
		}
		parent, alive := byID[g.creator]
		if !alive {
			return !before[g.creator]
		}
		if parent.test {
			return false
		}
		g = parent
	}
	return false
}

// goroutines returns every goroutine of the process, parsed from
// runtime.Stack.
func goroutines() []goroutine {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var gs []goroutine
	for entry := range bytes.SplitSeq(buf, []byte("\n\n")) {
		if g, ok := parseGoroutine(string(entry)); ok {
			gs = append(gs, g)
		}
	}
	return gs
}

// parseGoroutine reads one entry of a stack dump:
//
//	goroutine 20 [select]:
//	github.com/zkloop/zkloop/zhandle.(*Handle).runLoop(0xc000132000)
//		/src/zhandle/handle.go:150 +0x1d
//	created by github.com/zkloop/zkloop/zhandle.Init in goroutine 7
//		/src/zhandle/handle.go:136 +0x1a
func parseGoroutine(entry string) (goroutine, bool) {
	header, rest, _ := strings.Cut(entry, "\n")
	idText, ok := strings.CutPrefix(header, "goroutine ")
	if !ok {
		return goroutine{}, false
	}
	idText, _, _ = strings.Cut(idText, " ")
	id, err := strconv.ParseUint(idText, 10, 64)
	if err != nil {
		return goroutine{}, false
	}
	g := goroutine{id: id, stack: entry}
	for line := range strings.Lines(rest) {
		if strings.HasPrefix(line, "\t") {
			continue // a file and line
		}
		fn := strings.TrimSpace(line)
		if created, ok := strings.CutPrefix(fn, "created by "); ok {
			fn, g.creator = parseCreatedBy(created)
		}
		g.zkloop = g.zkloop || isClientCode(fn)
		g.test = g.test || strings.HasPrefix(fn, "testing.tRunner")
	}
	return g, true
}

// parseCreatedBy splits "pkg.fn in goroutine 7" into the function and the
// creator's id.
func parseCreatedBy(s string) (fn string, creator uint64) {
	fn, idText, ok := strings.Cut(s, " in goroutine ")
	if !ok {
		return fn, 0
	}
	id, err := strconv.ParseUint(idText, 10, 64)
	if err != nil {
		return fn, 0
	}
	return fn, id
}

// isClientCode reports whether fn, a function name of a stack trace, is
// in zkloop's packages other than the test harness.
func isClientCode(fn string) bool {
	if !strings.HasPrefix(fn, zkloopPrefix) {
		return false
	}
	for _, p := range harnessPrefixes {
		if strings.HasPrefix(fn, p) {
			return false
		}
	}
	return true
}
