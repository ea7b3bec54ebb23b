package lineedit

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// keyCode names an editing key; keyRune is a character to insert.
type keyCode int

const (
	keyNone keyCode = iota // ignored
	keyRune
	keyEnter
	keyTab
	keyBackspace
	keyDelete
	keyLeft
	keyRight
	keyUp
	keyDown
	keyHome
	keyEnd
	keyWordLeft
	keyWordRight
	keyKillEnd      // Ctrl-K
	keyKillStart    // Ctrl-U
	keyKillWord     // Ctrl-W, Alt-Backspace
	keyTranspose    // Ctrl-T
	keyClear        // Ctrl-L
	keyCtrlC        // cancel the line
	keyCtrlD        // end of input on an empty line, else delete
	keySuspend      // Ctrl-Z
	keyDeleteWordFw // Alt-D
)

type key struct {
	code keyCode
	r    rune
}

// decodeKey decodes the key at the start of b: emacs control keys, the
// VT100/xterm sequences of arrows, Home, End and Delete, Alt-b/f/d and
// UTF-8 characters. n is the number of bytes used, 0 when b holds only the
// start of a key.
func decodeKey(b []byte) (k key, n int) {
	if len(b) == 0 {
		return key{}, 0
	}
	switch c := b[0]; c {
	case 0x01:
		return key{code: keyHome}, 1
	case 0x02:
		return key{code: keyLeft}, 1
	case 0x03:
		return key{code: keyCtrlC}, 1
	case 0x04:
		return key{code: keyCtrlD}, 1
	case 0x05:
		return key{code: keyEnd}, 1
	case 0x06:
		return key{code: keyRight}, 1
	case 0x08, 0x7f:
		return key{code: keyBackspace}, 1
	case '\t':
		return key{code: keyTab}, 1
	case '\r', '\n':
		return key{code: keyEnter}, 1
	case 0x0b:
		return key{code: keyKillEnd}, 1
	case 0x0c:
		return key{code: keyClear}, 1
	case 0x0e:
		return key{code: keyDown}, 1
	case 0x10:
		return key{code: keyUp}, 1
	case 0x14:
		return key{code: keyTranspose}, 1
	case 0x15:
		return key{code: keyKillStart}, 1
	case 0x17:
		return key{code: keyKillWord}, 1
	case 0x1a:
		return key{code: keySuspend}, 1
	case 0x1b:
		return decodeEscape(b)
	default:
		if c < 0x20 {
			return key{code: keyNone}, 1
		}
	}
	if !utf8.FullRune(b) {
		return key{}, 0
	}
	r, size := utf8.DecodeRune(b)
	if r == utf8.RuneError {
		return key{code: keyNone}, size
	}
	return key{code: keyRune, r: r}, size
}

// decodeEscape decodes ESC sequences: Alt-letter, CSI "ESC [ params final"
// and SS3 "ESC O final".
func decodeEscape(b []byte) (key, int) {
	if len(b) < 2 {
		return key{}, 0
	}
	switch b[1] {
	case 'b', 'B':
		return key{code: keyWordLeft}, 2
	case 'f', 'F':
		return key{code: keyWordRight}, 2
	case 'd', 'D':
		return key{code: keyDeleteWordFw}, 2
	case 0x7f, 0x08:
		return key{code: keyKillWord}, 2
	case 'O':
		if len(b) < 3 {
			return key{}, 0
		}
		return key{code: finalKey(b[2], "")}, 3
	case '[':
		for i := 2; i < len(b); i++ {
			if c := b[i]; c >= 0x40 && c <= 0x7e {
				return key{code: finalKey(c, string(b[2:i]))}, i + 1
			}
		}
		return key{}, 0
	}
	return key{code: keyNone}, 2
}

// finalKey maps the final byte and parameters of a sequence to a key.
func finalKey(final byte, params string) keyCode {
	first, mod, _ := strings.Cut(params, ";")
	ctrl := mod == "5" || mod == "3" // Ctrl or Alt with an arrow: a word
	switch final {
	case 'A':
		return keyUp
	case 'B':
		return keyDown
	case 'C':
		if ctrl {
			return keyWordRight
		}
		return keyRight
	case 'D':
		if ctrl {
			return keyWordLeft
		}
		return keyLeft
	case 'H':
		return keyHome
	case 'F':
		return keyEnd
	case '~':
		switch n, _ := strconv.Atoi(first); n {
		case 1, 7:
			return keyHome
		case 4, 8:
			return keyEnd
		case 3:
			return keyDelete
		}
	}
	return keyNone
}

