package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// The interactive terminal: a line editor in the manner of linenoise (one
// row, scrolled sideways when the line is wider than the terminal), with
// history, tab completion, and output from other goroutines (watch events,
// logs) printed above the line being typed, which is then redrawn intact.

// errInterrupted is returned by readLine for Ctrl-C: the line is dropped.
var errInterrupted = errors.New("interrupted")

// escTimeout is how long a lone ESC waits for the rest of a sequence.
const escTimeout = 50 * time.Millisecond

// terminal owns the controlling terminal while zkcli is interactive.
type terminal struct {
	in       *os.File
	out      io.Writer // the terminal's output (stdout)
	saved    *unix.Termios
	input    chan []byte // chunks read from in; closed at end of input
	pending  []byte      // input read but not consumed yet
	eof      bool
	signals  chan os.Signal // SIGINT (from kill) and SIGWINCH
	prompt   func() string
	complete func(before string) completion
	hist     *history

	mu     sync.Mutex // guards the screen: ed, active, cols and every write
	ed     lineEditor
	active bool // a line is being edited: the prompt is on the screen
	cols   int
}

// newTerminal puts in (a terminal) in raw mode and starts reading it.
// restore must be called before the process exits.
func newTerminal(in *os.File, out io.Writer, prompt func() string, complete func(string) completion, hist *history) (*terminal, error) {
	saved, err := rawMode(int(in.Fd()))
	if err != nil {
		return nil, err
	}
	t := &terminal{
		in: in, out: out, saved: saved,
		input:    make(chan []byte, 16),
		signals:  make(chan os.Signal, 4),
		prompt:   prompt,
		complete: complete,
		hist:     hist,
		cols:     columns(int(in.Fd())),
	}
	signal.Notify(t.signals, os.Interrupt, unix.SIGWINCH)
	go t.pump()
	return t, nil
}

// pump reads the terminal until it ends. It blocks in read; it ends with
// the input or, at exit, with the process.
func (t *terminal) pump() {
	for {
		buf := make([]byte, 256)
		n, err := t.in.Read(buf)
		if n > 0 {
			t.input <- buf[:n]
		}
		if err != nil {
			close(t.input)
			return
		}
	}
}

// restore puts the terminal back in the mode it had.
func (t *terminal) restore() {
	signal.Stop(t.signals)
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := setMode(int(t.in.Fd()), t.saved); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
}

// writer returns a writer to w (stdout or stderr, the same terminal) that
// is safe to use from any goroutine: while a line is being edited, the
// text goes above it and the prompt and line are redrawn.
func (t *terminal) writer(w io.Writer) io.Writer { return termWriter{t, w} }

type termWriter struct {
	t *terminal
	w io.Writer
}

func (tw termWriter) Write(p []byte) (int, error) {
	t := tw.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.active {
		return tw.w.Write(p)
	}
	io.WriteString(t.out, "\r\x1b[K")
	n, err := tw.w.Write(p)
	if len(p) > 0 && p[len(p)-1] != '\n' {
		io.WriteString(tw.w, "\n")
	}
	t.draw()
	return n, err
}

// refresh redraws the prompt, which shows the session state.
func (t *terminal) refresh() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.active {
		t.draw()
	}
}

// draw renders the prompt and line; t.mu is held.
func (t *terminal) draw() {
	t.ed.prompt = t.prompt()
	io.WriteString(t.out, t.ed.render(t.cols))
}

// readLine edits a line. It returns errInterrupted for Ctrl-C and io.EOF
// for Ctrl-D on an empty line or the end of input.
func (t *terminal) readLine() (string, error) {
	t.mu.Lock()
	t.ed.reset()
	t.active = true
	t.draw()
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		t.active = false
		t.mu.Unlock()
	}()
	for {
		k, err := t.nextKey()
		if err != nil {
			t.mu.Lock()
			io.WriteString(t.out, "\n")
			t.mu.Unlock()
			return "", err
		}
		switch k.code {
		case keyTab:
			t.tab()
			continue
		case keySuspend:
			t.suspend()
			continue
		}
		t.mu.Lock()
		switch {
		case k.code == keyEnter:
			line := string(t.ed.buf)
			t.ed.pos = len(t.ed.buf)
			t.draw()
			io.WriteString(t.out, "\n")
			t.mu.Unlock()
			t.hist.add(line)
			return line, nil
		case k.code == keyCtrlC:
			io.WriteString(t.out, "^C\n")
			t.mu.Unlock()
			return "", errInterrupted
		case k.code == keyCtrlD && len(t.ed.buf) == 0:
			io.WriteString(t.out, "\n")
			t.mu.Unlock()
			return "", io.EOF
		case k.code == keyClear:
			io.WriteString(t.out, "\x1b[H\x1b[2J")
		default:
			t.ed.edit(k, t.hist)
		}
		t.draw()
		t.mu.Unlock()
	}
}

