package curator

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/zkloop/zkloop/internal/jvm"
	"github.com/zkloop/zkloop/zktest"
)

// curatorTimeout bounds each Curator subtest.
const curatorTimeout = 30 * time.Second

// curatorSession is the session timeout of the test clients.
const curatorSession = 5 * time.Second

// TestCurator exercises every command family once against one server and
// one driver JVM, with the clients c1 and c2 on separate sessions.
func TestCurator(t *testing.T) {
	start := time.Now()
	cur := Start(t) // first: it skips under -short
	started := time.Since(start)
	srv := zktest.NewServer(t)
	start = time.Now()
	cur.NewClient("c1", srv.Addr(), curatorSession)
	t.Logf("driver answered after %v, first client connected in %v", started, time.Since(start))
	cur.NewClient("c2", srv.Addr(), curatorSession)

	tests := []struct {
		name string
		run  func(t *testing.T, ctx context.Context, cur *Driver, srv *zktest.Server)
	}{
		{"errors", testCuratorErrors},
		{"clock", testCuratorClock},
		{"mutex", testCuratorMutex},
		{"mutex loop", testCuratorMutexLoop},
		{"rwlock", testCuratorRWLock},
		{"semaphore", testCuratorSemaphore},
		{"latch", testCuratorLatch},
		{"selector", testCuratorSelector},
		{"discovery", testCuratorDiscovery},
		{"sharedcount", testCuratorSharedCount},
		{"atomiclong", testCuratorAtomicLong},
		{"barrier", testCuratorBarrier},
		{"doublebarrier", testCuratorDoubleBarrier},
		{"cache", testCuratorCache},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), curatorTimeout)
			defer cancel()
			tt.run(t, ctx, cur, srv)
		})
	}
}

func TestCuratorInstallationNamesPackage(t *testing.T) {
	if _, _, _, err := curatorInstallation(); err != nil {
		jvm.Require(t, err)
	}
	saved := curatorJars
	t.Cleanup(func() { curatorJars = saved })
	curatorJars = append(slices.Clip(saved), struct{ path, pkg string }{"/nonexistent/curator-extra.jar", "libcurator-extra-java"})
	_, _, _, err := curatorInstallation()
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/curator-extra.jar not found (Debian package libcurator-extra-java)") {
		t.Errorf("curatorInstallation() with a missing jar: %v", err)
	}
}

func TestCuratorDriverDies(t *testing.T) {
	cur := Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), curatorTimeout)
	defer cancel()
	if err := cur.proc.Kill(); err != nil {
		t.Fatal(err)
	}
	if _, err := cur.WaitEvent(ctx, "c1", "state"); err == nil || !strings.Contains(err.Error(), "curator JVM stopped") {
		t.Errorf("WaitEvent after the JVM died: %v", err)
	}
	if _, err := cur.Do(ctx, "ping"); err == nil || !strings.Contains(err.Error(), "curator JVM stopped") {
		t.Errorf("Do after the JVM died: %v", err)
	}
}

// do runs a command that must succeed and decodes its result into out,
// unless out is nil.
func do(t *testing.T, ctx context.Context, cur *Driver, out any, cmd string, args ...string) {
	t.Helper()
	if err := cur.DoJSON(ctx, out, cmd, args...); err != nil {
		t.Fatal(err)
	}
}

// async runs a command in a goroutine; the channel gets its result or error.
func async(ctx context.Context, cur *Driver, cmd string, args ...string) <-chan response {
	done := make(chan response, 1)
	go func() {
		result, err := cur.Do(ctx, cmd, args...)
		done <- response{result, err}
	}()
	return done
}

// await receives from async and decodes the result into out.
func await(t *testing.T, ctx context.Context, done <-chan response, out any) {
	t.Helper()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatal(r.err)
		}
		if err := json.Unmarshal([]byte(r.result), out); err != nil {
			t.Fatalf("result %s: %v", r.result, err)
		}
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	}
}

func waitEvent(t *testing.T, ctx context.Context, cur *Driver, source, kind string, out any) Event {
	t.Helper()
	e, err := cur.WaitEvent(ctx, source, kind)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil {
		if err := json.Unmarshal(e.Data, out); err != nil {
			t.Fatalf("event %s %s %s: %v", e.Source, e.Kind, e.Data, err)
		}
	}
	return e
}

