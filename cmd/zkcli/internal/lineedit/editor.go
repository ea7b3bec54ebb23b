package lineedit

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

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
