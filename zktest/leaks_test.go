package zktest

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zkloop/zkloop/zhandle"
)

// unreachable is an address where nothing listens: a handle for it keeps
// its goroutines running, trying to connect, without a server.
const unreachable = "127.0.0.1:1"

// TestVerifyNoLeaks checks that a handle left open fails the test, with
// its goroutines' stacks, and one closed in a cleanup does not.
func TestVerifyNoLeaks(t *testing.T) {
	for _, tc := range []struct {
		name  string
		close bool
	}{
		{"left open", false},
		{"closed in a cleanup", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &tbRecorder{TB: t}
			verifyNoLeaks(rec, leakPoll) // not 5 s for the test that leaks
			h, err := zhandle.Init(unreachable, nil, sessionTimeout)
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close() // for the test that leaks; Close always returns nil
			if tc.close {
				rec.Cleanup(func() { _ = h.Close() })
			}
			rec.runCleanups()
			failures := rec.recorded()
			if tc.close {
				if len(failures) != 0 {
					t.Errorf("VerifyNoLeaks reported %q", failures)
				}
				return
			}
			if len(failures) != 1 || !strings.Contains(failures[0], "zkloop/zhandle.") {
				t.Errorf("VerifyNoLeaks reported %q, want one failure naming zhandle's goroutines", failures)
			}
		})
	}
}

// TestVerifyNoLeaksParallel checks that a test does not see the handle of
// a test running in parallel, made after its VerifyNoLeaks.
func TestVerifyNoLeaksParallel(t *testing.T) {
	verified := make(chan struct{}) // the checked test has called VerifyNoLeaks
	opened := make(chan struct{})   // the other test has its handle
	checked := make(chan struct{})  // the checked test's cleanups have run
	t.Run("group", func(t *testing.T) {
		t.Run("other", func(t *testing.T) {
			t.Parallel()
			<-verified
			h, err := zhandle.Init(unreachable, nil, sessionTimeout)
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close() // Close always returns nil
			close(opened)
			<-checked
		})
		t.Run("checked", func(t *testing.T) {
			t.Parallel()
			defer close(checked)
			rec := &tbRecorder{TB: t}
			VerifyNoLeaks(rec)
			close(verified)
			<-opened
			rec.runCleanups()
			if failures := rec.recorded(); len(failures) != 0 {
				t.Errorf("VerifyNoLeaks reported the other test's handle: %q", failures)
			}
		})
	})
}

func TestParseGoroutine(t *testing.T) {
	for _, tc := range []struct {
		name, entry string
		want        goroutine
		ok          bool
	}{
		{
			name: "handle",
			entry: "goroutine 20 [select]:\n" +
				"github.com/zkloop/zkloop/zhandle.(*Handle).runLoop(0xc000132000)\n" +
				"\t/src/zhandle/handle.go:150 +0x1d\n" +
				"created by github.com/zkloop/zkloop/zhandle.Init in goroutine 7\n" +
				"\t/src/zhandle/handle.go:136 +0x1a",
			want: goroutine{id: 20, creator: 7, zkloop: true},
			ok:   true,
		},
		{
			name: "test",
			entry: "goroutine 7 [chan receive]:\n" +
				"testing.tRunner(0xc0000a2000, 0x5b2c28)\n" +
				"\t/go/src/testing/testing.go:1792 +0xf4\n" +
				"created by testing.(*T).Run in goroutine 1\n" +
				"\t/go/src/testing/testing.go:1851 +0x413",
			want: goroutine{id: 7, creator: 1, test: true},
			ok:   true,
		},
		{
			name: "harness",
			entry: "goroutine 30 [IO wait]:\n" +
				"github.com/zkloop/zkloop/zktest.(*Proxy).acceptLoop(0xc0001)\n" +
				"\t/src/zktest/proxy.go:1 +0x1\n" +
				"created by github.com/zkloop/zkloop/zktest.NewProxy in goroutine 7\n" +
				"\t/src/zktest/proxy.go:2 +0x2",
			want: goroutine{id: 30, creator: 7},
			ok:   true,
		},
		{
			name:  "main",
			entry: "goroutine 1 [running]:\nmain.main()\n\t/src/main.go:16 +0x53",
			want:  goroutine{id: 1},
			ok:    true,
		},
		{name: "not a goroutine", entry: "panic: boom"},
		{name: "bad id", entry: "goroutine x [running]:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseGoroutine(tc.entry)
			got.stack = ""
			if ok != tc.ok || got != tc.want {
				t.Errorf("parseGoroutine() = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestLeakedGoroutines(t *testing.T) {
	const self = 10
	before := map[uint64]bool{1: true, 5: true, self: true, 30: true, 40: true}
	gs := []goroutine{
		{id: 1},                         // main
		{id: 5, creator: 1, test: true}, // another test, begun before
		{id: self, creator: 1, test: true},
		{id: 60, creator: self, zkloop: true}, // the test's handle
		{id: 61, creator: 60, zkloop: true},   // started by it, running the check
		{id: 62, creator: 5, zkloop: true},    // the other test's handle
		{id: 63, creator: 55, zkloop: true},   // its creator, begun after the call, has ended
		{id: 64, creator: 40, zkloop: true},   // its creator, begun before the call, has ended
		{id: 65, creator: 1, zkloop: true},    // started by TestMain
		{id: 66, creator: self},               // not zkloop's
		{id: 30, creator: self, zkloop: true}, // begun before the call
	}
	for i := range gs {
		gs[i].stack = strconv.FormatUint(gs[i].id, 10)
	}
	got := leakedGoroutines(gs, self, before, 61)
	if diff := cmp.Diff([]string{"60", "63"}, got); diff != "" {
		t.Errorf("goroutines of the test (-want +got):\n%s", diff)
	}
}
