package barrier_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zkloop/zkloop/internal/recipetest"
	"github.com/zkloop/zkloop/recipe/barrier"
	"github.com/zkloop/zkloop/serialize"
	"github.com/zkloop/zkloop/zhandle"
	"github.com/zkloop/zkloop/zktest"
)

func TestMain(m *testing.M) { recipetest.Main(m) }

// The barriers' nodes in every test.
const (
	single = "/barriers/b"
	double = "/barriers/db"
)

// TestRealServer runs the package's real-server tests on one server, each
// in a chroot of its own.
func TestRealServer(t *testing.T) {
	recipetest.RunInPlaces(t, []recipetest.PlaceTest{
		{Name: "BarrierReleasesWaiters", Test: testBarrierReleasesWaiters},
		{Name: "BarrierSpuriousWakeUp", Test: testBarrierSpuriousWakeUp},
		{Name: "DoubleBarrierEnterAndLeave", Test: testDoubleBarrier},
		{Name: "DoubleBarrierReconnectDuringEnter", Test: testDoubleBarrierReconnectDuringEnter},
		{Name: "DoubleBarrierGivingUpLeavesNoMember", Test: testDoubleBarrierGivingUp},
		{Name: "DoubleBarrierLeaveWithoutEnter", Test: testDoubleBarrierLeaveWithoutEnter},
		{Name: "DoneContextSendsNothing", Test: testDoneContext},
	})
}

// background runs f on a goroutine and returns the channel of its result.
func background(f func() error) <-chan error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	return done
}

// stillWaiting fails the test if done has a result.
func stillWaiting(t *testing.T, done <-chan error, what string) {
	t.Helper()
	select {
	case err := <-done:
		t.Fatalf("%s returned early: %v", what, err)
	default:
	}
}

// looked waits until h has sent a request op through p since
// RecordClientFrames, and h has received its reply.
func looked(t *testing.T, h *zhandle.Handle, p *zktest.Proxy, op serialize.OpCode) {
	t.Helper()
	ctx := recipetest.Context(t)
	if err := p.WaitFor(ctx, func() bool { return recipetest.Count(recipetest.Requests(p), op) > 0 }); err != nil {
		t.Fatalf("no %v sent: %v", op, err)
	}
	if _, err := h.Sync(ctx, "/"); err != nil { // replies come in order
		t.Fatal(err)
	}
}

