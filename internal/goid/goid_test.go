package goid

import "testing"

// Goroutines get ids of their own, and a goroutine keeps its id.
func TestCurrent(t *testing.T) {
	mine := Current()
	if mine == 0 {
		t.Fatal("Current() = 0: the stack header was not read")
	}
	other := make(chan uint64)
	go func() { other <- Current() }()
	if id := <-other; id == 0 || id == mine {
		t.Errorf("another goroutine's Current() = %d, this one's %d", id, mine)
	}
	if again := Current(); again != mine {
		t.Errorf("Current() = %d, then %d", mine, again)
	}
}
