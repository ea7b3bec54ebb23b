package zhandle

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/zkloop/zkloop/internal/goid"
	"github.com/zkloop/zkloop/zktest"
)

// Reliability tests on a 3-server ensemble: faults of the
// connection made through zktest.Proxy (split segments, a frame cut in
// the middle, a stalled server), kill -9 of the server a handle is on,
// 10,000 requests through a leader kill and a rolling restart, and a loss
// of quorum long enough to expire a session. The subtests share one
// ensemble and each leaves it with every server running, in an order
// that keeps the destructive ones last. Where a test must hold requests
// in flight, or keep a handle away from the servers, the handle reaches
// the servers through one proxy per server.

// TestReliability runs the faults in turn on one ensemble. The handles
// that must keep their session through them have sessionTimeout; those
// given a list of servers connect in its order, so that a test knows
// which server a handle is on.
func TestReliability(t *testing.T) {
	ens := startEnsemble(t)
	t.Run("SplitSegments", func(t *testing.T) { testSplitSegments(t, ens) })
	t.Run("CutMidFrame", func(t *testing.T) { testCutMidFrame(t, ens) })
	t.Run("StalledServerDetected", func(t *testing.T) { testStalledServer(t, ens) })
	t.Run("KillConnectedServer", func(t *testing.T) { testKillConnected(t, ens) })
	t.Run("LoadThroughLeaderKillAndRollingRestart", func(t *testing.T) { testLoadThroughFaults(t, ens) })
	t.Run("NoQuorum", func(t *testing.T) { testNoQuorum(t, ens) })
}

// proxyEach puts a proxy in front of every server of ens and returns
// them, in server order, with the host list that names them.
func proxyEach(t *testing.T, ens *zktest.Ensemble) ([]*zktest.Proxy, string) {
	t.Helper()
	var proxies []*zktest.Proxy
	var addrs []string
	for _, s := range ens.Servers() {
		p := zktest.NewProxy(t, s.Addr())
		proxies = append(proxies, p)
		addrs = append(addrs, p.Addr())
	}
	return proxies, strings.Join(addrs, ",")
}

// proxyIndex returns the index of the proxy h is connected through.
func proxyIndex(t *testing.T, h *Handle, proxies []*zktest.Proxy) int {
	t.Helper()
	cur := h.CurrentServer()
	i := slices.IndexFunc(proxies, func(p *zktest.Proxy) bool { return p.Addr() == cur })
	if i < 0 {
		t.Fatalf("CurrentServer() = %q: not a proxy", cur)
	}
	return i
}

// mustRetry runs op until it returns anything but ErrConnectionLoss (the
// request met a reconnection), waiting for h's session before each try,
// and fails the test on an error.
func mustRetry(t *testing.T, h *Handle, what string, op func(ctx context.Context) error) {
	t.Helper()
	ctx := testContext(t)
	var err error
	for range 20 {
		if err = h.WaitConnected(ctx); err != nil {
			t.Fatalf("%s: WaitConnected: %v", what, err)
		}
		if err = op(ctx); !errors.Is(err, ErrConnectionLoss) {
			must(t, what, err)
			return
		}
	}
	t.Fatalf("%s: %v after 20 tries", what, err)
}

// requireWholeEnsemble fails the test unless every server runs in one quorum, as
// every subtest leaves the ensemble.
func requireWholeEnsemble(t *testing.T, ens *zktest.Ensemble) {
	t.Helper()
	for _, s := range ens.Servers() {
		if !s.Running() {
			t.Fatalf("%s is not running: an earlier subtest left the ensemble broken", s)
		}
	}
	if err := ens.WaitQuorum(testContext(t)); err != nil {
		t.Fatalf("no quorum: %v", err)
	}
}

