package lock_test

import (
	"context"
	"testing"
	"time"

	"github.com/zkloop/zkloop/internal/curator"
	"github.com/zkloop/zkloop/internal/recipetest"
	"github.com/zkloop/zkloop/recipe/lock"
	"github.com/zkloop/zkloop/serialize"
	"github.com/zkloop/zkloop/zktest"
)

// An uncontended Lock and Unlock, back to back on one session, and the
// requests each cycle costs, counted by a proxy in a run of its own (the
// proxy's hop would slow the timed loop).
func BenchmarkMutexUncontended(b *testing.B) {
	// A server of its own: no chroot, whose paths cost an allocation a
	// request, and containers swept every minute as by default, so that the
	// lock's directory stays between cycles.
	srv := zktest.NewServer(b)
	ctx := context.Background()

	p := zktest.NewProxy(b, srv.Addr())
	counted := lock.NewMutex(recipetest.Connect(b, p.Addr()), "/counted")
	lockUnlock(b, ctx, counted) // the directory exists from now on
	p.RecordClientFrames()
	const cycles = 100
	for range cycles {
		lockUnlock(b, ctx, counted)
	}
	requests := recipetest.Requests(p)

	m := lock.NewMutex(recipetest.Connect(b, srv.Addr()), dir)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		lockUnlock(b, ctx, m)
	}
	b.StopTimer()
	b.ReportMetric(float64(len(requests))/cycles, "requests/op")
	for _, op := range []serialize.OpCode{serialize.OpCreate2, serialize.OpGetChildren, serialize.OpExists, serialize.OpDelete} {
		b.ReportMetric(float64(recipetest.Count(requests, op))/cycles, op.String()+"/op")
	}
}

func lockUnlock(b *testing.B, ctx context.Context, m *lock.Mutex) {
	if err := m.Lock(ctx); err != nil {
		b.Fatal(err)
	}
	if err := m.Unlock(); err != nil {
		b.Fatal(err)
	}
}

// Two Go contenders of two sessions taking turns: each releases the lock
// to the other, which waits for it, and queues again at once. An op is
// one hand-off: the holder's delete, the waiter's notification, its
// listing, its claim.
func BenchmarkMutexHandoff(b *testing.B) {
	srv := zktest.NewServer(b)
	hosts := srv.Addr()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	contenders := []*lock.Mutex{
		lock.NewMutex(recipetest.Connect(b, hosts), dir),
		lock.NewMutex(recipetest.Connect(b, hosts), dir),
	}
	lockUnlock(b, ctx, contenders[0])
	turns := make(chan struct{}, 1)
	stop := make(chan struct{})
	done := make(chan error, len(contenders))
	b.ReportAllocs()
	b.ResetTimer()
	for _, m := range contenders {
		go func() {
			done <- func() error {
				for {
					if err := m.Lock(ctx); err != nil {
						return err
					}
					select {
					case turns <- struct{}{}:
					case <-stop:
						return m.Unlock()
					}
					if err := m.Unlock(); err != nil {
						return err
					}
				}
			}()
		}()
	}
	for range b.N {
		<-turns
	}
	b.StopTimer()
	close(stop)
	for range contenders {
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
}

// A Go and a Java contender (Curator's InterProcessMutex, in the driver
// JVM) taking turns on one lock, each queueing again as soon as it
// releases: an op is one hold, handed over from the other language.
func BenchmarkMutexHandoffJava(b *testing.B) {
	srv := zktest.NewServer(b)
	cur := curator.Start(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cur.NewClient("bench", srv.Addr(), recipetest.SessionTimeout)
	if _, err := cur.Do(ctx, "mutex.new", "bench-m", "bench", dir); err != nil {
		b.Fatal(err)
	}
	m := lock.NewMutex(recipetest.Connect(b, srv.Addr()), dir)
	lockUnlock(b, ctx, m)
	n := max(b.N/2, 1)
	b.ReportAllocs()
	b.ResetTimer()
	javaDone := make(chan error, 1)
	go func() {
		_, err := cur.LockLoop(ctx, "bench-m", n, "", "", 0)
		javaDone <- err
	}()
	for range n {
		lockUnlock(b, ctx, m)
	}
	if err := <-javaDone; err != nil {
		b.Fatal(err)
	}
}
