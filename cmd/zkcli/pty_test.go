package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zkloop/zkloop/internal/zktest"
	"github.com/zkloop/zkloop/zhandle"
	"golang.org/x/sys/unix"
)

// expectTimeout bounds each wait for the terminal's output.
const expectTimeout = 15 * time.Second

// openPTY opens a pseudo-terminal pair (posix_openpt, grantpt, unlockpt,
// ptsname) of width cols.
func openPTY(t *testing.T, cols uint16) (master, slave *os.File) {
	t.Helper()
	mfd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	master = os.NewFile(uintptr(mfd), "/dev/ptmx")
	if err := unix.IoctlSetPointerInt(mfd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(os.NewSyscallError("unlockpt", err))
	}
	n, err := unix.IoctlGetInt(mfd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(os.NewSyscallError("ptsname", err))
	}
	name := fmt.Sprintf("/dev/pts/%d", n)
	sfd, err := unix.Open(name, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	slave = os.NewFile(uintptr(sfd), name)
	if err := unix.IoctlSetWinsize(sfd, unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: cols}); err != nil {
		t.Fatal(err)
	}
	return master, slave
}

// screen collects what zkcli writes to its terminal and waits for text.
type screen struct {
	t      *testing.T
	master *os.File
	mu     sync.Mutex
	buf    bytes.Buffer
	mark   int // expect looks after this offset
	grew   chan struct{}
}

func newScreen(t *testing.T, master *os.File) *screen {
	s := &screen{t: t, master: master, grew: make(chan struct{}, 1)}
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := master.Read(b)
			s.mu.Lock()
			s.buf.Write(b[:n])
			s.mu.Unlock()
			select {
			case s.grew <- struct{}{}:
			default:
			}
			if err != nil { // EIO once zkcli has exited
				return
			}
		}
	}()
	return s
}

// expect waits until want appears after the mark, moves the mark past it
// and returns the output up to it.
func (s *screen) expect(want string) string {
	s.t.Helper()
	deadline := time.After(expectTimeout)
	for {
		s.mu.Lock()
		text := s.buf.String()[s.mark:]
		if i := strings.Index(text, want); i >= 0 {
			s.mark += i + len(want)
			s.mu.Unlock()
			return text[:i+len(want)]
		}
		s.mu.Unlock()
		select {
		case <-s.grew:
		case <-deadline:
			s.t.Fatalf("terminal never showed %q; after the last match it shows:\n%q", want, text)
		}
	}
}

func (s *screen) send(keys string) {
	s.t.Helper()
	if _, err := s.master.WriteString(keys); err != nil {
		s.t.Fatal(err)
	}
}

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

	master, slave := openPTY(t, 200)
	defer master.Close()
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
	scr := newScreen(t, master)
	prompt := func(n int) string { return fmt.Sprintf("[zk: %s(CONNECTED) %d] ", srv.Addr(), n) }

	scr.expect("WatchedEvent state:SyncConnected type:None path:null")
	scr.expect(prompt(0))

	// Up recalls the history of an earlier session.
	scr.send("\x1b[A")
	scr.expect(prompt(0) + "get /pty/alps")
	scr.send("\r")
	scr.expect("data of /pty/alps")

	// A command name, then a path: the common prefix, then the choices,
	// then a unique leaf gets a space.
	scr.send("ge\t")
	scr.expect(prompt(1) + "get\x1b[K")
	scr.send(" /p\t")
	scr.expect("get /pty/")
	scr.send("a\t")
	scr.expect("get /pty/alp")
	scr.send("\t")
	scr.expect("alpha  alps")
	scr.send("h\t")
	scr.expect("get /pty/alpha ")
	scr.send("\r")
	scr.expect("data of /pty/alpha")
	scr.expect(prompt(2))

	// A watch event while a line is being typed: printed above it, and the
	// prompt and the line redrawn intact.
	scr.send("get -w /pty/alpha\r")
	scr.expect(prompt(3))
	scr.send("stat /pty/al")
	scr.expect("stat /pty/al")
	if _, err := h.Set(ctx, "/pty/alpha", []byte("changed"), -1); err != nil {
		t.Fatal(err)
	}
	scr.expect("WatchedEvent state:SyncConnected type:NodeDataChanged path:/pty/alpha")
	scr.expect(prompt(3) + "stat /pty/al")
	scr.send("pha\r")
	scr.expect("dataVersion = 1")
	scr.expect(prompt(4)) // a Ctrl-C typed before would cancel the command

	// Ctrl-C drops the line; the next command still runs.
	scr.send("garbage\x03")
	scr.expect("^C")
	scr.send("history\r")
	scr.expect("4 - history")
	scr.expect(prompt(5))

	// Up twice: the command before history.
	scr.send("\x1b[A\x1b[A\r")
	scr.expect("dataVersion = 1")
	scr.expect(prompt(6))

	// Ctrl-D on an empty line leaves.
	scr.send("\x04")
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("zkcli: %v", err)
		}
	case <-time.After(expectTimeout):
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
