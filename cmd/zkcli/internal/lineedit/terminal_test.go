package lineedit

import "testing"

func TestCompletionHelpers(t *testing.T) {
	if got := commonPrefix([]string{"/a/alpha", "/a/alps", "/a/alpé"}); got != "/a/alp" {
		t.Errorf("commonPrefix = %q", got)
	}
	if got := commonPrefix([]string{"é", "è"}); got != "" {
		t.Errorf("commonPrefix cut a character: %q", got)
	}
	if got, want := columnize([]string{"a", "bbb", "cc"}, 10), "a    bbb\ncc\n"; got != want {
		t.Errorf("columnize = %q, want %q", got, want)
	}
}