// waitChildren polls, one round trip at a time, until path has n children.
func waitChildren(t *testing.T, ctx context.Context, cur *Driver, path string, n int) []string {
	t.Helper()
	for {
		var children []string
		do(t, ctx, cur, &children, "node.children", "c1", path)
		if len(children) == n {
			return children
		}
	}
}

type acquired struct {
	Acquired bool   `json:"acquired"`
	Node     string `json:"node"`
}

func acquire(t *testing.T, ctx context.Context, cur *Driver, lock string, timeout ...time.Duration) acquired {
	t.Helper()
	args := []string{lock}
	for _, d := range timeout {
		args = append(args, strconv.FormatInt(d.Milliseconds(), 10))
	}
	var a acquired
	do(t, ctx, cur, &a, "lock.acquire", args...)
	return a
}

func testCuratorErrors(t *testing.T, ctx context.Context, cur *Driver, _ *zktest.Server) {
	do(t, ctx, cur, nil, "mutex.new", "errors-m", "c1", "/errors/m")
	tests := []struct {
		cmd  string
		args []string
		want string
	}{
		{"nosuch", nil, "unknown command nosuch"},
		{"lock.acquire", nil, "usage: lock.acquire NAME [TIMEOUT_MS]"},
		{"lock.acquire", []string{"errors-m", "1", "2"}, "usage: lock.acquire NAME [TIMEOUT_MS]"},
		{"lock.acquire", []string{"nobody"}, "no client or recipe named nobody"},
		{"lock.acquire", []string{"c1"}, "not a Lock"},
		{"lock.acquire", []string{"errors-m", "soon"}, `argument 2 is not an integer: "soon"`},
		{"mutex.new", []string{"errors-m", "c1", "/errors/m"}, "errors-m already exists"},
		{"mutex.new", []string{"two words", "c1", "/errors/m"}, `a name must be non-empty without whitespace: "two words"`},
		{"mutex.new", []string{"errors-m2", "nobody", "/errors/m"}, "no client or recipe named nobody"},
		{"rwlock.new", []string{"errors-rw", "c1", "/errors/rw", "both"}, "MODE must be read or write, not both"},
		{"node.create", []string{"c1", "/errors/n", "not base64!"}, "argument 3 is not base64"},
		{"node.get", []string{"c1", "/errors/none"}, "NoNode"},
		{"close", []string{"errors-m"}, "errors-m cannot be closed"},
		{"discovery.start", []string{"errors-d", "c1", "/errors/services", "xml"}, "PAYLOAD must be details or map, not xml"},
		{"bad command", nil, `malformed command "bad command"`},
	}
	for _, tt := range tests {
		_, err := cur.Do(ctx, tt.cmd, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s %q: error %v, want one containing %q", tt.cmd, tt.args, err, tt.want)
		}
	}
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if _, err := cur.WaitEvent(short, "nobody", "never"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitEvent for an event that never comes: %v, want the deadline", err)
	}
	// A failed "new" leaves no name behind.
	if _, err := cur.Do(ctx, "lock.acquire", "errors-m2"); err == nil || !strings.Contains(err.Error(), "no client or recipe named errors-m2") {
		t.Errorf("lock.acquire errors-m2 after its failed mutex.new: %v", err)
	}
}

func testCuratorClock(t *testing.T, ctx context.Context, cur *Driver, _ *zktest.Server) {
	var pong struct {
		Nanos int64 `json:"nanos"`
	}
	before := MonotonicNanos()
	do(t, ctx, cur, &pong, "ping")
	after := MonotonicNanos()
	if pong.Nanos < before || pong.Nanos > after {
		t.Errorf("Java's nanoTime %d is not within [%d, %d] of MonotonicNanos", pong.Nanos, before, after)
	}
	t.Logf("ping round trip %v", time.Duration(after-before))
}

