package completion

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func xids(l *List) []int32 {
	var out []int32
	for e := l.head; e != nil; e = e.next {
		out = append(out, e.Xid)
	}
	return out
}

func entry(xid int32) *Entry {
	e := Get()
	e.Xid = xid
	return e
}

func TestList(t *testing.T) {
	var l List
	if l.PopFront() != nil || l.Front() != nil || l.Len() != 0 {
		t.Fatal("zero List is not empty")
	}
	l.PushBack(entry(2))
	l.PushBack(entry(3))
	l.PushFront(entry(1))
	if diff := cmp.Diff([]int32{1, 2, 3}, xids(&l)); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	all := l.TakeAll()
	if l.Len() != 0 || all.Len() != 3 {
		t.Fatalf("TakeAll left %d, took %d", l.Len(), all.Len())
	}
	for want := int32(1); want <= 3; want++ {
		if e := all.PopFront(); e == nil || e.Xid != want {
			t.Fatalf("PopFront = %v, want xid %d", e, want)
		}
	}
	if all.PopFront() != nil || all.tail != nil {
		t.Error("emptied list keeps entries")
	}
	l.PushFront(entry(9)) // push-front onto an empty list sets the tail too
	l.PushBack(entry(10))
	if diff := cmp.Diff([]int32{9, 10}, xids(&l)); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

func TestQueueDeliversInOrderThenCloses(t *testing.T) {
	q := NewQueue()
	var got []int32
	done := make(chan struct{})
	go func() {
		q.Run(func(e *Entry) {
			got = append(got, e.Xid)
			Put(e)
		})
		close(done)
	}()
	var batch List
	for i := int32(1); i <= 100; i++ {
		if i%2 == 0 {
			q.Push(entry(i))
		} else {
			batch.PushBack(entry(i))
			q.PushList(&batch)
		}
	}
	q.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after Close")
	}
	want := make([]int32, 100)
	for i := range want {
		want[i] = int32(i + 1)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("delivery order (-want +got):\n%s", diff)
	}
}

func TestWaitDelivered(t *testing.T) {
	e := GetSync(context.Background())
	go func() {
		if e.Claim() {
			e.Data = append(e.Data, "result"...)
			e.Deliver()
		}
	}()
	if err := e.Wait(); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if string(e.Data) != "result" {
		t.Errorf("Data = %q", e.Data)
	}
	Put(e)
}

func TestWaitCancelledAbandonsEntry(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	e := GetSync(ctx)
	waited := make(chan error)
	go func() { waited <- e.Wait() }()
	cancel()
	select {
	case err := <-waited:
		if err != context.Canceled {
			t.Fatalf("Wait = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("cancel did not wake the waiter")
	}
	// The completer finds the waiter gone and must recycle the entry.
	if e.Claim() {
		t.Fatal("Claim succeeded on an abandoned entry")
	}
	Put(e)
}

func TestWaitPrefersDeliveredResult(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	e := GetSync(ctx)
	if !e.Claim() {
		t.Fatal("Claim failed")
	}
	e.Deliver()
	cancel()
	if err := e.Wait(); err != nil {
		t.Fatalf("Wait = %v, want the delivered result", err)
	}
	Put(e)
}

func TestPutClearsReferences(t *testing.T) {
	e := Get()
	e.Callback = func() {}
	e.Data = []byte("user memory")
	e.Children = append(e.Children, "a", "b")
	e.Reply = append(e.Reply, make([]byte, maxPooledReply+1)...)
	Put(e)
	if e.Callback != nil || e.Data != nil || len(e.Children) != 0 || e.Reply != nil {
		t.Errorf("Put kept references: %+v", e)
	}
	if cap(e.Children) == 0 {
		t.Error("Put dropped the children slice's capacity")
	}
}

func TestConcurrentWaiters(t *testing.T) {
	var wg sync.WaitGroup
	entries := make(chan *Entry, 64)
	go func() {
		for e := range entries {
			if e.Claim() {
				e.Deliver()
			} else {
				Put(e)
			}
		}
	}()
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			if i%2 == 1 {
				c, cancel := context.WithTimeout(ctx, time.Microsecond)
				defer cancel()
				ctx = c
			}
			for range 100 {
				e := GetSync(ctx)
				entries <- e
				if e.Wait() == nil {
					Put(e)
				}
			}
		}()
	}
	wg.Wait()
	close(entries)
}

func TestContextErr(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	sync, async := GetSync(ctx), Get()
	if err := sync.ContextErr(); err != nil {
		t.Errorf("live context: ContextErr = %v, want nil", err)
	}
	cancel()
	if err := sync.ContextErr(); err != context.Canceled {
		t.Errorf("cancelled context: ContextErr = %v, want context.Canceled", err)
	}
	if err := async.ContextErr(); err != nil {
		t.Errorf("asynchronous entry: ContextErr = %v, want nil", err)
	}
	if !sync.Synchronous() || async.Synchronous() {
		t.Errorf("Synchronous = %v, %v; want true, false", sync.Synchronous(), async.Synchronous())
	}
	Put(sync)
	Put(async)
}
