package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zkloop/zkloop/internal/fakeserver"
	"github.com/zkloop/zkloop/zktest"
)

// noSession starts the error of a batch run that no server served.
const noSession = "Could not establish a session with "

// TestBatchWaitsForSession starts zkcli together with a server, in each of
// the batch forms, 20 times in a row (once each under -short): while the
// JVM starts, connections are refused, then accepted
// and closed, or left unanswered, before the server serves sessions; zkcli
// waits for the session and every command succeeds.
func TestBatchWaitsForSession(t *testing.T) {
	runs := 20 // a run takes 0.2 to 2 s here, mostly the JVM's start
	if testing.Short() {
		runs = 3
	}
	srv := zktest.NewServer(t)
	forms := []struct {
		name  string
		stdin string
		args  []string
		out   string
	}{
		{"trailing", "", []string{"create", "$N", "x"}, "Created $N\n"},
		{"c", "", []string{"-c", "create $N x", "-c", "get $N"}, "Created $N\nx\n"},
		{"stdin", "create $N x\nget $N\n", nil, "Created $N\nx\n"},
	}
	for i := range runs {
		form := forms[i%len(forms)]
		expand := strings.NewReplacer("$N", fmt.Sprintf("/started-%d", i)).Replace
		args := []string{"-server", srv.Addr(), "-timeout", "20s"}
		for _, a := range form.args {
			args = append(args, expand(a))
		}
		srv.Kill()
		done := make(chan result, 1)
		go func() { done <- zkcli(t, expand(form.stdin), args...) }()
		srv.Start()
		want := result{stdout: expand(form.out)}
		if diff := cmp.Diff(want, <-done, cmp.AllowUnexported(result{})); diff != "" {
			t.Fatalf("run %d, %s: zkcli %q (-want +got):\n%s", i, form.name, args, diff)
		}
	}
}

// TestBatchNoServer runs zkcli on servers that never serve: one refuses
// connections, the other accepts and closes them. The first command that
// needs the session keeps trying until the timeout, then zkcli names both
// servers and runs nothing more; commands that need no session run
// without waiting.
func TestBatchNoServer(t *testing.T) {
	const timeout = time.Second
	closer := fakeserver.New(t)
	closer.SetDefault(func(*fakeserver.Conn) {}) // the connection is closed when the script returns
	servers := "127.0.0.1:1," + closer.Addr()
	failure := noSession + "127.0.0.1:1, " + closer.Addr() + " within 1s: KeeperErrorCode = ConnectionLoss\n"
	versionLine := "ZooKeeper CLI version: zkloop zkcli " + version() + "\n"
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  result
	}{
		{"trailing", "", []string{"ls", "/"}, result{"", failure, exitFailed}},
		{"c", "", []string{"-c", "version", "-c", "ls /", "-c", "get /"}, result{versionLine, failure, exitFailed}},
		{"stdin", "version\nls /\nget /\n", nil, result{versionLine, failure, exitFailed}},
	}
	t.Run("forms", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				args := append([]string{"-server", servers, "-timeout", timeout.String()}, tt.args...)
				start := time.Now()
				got := zkcli(t, tt.stdin, args...)
				elapsed := time.Since(start)
				if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(result{})); diff != "" {
					t.Errorf("zkcli %q <<< %q (-want +got):\n%s", args, tt.stdin, diff)
				}
				if limit := timeout + 5*time.Second; elapsed > limit {
					t.Errorf("zkcli %q gave up after %v, want at most %v", args, elapsed, limit)
				}
			})
		}
	})
	if closer.Accepted() < 2 {
		t.Errorf("the server that closes connections was tried %d times, want at least 2", closer.Accepted())
	}
	// With a timeout longer than zkcli's interruption (30 s), a wait
	// would show as exit status 130.
	args := []string{"-server", servers, "-timeout", "1m", "-c", "version", "-c", "help sync"}
	want := result{versionLine + "sync path\n\tmake the server catch up with the leader (both)\n", "", exitOK}
	if diff := cmp.Diff(want, zkcli(t, "", args...), cmp.AllowUnexported(result{})); diff != "" {
		t.Errorf("zkcli %q (-want +got):\n%s", args, diff)
	}
}
