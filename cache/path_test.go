package cache

import (
	"testing"
)

func TestPaths(t *testing.T) {
	for _, tc := range []struct {
		root, p      string
		depth        int
		parent, name string
	}{
		{"/", "/", 0, "", ""},
		{"/", "/a", 1, "/", "a"},
		{"/", "/a/b", 2, "/a", "b"},
		{"/r", "/r", 0, "", ""},
		{"/r", "/r/a/b", 2, "/r/a", "b"},
		{"/r", "/rx", -1, "/", "rx"},
		{"/r", "/q/r", -1, "/q", "r"},
	} {
		if got := depthBelow(tc.root, tc.p); got != tc.depth {
			t.Errorf("depthBelow(%q, %q) = %d, want %d", tc.root, tc.p, got, tc.depth)
		}
		if tc.p == "/" || tc.p == tc.root {
			continue
		}
		if got := parentOf(tc.p); got != tc.parent {
			t.Errorf("parentOf(%q) = %q, want %q", tc.p, got, tc.parent)
		}
		if got := nameOf(tc.p); got != tc.name {
			t.Errorf("nameOf(%q) = %q, want %q", tc.p, got, tc.name)
		}
		if got := childPath(tc.parent, tc.name); got != tc.p {
			t.Errorf("childPath(%q, %q) = %q, want %q", tc.parent, tc.name, got, tc.p)
		}
	}
}