func testCuratorMutex(t *testing.T, ctx context.Context, cur *Driver, _ *zktest.Server) {
	do(t, ctx, cur, nil, "mutex.new", "m1", "c1", "/mutex")
	do(t, ctx, cur, nil, "mutex.new", "m2", "c2", "/mutex")
	first := acquire(t, ctx, cur, "m1")
	if !first.Acquired || !strings.HasPrefix(first.Node, "/mutex/_c_") || !strings.Contains(first.Node, "-lock-") {
		t.Fatalf("m1 acquire = %+v, want a protected lock- node under /mutex", first)
	}
	if got := acquire(t, ctx, cur, "m2", 100*time.Millisecond); got.Acquired {
		t.Fatalf("m2 acquired the lock m1 holds: %+v", got)
	}
	waiter := async(ctx, cur, "lock.acquire", "m2")
	waitChildren(t, ctx, cur, "/mutex", 2)
	select {
	case r := <-waiter:
		t.Fatalf("m2 acquire returned while m1 held the lock: %+v", r)
	default:
	}
	do(t, ctx, cur, nil, "lock.release", "m1")
	var second acquired
	await(t, ctx, waiter, &second)
	if !second.Acquired || sequence(t, second.Node) <= sequence(t, first.Node) {
		t.Errorf("m2 acquire = %+v after m1 held %s: want a later node", second, first.Node)
	}
	do(t, ctx, cur, nil, "lock.release", "m2")
	waitChildren(t, ctx, cur, "/mutex", 0)
}

// sequence returns the 10-digit sequence number at the end of a node name.
func sequence(t *testing.T, node string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(node[max(len(node)-10, 0):], 10, 32)
	if err != nil {
		t.Fatalf("node %s has no sequence number: %v", node, err)
	}
	return n
}

// contender is the holds of one lock loop; exclusive for a writer.
type contender struct {
	holds     []Hold
	exclusive bool
}

// replay orders the tickets of all holds as ZooKeeper numbered them and
// returns the most holders at once and whether an exclusive holder ever
// shared the lock.
func replay(contenders []contender) (most int, shared bool) {
	type step struct {
		seq       int64
		delta     int
		exclusive bool
	}
	var steps []step
	for _, c := range contenders {
		for _, h := range c.holds {
			steps = append(steps, step{h.Enter, 1, c.exclusive}, step{h.Exit, -1, c.exclusive})
		}
	}
	sort.Slice(steps, func(i, j int) bool { return steps[i].seq < steps[j].seq })
	holders, exclusive := 0, 0
	for _, s := range steps {
		holders += s.delta
		if s.exclusive {
			exclusive += s.delta
		}
		most = max(most, holders)
		shared = shared || (exclusive > 0 && holders > 1)
	}
	return most, shared
}

// loops runs a lock loop on each lock at once and returns their holds.
func loops(t *testing.T, ctx context.Context, cur *Driver, locks []string, n int, counter, tickets string) [][]Hold {
	t.Helper()
	type result struct {
		holds []Hold
		err   error
	}
	done := make([]chan result, len(locks))
	for i, lock := range locks {
		done[i] = make(chan result, 1)
		go func() {
			holds, err := cur.LockLoop(ctx, lock, n, counter, tickets, time.Millisecond)
			done[i] <- result{holds, err}
		}()
	}
	all := make([][]Hold, len(locks))
	for i := range locks {
		r := <-done[i] // each ends by ctx at the latest
		if r.err != nil {
			t.Fatal(r.err)
		}
		if len(r.holds) != n {
			t.Fatalf("%s: %d holds, want %d", locks[i], len(r.holds), n)
		}
		all[i] = r.holds
	}
	return all
}

func testCuratorMutexLoop(t *testing.T, ctx context.Context, cur *Driver, _ *zktest.Server) {
	const n = 20
	do(t, ctx, cur, nil, "node.create", "c1", "/mutexloop/counter", base64.StdEncoding.EncodeToString([]byte("0")))
	do(t, ctx, cur, nil, "mutex.new", "ml1", "c1", "/mutexloop/lock")
	do(t, ctx, cur, nil, "mutex.new", "ml2", "c2", "/mutexloop/lock")
	all := loops(t, ctx, cur, []string{"ml1", "ml2"}, n, "/mutexloop/counter", "/mutexloop/tickets")

	var counters []int64
	var contenders []contender
	for _, holds := range all {
		for _, h := range holds {
			counters = append(counters, h.Counter)
		}
		contenders = append(contenders, contender{holds, true})
	}
	slices.Sort(counters)
	want := make([]int64, 2*n)
	for i := range want {
		want[i] = int64(i)
	}
	if diff := cmp.Diff(want, counters); diff != "" {
		t.Errorf("counter values read (-want +got):\n%s", diff)
	}
	if most, shared := replay(contenders); most != 1 || shared {
		t.Errorf("tickets show %d holders at once (shared %v), want 1", most, shared)
	}
	var counter struct {
		Data []byte `json:"data"`
	}
	do(t, ctx, cur, &counter, "node.get", "c1", "/mutexloop/counter")
	if got := string(counter.Data); got != strconv.Itoa(2*n) {
		t.Errorf("counter = %q, want %d", got, 2*n)
	}
}

