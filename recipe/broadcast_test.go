package recipe

import (
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// drain returns what is left in ch until it is closed.
func drain[T any](ch <-chan T) []T {
	var got []T
	for v := range ch {
		got = append(got, v)
	}
	return got
}

func TestBroadcast(t *testing.T) {
	var b Broadcast[int]
	first, stopFirst := b.Subscribe()
	b.Publish(1)
	second, _ := b.Subscribe()
	if got := <-first; got != 1 {
		t.Errorf("first subscriber got %d, want 1", got)
	}
	b.Publish(2)
	b.Publish(3) // supersedes 2 for both
	stopFirst()
	stopFirst() // idempotent
	b.Publish(4)
	b.Close()
	b.Close()
	b.Publish(5) // after Close: nothing, no panic
	if diff := cmp.Diff([]int{3}, drain(first)); diff != "" {
		t.Errorf("first subscriber after its end (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{4}, drain(second)); diff != "" {
		t.Errorf("second subscriber (-want +got):\n%s", diff)
	}
	late, stop := b.Subscribe()
	stop()
	if got := drain(late); len(got) != 0 {
		t.Errorf("a subscription after Close received %v", got)
	}
}

// Publishers never block, however slow the subscribers, and a subscriber
// always ends up with the last value.
func TestBroadcastConcurrent(t *testing.T) {
	const publishers, values = 4, 1000
	var b Broadcast[int]
	ch, stop := b.Subscribe()
	defer stop()
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range values {
				b.Publish(p*values + i)
			}
		}()
	}
	wg.Wait()
	b.Publish(-1)
	if got := <-ch; got != -1 {
		t.Errorf("received %d after the last Publish(-1)", got)
	}
}
