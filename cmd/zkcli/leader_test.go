package main

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zkloop/zkloop/internal/recipetest"
	"github.com/zkloop/zkloop/recipe"
	"github.com/zkloop/zkloop/recipe/leader"
	"github.com/zkloop/zkloop/zktest"
)

// lineWriter hands each line written to it to a channel, as it comes.
type lineWriter struct {
	mu    sync.Mutex
	part  []byte
	lines chan string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.part = append(w.part, p...)
	for {
		i := bytes.IndexByte(w.part, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.lines <- string(w.part[:i])
		w.part = w.part[i+1:]
	}
}

// leaderRun is zkcli's leader command running in the background, its
// output read line by line.
type leaderRun struct {
	lines  chan string
	cancel context.CancelFunc // interrupts it, as SIGINT would
	done   chan result        // stdout left out: it went to lines
}

func startLeader(t *testing.T, srv *zktest.Server, args ...string) leaderRun {
	ctx, cancel := context.WithCancel(context.Background())
	r := leaderRun{lines: make(chan string, 64), cancel: cancel, done: make(chan result, 1)}
	t.Cleanup(cancel)
	go func() {
		var errOut bytes.Buffer // written by run only, read after it
		code := run(ctx, func() {}, append([]string{"-server", srv.Addr(), "leader"}, args...),
			func(string) string { return "" }, strings.NewReader(""), &lineWriter{lines: r.lines}, &errOut)
		r.done <- result{stderr: errOut.String(), code: code}
	}()
	return r
}

// expect reads the next lines, which must be want, in any order.
func (r leaderRun) expect(t *testing.T, want ...string) {
	t.Helper()
	var got []string
	for range want {
		got = append(got, recipetest.Receive(t, r.lines, "a line of zkcli's"))
	}
	if diff := cmp.Diff(slices.Sorted(slices.Values(want)), slices.Sorted(slices.Values(got))); diff != "" {
		t.Errorf("zkcli's lines (-want +got):\n%s", diff)
	}
}

// until reads lines up to want, and fails the test if any before it is
// not a list of participants, which may come or not depending on how
// fast zkcli reads them.
func (r leaderRun) until(t *testing.T, want string) {
	t.Helper()
	for {
		line := recipetest.Receive(t, r.lines, want)
		if line == want {
			return
		}
		if !strings.HasPrefix(line, "Participants: ") {
			t.Errorf("zkcli printed %q while %q was due", line, want)
		}
	}
}

// testLeader runs zkcli's leader in an election with Go latches.
func testLeader(t *testing.T, srv *zktest.Server) {
	const path = "/zkcli-leader"
	h := recipetest.Connect(t, srv.Addr())
	ctx := recipetest.Context(t)
	first := leader.NewLatch(h, path, "go-first")
	if err := first.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if _, err := first.Await(ctx); err != nil {
		t.Fatal(err)
	}

	r := startLeader(t, srv, path, "zk-cli")
	nodes := recipetest.WaitChildren(t, h, path, 2)
	recipe.SortSequential(nodes, "latch-")
	r.expect(t, `Joined election /zkcli-leader as "zk-cli" (node /zkcli-leader/`+nodes[1]+"); interrupt to leave",
		`Participants: "go-first" (leader), "zk-cli" (us)`)

	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	r.expect(t, "Became leader", `Participants: "zk-cli" (leader, us)`)

	// Someone deletes zkcli's node: it stops leading, and makes a new one.
	if err := h.Delete(ctx, path+"/"+nodes[1], -1); err != nil {
		t.Fatal(err)
	}
	r.until(t, "Lost leadership")
	r.until(t, "Became leader")
	second := leader.NewLatch(h, path, "go-second")
	if err := second.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	r.until(t, `Participants: "zk-cli" (leader, us), "go-second"`)

	r.cancel()
	r.expect(t, "Left election /zkcli-leader")
	if res := recipetest.Receive(t, r.done, "zkcli's exit"); res != (result{code: exitInterrupted}) {
		t.Errorf("zkcli: %+v", res)
	}
	if _, err := second.Await(ctx); err != nil { // zkcli's node is gone
		t.Fatal(err)
	}
}