// lineEditor is the state of the line being typed.
type lineEditor struct {
	prompt  string
	buf     []rune
	pos     int    // cursor, in runes
	histIdx int    // the history entry shown, -1 for the line being typed
	typed   []rune // the line being typed, kept while the history is shown
}

func (e *lineEditor) reset() {
	e.buf, e.pos, e.histIdx, e.typed = e.buf[:0], 0, -1, nil
}

// edit applies an editing key.
func (e *lineEditor) edit(k key, h *history) {
	switch k.code {
	case keyRune:
		e.buf = append(e.buf, 0)
		copy(e.buf[e.pos+1:], e.buf[e.pos:])
		e.buf[e.pos] = k.r
		e.pos++
	case keyBackspace:
		if e.pos > 0 {
			e.buf = append(e.buf[:e.pos-1], e.buf[e.pos:]...)
			e.pos--
		}
	case keyDelete, keyCtrlD:
		if e.pos < len(e.buf) {
			e.buf = append(e.buf[:e.pos], e.buf[e.pos+1:]...)
		}
	case keyLeft:
		e.pos = max(0, e.pos-1)
	case keyRight:
		e.pos = min(len(e.buf), e.pos+1)
	case keyHome:
		e.pos = 0
	case keyEnd:
		e.pos = len(e.buf)
	case keyWordLeft:
		e.pos = e.wordLeft()
	case keyWordRight:
		e.pos = e.wordRight()
	case keyKillEnd:
		e.buf = e.buf[:e.pos]
	case keyKillStart:
		e.buf = append(e.buf[:0], e.buf[e.pos:]...)
		e.pos = 0
	case keyKillWord:
		start := e.wordLeft()
		e.buf = append(e.buf[:start], e.buf[e.pos:]...)
		e.pos = start
	case keyDeleteWordFw:
		end := e.wordRight()
		e.buf = append(e.buf[:e.pos], e.buf[end:]...)
	case keyTranspose:
		if e.pos > 0 && len(e.buf) > 1 {
			i := min(e.pos, len(e.buf)-1)
			e.buf[i-1], e.buf[i] = e.buf[i], e.buf[i-1]
			e.pos = i + 1
		}
	case keyUp:
		e.showHistory(e.histIdx+1, h)
	case keyDown:
		e.showHistory(e.histIdx-1, h)
	}
}

// showHistory shows history entry i (0 is the newest), or the line being
// typed for -1.
func (e *lineEditor) showHistory(i int, h *history) {
	if i < -1 {
		return
	}
	var line []rune
	if i == -1 {
		line = e.typed
	} else {
		entry, ok := h.newest(i)
		if !ok {
			return
		}
		line = []rune(entry)
	}
	if e.histIdx == -1 {
		e.typed = append([]rune(nil), e.buf...)
	}
	e.histIdx = i
	e.buf = append(e.buf[:0], line...)
	e.pos = len(e.buf)
}

func (e *lineEditor) wordLeft() int {
	i := e.pos
	for i > 0 && e.buf[i-1] == ' ' {
		i--
	}
	for i > 0 && e.buf[i-1] != ' ' {
		i--
	}
	return i
}

func (e *lineEditor) wordRight() int {
	i := e.pos
	for i < len(e.buf) && e.buf[i] == ' ' {
		i++
	}
	for i < len(e.buf) && e.buf[i] != ' ' {
		i++
	}
	return i
}

// replace replaces the text before the cursor, before, from byte start on,
// with repl.
func (e *lineEditor) replace(start int, before, repl string) {
	head := []rune(before[:start] + repl)
	tail := append([]rune(nil), e.buf[e.pos:]...)
	e.buf = append(head, tail...)
	e.pos = len(head)
}

// render draws the prompt and the line on the current row and puts the
// cursor in place. A line wider than the terminal scrolls sideways to keep
// the cursor visible.
func (e *lineEditor) render(cols int) string {
	plen := utf8.RuneCountInString(e.prompt)
	start, end := 0, len(e.buf)
	for plen+e.pos-start >= cols && start < e.pos {
		start++
	}
	for plen+end-start > cols && end > e.pos {
		end--
	}
	var b strings.Builder
	b.WriteString("\r")
	b.WriteString(e.prompt)
	b.WriteString(string(e.buf[start:end]))
	b.WriteString("\x1b[K\r")
	if col := plen + e.pos - start; col > 0 {
		b.WriteString("\x1b[" + strconv.Itoa(col) + "C")
	}
	return b.String()
}
