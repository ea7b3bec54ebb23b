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
