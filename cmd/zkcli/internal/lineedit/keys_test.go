package lineedit

import "testing"

func TestDecodeKey(t *testing.T) {
	tests := []struct {
		in   string
		want key
		n    int
	}{
		{"a", key{code: keyRune, r: 'a'}, 1},
		{"é", key{code: keyRune, r: 'é'}, 2},
		{"\xc3", key{}, 0},
		{"\r", key{code: keyEnter}, 1},
		{"\x7f", key{code: keyBackspace}, 1},
		{"\x1b[A", key{code: keyUp}, 3},
		{"\x1b[1;5C", key{code: keyWordRight}, 6},
		{"\x1b[3~", key{code: keyDelete}, 4},
		{"\x1bOH", key{code: keyHome}, 3},
		{"\x1b[", key{}, 0},
		{"\x1bb", key{code: keyWordLeft}, 2},
		{"\x1b", key{}, 0},
		{"\x03", key{code: keyCtrlC}, 1},
		{"\x07", key{code: keyNone}, 1},
	}
	for _, tt := range tests {
		k, n := decodeKey([]byte(tt.in))
		if k != tt.want || n != tt.n {
			t.Errorf("decodeKey(%q) = %+v, %d; want %+v, %d", tt.in, k, n, tt.want, tt.n)
		}
	}
}