func testCuratorRWLock(t *testing.T, ctx context.Context, cur *Driver, _ *zktest.Server) {
	do(t, ctx, cur, nil, "rwlock.new", "r1", "c1", "/rw", "read")
	do(t, ctx, cur, nil, "rwlock.new", "r2", "c2", "/rw", "read")
	do(t, ctx, cur, nil, "rwlock.new", "w1", "c2", "/rw", "write")
	if got := acquire(t, ctx, cur, "r1"); !got.Acquired || !strings.Contains(got.Node, "-__READ__") {
		t.Fatalf("r1 acquire = %+v, want a __READ__ node", got)
	}
	if got := acquire(t, ctx, cur, "r2", curatorTimeout); !got.Acquired {
		t.Fatalf("r2 could not read while r1 reads: %+v", got)
	}
	if got := acquire(t, ctx, cur, "w1", 100*time.Millisecond); got.Acquired {
		t.Fatalf("w1 wrote while r1 and r2 read: %+v", got)
	}
	do(t, ctx, cur, nil, "lock.release", "r1")
	do(t, ctx, cur, nil, "lock.release", "r2")
	if got := acquire(t, ctx, cur, "w1"); !got.Acquired || !strings.Contains(got.Node, "-__WRIT__") {
		t.Fatalf("w1 acquire = %+v, want a __WRIT__ node", got)
	}
	if got := acquire(t, ctx, cur, "r1", 100*time.Millisecond); got.Acquired {
		t.Fatalf("r1 read while w1 wrote: %+v", got)
	}
	do(t, ctx, cur, nil, "lock.release", "w1")

	all := loops(t, ctx, cur, []string{"r1", "r2", "w1"}, 10, "", "/rwtickets")
	if _, shared := replay([]contender{{all[0], false}, {all[1], false}, {all[2], true}}); shared {
		t.Error("tickets show the writer sharing the lock")
	}
}

func testCuratorSemaphore(t *testing.T, ctx context.Context, cur *Driver, _ *zktest.Server) {
	for i, client := range []string{"c1", "c2", "c2"} {
		do(t, ctx, cur, nil, "semaphore.new", "s"+strconv.Itoa(i+1), client, "/sem", "2")
	}
	for _, s := range []string{"s1", "s2"} {
		if got := acquire(t, ctx, cur, s); !got.Acquired || !strings.HasPrefix(got.Node, "/sem/leases/_c_") {
			t.Fatalf("%s acquire = %+v, want a lease under /sem/leases", s, got)
		}
	}
	if got := acquire(t, ctx, cur, "s3", 100*time.Millisecond); got.Acquired {
		t.Fatalf("s3 got a third lease of 2: %+v", got)
	}
	do(t, ctx, cur, nil, "lock.release", "s1")
	if got := acquire(t, ctx, cur, "s3"); !got.Acquired {
		t.Fatalf("s3 acquire = %+v after s1 returned its lease", got)
	}
	do(t, ctx, cur, nil, "lock.release", "s2")
	do(t, ctx, cur, nil, "lock.release", "s3")
	if _, err := cur.Do(ctx, "lock.release", "s3"); err == nil || !strings.Contains(err.Error(), "no lease held") {
		t.Errorf("second release of s3: %v, want no lease held", err)
	}

	all := loops(t, ctx, cur, []string{"s1", "s2", "s3"}, 10, "", "/semtickets")
	if most, _ := replay([]contender{{holds: all[0]}, {holds: all[1]}, {holds: all[2]}}); most > 2 {
		t.Errorf("tickets show %d holders of 2 leases at once", most)
	}
}

type participant struct {
	ID       string `json:"id"`
	IsLeader bool   `json:"isLeader"`
}

