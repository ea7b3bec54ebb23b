//go:build !race

package completion

import (
	"context"
	"testing"
)

func TestEntryCycleAllocatesNothing(t *testing.T) {
	var l List
	allocs := testing.AllocsPerRun(1000, func() {
		e := GetSync(context.Background())
		l.PushBack(e)
		e = l.PopFront()
		if e.Claim() {
			e.Deliver()
		}
		if err := e.Wait(); err != nil {
			t.Fatal(err)
		}
		Put(e)
	})
	if allocs != 0 {
		t.Errorf("Get/queue/deliver/wait/Put allocated %v times per cycle, want 0", allocs)
	}
}
