package lineedit_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zkloop/zkloop/cmd/zkcli/internal/lineedit"
	"github.com/zkloop/zkloop/cmd/zkcli/internal/ptytest"
	"golang.org/x/sys/unix"
)

// openTerminal opens a Terminal on a pseudo-terminal of width cols and a
// Screen on its other end. When the test ends it restores the terminal
// and checks that the mode is the one it had.
func openTerminal(t *testing.T, cols uint16, cfg lineedit.Config) (*lineedit.Terminal, *ptytest.Screen, *os.File) {
	t.Helper()
	master, slave := ptytest.Open(t, cols)
	before, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	term, err := lineedit.NewTerminal(slave, slave, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		term.Restore()
		after, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(before, after); diff != "" {
			t.Errorf("terminal mode after Restore (-before +after):\n%s", diff)
		}
	})
	return term, ptytest.NewScreen(t, master), slave
}

// readResult is what one ReadLine returned.
type readResult struct {
	line string
	err  error
}

// startReadLine calls t.ReadLine in a goroutine; the result arrives on
// the channel returned.
func startReadLine(t *lineedit.Terminal) <-chan readResult {
	c := make(chan readResult, 1)
	go func() {
		line, err := t.ReadLine()
		c <- readResult{line, err}
	}()
	return c
}

// wantLine waits for a ReadLine's result.
func wantLine(t *testing.T, c <-chan readResult, line string, err error) {
	t.Helper()
	select {
	case got := <-c:
		if got.line != line || !errors.Is(got.err, err) {
			t.Fatalf("ReadLine = %q, %v; want %q, %v", got.line, got.err, line, err)
		}
	case <-time.After(ptytest.Timeout):
		t.Fatalf("ReadLine did not return %q, %v", line, err)
	}
}

// step is keys typed and the text the screen shows next, if any.
type step struct {
	send, show string
}

// play types the keys of steps, waiting after each for what it shows.
func play(scr *ptytest.Screen, steps []step) {
	for _, st := range steps {
		scr.Send(st.send)
		if st.show != "" {
			scr.Expect(st.show)
		}
	}
}

// completeFrom is a completion hook offering words, a space after a
// single one.
func completeFrom(words ...string) func(string) lineedit.Completion {
	return func(before string) lineedit.Completion {
		c := lineedit.Completion{Start: strings.LastIndexByte(before, ' ') + 1}
		for _, w := range words {
			if strings.HasPrefix(w, before[c.Start:]) {
				c.Items = append(c.Items, w)
			}
		}
		c.Show = c.Items
		if len(c.Items) == 1 {
			c.Items = []string{c.Items[0] + " "}
		}
		return c
	}
}

