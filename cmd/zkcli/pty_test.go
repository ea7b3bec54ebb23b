package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zkloop/zkloop/cmd/zkcli/internal/ptytest"
	"github.com/zkloop/zkloop/zhandle"
	"github.com/zkloop/zkloop/zktest"
)

// testTerminal drives an interactive zkcli through a pseudo-terminal:
// history from a previous session, tab completion of commands and paths,
// a watch event arriving while a line is typed, Ctrl-C and Ctrl-D.
func testTerminal(t *testing.T, srv *zktest.Server) {
	ctx := context.Background()
	h := client(t, srv)
	for _, p := range []string{"/pty", "/pty/alpha", "/pty/alps"} {
		if _, err := h.Create(ctx, p, []byte("data of "+p), zhandle.OpenACLUnsafe, zhandle.Persistent); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	hist := filepath.Join(dir, "history")
	if err := os.WriteFile(hist, []byte("get /pty/alps\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	master, slave := ptytest.Open(t, 200)
	cmd := exec.Command(os.Args[0], "-server", srv.Addr())
	cmd.Env = append(os.Environ(), mainEnv+"=1", "HOME="+dir, historyEnv+"="+hist, "TERM=xterm")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill() // the test failed with zkcli still running
			<-exited
		}
	}()
	slave.Close()
	scr := ptytest.NewScreen(t, master)
	prompt := func(n int) string { return fmt.Sprintf("[zk: %s(CONNECTED) %d] ", srv.Addr(), n) }

	scr.Expect("WatchedEvent state:SyncConnected type:None path:null")
	scr.Expect(prompt(0))

	// Up recalls the history of an earlier session.
	scr.Send("\x1b[A")
	scr.Expect(prompt(0) + "get /pty/alps")
	scr.Send("\r")
	scr.Expect("data of /pty/alps")

	// A command name, then a path: the common prefix, then the choices,
	// then a unique leaf gets a space.
	scr.Send("ge\t")
	scr.Expect(prompt(1) + "get\x1b[K")
	scr.Send(" /p\t")
	scr.Expect("get /pty/")
	scr.Send("a\t")
	scr.Expect("get /pty/alp")
	scr.Send("\t")
	scr.Expect("alpha  alps")
	scr.Send("h\t")
	scr.Expect("get /pty/alpha ")
	scr.Send("\r")
	scr.Expect("data of /pty/alpha")
	scr.Expect(prompt(2))

	// A watch event while a line is being typed: printed above it, and the
	// prompt and the line redrawn intact.
	scr.Send("get -w /pty/alpha\r")
	scr.Expect(prompt(3))
	scr.Send("stat /pty/al")
	scr.Expect("stat /pty/al")
	if _, err := h.Set(ctx, "/pty/alpha", []byte("changed"), -1); err != nil {
		t.Fatal(err)
	}
	scr.Expect("WatchedEvent state:SyncConnected type:NodeDataChanged path:/pty/alpha")
	scr.Expect(prompt(3) + "stat /pty/al")
	scr.Send("pha\r")
	scr.Expect("dataVersion = 1")
	scr.Expect(prompt(4)) // a Ctrl-C typed before would cancel the command

	// Ctrl-C drops the line; the next command still runs.
	scr.Send("garbage\x03")
	scr.Expect("^C")
	scr.Send("history\r")
	scr.Expect("4 - history")
	scr.Expect(prompt(5))

	// Up twice: the command before history.
	scr.Send("\x1b[A\x1b[A\r")
	scr.Expect("dataVersion = 1")
	scr.Expect(prompt(6))

	// Ctrl-D on an empty line leaves.
	scr.Send("\x04")
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("zkcli: %v", err)
		}
	case <-time.After(ptytest.Timeout):
		t.Fatal("zkcli did not exit on Ctrl-D")
	}
	got, err := os.ReadFile(hist)
	if err != nil {
		t.Fatal(err)
	}
	want := "get /pty/alps\nget /pty/alpha \nget -w /pty/alpha\nstat /pty/alpha\nhistory\nstat /pty/alpha\n"
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("history file (-want +got):\n%s", diff)
	}
}