// Waiters wait while the barrier is up and are all released by Remove.
func testBarrierReleasesWaiters(t *testing.T, pl *recipetest.Place) {
	const waiters = 3
	ctx := recipetest.Context(t)
	setter := barrier.NewBarrier(pl.Connect(), single)
	if err := barrier.NewBarrier(pl.Connect(), single).Wait(ctx); err != nil {
		t.Fatalf("Wait on a barrier not up = %v", err)
	}
	for range 2 { // a second Set is no error
		if err := setter.Set(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var done []<-chan error
	for i := range waiters {
		h, p := pl.ConnectViaProxy(recipetest.SessionTimeout)
		p.RecordClientFrames()
		b := barrier.NewBarrier(h, single)
		done = append(done, background(func() error { return b.Wait(ctx) }))
		looked(t, h, p, serialize.OpExists) // the watch is set
		stillWaiting(t, done[i], fmt.Sprintf("waiter %d", i))
	}
	for range 2 { // a second Remove is no error
		if err := setter.Remove(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range done {
		if err := recipetest.Receive(t, d, "a waiter's release"); err != nil {
			t.Error(err)
		}
	}
}

// A reconnection wakes a waiter, which looks again and keeps waiting.
func testBarrierSpuriousWakeUp(t *testing.T, pl *recipetest.Place) {
	ctx := recipetest.Context(t)
	setter := barrier.NewBarrier(pl.Connect(), single)
	if err := setter.Set(ctx); err != nil {
		t.Fatal(err)
	}
	h, p := pl.ConnectViaProxy(recipetest.SessionTimeout)
	p.RecordClientFrames()
	done := background(func() error { return barrier.NewBarrier(h, single).Wait(ctx) })
	looked(t, h, p, serialize.OpExists)
	reconnectAndLook(t, h, p, serialize.OpExists)
	stillWaiting(t, done, "Wait after a reconnection")
	if err := setter.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	if err := recipetest.Receive(t, done, "the release"); err != nil {
		t.Error(err)
	}
}

// reconnectAndLook breaks h's connection through p and returns once h is
// connected again and has sent a request op since: the look a waiter
// takes after the wake-up of the reconnection, whose reply h has then
// received.
func reconnectAndLook(t *testing.T, h *zhandle.Handle, p *zktest.Proxy, op serialize.OpCode) {
	t.Helper()
	reconnected := recipetest.Reaching(t, h, zhandle.StateConnected)
	p.Cut()
	recipetest.Receive(t, reconnected, "the reconnection")
	p.RecordClientFrames()
	looked(t, h, p, op)
}

// member is one DoubleBarrier member on a session of its own.
type member struct {
	b *barrier.DoubleBarrier
	h *zhandle.Handle
}

// enter starts m's Enter; once it returns, it checks that "ready"
// exists, as it must until the members leave.
func (m member) enter(ctx context.Context) <-chan error {
	return background(func() error {
		if err := m.b.Enter(ctx); err != nil {
			return err
		}
		if _, err := m.h.Exists(ctx, double+"/ready", false); err != nil {
			return fmt.Errorf("entered without ready: %w", err)
		}
		return nil
	})
}

// Members enter only once all have come, and leave together; nothing is
// left behind.
func testDoubleBarrier(t *testing.T, pl *recipetest.Place) {
	const members = 3
	ctx := recipetest.Context(t)
	observer := pl.Connect()
	var all []member
	var entered []<-chan error
	for i := range members {
		h := pl.Connect()
		m := member{barrier.NewDoubleBarrier(h, double, members), h}
		all = append(all, m)
		entered = append(entered, m.enter(ctx))
		if i < members-1 {
			recipetest.WaitChildren(t, observer, double, i+1)
			stillWaiting(t, entered[i], fmt.Sprintf("member %d's Enter", i))
		}
	}
	for _, e := range entered {
		if err := recipetest.Receive(t, e, "an Enter"); err != nil {
			t.Error(err)
		}
	}
	if got := recipetest.Children(t, observer, double); len(got) != members+1 {
		t.Errorf("children once entered: %q, want %d members and ready", got, members)
	}
	recipetest.Concurrently(t, members, func(ctx context.Context, i int) error { return all[i].b.Leave(ctx) })
	if got := recipetest.Children(t, observer, double); len(got) != 0 {
		t.Errorf("children left: %q", got)
	}
	for round := range 2 { // and again, with the same values
		recipetest.Concurrently(t, members, func(ctx context.Context, i int) error { return all[i].b.Enter(ctx) })
		recipetest.Concurrently(t, members, func(ctx context.Context, i int) error { return all[i].b.Leave(ctx) })
		if got := recipetest.Children(t, observer, double); len(got) != 0 {
			t.Errorf("round %d: children left: %q", round, got)
		}
	}
}

// A reconnection during Enter wakes the member, which counts again and
// keeps waiting: it does not enter before the others come (P8).
func testDoubleBarrierReconnectDuringEnter(t *testing.T, pl *recipetest.Place) {
	ctx := recipetest.Context(t)
	h, p := pl.ConnectViaProxy(recipetest.SessionTimeout)
	first := member{barrier.NewDoubleBarrier(h, double, 2), h}
	entered := first.enter(ctx)
	recipetest.WaitChildren(t, pl.Connect(), double, 1)
	for range 2 {
		reconnectAndLook(t, h, p, serialize.OpGetChildren)
		stillWaiting(t, entered, "Enter after a reconnection")
	}
	hs := pl.Connect()
	second := member{barrier.NewDoubleBarrier(hs, double, 2), hs}
	for _, e := range []<-chan error{second.enter(ctx), entered} {
		if err := recipetest.Receive(t, e, "an Enter"); err != nil {
			t.Error(err)
		}
	}
}

// An Enter given up deletes its member node, so that it is not counted;
// the same value enters later.
func testDoubleBarrierGivingUp(t *testing.T, pl *recipetest.Place) {
	h := pl.Connect()
	observer := pl.Connect()
	b := barrier.NewDoubleBarrier(h, double, 2)
	short, cancel := context.WithCancel(recipetest.Context(t))
	done := background(func() error { return b.Enter(short) })
	recipetest.WaitChildren(t, observer, double, 1)
	cancel()
	if err := recipetest.Receive(t, done, "the cancelled Enter"); !errors.Is(err, context.Canceled) {
		t.Errorf("Enter = %v, want context.Canceled", err)
	}
	recipetest.WaitChildren(t, observer, double, 0)
	other := barrier.NewDoubleBarrier(pl.Connect(), double, 2)
	recipetest.Concurrently(t, 2, func(ctx context.Context, i int) error {
		return []*barrier.DoubleBarrier{b, other}[i].Enter(ctx)
	})
	if got := recipetest.Children(t, observer, double); len(got) != 3 {
		t.Errorf("children after entering again: %q", got)
	}
}

// Leave of a member that did not enter is an error, as is a barrier of
// no members.
func testDoubleBarrierLeaveWithoutEnter(t *testing.T, pl *recipetest.Place) {
	h := pl.Connect()
	recipetest.MakeNode(t, h, double+"/someone", nil, zhandle.Ephemeral)
	err := barrier.NewDoubleBarrier(h, double, 2).Leave(recipetest.Context(t))
	if err == nil {
		t.Error("Leave without Enter succeeded")
	}
	if diff := cmp.Diff([]string{"someone"}, recipetest.Children(t, h, double)); diff != "" {
		t.Errorf("children (-want +got):\n%s", diff)
	}
	if err := barrier.NewDoubleBarrier(h, double, 0).Enter(recipetest.Context(t)); err == nil {
		t.Error("Enter of a barrier of 0 members succeeded")
	}
}

// A context already done sends nothing.
func testDoneContext(t *testing.T, pl *recipetest.Place) {
	h, p := pl.ConnectViaProxy(recipetest.SessionTimeout)
	p.RecordClientFrames()
	done, cancel := context.WithCancel(context.Background())
	cancel()
	b := barrier.NewBarrier(h, single)
	db := barrier.NewDoubleBarrier(h, double, 2)
	for call, err := range map[string]error{
		"Set":    b.Set(done),
		"Remove": b.Remove(done),
		"Wait":   b.Wait(done),
		"Enter":  db.Enter(done),
		"Leave":  db.Leave(done),
	} {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s = %v, want context.Canceled", call, err)
		}
	}
	recipetest.SentNothing(t, h, p)
}
