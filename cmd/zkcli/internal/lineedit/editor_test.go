package lineedit

import "testing"

// TestLineEditor types keys into the editor and checks the line and
// cursor.
func TestLineEditor(t *testing.T) {
	h := &history{entries: []string{"old one", "old two"}}
	tests := []struct {
		keys    string
		line    string
		pos     int
		comment string
	}{
		{"abc", "abc", 3, "typing"},
		{"abc\x02\x02X", "aXbc", 2, "Ctrl-B moves left"},
		{"abc\x01X\x05Y", "XabcY", 5, "Home and End"},
		{"abc\x7f", "ab", 2, "Backspace"},
		{"abc\x01\x1b[3~", "bc", 0, "Delete"},
		{"one two\x17", "one ", 4, "Ctrl-W"},
		{"one two\x1bb\x0b", "one ", 4, "Alt-B, Ctrl-K"},
		{"one two\x1bb\x15", "two", 0, "Ctrl-U"},
		{"ab\x14", "ba", 2, "Ctrl-T"},
		{"x\x1b[A", "old two", 7, "Up"},
		{"x\x1b[A\x1b[A\x1b[A", "old one", 7, "Up past the oldest"},
		{"x\x1b[A\x1b[A\x1b[B\x1b[B", "x", 1, "Down back to the typed line"},
	}
	for _, tt := range tests {
		var e lineEditor
		e.reset()
		for in := []byte(tt.keys); len(in) > 0; {
			k, n := decodeKey(in)
			if n == 0 {
				t.Fatalf("%s: undecodable %q", tt.comment, in)
			}
			in = in[n:]
			e.edit(k, h)
		}
		if string(e.buf) != tt.line || e.pos != tt.pos {
			t.Errorf("%s: line %q, cursor %d; want %q, %d", tt.comment, string(e.buf), e.pos, tt.line, tt.pos)
		}
	}
}

func TestRender(t *testing.T) {
	e := lineEditor{prompt: "> ", buf: []rune("0123456789"), pos: 10}
	tests := []struct {
		cols, pos int
		want      string
	}{
		{80, 10, "\r> 0123456789\x1b[K\r\x1b[12C"},
		{80, 0, "\r> 0123456789\x1b[K\r\x1b[2C"},
		{8, 10, "\r> 56789\x1b[K\r\x1b[7C"}, // scrolled: the cursor stays on screen
		{8, 0, "\r> 012345\x1b[K\r\x1b[2C"}, // cut at the right edge
	}
	for _, tt := range tests {
		e.pos = tt.pos
		if got := e.render(tt.cols); got != tt.want {
			t.Errorf("render(%d) at %d = %q, want %q", tt.cols, tt.pos, got, tt.want)
		}
	}
}