// waitState waits until client reports the connection state given.
func waitState(t *testing.T, ctx context.Context, cur *Driver, client, state string) {
	t.Helper()
	for {
		var got struct {
			State string `json:"state"`
		}
		if waitEvent(t, ctx, cur, client, "state", &got); got.State == state {
			return
		}
	}
}

func testCuratorLatch(t *testing.T, ctx context.Context, cur *Driver, srv *zktest.Server) {
	cur.NewClient("latch-c1", srv.Addr(), curatorSession)
	cur.NewClient("latch-c2", srv.Addr(), curatorSession)
	do(t, ctx, cur, nil, "latch.start", "l1", "latch-c1", "/latch", "java-1")
	do(t, ctx, cur, nil, "latch.start", "l2", "latch-c2", "/latch", "java-2")
	leader := waitEvent(t, ctx, cur, "", "isLeader", nil).Source
	follower, leaderID, leaderClient := "l2", "java-1", "latch-c1"
	if leader == "l2" {
		follower, leaderID, leaderClient = "l1", "java-2", "latch-c2"
	}
	waitChildren(t, ctx, cur, "/latch", 2)
	var participants []participant
	do(t, ctx, cur, &participants, "election.participants", follower)
	want := []participant{{"java-1", leader == "l1"}, {"java-2", leader == "l2"}}
	sort.Slice(participants, func(i, j int) bool { return participants[i].ID < participants[j].ID })
	if diff := cmp.Diff(want, participants); diff != "" {
		t.Errorf("participants (-want +got):\n%s", diff)
	}
	var got participant
	do(t, ctx, cur, &got, "election.leader", follower)
	if diff := cmp.Diff(participant{leaderID, true}, got); diff != "" {
		t.Errorf("leader (-want +got):\n%s", diff)
	}
	var isLeader struct {
		IsLeader bool `json:"isLeader"`
	}
	if do(t, ctx, cur, &isLeader, "election.isLeader", follower); isLeader.IsLeader {
		t.Errorf("%s isLeader while %s leads", follower, leader)
	}

	var session, expired struct {
		ID string `json:"id"`
	}
	do(t, ctx, cur, &session, "client.session", leaderClient)
	do(t, ctx, cur, &expired, "client.expire", leaderClient)
	if expired.ID != session.ID || !strings.HasPrefix(session.ID, "0x") {
		t.Errorf("client.expire expired %q, want the session %q", expired.ID, session.ID)
	}
	waitEvent(t, ctx, cur, follower, "isLeader", nil)
	waitEvent(t, ctx, cur, leader, "notLeader", nil)
	waitState(t, ctx, cur, leaderClient, "LOST")
	waitState(t, ctx, cur, leaderClient, "RECONNECTED")
	do(t, ctx, cur, &session, "client.session", leaderClient)
	if session.ID == expired.ID {
		t.Errorf("%s kept the expired session %s", leaderClient, expired.ID)
	}
	do(t, ctx, cur, nil, "close", follower)
	waitEvent(t, ctx, cur, follower, "notLeader", nil) // CloseMode NOTIFY_LEADER
	waitEvent(t, ctx, cur, leader, "isLeader", nil)    // rejoined with its new session
	for _, name := range []string{leader, "latch-c1", "latch-c2"} {
		do(t, ctx, cur, nil, "close", name)
	}
}

func testCuratorSelector(t *testing.T, ctx context.Context, cur *Driver, _ *zktest.Server) {
	do(t, ctx, cur, nil, "selector.start", "sel1", "c1", "/selector", "sel-1")
	do(t, ctx, cur, nil, "selector.start", "sel2", "c2", "/selector", "sel-2")
	leader := waitEvent(t, ctx, cur, "", "leading", nil).Source
	other, leaderID := "sel2", "sel-1"
	if leader == "sel2" {
		other, leaderID = "sel1", "sel-2"
	}
	var got participant
	do(t, ctx, cur, &got, "election.leader", other)
	if diff := cmp.Diff(participant{leaderID, true}, got); diff != "" {
		t.Errorf("leader (-want +got):\n%s", diff)
	}
	do(t, ctx, cur, nil, "selector.interrupt", leader)
	waitEvent(t, ctx, cur, leader, "notLeading", nil)
	waitEvent(t, ctx, cur, other, "leading", nil)
	do(t, ctx, cur, nil, "close", other)
	waitEvent(t, ctx, cur, other, "notLeading", nil)
	waitEvent(t, ctx, cur, leader, "leading", nil) // requeued automatically
	do(t, ctx, cur, nil, "close", leader)
}

