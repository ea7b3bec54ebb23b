package leader_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/zkloop/zkloop/internal/curator"
	"github.com/zkloop/zkloop/internal/recipetest"
	"github.com/zkloop/zkloop/recipe/leader"
	"github.com/zkloop/zkloop/zhandle"
)

// benchLatch starts a latch for a benchmark.
func benchLatch(b *testing.B, ctx context.Context, h *zhandle.Handle) *leader.Latch {
	l := leader.NewLatch(h, dir, "")
	if err := l.Start(ctx); err != nil {
		b.Fatal(err)
	}
	return l
}

// A leadership handed from one Go latch to another of another session:
// an op is the leader's Close (its node's delete), the follower's
// notification, its listing and its read of its own node, until its Await
// returns. The closed one joins again behind it, untimed.
func BenchmarkLatchHandoff(b *testing.B) {
	srv := recipetest.Start(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	handles := [2]*zhandle.Handle{recipetest.Connect(b, srv.Addr()), recipetest.Connect(b, srv.Addr())}
	latches := [2]*leader.Latch{benchLatch(b, ctx, handles[0]), benchLatch(b, ctx, handles[1])}
	if _, err := latches[0].Await(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		from, to := i%2, (i+1)%2
		if err := latches[from].Close(); err != nil {
			b.Fatal(err)
		}
		if _, err := latches[to].Await(ctx); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		latches[from] = benchLatch(b, ctx, handles[from])
		b.StartTimer()
	}
	b.StopTimer()
	for _, l := range latches {
		_ = l.Close() // always nil
	}
}

// A leadership handed from a Go latch to Curator's LeaderLatch: the
// metric ns/handoff is from just before the Go latch's Close to Java's
// isLeader event, both on the machine's monotonic clock; ns/op adds the
// event's way back to Go. Between ops, untimed, a new Go latch queues
// behind the Java one, the Java one closes, and a new Java latch queues
// behind the Go leader.
func BenchmarkLatchHandoffToJava(b *testing.B) {
	srv := recipetest.Start(b)
	cur := curator.Start(b)
	cur.NewClient("bench", srv.Addr(), curatorSession)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	h := recipetest.Connect(b, srv.Addr())
	observer := recipetest.Connect(b, srv.Addr())
	l := benchLatch(b, ctx, h)
	if _, err := l.Await(ctx); err != nil {
		b.Fatal(err)
	}
	var total time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		java := fmt.Sprintf("bench-%d", i)
		if _, err := cur.Do(ctx, "latch.start", java, "bench", dir, java); err != nil {
			b.Fatal(err)
		}
		recipetest.WaitChildren(b, observer, dir, 2)
		b.StartTimer()
		before := curator.MonotonicNanos()
		if err := l.Close(); err != nil {
			b.Fatal(err)
		}
		ev, err := cur.WaitEvent(ctx, java, "isLeader")
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		total += time.Duration(ev.Nanos - before)
		l = benchLatch(b, ctx, h)
		if _, err := cur.Do(ctx, "close", java); err != nil {
			b.Fatal(err)
		}
		if _, err := l.Await(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "ns/handoff")
	_ = l.Close() // always nil
}
