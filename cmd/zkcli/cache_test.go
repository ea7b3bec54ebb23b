package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zkloop/zkloop/zhandle"
	"github.com/zkloop/zkloop/zktest"
)

// testCache runs cache -stats, a live tail of a subtree while another
// session changes it, and cache with bad arguments.
func testCache(t *testing.T, srv *zktest.Server) {
	h := client(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, n := range []struct{ path, data string }{{"/cache", "root"}, {"/cache/a", "aa"}, {"/cache/b", "b"}} {
		if _, err := h.Create(ctx, n.path, []byte(n.data), zhandle.OpenACLUnsafe, zhandle.Persistent); err != nil {
			t.Fatalf("Create %s: %v", n.path, err)
		}
	}

	t.Run("stats", func(t *testing.T) {
		r := zkcli(t, "", "-server", srv.Addr(), "cache", "-stats", "/cache")
		r.stdout = regexp.MustCompile(`(?m)^(primeTime|requests) = .*$`).ReplaceAllString(r.stdout, "$1 = <n>")
		want := result{"nodes = 3\ndataBytes = 7\nprimeTime = <n>\nrequests = <n>\n", "", 0}
		if diff := cmp.Diff(want, r, cmp.AllowUnexported(result{})); diff != "" {
			t.Errorf("cache -stats (-want +got):\n%s", diff)
		}
	})

	t.Run("tail", func(t *testing.T) {
		out := &waitBuffer{changed: make(chan struct{}, 1)}
		var errOut bytes.Buffer
		tailCtx, stop := context.WithCancel(ctx)
		code := make(chan int, 1)
		go func() {
			code <- run(tailCtx, func() {}, []string{"-server", srv.Addr(), "cache", "/cache"}, func(string) string { return "" }, strings.NewReader(""), out, &errOut)
		}()
		// Each change waits for the line of the one before: a cache
		// coalesces changes that land while it is reading, so a node
		// created and deleted at once may never be seen at all.
		want := "cached 3 nodes; changes follow\n"
		out.waitFor(t, want)
		if _, err := h.Create(ctx, "/cache/c", []byte("new"), zhandle.OpenACLUnsafe, zhandle.Persistent); err != nil {
			t.Fatalf("Create: %v", err)
		}
		want += "created /cache/c new\n"
		out.waitFor(t, want)
		if _, err := h.Set(ctx, "/cache/a", []byte("\x00binary"), -1); err != nil {
			t.Fatalf("Set: %v", err)
		}
		want += "changed /cache/a \"\\x00binary\"\n"
		out.waitFor(t, want)
		if err := h.Delete(ctx, "/cache/c", -1); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		want += "deleted /cache/c\n"
		out.waitFor(t, want)
		stop()
		if got := <-code; got != exitInterrupted || out.String() != want || errOut.Len() != 0 {
			t.Errorf("cache: exit %d, stdout %q, stderr %q; want %d, %q, nothing", got, out.String(), errOut.String(), exitInterrupted, want)
		}
	})

	t.Run("bad-arguments", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			want result
		}{
			{[]string{"cache"}, result{"", lookup("cache").usageLine() + "\n", 1}},
			{[]string{"cache", "relative"}, result{"", "cache: root \"relative\" is not absolute\n", 1}},
			{[]string{"cache", "-frob", "/cache"}, result{"", "Unrecognized option: -frob; usage: " + lookup("cache").usageLine() + "\n", 1}},
		} {
			r := zkcli(t, "", append([]string{"-server", srv.Addr()}, tc.args...)...)
			if diff := cmp.Diff(tc.want, r, cmp.AllowUnexported(result{})); diff != "" {
				t.Errorf("zkcli %q (-want +got):\n%s", tc.args, diff)
			}
		}
	})
}

// waitBuffer is an output that tests can wait on.
type waitBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{}
}

func (w *waitBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	select {
	case w.changed <- struct{}{}:
	default:
	}
	return w.b.Write(p)
}

func (w *waitBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// waitFor waits until the output is want.
func (w *waitBuffer) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for w.String() != want {
		select {
		case <-w.changed:
		case <-deadline:
			t.Fatalf("output %q, want %q", w.String(), want)
		}
	}
}