func testCuratorDiscovery(t *testing.T, ctx context.Context, cur *Driver, _ *zktest.Server) {
	do(t, ctx, cur, nil, "discovery.start", "d1", "c1", "/services", "details")
	do(t, ctx, cur, nil, "discovery.start", "d2", "c2", "/services", "details")
	do(t, ctx, cur, nil, "discovery.start", "dm", "c2", "/services", "map", "full")
	register := `{"name":"api","id":"java-1","address":"10.0.0.1","port":8080,"sslPort":8443,
		"payload":{"description":"java side","weight":5},"registrationTimeUTC":1700000000000,
		"serviceType":"DYNAMIC","uriSpec":"{scheme}://{address}:{port}/v1","enabled":false}`
	want := map[string]any{
		"name": "api", "id": "java-1", "address": "10.0.0.1", "port": 8080.0, "sslPort": 8443.0,
		"payload":             map[string]any{"@class": PayloadClass, "description": "java side", "weight": 5.0},
		"registrationTimeUTC": 1.7e12, "serviceType": "DYNAMIC", "enabled": false,
		"uriSpec": map[string]any{"parts": []any{
			map[string]any{"value": "scheme", "variable": true},
			map[string]any{"value": "://", "variable": false},
			map[string]any{"value": "address", "variable": true},
			map[string]any{"value": ":", "variable": false},
			map[string]any{"value": "port", "variable": true},
			map[string]any{"value": "/v1", "variable": false},
		}},
	}
	var registered, queried map[string]any
	do(t, ctx, cur, &registered, "discovery.register", "d1", register)
	do(t, ctx, cur, &queried, "discovery.query", "d2", "api", "java-1")
	// Compatible mode writes no "enabled": Curator reads it back as true.
	delete(want, "enabled")
	if diff := cmp.Diff(want, registered); diff != "" {
		t.Errorf("registered (-want +got):\n%s", diff)
	}
	want["enabled"] = true
	if diff := cmp.Diff(want, queried); diff != "" {
		t.Errorf("queried from another client (-want +got):\n%s", diff)
	}

	// An instance written as a Go registry would: Curator's JSON with @class.
	goInstance := `{"name":"api","id":"go-1","address":"10.0.0.2","port":9090,"sslPort":null,` +
		`"payload":{"@class":"` + PayloadClass + `","description":"go side","weight":1},` +
		`"registrationTimeUTC":1700000000001,"serviceType":"STATIC","uriSpec":null}`
	do(t, ctx, cur, nil, "node.create", "c1", "/services/api/go-1", base64.StdEncoding.EncodeToString([]byte(goInstance)))
	wantGo := map[string]any{
		"name": "api", "id": "go-1", "address": "10.0.0.2", "port": 9090.0, "sslPort": nil,
		"payload":             map[string]any{"@class": PayloadClass, "description": "go side", "weight": 1.0},
		"registrationTimeUTC": 1700000000001.0, "serviceType": "STATIC", "uriSpec": nil, "enabled": true,
	}
	var fromGo map[string]any
	do(t, ctx, cur, &fromGo, "discovery.query", "d2", "api", "go-1")
	if diff := cmp.Diff(wantGo, fromGo); diff != "" {
		t.Errorf("Go-written instance as Curator reads it (-want +got):\n%s", diff)
	}
	var instances []map[string]any
	do(t, ctx, cur, &instances, "discovery.instances", "d2", "api")
	if len(instances) != 2 {
		t.Errorf("instances of api: %v, want java-1 and go-1", instances)
	}
	do(t, ctx, cur, nil, "node.delete", "c1", "/services/api/go-1")

	var updated map[string]any
	do(t, ctx, cur, nil, "discovery.update", "d1", strings.Replace(register, "8080", "8081", 1))
	do(t, ctx, cur, &updated, "discovery.query", "d2", "api", "java-1")
	if updated["port"] != 8081.0 {
		t.Errorf("port after update = %v, want 8081", updated["port"])
	}

	var mapped map[string]any
	do(t, ctx, cur, nil, "discovery.register", "dm", `{"name":"maps","id":"m1","address":"10.0.0.3","port":1,"payload":{"k":"v","n":2},"enabled":false}`)
	do(t, ctx, cur, &mapped, "discovery.query", "dm", "maps", "m1")
	if diff := cmp.Diff(map[string]any{"@class": "java.util.LinkedHashMap", "k": "v", "n": 2.0}, mapped["payload"]); diff != "" {
		t.Errorf("map payload (-want +got):\n%s", diff)
	}
	if mapped["enabled"] != false {
		t.Errorf("enabled = %v from a full-mode registration of false", mapped["enabled"])
	}

	var names []string
	do(t, ctx, cur, &names, "discovery.names", "d2")
	slices.Sort(names)
	if diff := cmp.Diff([]string{"api", "maps"}, names); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	do(t, ctx, cur, nil, "discovery.unregister", "d1", "api", "java-1")
	if result, err := cur.Do(ctx, "discovery.query", "d2", "api", "java-1"); err != nil || result != "null" {
		t.Errorf("query after unregister = %s, %v; want null", result, err)
	}
	for _, d := range []string{"d1", "d2", "dm"} {
		do(t, ctx, cur, nil, "close", d)
	}
}

