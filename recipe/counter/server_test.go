package counter_test

import (
	"context"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/zkloop/zkloop/internal/recipetest"
	"github.com/zkloop/zkloop/recipe/counter"
	"github.com/zkloop/zkloop/zhandle"
)

func TestMain(m *testing.M) { recipetest.Main(m) }

// The counters' nodes in every test.
const (
	shared = "/counters/shared"
	along  = "/counters/along"
)

// TestRealServer runs the package's real-server tests on one server, each
// in a chroot of its own.
func TestRealServer(t *testing.T) {
	recipetest.RunInPlaces(t, []recipetest.PlaceTest{
		{Name: "SharedCountSeedAndBytes", Test: testSharedCountSeedAndBytes},
		{Name: "SharedCountConcurrentIncrements", Test: testSharedCountConcurrentIncrements},
		{Name: "SharedCountStaleTrySendsNothing", Test: testSharedCountStaleTry},
		{Name: "SharedCountCorrupted", Test: testSharedCountCorrupted},
		{Name: "SharedCountNodeMadeAgain", Test: testSharedCountNodeMadeAgain},
		{Name: "SharedCountReconnect", Test: testSharedCountReconnect},
		{Name: "SharedCountLostReply", Test: testSharedCountLostReply},
		{Name: "AtomicLongConcurrentIncrements", Test: testAtomicLongConcurrentIncrements},
		{Name: "AtomicLongOperations", Test: testAtomicLongOperations},
		{Name: "AtomicLongData", Test: testAtomicLongData},
		{Name: "AtomicLongLostReply", Test: testAtomicLongLostReply},
		{Name: "DoneContextSendsNothing", Test: testDoneContext},
	})
}

// started starts a SharedCount on h, closed when the test ends.
func started(t *testing.T, h *zhandle.Handle, seed int32) *counter.SharedCount {
	t.Helper()
	c := counter.NewSharedCount(h, shared, seed)
	if err := c.Start(recipetest.Context(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() }) // Close always returns nil
	return c
}