// TestTerminal types into a Terminal through a pseudo-terminal in raw
// mode: editing keys, the history of the file and of this session, tab
// completion through the hook, output from another goroutine above the
// line, a new prompt, a resize, Ctrl-C and SIGINT, a command cancelled by
// Ctrl-C, and Ctrl-D.
func TestTerminal(t *testing.T) {
	hist := filepath.Join(t.TempDir(), "history")
	if err := os.WriteFile(hist, []byte("older\nold\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	prompt := "> "
	term, scr, slave := openTerminal(t, 40, lineedit.Config{
		Prompt: func() string {
			mu.Lock()
			defer mu.Unlock()
			return prompt
		},
		Complete:    completeFrom("alpha", "alps", "beta"),
		HistoryFile: hist,
	})

	// A character of two bytes, moving left and inserting.
	c := startReadLine(term)
	scr.Expect("> ")
	scr.Send("héllo\x02\x02X\r")
	wantLine(t, c, "hélXlo", nil)

	// Up walks back through this session's line to the file's.
	c = startReadLine(term)
	play(scr, []step{
		{send: "\x1b[A\x1b[A", show: "> old\x1b[K"},
		{send: "\r"},
	})
	wantLine(t, c, "old", nil)

	// Tab: the common prefix, then the choices, then a final word and its
	// space; the bell when nothing matches.
	c = startReadLine(term)
	play(scr, []step{
		{send: "a\t", show: "> alp\x1b[K"},
		{send: "\t", show: "alpha  alps"},
		{send: "h\t", show: "> alpha \x1b[K"},
		{send: "z\t", show: "\a"},
		{send: "\x7f\r"},
	})
	wantLine(t, c, "alpha ", nil)

	// Output from another goroutine goes above the line, which is redrawn;
	// a new prompt is drawn by Refresh; Ctrl-C drops the line.
	c = startReadLine(term)
	play(scr, []step{{send: "typing", show: "> typing"}})
	if _, err := fmt.Fprint(term.Writer(slave), "event"); err != nil {
		t.Fatal(err)
	}
	scr.Expect("\r\x1b[Kevent\r\n\r> typing\x1b[K")
	mu.Lock()
	prompt = "$ "
	mu.Unlock()
	term.Refresh()
	scr.Expect("$ typing\x1b[K")
	scr.Send("\x03")
	scr.Expect("^C")
	wantLine(t, c, "", lineedit.ErrInterrupted)

	// SIGWINCH: the line is redrawn at the new width, scrolled to keep the
	// cursor on screen; SIGINT drops the line as Ctrl-C does.
	c = startReadLine(term)
	play(scr, []step{{send: "0123456789", show: "$ 0123456789"}})
	if err := unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: 8}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Kill(os.Getpid(), unix.SIGWINCH); err != nil {
		t.Fatal(err)
	}
	scr.Expect("\r$ 56789\x1b[K\r\x1b[7C")
	if err := unix.Kill(os.Getpid(), unix.SIGINT); err != nil {
		t.Fatal(err)
	}
	wantLine(t, c, "", lineedit.ErrInterrupted)

	// Ctrl-C cancels a command; the keys typed meanwhile start the next
	// line.
	started := make(chan struct{})
	go func() {
		<-started
		scr.Send("ab\x03c")
	}()
	err := term.Run(context.Background(), func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	c = startReadLine(term)
	scr.Send("\x01\x04\r") // Ctrl-A, Ctrl-D on a line: a deletion
	wantLine(t, c, "bc", nil)

	// Ctrl-D on an empty line ends the input.
	c = startReadLine(term)
	scr.Send("\x04")
	wantLine(t, c, "", io.EOF)

	data, err := os.ReadFile(hist)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("older\nold\nhélXlo\nold\nalpha \nbc\n", string(data)); diff != "" {
		t.Errorf("history file (-want +got):\n%s", diff)
	}
}

// TestTab checks that Tab rings the bell and leaves the line alone when
// there is nothing to complete with: no hook, or a hook that returns no
// items or a word outside the line.
func TestTab(t *testing.T) {
	tests := []struct {
		name     string
		complete func(string) lineedit.Completion
	}{
		{name: "no hook", complete: nil},
		{name: "no items", complete: completeFrom()},
		{name: "start before the line", complete: func(string) lineedit.Completion {
			return lineedit.Completion{Start: -1, Items: []string{"x"}}
		}},
		{name: "start past the cursor", complete: func(before string) lineedit.Completion {
			return lineedit.Completion{Start: len(before) + 1, Items: []string{"x"}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			term, scr, _ := openTerminal(t, 80, lineedit.Config{Complete: tt.complete})
			c := startReadLine(term)
			play(scr, []step{
				{send: "ab\t", show: "\a"},
				{send: "\r"},
			})
			wantLine(t, c, "ab", nil)
		})
	}
}

func TestIsTerminal(t *testing.T) {
	_, slave := ptytest.Open(t, 80)
	file, err := os.Create(filepath.Join(t.TempDir(), "file"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	tests := []struct {
		f    *os.File
		want bool
	}{
		{slave, true},
		{file, false},
	}
	for _, tt := range tests {
		if got := lineedit.IsTerminal(tt.f); got != tt.want {
			t.Errorf("IsTerminal(%s) = %v, want %v", tt.f.Name(), got, tt.want)
		}
	}
	if _, err := lineedit.NewTerminal(file, file, lineedit.Config{}); err == nil {
		t.Error("NewTerminal on a regular file: no error")
	}
}