type count struct {
	Count   int32 `json:"count"`
	Version int32 `json:"version"`
}

func testCuratorSharedCount(t *testing.T, ctx context.Context, cur *Driver, _ *zktest.Server) {
	const n = 20
	var seeded, joined count
	do(t, ctx, cur, &seeded, "sharedcount.start", "sc1", "c1", "/sharedcount", "5")
	do(t, ctx, cur, &joined, "sharedcount.start", "sc2", "c2", "/sharedcount", "99")
	if seeded.Count != 5 || joined.Count != 5 {
		t.Fatalf("started with %+v and %+v, want the first seed, 5", seeded, joined)
	}
	var retries [2]struct {
		Retries int `json:"retries"`
	}
	first := async(ctx, cur, "sharedcount.increment", "sc1", strconv.Itoa(n))
	second := async(ctx, cur, "sharedcount.increment", "sc2", strconv.Itoa(n))
	await(t, ctx, first, &retries[0])
	await(t, ctx, second, &retries[1])
	t.Logf("retries on conflict: %d and %d", retries[0].Retries, retries[1].Retries)
	var node struct {
		Data []byte `json:"data"`
	}
	do(t, ctx, cur, &node, "node.get", "c1", "/sharedcount")
	if len(node.Data) != 4 || int32(binary.BigEndian.Uint32(node.Data)) != 5+2*n {
		t.Errorf("node data %x, want %d as 4 bytes big-endian", node.Data, 5+2*n)
	}
	cur.TakeEvents("sc2", "changed")
	do(t, ctx, cur, nil, "sharedcount.set", "sc1", "-2")
	for {
		var changed count
		if waitEvent(t, ctx, cur, "sc2", "changed", &changed); changed.Count == -2 {
			break
		}
	}
	var got count
	if do(t, ctx, cur, &got, "sharedcount.get", "sc2"); got.Count != -2 {
		t.Errorf("sc2 count %+v after its change event, want -2", got)
	}
	do(t, ctx, cur, nil, "close", "sc1")
	do(t, ctx, cur, nil, "close", "sc2")
}

func testCuratorAtomicLong(t *testing.T, ctx context.Context, cur *Driver, _ *zktest.Server) {
	type value struct {
		Succeeded bool  `json:"succeeded"`
		Pre       int64 `json:"pre"`
		Post      int64 `json:"post"`
	}
	do(t, ctx, cur, nil, "atomiclong.new", "a1", "c1", "/atomiclong")
	do(t, ctx, cur, nil, "atomiclong.new", "a2", "c2", "/atomiclong")
	steps := []struct {
		cmd  string
		args []string
		want value
	}{
		{"atomiclong.increment", []string{"a1"}, value{true, 0, 1}},
		{"atomiclong.add", []string{"a2", "4328719365"}, value{true, 1, 0x0102030406}},
		{"atomiclong.get", []string{"a1"}, value{true, 0x0102030406, 0x0102030406}},
	}
	for _, s := range steps {
		var got value
		do(t, ctx, cur, &got, s.cmd, s.args...)
		if diff := cmp.Diff(s.want, got); diff != "" {
			t.Errorf("%s %q (-want +got):\n%s", s.cmd, s.args, diff)
		}
	}
	var node struct {
		Data []byte `json:"data"`
	}
	do(t, ctx, cur, &node, "node.get", "c1", "/atomiclong")
	if diff := cmp.Diff([]byte{0, 0, 0, 1, 2, 3, 4, 6}, node.Data); diff != "" {
		t.Errorf("node data, 8 bytes big-endian (-want +got):\n%s", diff)
	}
}

