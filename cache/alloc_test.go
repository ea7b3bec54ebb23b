//go:build !race

package cache

import "testing"

// Get and Children allocate nothing, found or not.
func TestReadsAllocateNothing(t *testing.T) {
	c, _, paths := syntheticCache(1000)
	for _, tc := range []struct {
		name string
		read func()
	}{
		{"Get", func() { c.Get(paths[7]) }},
		{"Get missing", func() { c.Get("/r/missing") }},
		{"Children", func() { c.Children("/r/d003") }},
		{"Children missing", func() { c.Children("/r/missing") }},
	} {
		if n := testing.AllocsPerRun(1000, tc.read); n != 0 {
			t.Errorf("%s: %v allocations per call, want 0", tc.name, n)
		}
	}
}