// testSplitSegments: with every byte forwarded in a segment of its own,
// in both directions, 300 requests of varied sizes and a watch event
// decode as they would whole, on one connection.
func testSplitSegments(t *testing.T, ens *zktest.Ensemble) {
	requireWholeEnsemble(t, ens)
	proxies, hosts := proxyEach(t, ens)
	rec := newRecorder()
	h := connectHandle(t, hosts, rec, sessionTimeout, WithDeterministicOrder())
	p := proxies[proxyIndex(t, h, proxies)]
	ctx := testContext(t)
	const root, nodes, rounds = "/rel-split", 10, 30
	_, err := h.Create(ctx, root, nil, OpenACLUnsafe, Persistent)
	must(t, "Create", err)
	node := func(i int) string { return fmt.Sprintf("%s/n%d", root, i) }
	data := func(i, r int) []byte { return []byte(strings.Repeat(fmt.Sprintf("%d.%d;", i, r), (i*7+r)%23)) }

	p.SplitWrites(true)
	accepted, down := p.Accepted(), p.BytesOut()
	for i := range nodes {
		_, err := h.Create(ctx, node(i), data(i, 0), OpenACLUnsafe, Persistent)
		must(t, "Create", err)
	}
	_, err = h.GetChildren(ctx, root, true)
	must(t, "GetChildren", err)
	count := newOutcomes(nodes * rounds * 2)
	for r := 1; r <= rounds; r++ {
		for i := range nodes {
			k := ((r-1)*nodes + i) * 2
			want := data(i, r)
			count.expect()
			must(t, "ASet", h.ASet(node(i), want, -1, func(err error, stat *Stat) {
				if err == nil && stat.DataLength != int32(len(want)) {
					err = fmt.Errorf("Stat.DataLength %d, want %d", stat.DataLength, len(want))
				}
				count.complete(t, k, err)
			}))
			count.expect()
			must(t, "AGet", h.AGet(node(i), false, func(err error, got []byte, _ *Stat) {
				if err == nil && string(got) != string(want) {
					err = fmt.Errorf("data %q, want %q", got, want)
				}
				count.complete(t, k+1, err)
			}))
		}
	}
	count.wait(t)
	if diff := cmp.Diff(map[string]int64{"ok": nodes * rounds * 2}, count.tally()); diff != "" {
		t.Errorf("results through 1-byte segments (-want +got):\n%s", diff)
	}
	other := connectHandle(t, ens.Member(0).Addr(), nil, sessionTimeout)
	_, err = other.Create(ctx, root+"/from-other", nil, OpenACLUnsafe, Persistent)
	must(t, "Create from another session", err)
	rec.waitAll(t, watchEvent(EventChild, root))
	if got := p.Accepted(); got != accepted {
		t.Errorf("%d connections through the proxy, want %d: the handle reconnected", got, accepted)
	}
	if diff := cmp.Diff([]Event{sessionEvent(StateConnected), watchEvent(EventChild, root)}, rec.all()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	t.Logf("%d requests and a watch event: %d bytes from the server forwarded in 1-byte segments", count.completed(), p.BytesOut()-down)
}

// testCutMidFrame: the proxy forwards half of a 100 KiB reply and closes
// the connection. The request fails with ErrConnectionLoss, once, and so
// do those behind it; the handle resumes the session on the next server
// and the same request then succeeds.
func testCutMidFrame(t *testing.T, ens *zktest.Ensemble) {
	requireWholeEnsemble(t, ens)
	proxies, hosts := proxyEach(t, ens)
	rec := newRecorder()
	h := connectHandle(t, hosts, rec, sessionTimeout, WithDeterministicOrder())
	ctx := testContext(t)
	data := []byte(strings.Repeat("0123456789abcdef", 100<<10/16))
	_, err := h.Create(ctx, "/rel-cut", data, OpenACLUnsafe, Persistent)
	must(t, "Create", err)
	id, cur := h.ClientID(), proxyIndex(t, h, proxies)

	// The handle has just written and read: no ping is due for T/3, so
	// the next frame from the server is the reply to the Get.
	cut := proxies[cur].CutMidFrame()
	const behind = 20
	count := newOutcomes(behind)
	got := make(chan error, 2)
	must(t, "AGet", h.AGet("/rel-cut", false, func(err error, _ []byte, _ *Stat) { got <- err }))
	for i := range behind {
		count.expect()
		must(t, "AExists", h.AExists("/rel-cut", false, func(err error, _ *Stat) { count.complete(t, i, err) }))
	}
	recv(t, cut, "the cut")
	if err := recv(t, got, "AGet"); !errors.Is(err, ErrConnectionLoss) {
		t.Errorf("AGet of the cut reply: %v, want %v", err, ErrConnectionLoss)
	}
	count.wait(t)
	for what := range count.tally() {
		if what != "ok" && what != ErrConnectionLoss.Error() {
			t.Errorf("requests behind the cut: %v", count.tally())
		}
	}
	rec.waitSession(t, StateConnecting)
	rec.waitSession(t, StateConnected)
	if got := h.ClientID(); got != id {
		t.Errorf("session %#x after the cut, want %#x", got.SessionID, id.SessionID)
	}
	got2, _, err := h.Get(ctx, "/rel-cut", false)
	if err != nil || string(got2) != string(data) {
		t.Errorf("Get after the reconnect: %d bytes, %v; want %d bytes", len(got2), err, len(data))
	}
	t.Logf("reply cut after half its %d bytes; requests behind it: %v; resumed on %s", len(data), count.tally(), h.CurrentServer())
}

// testStalledServer: two handles, with session timeouts of 2 and 4 s, on
// a server that stops answering (the proxy holds both directions): each
// drops the connection after 2/3 of its negotiated timeout (less 10%: it
// last heard from the server a moment before the stall began), fails the
// request it had in flight once, and resumes its session on the next
// server.
func testStalledServer(t *testing.T, ens *zktest.Ensemble) {
	requireWholeEnsemble(t, ens)
	proxies, hosts := proxyEach(t, ens)
	type client struct {
		timeout time.Duration
		rec     *recorder
		h       *Handle
		id      ClientID
		failed  chan error
	}
	clients := []*client{{timeout: 2 * time.Second}, {timeout: 4 * time.Second}}
	for _, c := range clients {
		c.rec, c.failed = newRecorder(), make(chan error, 2)
		c.h = connectHandle(t, hosts, c.rec, c.timeout, WithDeterministicOrder())
		c.id = c.h.ClientID()
		if got := c.h.RecvTimeout(); got != c.timeout {
			t.Fatalf("negotiated timeout %v, want %v", got, c.timeout)
		}
		if i := proxyIndex(t, c.h, proxies); i != 0 {
			t.Fatalf("handle on proxy %d, want 0 (deterministic order)", i)
		}
	}
	ctx := testContext(t)
	for _, c := range clients { // each has just heard from the server
		_, err := c.h.Exists(ctx, "/", false)
		must(t, "Exists", err)
	}
	start := time.Now()
	proxies[0].Stall()
	for _, c := range clients {
		must(t, "AExists", c.h.AExists("/", false, func(err error, _ *Stat) { c.failed <- err }))
	}
	for _, c := range clients {
		c.rec.waitSession(t, StateConnecting)
		detect := time.Since(start)
		want := c.timeout * 2 / 3
		if detect < want-want/10 {
			t.Errorf("T=%v: stalled server dropped after %v, before 2/3·T = %v (-10%%)", c.timeout, detect, want)
		}
		if detect > want+lateness {
			t.Errorf("T=%v: stalled server dropped after %v, later than 2/3·T = %v by over %v", c.timeout, detect, want, lateness)
		}
		if err := recv(t, c.failed, "request in flight"); !errors.Is(err, ErrConnectionLoss) {
			t.Errorf("T=%v: request in flight: %v, want %v", c.timeout, err, ErrConnectionLoss)
		}
		c.rec.waitSession(t, StateConnected)
		moved := time.Since(start) - detect
		t.Logf("T=%v: stalled server dropped after %v (2/3·T = %v); session resumed on proxy %d %v later",
			c.timeout, detect.Round(time.Millisecond), want, proxyIndex(t, c.h, proxies), moved.Round(time.Millisecond))
		if got := c.h.ClientID(); got != c.id {
			t.Errorf("T=%v: session %#x after the move, want %#x", c.timeout, got.SessionID, c.id.SessionID)
		}
		if proxyIndex(t, c.h, proxies) == 0 {
			t.Errorf("T=%v: back on the stalled server", c.timeout)
		}
	}
	// A second completion of a failed request would come before the
	// reply to a later one.
	for _, c := range clients {
		barrier(t, c.h)
		select {
		case err := <-c.failed:
			t.Errorf("T=%v: a request completed twice: %v", c.timeout, err)
		default:
		}
	}
}

// testKillConnected kills -9 the server a handle is connected to while
// requests are in flight (the proxy holds them), keeps the handle away
// while another session changes the watched nodes, then lets it
// reconnect: the requests in flight fail once with ErrConnectionLoss, the
// session, its ephemeral node and its watches survive, the watches fire
// for the changes, later requests succeed.
func testKillConnected(t *testing.T, ens *zktest.Ensemble) {
	requireWholeEnsemble(t, ens)
	proxies, hosts := proxyEach(t, ens)
	rec := newRecorder()
	h := connectHandle(t, hosts, rec, sessionTimeout, WithDeterministicOrder())
	other := connectHandle(t, ens.Addr(), nil, sessionTimeout, WithDeterministicOrder())
	ctx := testContext(t)
	const root = "/rel-kill"
	for _, p := range []string{root, root + "/d"} {
		_, err := h.Create(ctx, p, []byte("v0"), OpenACLUnsafe, Persistent)
		must(t, "Create "+p, err)
	}
	_, err := h.Create(ctx, root+"/eph", nil, OpenACLUnsafe, Ephemeral)
	must(t, "Create ephemeral", err)
	_, _, err = h.Get(ctx, root+"/d", true)
	must(t, "Get", err)
	if _, err := h.Exists(ctx, root+"/new", true); !errors.Is(err, ErrNoNode) {
		t.Fatalf("Exists: %v", err)
	}
	_, err = h.GetChildren(ctx, root, true)
	must(t, "GetChildren", err)
	id, cur := h.ClientID(), proxyIndex(t, h, proxies)

	const inFlight = 50
	held := holdInFlight(t, h, proxies[cur], root+"/d", inFlight)
	for _, p := range proxies {
		p.Refuse(true)
	}
	wasLeader := ens.Leader() == cur
	killed := time.Now()
	ens.Member(cur).Kill()
	held.expectLost(t)
	rec.waitSession(t, StateConnecting)

	if err := ens.WaitQuorum(ctx); err != nil {
		t.Fatalf("quorum after the kill: %v", err)
	}
	mustRetry(t, other, "Set", func(ctx context.Context) error {
		_, err := other.Set(ctx, root+"/d", []byte("v1"), -1)
		return err
	})
	for _, p := range []string{root + "/new", root + "/child"} {
		mustRetry(t, other, "Create "+p, func(ctx context.Context) error {
			_, err := other.Create(ctx, p, nil, OpenACLUnsafe, Persistent)
			if errors.Is(err, ErrNodeExists) { // a retry of a create that was applied
				err = nil
			}
			return err
		})
	}
	for i, p := range proxies {
		if i != cur {
			p.Refuse(false)
		}
	}
	rec.waitSession(t, StateConnected)
	back := time.Since(killed)
	if back > sessionTimeout {
		t.Errorf("reconnected %v after the kill, beyond the session timeout %v", back, sessionTimeout)
	}
	if got := h.ClientID(); got != id {
		t.Errorf("session %#x after the kill, want %#x", got.SessionID, id.SessionID)
	}
	if now := proxyIndex(t, h, proxies); now == cur {
		t.Errorf("reconnected through the proxy of the killed server")
	}
	rec.waitAll(t, watchEvent(EventChanged, root+"/d"), watchEvent(EventCreated, root+"/new"), watchEvent(EventChild, root))
	mustRetry(t, other, "Exists ephemeral", func(ctx context.Context) error {
		st, err := other.Exists(ctx, root+"/eph", false)
		if err == nil && st.EphemeralOwner != id.SessionID {
			err = fmt.Errorf("owner %#x, want %#x", st.EphemeralOwner, id.SessionID)
		}
		return err
	})
	later := newOutcomes(inFlight)
	for i := range inFlight {
		later.expect()
		must(t, "AGet", h.AGet(root+"/d", false, func(err error, _ []byte, _ *Stat) { later.complete(t, i, err) }))
	}
	later.wait(t)
	if diff := cmp.Diff(map[string]int64{"ok": inFlight}, later.tally()); diff != "" {
		t.Errorf("requests after the reconnect (-want +got):\n%s", diff)
	}
	if n := held.results.completed(); n != inFlight {
		t.Errorf("%d of %d requests in flight completed", n, inFlight)
	}
	for _, ev := range rec.all() {
		if ev.Type == EventSession && ev.State != StateConnecting && ev.State != StateConnected {
			t.Errorf("session event %v", ev.State)
		}
	}
	t.Logf("killed %s (leader: %v) with %d+1 requests in flight; session back after %v (the proxies held it off while the watched nodes changed)",
		ens.Member(cur), wasLeader, inFlight, back.Round(time.Millisecond))
	ens.Member(cur).Start()
	if err := ens.WaitQuorum(ctx); err != nil {
		t.Fatalf("quorum after the restart: %v", err)
	}
}

// fault is a fault of the load test: strike returns the server it
// stopped; restore brings it back.
type fault struct {
	name    string
	strike  func() int
	restore func(i int)
}

// testLoadThroughFaults runs 10,000 requests from 16 goroutines on two
// handles while the leader is killed and restarted and then every server
// is restarted in turn. The faults fall while requests are in flight: the
// schedule releases 1,000 requests, strikes, releases 1,000 more against
// the degraded ensemble, and repairs it. Every request completes exactly once
// and within the bound; the asynchronous ones complete in the order each
// goroutine issued them; both sessions survive.
func testLoadThroughFaults(t *testing.T, ens *zktest.Ensemble) {
	const total, goroutines, bound = 10000, 16, 60 * time.Second
	requireWholeEnsemble(t, ens)
	hosts := ens.Addr()
	addrs := strings.Split(hosts, ",")
	slices.Reverse(addrs)
	recs := []*recorder{newRecorder(), newRecorder()}
	handles := []*Handle{
		connectHandle(t, hosts, recs[0], sessionTimeout, WithDeterministicOrder()),
		connectHandle(t, strings.Join(addrs, ","), recs[1], sessionTimeout, WithDeterministicOrder()), // another server first
	}
	ids := []ClientID{handles[0].ClientID(), handles[1].ClientID()}
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	_, err := handles[0].Create(ctx, "/rel-load", nil, OpenACLUnsafe, Persistent)
	must(t, "Create", err)

	count := newOutcomes(total)
	// The schedule releases requests by handing out their indices on an
	// unbuffered channel: release(n) returns once the goroutines have
	// taken the first n, so that a fault falls on requests in flight.
	tickets := make(chan int)
	released := 0
	release := func(n int) {
		for ; released < n; released++ {
			select {
			case tickets <- released:
			case <-ctx.Done():
				return
			}
		}
	}
	lastAsync := make([]int, goroutines) // per goroutine, touched by its handle's completion goroutine only
	var wg sync.WaitGroup
	start := time.Now()
	for g := range goroutines {
		lastAsync[g] = -1
		h := handles[g%2]
		path := fmt.Sprintf("/rel-load/g%02d", g)
		wg.Go(func() {
			for seq := 0; ; seq++ {
				idx, ok := <-tickets
				if !ok {
					return
				}
				count.expect()
				mixedOp(ctx, h, seq%5, path, seq%4 != 3, func(err error) {
					if goid.Current() == h.completionGoID.Load() { // an asynchronous completion
						if seq <= lastAsync[g] {
							t.Errorf("goroutine %d: completion of request %d after that of %d", g, seq, lastAsync[g])
						}
						lastAsync[g] = seq
					}
					count.complete(t, idx, err)
				})
			}
		})
	}

	faults := []fault{
		{
			name: "kill the leader",
			strike: func() int {
				i := ens.Leader()
				if i < 0 {
					t.Fatal("no leader")
				}
				ens.Member(i).Kill()
				return i
			},
			restore: func(i int) {
				if err := ens.WaitQuorum(ctx); err != nil {
					t.Fatalf("no quorum without the old leader: %v", err)
				}
				ens.Member(i).Start()
			},
		},
	}
	for i := range ens.Servers() {
		faults = append(faults, fault{
			name:    fmt.Sprintf("restart server %d", i+1),
			strike:  func() int { ens.Member(i).Stop(); return i },
			restore: func(i int) { ens.Member(i).Start() },
		})
	}
	const step = total / 10 // 1,000: before, and before and after each of 4 faults, and after
	schedule := func() (timeline []string) {
		defer close(tickets) // the goroutines return once they have taken every ticket, or on a failure here
		for _, f := range faults {
			release(released + step)
			at := time.Since(start)
			i := f.strike()
			release(released + step)
			f.restore(i)
			if err := ens.WaitQuorum(ctx); err != nil {
				t.Fatalf("%s: no quorum after: %v", f.name, err)
			}
			timeline = append(timeline, fmt.Sprintf("%s (%s) at %v, repaired at %v", f.name, ens.Member(i), at.Round(time.Millisecond), time.Since(start).Round(time.Millisecond)))
		}
		release(total)
		return timeline
	}
	timeline := schedule()
	wg.Wait()
	select {
	case <-count.allDone():
	case <-ctx.Done():
		t.Fatalf("%d of %d requests completed within %v (deadlock?)", count.completed(), total, bound)
	}
	elapsed := time.Since(start)
	tally := count.tally()
	for what := range tally {
		switch what {
		case "ok", ErrConnectionLoss.Error(), ErrNoNode.Error(), ErrNodeExists.Error():
		default:
			t.Errorf("unexpected result %q (%d times)", what, tally[what])
		}
	}
	if tally["ok"] < total/2 {
		t.Errorf("only %d of %d requests succeeded", tally["ok"], total)
	}
	if n := count.completed(); n != total {
		t.Errorf("%d of %d requests completed", n, total)
	}
	for i, h := range handles {
		must(t, "WaitConnected", h.WaitConnected(testContext(t)))
		if got := h.ClientID(); got != ids[i] {
			t.Errorf("handle %d: session %#x, want %#x", i, got.SessionID, ids[i].SessionID)
		}
		for _, ev := range recs[i].all() {
			if ev.Type == EventSession && ev.State != StateConnecting && ev.State != StateConnected {
				t.Errorf("handle %d: session event %v", i, ev.State)
			}
		}
	}
	t.Logf("%d requests issued, %d completed in %v: %v", total, count.completed(), elapsed.Round(time.Millisecond), tally)
	for _, l := range timeline {
		t.Log(l)
	}
}

// testNoQuorum stops two servers of three. Handle a (session timeout
// 20 s) sees its requests fail with ErrConnectionLoss, keeps trying, and
// resumes its session when the quorum is back. Handle b (2 s) is kept
// away (its proxies refuse) until the servers have expired its session;
// when it gets back, the server says so: StateExpiredSession, one expiry
// event.
func testNoQuorum(t *testing.T, ens *zktest.Ensemble) {
	const shortTimeout = 2 * time.Second
	requireWholeEnsemble(t, ens)
	aProxies, aHosts := proxyEach(t, ens)
	bProxies, bHosts := proxyEach(t, ens)
	recA, recB, recW := newRecorder(), newRecorder(), newRecorder()
	a := connectHandle(t, aHosts, recA, sessionTimeout, WithDeterministicOrder())
	b := connectHandle(t, bHosts, recB, shortTimeout, WithDeterministicOrder())
	watcher := connectHandle(t, ens.Addr(), recW, sessionTimeout, WithDeterministicOrder())
	ctx := testContext(t)
	eph := "/rel-nq-eph"
	_, err := b.Create(ctx, eph, nil, OpenACLUnsafe, Ephemeral)
	must(t, "Create ephemeral", err)
	if _, err := watcher.Exists(ctx, eph, true); err != nil {
		t.Fatalf("Exists: %v", err)
	}
	idA, idB := a.ClientID(), b.ClientID()

	lost := time.Now()
	var wg sync.WaitGroup
	for _, s := range ens.Servers()[1:] {
		wg.Go(s.Stop)
	}
	wg.Wait()
	recA.waitSession(t, StateConnecting)
	recB.waitSession(t, StateConnecting)

	const tries = 5
	count := newOutcomes(tries + 1)
	for i := range tries {
		count.expect()
		must(t, "AExists", a.AExists("/", false, func(err error, _ *Stat) { count.complete(t, i, err) }))
	}
	count.expect()
	short, cancel := context.WithTimeout(ctx, 5*time.Second)
	_, err = a.Exists(short, "/", false)
	cancel()
	count.complete(t, tries, err)
	count.wait(t)
	if diff := cmp.Diff(map[string]int64{ErrConnectionLoss.Error(): tries + 1}, count.tally()); diff != "" {
		t.Errorf("requests without a quorum (-want +got):\n%s", diff)
	}
	accepted := func(ps []*zktest.Proxy) int {
		n := 0
		for _, p := range ps {
			n += p.Accepted()
		}
		return n
	}
	base := accepted(aProxies)
	waitProxy(t, aProxies[0], "reconnection attempts", func() bool { return accepted(aProxies) >= base+6 })
	if s := a.State(); s != StateConnecting && s != StateAssociating {
		t.Errorf("State() = %v without a quorum, want %v or %v", s, StateConnecting, StateAssociating)
	}

	for _, p := range bProxies {
		p.Refuse(true)
	}
	ens.StartAll()
	quorum := time.Now()
	recA.waitSession(t, StateConnected)
	if got := a.ClientID(); got != idA {
		t.Errorf("a: session %#x after the quorum came back, want %#x", got.SessionID, idA.SessionID)
	}
	mustRetry(t, a, "Exists", func(ctx context.Context) error {
		_, err := a.Exists(ctx, "/", false)
		return err
	})

	// The servers expire b's session within its timeout of the quorum's
	// return: the watcher sees its ephemeral node go.
	recW.waitFor(t, "deletion of b's ephemeral node", func(ev Event) bool { return ev.Type == EventDeleted && ev.Path == eph })
	expired := time.Now()
	pending := make(chan error, 1)
	must(t, "AExists", b.AExists("/", false, func(err error, _ *Stat) { pending <- err }))
	for _, p := range bProxies {
		p.Refuse(false)
	}
	recB.waitSession(t, StateExpiredSession)
	if err := recv(t, pending, "b's pending request"); !errors.Is(err, ErrSessionExpired) && !errors.Is(err, ErrConnectionLoss) {
		t.Errorf("b's pending request: %v, want %v or %v", err, ErrSessionExpired, ErrConnectionLoss)
	}
	if s := b.State(); s != StateExpiredSession {
		t.Errorf("b: State() = %v, want %v", s, StateExpiredSession)
	}
	if _, err := b.Exists(ctx, "/", false); !errors.Is(err, ErrSessionExpired) {
		t.Errorf("b: Exists after the expiry: %v, want %v", err, ErrSessionExpired)
	}
	closeHandle(t, b) // every event is delivered when Close returns
	want := []Event{sessionEvent(StateConnected), sessionEvent(StateConnecting), sessionEvent(StateExpiredSession)}
	if diff := cmp.Diff(want, recB.all()); diff != "" {
		t.Errorf("b's events (-want +got):\n%s", diff)
	}
	t.Logf("quorum lost for %v; a resumed %#x; b (T=%v) away %v, expired by the servers %v after the quorum came back (session %#x)",
		quorum.Sub(lost).Round(time.Millisecond), idA.SessionID, shortTimeout, time.Since(lost).Round(time.Millisecond),
		expired.Sub(quorum).Round(time.Millisecond), idB.SessionID)
}
