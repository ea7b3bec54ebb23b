package lineedit

import (
	"testing"
	"unicode/utf8"
)

// FuzzTyping decodes arbitrary terminal input into keys and applies them
// to a line with a short history: never a panic, the decoder always makes
// progress or waits for more, the cursor stays within the line, and the
// line renders at any width.
func FuzzTyping(f *testing.F) {
	for _, seed := range []string{"ls /\r", "\x1b[A\x1b[B\x1b[D\x1b[C", "ab\x17cd\x14\x0b\x15", "\x1b[1;5D\x1bb\x1bf\x1bd", "\xe2\x82", "\x1b[3~\x1bOH\x1bOF", "é€😀\x7f"} {
		f.Add([]byte(seed), 20)
	}
	f.Fuzz(func(t *testing.T, input []byte, cols int) {
		h := &history{entries: []string{"get /a", "ls /"}}
		e := &lineEditor{prompt: "[zk] ", histIdx: -1}
		for len(input) > 0 {
			k, n := decodeKey(input)
			if n == 0 {
				break // the start of a key: the terminal waits for more
			}
			if n < 0 || n > len(input) {
				t.Fatalf("decodeKey(%q) used %d bytes", input, n)
			}
			input = input[n:]
			e.edit(k, h)
			if e.pos < 0 || e.pos > len(e.buf) {
				t.Fatalf("cursor at %d in a line of %d runes", e.pos, len(e.buf))
			}
			if !utf8.ValidString(string(e.buf)) {
				t.Fatalf("line %q is not valid UTF-8", string(e.buf))
			}
		}
		e.render(max(1, cols%500))
	})
}