// current returns c's count, failing the test on an error.
func current(t *testing.T, c *counter.SharedCount) counter.VersionedCount {
	t.Helper()
	v, err := c.VersionedCount()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// waitCount waits until c has seen count, its subscription telling of
// every change.
func waitCount(t *testing.T, c *counter.SharedCount, changes <-chan counter.VersionedCount, count int32) {
	t.Helper()
	for v := current(t, c); v.Count != count; {
		v = recipetest.Receive(t, changes, "the count's change")
	}
}

// data returns the hex of a node's data.
func data(t *testing.T, h *zhandle.Handle, path string) string {
	t.Helper()
	d, _, err := h.Get(recipetest.Context(t), path, false)
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(d)
}

// The seed makes the node only once; counts are 4 big-endian bytes, and
// every participant sees every change.
func testSharedCountSeedAndBytes(t *testing.T, pl *recipetest.Place) {
	h := pl.Connect()
	first := started(t, h, 7)
	if got := data(t, h, shared); got != "00000007" {
		t.Errorf("seeded node %s, want 00000007", got)
	}
	second := started(t, pl.Connect(), 9)
	if diff := cmp.Diff(counter.VersionedCount{Count: 7}, current(t, second)); diff != "" {
		t.Errorf("a second seed (-want +got):\n%s", diff)
	}
	changes, stop := second.Subscribe()
	defer stop()
	if err := first.SetCount(recipetest.Context(t), -2); err != nil {
		t.Fatal(err)
	}
	if got := data(t, h, shared); got != "fffffffe" {
		t.Errorf("node after SetCount(-2): %s", got)
	}
	want := counter.VersionedCount{Count: -2, Version: 1}
	if diff := cmp.Diff(want, recipetest.Receive(t, changes, "the other's count")); diff != "" {
		t.Errorf("seen by the other (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, current(t, first)); diff != "" {
		t.Errorf("the setter's own count (-want +got):\n%s", diff)
	}
}

// increment adds one to c by TrySetCount, trying until it wins, at most
// tries times.
func increment(ctx context.Context, c *counter.SharedCount, tries int) error {
	for range tries {
		v, err := c.VersionedCount()
		if err != nil {
			return err
		}
		if ok, err := c.TrySetCount(ctx, v, v.Count+1); ok || err != nil {
			return err
		}
	}
	return errors.New("an increment lost every try")
}

// Four sessions increment the count at once: no increment is lost.
func testSharedCountConcurrentIncrements(t *testing.T, pl *recipetest.Place) {
	const sessions, increments = 4, 25
	counts := make([]*counter.SharedCount, sessions)
	for i := range counts {
		counts[i] = started(t, pl.Connect(), 0)
	}
	recipetest.Concurrently(t, sessions, func(ctx context.Context, i int) error {
		for range increments {
			if err := increment(ctx, counts[i], 1000); err != nil {
				return err
			}
		}
		return nil
	})
	reader := started(t, pl.Connect(), 0)
	if got := current(t, reader); got.Count != sessions*increments {
		t.Errorf("count %d after %d increments", got.Count, sessions*increments)
	}
}

// A TrySetCount with a previous count that is not the current one fails
// without a request, as in Curator.
func testSharedCountStaleTry(t *testing.T, pl *recipetest.Place) {
	h, p := pl.ConnectViaProxy(recipetest.SessionTimeout)
	c := started(t, h, 3)
	p.RecordClientFrames()
	for _, prev := range []counter.VersionedCount{{Count: 2}, {Count: 3, Version: 1}} {
		if ok, err := c.TrySetCount(recipetest.Context(t), prev, 4); ok || err != nil {
			t.Errorf("TrySetCount(%+v) = %v, %v; want false", prev, ok, err)
		}
	}
	recipetest.SentNothing(t, h, p)
}

// A node too short for a count is ErrCorrupted until a write repairs it.
func testSharedCountCorrupted(t *testing.T, pl *recipetest.Place) {
	h := pl.Connect()
	ctx := recipetest.Context(t)
	recipetest.MakeNode(t, h, shared, []byte{0, 1}, zhandle.Persistent)
	c := started(t, h, 0)
	v, err := c.VersionedCount()
	if !errors.Is(err, counter.ErrCorrupted) {
		t.Fatalf("VersionedCount = %+v, %v; want ErrCorrupted", v, err)
	}
	if ok, err := c.TrySetCount(ctx, v, 5); !ok || err != nil {
		t.Fatalf("TrySetCount on the corrupted version = %v, %v", ok, err)
	}
	if diff := cmp.Diff(counter.VersionedCount{Count: 5, Version: 1}, current(t, c)); diff != "" {
		t.Errorf("after the repair (-want +got):\n%s", diff)
	}
}

// A node deleted and made again starts its versions again: the count
// follows it anyway (Curator's, which keeps only higher versions, does
// not).
func testSharedCountNodeMadeAgain(t *testing.T, pl *recipetest.Place) {
	h := pl.Connect()
	ctx := recipetest.Context(t)
	// A persistent parent, which the server does not remove when empty.
	recipetest.MakeNode(t, h, "/counters/keep", nil, zhandle.Persistent)
	c := started(t, h, 0)
	changes, stop := c.Subscribe()
	defer stop()
	if err := c.SetCount(ctx, 10); err != nil {
		t.Fatal(err)
	}
	if err := h.Delete(ctx, shared, -1); err != nil {
		t.Fatal(err)
	}
	recipetest.MakeNode(t, h, shared, []byte{0, 0, 0, 3}, zhandle.Persistent)
	waitCount(t, c, changes, 3)
}

// A count changed while the connection was down is read after the
// reconnection.
func testSharedCountReconnect(t *testing.T, pl *recipetest.Place) {
	h, p := pl.ConnectViaProxy(recipetest.SessionTimeout)
	c := started(t, h, 0)
	changes, stop := c.Subscribe()
	defer stop()
	suspended := recipetest.Reaching(t, h, zhandle.StateConnecting)
	p.Refuse(true)
	p.Cut()
	recipetest.Receive(t, suspended, "the loss of the connection")
	if err := started(t, pl.Connect(), 0).SetCount(recipetest.Context(t), 42); err != nil {
		t.Fatal(err)
	}
	p.Refuse(false)
	waitCount(t, c, changes, 42)
}

// A TrySetCount whose reply is lost is sent again, refused (it was
// applied), and reported as ErrIndeterminate, not counted twice.
func testSharedCountLostReply(t *testing.T, pl *recipetest.Place) {
	h, p := pl.ConnectViaProxy(30 * time.Second) // no ping reply is due while the cut waits
	c := started(t, h, 0)
	cut := p.CutMidFrame()
	ok, err := c.TrySetCount(recipetest.Context(t), current(t, c), 1)
	if ok || !errors.Is(err, counter.ErrIndeterminate) {
		t.Errorf("TrySetCount with a lost reply = %v, %v; want ErrIndeterminate", ok, err)
	}
	recipetest.Receive(t, cut, "the cut")
	if got := data(t, pl.Connect(), shared); got != "00000001" {
		t.Errorf("node %s, want 00000001: applied once", got)
	}
}

// Four sessions increment at once: no increment is lost.
func testAtomicLongConcurrentIncrements(t *testing.T, pl *recipetest.Place) {
	const sessions, increments = 4, 25
	longs := make([]*counter.AtomicLong, sessions)
	for i := range longs {
		longs[i] = counter.NewAtomicLong(pl.Connect(), along)
	}
	recipetest.Concurrently(t, sessions, func(ctx context.Context, i int) error {
		n := longs[i]
		for range increments {
			if _, err := n.Increment(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if got, err := counter.NewAtomicLong(pl.Connect(), along).Get(recipetest.Context(t)); err != nil || got != sessions*increments {
		t.Errorf("Get = %d, %v after %d increments", got, err, sessions*increments)
	}
}

// Curator's operations, with values compared as values.
func testAtomicLongOperations(t *testing.T, pl *recipetest.Place) {
	h := pl.Connect()
	ctx := recipetest.Context(t)
	n := counter.NewAtomicLong(h, along)
	type result struct {
		Value any
		Err   error
	}
	check := func(what string, want any, got any, err error) {
		t.Helper()
		if diff := cmp.Diff(result{want, nil}, result{got, err}, cmp.Comparer(func(a, b error) bool { return a == b })); diff != "" {
			t.Errorf("%s (-want +got):\n%s", what, diff)
		}
	}
	v, err := n.Get(ctx)
	check("Get of a missing node", int64(0), v, err)
	ok, err := n.Initialize(ctx, 5)
	check("Initialize", true, ok, err)
	ok, err = n.Initialize(ctx, 6)
	check("Initialize again", false, ok, err)
	ok, err = n.CompareAndSet(ctx, 4, 9)
	check("CompareAndSet(4, 9) of 5", false, ok, err)
	ok, err = n.CompareAndSet(ctx, 5, 9)
	check("CompareAndSet(5, 9) of 5", true, ok, err)
	v, err = n.Add(ctx, -10)
	check("Add(-10) to 9", int64(-1), v, err)
	if got := data(t, h, along); got != "ffffffffffffffff" {
		t.Errorf("node of -1: %s", got)
	}
	err = n.ForceSet(ctx, 0x0102030405)
	check("ForceSet", nil, nil, err)
	if got := data(t, h, along); got != "0000000102030405" {
		t.Errorf("node of 0x0102030405: %s", got)
	}
	fresh := counter.NewAtomicLong(h, "/counters/fresh")
	ok, err = fresh.CompareAndSet(ctx, 0, 7) // a missing node is 0
	check("CompareAndSet(0, 7) of a missing node", true, ok, err)
	err = counter.NewAtomicLong(h, "/counters/forced").ForceSet(ctx, 3)
	check("ForceSet of a missing node", nil, nil, err)
}

// Data as DistributedAtomicLong reads it: empty is 0, longer is cut to 8
// bytes, shorter is corrupted.
func testAtomicLongData(t *testing.T, pl *recipetest.Place) {
	h := pl.Connect()
	ctx := recipetest.Context(t)
	for i, tt := range []struct {
		data    []byte
		want    int64
		corrupt bool
	}{
		{nil, 0, false},
		{[]byte{0, 0, 0, 0, 0, 0, 1, 2, 0xff, 0xff}, 258, false},
		{[]byte{0, 0, 1}, 0, true},
	} {
		path := "/counters/c" + string(rune('0'+i))
		recipetest.MakeNode(t, h, path, tt.data, zhandle.Persistent)
		n := counter.NewAtomicLong(h, path)
		got, err := n.Get(ctx)
		if errors.Is(err, counter.ErrCorrupted) != tt.corrupt || got != tt.want {
			t.Errorf("Get of %x = %d, %v", tt.data, got, err)
		}
		if _, err := n.Increment(ctx); errors.Is(err, counter.ErrCorrupted) != tt.corrupt {
			t.Errorf("Increment of %x: %v", tt.data, err)
		}
	}
}

// An Initialize whose reply is lost is reported as ErrIndeterminate.
func testAtomicLongLostReply(t *testing.T, pl *recipetest.Place) {
	h, p := pl.ConnectViaProxy(30 * time.Second) // no ping reply is due while the cut waits
	ctx := recipetest.Context(t)
	recipetest.MakeNode(t, h, "/counters/x", nil, zhandle.Persistent) // the parent: one create
	cut := p.CutMidFrame()
	if ok, err := counter.NewAtomicLong(h, along).Initialize(ctx, 1); ok || !errors.Is(err, counter.ErrIndeterminate) {
		t.Errorf("Initialize with a lost reply = %v, %v; want ErrIndeterminate", ok, err)
	}
	recipetest.Receive(t, cut, "the cut")
	if got, err := counter.NewAtomicLong(pl.Connect(), along).Get(ctx); got != 1 || err != nil {
		t.Errorf("Get = %d, %v; want 1: applied once", got, err)
	}
}

// A context already done sends nothing.
func testDoneContext(t *testing.T, pl *recipetest.Place) {
	h, p := pl.ConnectViaProxy(recipetest.SessionTimeout)
	c := started(t, h, 0)
	p.RecordClientFrames()
	done, cancel := context.WithCancel(context.Background())
	cancel()
	n := counter.NewAtomicLong(h, along)
	calls := map[string]error{
		"Start":    counter.NewSharedCount(h, shared, 0).Start(done),
		"SetCount": c.SetCount(done, 1),
		"ForceSet": n.ForceSet(done, 1),
		"TrySetCount": func() error {
			_, err := c.TrySetCount(done, current(t, c), 1)
			return err
		}(),
	}
	_, calls["Get"] = n.Get(done)
	_, calls["Add"] = n.Add(done, 1)
	_, calls["CompareAndSet"] = n.CompareAndSet(done, 0, 1)
	_, calls["Initialize"] = n.Initialize(done, 1)
	for call, err := range calls {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s = %v, want context.Canceled", call, err)
		}
	}
	recipetest.SentNothing(t, h, p)
}