func testCuratorBarrier(t *testing.T, ctx context.Context, cur *Driver, _ *zktest.Server) {
	do(t, ctx, cur, nil, "barrier.new", "b1", "c1", "/barrier")
	do(t, ctx, cur, nil, "barrier.new", "b2", "c2", "/barrier")
	do(t, ctx, cur, nil, "barrier.set", "b1")
	var wait struct {
		Released bool `json:"released"`
	}
	if do(t, ctx, cur, &wait, "barrier.wait", "b2", "100"); wait.Released {
		t.Fatal("b2 passed the barrier b1 set")
	}
	waiter := async(ctx, cur, "barrier.wait", "b2")
	do(t, ctx, cur, nil, "barrier.remove", "b1")
	if await(t, ctx, waiter, &wait); !wait.Released {
		t.Error("b2 not released after the barrier was removed")
	}
}

func testCuratorDoubleBarrier(t *testing.T, ctx context.Context, cur *Driver, _ *zktest.Server) {
	// After a timed-out enter, Curator 5.4 leaves its member node behind and
	// that instance cannot enter again (NodeExists): a path of its own.
	do(t, ctx, cur, nil, "doublebarrier.new", "db0", "c1", "/doublebarrier-alone", "2")
	var alone struct {
		Entered bool `json:"entered"`
	}
	if do(t, ctx, cur, &alone, "doublebarrier.enter", "db0", "100"); alone.Entered {
		t.Fatal("db0 entered a barrier of 2 alone")
	}
	do(t, ctx, cur, nil, "doublebarrier.new", "db1", "c1", "/doublebarrier", "2")
	do(t, ctx, cur, nil, "doublebarrier.new", "db2", "c2", "/doublebarrier", "2")
	var entered [2]struct {
		Entered bool `json:"entered"`
	}
	first := async(ctx, cur, "doublebarrier.enter", "db1")
	second := async(ctx, cur, "doublebarrier.enter", "db2")
	await(t, ctx, first, &entered[0])
	await(t, ctx, second, &entered[1])
	var left [2]struct {
		Left bool `json:"left"`
	}
	first = async(ctx, cur, "doublebarrier.leave", "db1")
	second = async(ctx, cur, "doublebarrier.leave", "db2")
	await(t, ctx, first, &left[0])
	await(t, ctx, second, &left[1])
	if !entered[0].Entered || !entered[1].Entered || !left[0].Left || !left[1].Left {
		t.Errorf("entered %+v, left %+v; want all true", entered, left)
	}
}

func testCuratorCache(t *testing.T, ctx context.Context, cur *Driver, _ *zktest.Server) {
	type change struct {
		Kind    string
		Path    string `json:"path"`
		Version int32  `json:"version"`
		Data    []byte `json:"data"`
	}
	data := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	next := func() change {
		var c change
		c.Kind = waitEvent(t, ctx, cur, "cache", "", &c).Kind
		return c
	}
	do(t, ctx, cur, nil, "node.create", "c1", "/cached", data("root"))
	do(t, ctx, cur, nil, "cache.start", "cache", "c2", "/cached")
	// Each write waits for its event: the cache merges changes that come
	// before it has read the node.
	got := []change{next(), next()}
	do(t, ctx, cur, nil, "node.create", "c1", "/cached/a", data("1"))
	got = append(got, next())
	do(t, ctx, cur, nil, "node.set", "c1", "/cached/a", data("2"))
	got = append(got, next())
	do(t, ctx, cur, nil, "node.delete", "c1", "/cached/a")
	got = append(got, next())
	want := []change{
		{"created", "/cached", 0, []byte("root")},
		{"initialized", "", 0, nil},
		{"created", "/cached/a", 0, []byte("1")},
		{"changed", "/cached/a", 1, []byte("2")},
		{"deleted", "/cached/a", 1, []byte("2")},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("cache events (-want +got):\n%s", diff)
	}
	do(t, ctx, cur, nil, "close", "cache")
}