// nextKey returns the next key typed; SIGINT counts as Ctrl-C.
func (t *terminal) nextKey() (key, error) {
	for {
		k, n := decodeKey(t.pending)
		if n > 0 {
			t.pending = t.pending[n:]
			return k, nil
		}
		if t.eof {
			if len(t.pending) > 0 {
				t.pending = t.pending[1:] // an incomplete sequence before the end
				continue
			}
			return key{}, io.EOF
		}
		var timeout <-chan time.Time
		if len(t.pending) > 0 && t.pending[0] == 0x1b {
			timeout = time.After(escTimeout)
		}
		select {
		case chunk, ok := <-t.input:
			if !ok {
				t.eof = true
				continue
			}
			t.pending = append(t.pending, chunk...)
		case sig := <-t.signals:
			if sig == os.Interrupt {
				return key{code: keyCtrlC}, nil
			}
			t.resized()
		case <-timeout:
			t.pending = t.pending[1:] // a lone ESC: ignored
		}
	}
}

func (t *terminal) resized() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cols = columns(int(t.in.Fd()))
	if t.active {
		t.draw()
	}
}

// run runs a command, cancelling its context on Ctrl-C or SIGINT. Other
// keys typed meanwhile are kept for the next line.
func (t *terminal) run(parent context.Context, fn func(context.Context) error) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	input := t.input
	for {
		select {
		case err := <-done:
			return err
		case chunk, ok := <-input:
			if !ok {
				t.eof, input = true, nil
				continue
			}
			if i := strings.IndexByte(string(chunk), 0x03); i >= 0 {
				t.pending = append(t.pending, chunk[:i]...)
				t.pending = append(t.pending, chunk[i+1:]...)
				cancel()
				continue
			}
			t.pending = append(t.pending, chunk...)
		case sig := <-t.signals:
			if sig == os.Interrupt {
				cancel()
			} else {
				t.resized()
			}
		}
	}
}

// tab completes the word before the cursor, or lists the choices when
// there is nothing more to add.
func (t *terminal) tab() {
	t.mu.Lock()
	before := string(t.ed.buf[:t.ed.pos])
	t.mu.Unlock()
	c := t.complete(before) // may ask the server: not under the lock
	t.mu.Lock()
	defer t.mu.Unlock()
	word := before[c.start:]
	switch prefix := commonPrefix(c.items); {
	case len(c.items) == 0:
		io.WriteString(t.out, "\a")
		return
	case len(prefix) > len(word):
		t.ed.replace(c.start, before, prefix)
	case len(c.items) > 1:
		io.WriteString(t.out, "\r\x1b[K"+columnize(c.show, t.cols))
	}
	t.draw()
}

// columnize lays names out in columns across width, as shells list
// completions.
func columnize(names []string, width int) string {
	w := 0
	for _, n := range names {
		w = max(w, utf8.RuneCountInString(n)+2)
	}
	perRow := max(1, width/w)
	var b strings.Builder
	for i, n := range names {
		b.WriteString(n)
		if (i+1)%perRow == 0 || i == len(names)-1 {
			b.WriteString("\n")
		} else {
			b.WriteString(strings.Repeat(" ", w-utf8.RuneCountInString(n)))
		}
	}
	return b.String()
}

// suspend handles Ctrl-Z: the terminal gets its mode back while the
// process is stopped.
func (t *terminal) suspend() {
	t.mu.Lock()
	io.WriteString(t.out, "\n")
	if err := setMode(int(t.in.Fd()), t.saved); err != nil {
		t.mu.Unlock()
		return
	}
	t.mu.Unlock()
	suspend()
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, err := rawMode(int(t.in.Fd())); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	t.draw()
}
