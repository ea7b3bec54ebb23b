package lineedit

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

// ErrInterrupted is returned by ReadLine for Ctrl-C: the line is dropped.
var ErrInterrupted = errors.New("interrupted")

// escTimeout is how long a lone ESC waits for the rest of a sequence.
const escTimeout = 50 * time.Millisecond

// Completion is what Tab offers for the word before the cursor. The word
// starts at byte Start of the text before the cursor; Items replace it:
// Tab inserts their longest common prefix, and lists Show (one name for
// each item, such as the last segment of a path) when that adds nothing.
// A single item is final and should end with the character that follows
// it, such as a space. No items: Tab rings the bell.
type Completion struct {
	Start int
	Items []string
	Show  []string
}

// Config is what a Terminal asks of the program using it.
type Config struct {
	// Prompt returns the prompt. It is called at every redraw with the
	// screen locked, so it must not call the Terminal's methods or write
	// through its writers. Nil: no prompt.
	Prompt func() string
	// Complete completes the text before the cursor when Tab is pressed.
	// It may block (ask a server): the screen is not locked meanwhile,
	// but no key is read. Nil: Tab rings the bell.
	Complete func(before string) Completion
	// HistoryFile keeps the history of the lines read, appending each at
	// once. "" or a file that cannot be read or written: the history is
	// kept in memory only.
	HistoryFile string
}

// Terminal owns a terminal while a program reads lines from it: ReadLine
// and Run take turns on one goroutine, Writer and Refresh serve the
// others, Restore gives the terminal back.
type Terminal struct {
	in       *os.File
	out      io.Writer // the terminal's output (stdout)
	saved    *unix.Termios
	input    chan []byte // chunks read from in; closed at end of input
	pending  []byte      // input read but not consumed yet
	eof      bool
	signals  chan os.Signal // SIGINT (from kill) and SIGWINCH
	prompt   func() string
	complete func(before string) Completion
	hist     *history

	mu     sync.Mutex // guards the screen: ed, active, cols and every write
	ed     lineEditor
	active bool // a line is being edited: the prompt is on the screen
	cols   int
}

// NewTerminal loads the history, puts in (a terminal) in raw mode and
// starts reading it; out is the same terminal's output. Ctrl-C and SIGINT
// then reach ReadLine and Run instead of ending the process, and SIGWINCH
// redraws the line at the new width. Restore must be called before the
// process exits.
func NewTerminal(in *os.File, out io.Writer, cfg Config) (*Terminal, error) {
	if cfg.Prompt == nil {
		cfg.Prompt = func() string { return "" }
	}
	if cfg.Complete == nil {
		cfg.Complete = func(before string) Completion { return Completion{Start: len(before)} }
	}
	hist := loadHistory(cfg.HistoryFile)
	saved, err := rawMode(int(in.Fd()))
	if err != nil {
		return nil, err
	}
	t := &Terminal{
		in: in, out: out, saved: saved,
		input:    make(chan []byte, 16),
		signals:  make(chan os.Signal, 4),
		prompt:   cfg.Prompt,
		complete: cfg.Complete,
		hist:     hist,
		cols:     columns(int(in.Fd())),
	}
	signal.Notify(t.signals, os.Interrupt, unix.SIGWINCH)
	go t.pump()
	return t, nil
}

// pump reads the terminal until it ends. It blocks in read; it ends with
// the input or, at exit, with the process.
func (t *Terminal) pump() {
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

// Restore puts the terminal back in the mode it had and gives SIGINT and
// SIGWINCH back to their default handling. It may be called more than
// once, from any goroutine (a handler of SIGTERM). The goroutine reading
// the terminal stays blocked in read until the input ends.
func (t *Terminal) Restore() {
	signal.Stop(t.signals)
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := setMode(int(t.in.Fd()), t.saved); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
}

// Writer returns a writer to w (stdout or stderr, the same terminal) that
// is safe to use from any goroutine: while a line is being edited, the
// text goes above it and the prompt and line are redrawn.
func (t *Terminal) Writer(w io.Writer) io.Writer { return termWriter{t, w} }

// termWriter is a writer returned by Writer.
type termWriter struct {
	t *Terminal
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

// Refresh redraws the line being edited, if any, with its prompt: call it
// when what Prompt returns has changed.
func (t *Terminal) Refresh() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.active {
		t.draw()
	}
}

// draw renders the prompt and line; t.mu is held.
func (t *Terminal) draw() {
	t.ed.prompt = t.prompt()
	io.WriteString(t.out, t.ed.render(t.cols))
}

// ReadLine shows the prompt and edits a line, which it returns when Enter
// is pressed and adds to the history. It returns ErrInterrupted for Ctrl-C
// and io.EOF for Ctrl-D on an empty line or the end of input. Keys: the
// emacs bindings of readline (Ctrl-A/E/B/F/K/U/W/T/L, Alt-B/F/D), the
// arrows, Home, End and Delete; Up and Down walk the history; Tab
// completes; Ctrl-Z suspends the process. One goroutine at a time may call
// ReadLine or Run.
func (t *Terminal) ReadLine() (string, error) {
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
			return "", ErrInterrupted
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
func (t *Terminal) nextKey() (key, error) {
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

// resized takes the terminal's new width and redraws the line.
func (t *Terminal) resized() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cols = columns(int(t.in.Fd()))
	if t.active {
		t.draw()
	}
}

// Run calls fn, a command, and returns its error, cancelling fn's context
// on Ctrl-C or SIGINT. Other keys typed meanwhile are kept for the next
// line.
func (t *Terminal) Run(parent context.Context, fn func(context.Context) error) error {
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
func (t *Terminal) tab() {
	t.mu.Lock()
	before := string(t.ed.buf[:t.ed.pos])
	t.mu.Unlock()
	c := t.complete(before) // may block: not under the lock
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(c.Items) == 0 || c.Start < 0 || c.Start > len(before) {
		io.WriteString(t.out, "\a")
		return
	}
	word := before[c.Start:]
	switch prefix := commonPrefix(c.Items); {
	case len(prefix) > len(word):
		t.ed.replace(c.Start, before, prefix)
	case len(c.Items) > 1:
		io.WriteString(t.out, "\r\x1b[K"+columnize(c.Show, t.cols))
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

// commonPrefix is the longest prefix of every item.
func commonPrefix(items []string) string {
	if len(items) == 0 {
		return ""
	}
	p := items[0]
	for _, it := range items[1:] {
		for !strings.HasPrefix(it, p) {
			p = p[:len(p)-1]
		}
	}
	for !utf8.ValidString(p) {
		p = p[:len(p)-1] // never end inside a character
	}
	return p
}

// suspend handles Ctrl-Z: the terminal gets its mode back while the
// process is stopped.
func (t *Terminal) suspend() {
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
