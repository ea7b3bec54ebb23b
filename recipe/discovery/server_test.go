package discovery_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/zkloop/zkloop/internal/recipetest"
	"github.com/zkloop/zkloop/recipe/discovery"
	"github.com/zkloop/zkloop/serialize"
	"github.com/zkloop/zkloop/zhandle"
	"github.com/zkloop/zkloop/zktest"
)

func TestMain(m *testing.M) { recipetest.Main(m) }

// base is the registry's base path in every test.
const base = "/services"

// TestRealServer runs the package's real-server tests on one server, each
// in a chroot of its own.
func TestRealServer(t *testing.T) {
	recipetest.RunInPlaces(t, []recipetest.PlaceTest{
		{Name: "RegisterQueryUpdateUnregister", Test: testRegisterQueryUpdateUnregister},
		{Name: "MissingBasePath", Test: testMissingBasePath},
		{Name: "RegisterReplacesForeignNode", Test: testRegisterReplacesForeignNode},
		{Name: "RegisterAgainKeepsNode", Test: testRegisterAgainKeepsNode},
		{Name: "Sequential", Test: testSequential},
		{Name: "SequentialLostReply", Test: testSequentialLostReply},
		{Name: "UnreadableInstance", Test: testUnreadableInstance},
		{Name: "ReregisterAfterReconnect", Test: testReregisterAfterReconnect},
		{Name: "ReattachAfterExpiry", Test: testReattachAfterExpiry},
		{Name: "ProviderStrategies", Test: testProviderStrategies},
		{Name: "ProviderFollowsChanges", Test: testProviderFollowsChanges},
		{Name: "ProviderReadsOnlyWhatChanged", Test: testProviderReadsOnlyWhatChanged},
		{Name: "DoneContextSendsNothing", Test: testDoneContext},
		{Name: "Close", Test: testClose},
	})
}

// registry makes a registry on h, closed when the test ends.
func registry(t *testing.T, h *zhandle.Handle, opts ...discovery.Option) *discovery.ServiceDiscovery {
	d := discovery.New(h, base, opts...)
	t.Cleanup(func() { _ = d.Close() }) // Close always returns nil
	return d
}

// api returns an instance of the service "api" with id.
func api(id string, port int) discovery.ServiceInstance {
	return discovery.ServiceInstance{Name: "api", ID: id, Address: "10.0.0.1", Port: port, RegistrationTimeUTC: 1700000000000}
}

// register registers inst, failing the test otherwise.
func register(t *testing.T, d *discovery.ServiceDiscovery, inst discovery.ServiceInstance) discovery.ServiceInstance {
	t.Helper()
	inst, err := d.Register(recipetest.Context(t), inst)
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// instances queries the instances of name.
func instances(t *testing.T, d *discovery.ServiceDiscovery, name string) []discovery.ServiceInstance {
	t.Helper()
	got, err := d.QueryForInstances(recipetest.Context(t), name)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// node reads a node.
func node(t *testing.T, h *zhandle.Handle, path string) ([]byte, zhandle.Stat) {
	t.Helper()
	data, stat, err := h.Get(recipetest.Context(t), path, false)
	if err != nil {
		t.Fatalf("Get(%s): %v", path, err)
	}
	return data, stat
}

// Instances go in as Curator's JSON, of the kind their type says, and
// come back field for field.
func testRegisterQueryUpdateUnregister(t *testing.T, z *recipetest.Place) {
	h := z.Connect()
	d := registry(t, h)
	ctx := recipetest.Context(t)
	spec, err := discovery.ParseURISpec("{scheme}://{address}:{port}")
	if err != nil {
		t.Fatal(err)
	}
	dynamic := api("", 8080)
	dynamic.SSLPort, dynamic.URISpec, dynamic.RegistrationTimeUTC = 8443, &spec, 0
	dynamic.Payload = json.RawMessage(`{"@class":"com.acme.Details","weight":5}`)
	dynamic = register(t, d, dynamic)
	if len(dynamic.ID) != 36 || dynamic.RegistrationTimeUTC == 0 {
		t.Errorf("registered %+v: want a UUID id and the time", dynamic)
	}
	static := register(t, d, discovery.ServiceInstance{Name: "db", ID: "db-1", Address: "10.0.0.9", Port: 5432, ServiceType: discovery.Static})

	names, err := d.QueryForNames(ctx)
	if diff := cmp.Diff([]string{"api", "db"}, names); diff != "" || err != nil {
		t.Errorf("QueryForNames: %v (-want +got):\n%s", err, diff)
	}
	if diff := cmp.Diff([]discovery.ServiceInstance{dynamic}, instances(t, d, "api")); diff != "" {
		t.Errorf("QueryForInstances(api) (-want +got):\n%s", diff)
	}
	got, err := d.QueryForInstance(ctx, "db", "db-1")
	if diff := cmp.Diff(static, got); diff != "" || err != nil {
		t.Errorf("QueryForInstance(db, db-1): %v (-want +got):\n%s", err, diff)
	}
	data, stat := node(t, h, base+"/api/"+dynamic.ID)
	if want, _ := json.Marshal(dynamic); string(data) != string(want) || stat.EphemeralOwner != h.ClientID().SessionID {
		t.Errorf("the dynamic node: %s, owner %#x; want %s, ephemeral of %#x", data, stat.EphemeralOwner, want, h.ClientID().SessionID)
	}
	if _, stat := node(t, h, base+"/db/db-1"); stat.EphemeralOwner != 0 {
		t.Errorf("the static node is ephemeral (%#x)", stat.EphemeralOwner)
	}

	dynamic.Port, dynamic.RegistrationTimeUTC = 8081, 0 // 0 keeps the registration time
	if err := d.Update(ctx, dynamic); err != nil {
		t.Fatal(err)
	}
	got, err = d.QueryForInstance(ctx, "api", dynamic.ID)
	if err != nil || got.Port != 8081 || got.RegistrationTimeUTC == 0 {
		t.Errorf("after Update: %+v, %v", got, err)
	}
	if err := d.Update(ctx, api("unknown", 1)); !errors.Is(err, discovery.ErrNotRegistered) {
		t.Errorf("Update of an unregistered instance = %v", err)
	}
	if err := d.Unregister(ctx, dynamic); err != nil {
		t.Fatal(err)
	}
	if _, err := d.QueryForInstance(ctx, "api", dynamic.ID); !errors.Is(err, zhandle.ErrNoNode) {
		t.Errorf("QueryForInstance after Unregister = %v, want NoNode", err)
	}
	if err := d.Unregister(ctx, api("unknown", 1)); err != nil {
		t.Errorf("Unregister of an instance not registered here = %v, want nil", err)
	}
}

// A registry whose base path does not exist is empty, and a provider of
// a service that does not exist sees it once it is made.
func testMissingBasePath(t *testing.T, z *recipetest.Place) {
	d := registry(t, z.Connect())
	ctx := recipetest.Context(t)
	names, err := d.QueryForNames(ctx)
	if err != nil || len(names) != 0 {
		t.Errorf("QueryForNames = %q, %v; want none", names, err)
	}
	if got := instances(t, d, "api"); len(got) != 0 {
		t.Errorf("QueryForInstances = %v, want none", got)
	}
	p, err := d.NewProvider(ctx, "api", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Instance(); !errors.Is(err, discovery.ErrNoInstances) {
		t.Errorf("Instance of a missing service = %v", err)
	}
	changes, stop := p.Subscribe()
	defer stop()
	inst := register(t, registry(t, z.Connect()), api("a1", 1))
	if diff := cmp.Diff([]discovery.ServiceInstance{inst}, recipetest.Receive(t, changes, "the new instance")); diff != "" {
		t.Errorf("provider (-want +got):\n%s", diff)
	}
}

// A node left at the instance's path by another session is deleted and
// made again, as Curator does.
func testRegisterReplacesForeignNode(t *testing.T, z *recipetest.Place) {
	h, other := z.Connect(), z.Connect()
	path := base + "/api/a1"
	recipetest.MakeNode(t, other, path, []byte("foreign"), zhandle.Ephemeral)
	inst := register(t, registry(t, h), api("a1", 1))
	data, stat := node(t, h, path)
	if want, _ := json.Marshal(inst); string(data) != string(want) || stat.EphemeralOwner != h.ClientID().SessionID {
		t.Errorf("node %s owned by %#x, want ours (%#x) with %s", data, stat.EphemeralOwner, h.ClientID().SessionID, want)
	}
}

// Registering the same instance again leaves its node as it is (no
// delete and create for watchers to see); other data replaces it.
func testRegisterAgainKeepsNode(t *testing.T, z *recipetest.Place) {
	h := z.Connect()
	d := registry(t, h)
	inst := register(t, d, api("a1", 1))
	_, before := node(t, h, base+"/api/a1")
	register(t, d, inst)
	if _, after := node(t, h, base+"/api/a1"); after.Czxid != before.Czxid {
		t.Errorf("the node was made again (czxid %#x, then %#x)", before.Czxid, after.Czxid)
	}
	inst.Port = 2
	register(t, d, inst)
	if got := instances(t, d, "api"); len(got) != 1 || got[0].Port != 2 {
		t.Errorf("after registering port 2: %+v", got)
	}
}

// A DYNAMIC_SEQUENTIAL instance's node is its id with a suffix; Update
// and Unregister find it.
func testSequential(t *testing.T, z *recipetest.Place) {
	h := z.Connect()
	d := registry(t, h)
	ctx := recipetest.Context(t)
	inst := api("seq-", 1)
	inst.ServiceType = discovery.DynamicSequential
	inst = register(t, d, inst)
	children := recipetest.Children(t, h, base+"/api")
	if diff := cmp.Diff([]string{"seq-0000000000"}, children); diff != "" {
		t.Fatalf("nodes (-want +got):\n%s", diff)
	}
	got, err := d.QueryForInstance(ctx, "api", children[0])
	if diff := cmp.Diff(inst, got); diff != "" || err != nil {
		t.Errorf("QueryForInstance: %v (-want +got):\n%s", err, diff)
	}
	inst.Port = 2
	if err := d.Update(ctx, inst); err != nil {
		t.Fatal(err)
	}
	register(t, d, inst) // the same again: the same node
	if got := instances(t, d, "api"); len(got) != 1 || got[0].Port != 2 {
		t.Errorf("after the update: %+v", got)
	}
	if err := d.Unregister(ctx, inst); err != nil {
		t.Fatal(err)
	}
	recipetest.WaitChildren(t, h, base+"/api", 0)
}

// A DYNAMIC_SEQUENTIAL create whose reply is lost is found among the
// service's nodes, not made twice.
func testSequentialLostReply(t *testing.T, z *recipetest.Place) {
	h, p := z.ConnectViaProxy(30 * time.Second) // no ping reply is due while the cut waits
	d := registry(t, h)
	register(t, d, api("plain", 1)) // the parents
	inst := api("seq-", 2)
	inst.ServiceType = discovery.DynamicSequential
	cut := p.CutMidFrame()
	register(t, d, inst)
	recipetest.Receive(t, cut, "the cut")
	observer := z.Connect()
	if diff := cmp.Diff([]string{"plain", "seq-0000000001"}, recipetest.Children(t, observer, base+"/api")); diff != "" {
		t.Fatalf("nodes (-want +got):\n%s", diff)
	}
	if _, stat := node(t, observer, base+"/api/seq-0000000001"); stat.EphemeralOwner != h.ClientID().SessionID {
		t.Errorf("owner %#x, want the session %#x", stat.EphemeralOwner, h.ClientID().SessionID)
	}
}

// A node that is no instance is left out of the lists and explained by
// QueryForInstance.
func testUnreadableInstance(t *testing.T, z *recipetest.Place) {
	h := z.Connect()
	d := registry(t, h)
	ctx := recipetest.Context(t)
	good := register(t, d, api("a1", 1))
	for id, data := range map[string]string{"bad-json": "{", "bad-type": `{"name":"api","id":"x","serviceType":"dynamic"}`} {
		if _, err := h.Create(ctx, base+"/api/"+id, []byte(data), zhandle.OpenACLUnsafe, zhandle.Persistent); err != nil {
			t.Fatal(err)
		}
		if _, err := d.QueryForInstance(ctx, "api", id); !errors.Is(err, discovery.ErrInvalidInstance) {
			t.Errorf("QueryForInstance(%s) = %v, want ErrInvalidInstance", id, err)
		}
	}
	if diff := cmp.Diff([]discovery.ServiceInstance{good}, instances(t, d, "api")); diff != "" {
		t.Errorf("QueryForInstances (-want +got):\n%s", diff)
	}
	p, err := d.NewProvider(ctx, "api", nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]discovery.ServiceInstance{good}, p.Instances()); diff != "" {
		t.Errorf("provider (-want +got):\n%s", diff)
	}
}

// An instance deleted while the connection was down is registered again
// once it is back, on the same session.
func testReregisterAfterReconnect(t *testing.T, z *recipetest.Place) {
	h, p := z.ConnectViaProxy(recipetest.SessionTimeout)
	other := z.Connect()
	d := registry(t, h)
	register(t, d, api("a1", 1))
	suspended := recipetest.Reaching(t, h, zhandle.StateConnecting)
	p.Refuse(true)
	p.Cut()
	recipetest.Receive(t, suspended, "the loss of the connection")
	if err := other.Delete(recipetest.Context(t), base+"/api/a1", -1); err != nil {
		t.Fatal(err)
	}
	p.Refuse(false)
	recipetest.WaitChildren(t, other, base+"/api", 1)
	if _, stat := node(t, other, base+"/api/a1"); stat.EphemeralOwner != h.ClientID().SessionID {
		t.Errorf("registered again by %#x, want the same session %#x", stat.EphemeralOwner, h.ClientID().SessionID)
	}
}

// After the session expired, Reattach registers everything on the new
// session, and the providers follow.
func testReattachAfterExpiry(t *testing.T, z *recipetest.Place) {
	h := z.Connect()
	observer := z.Connect()
	expired := recipetest.Reaching(t, h, zhandle.StateExpiredSession)
	d := registry(t, h)
	ctx := recipetest.Context(t)
	dynamic := register(t, d, api("a1", 1))
	static := api("s1", 2)
	static.ServiceType = discovery.Static
	static = register(t, d, static)
	p, err := d.NewProvider(ctx, "api", nil)
	if err != nil {
		t.Fatal(err)
	}
	changes, stop := p.Subscribe()
	defer stop()
	zktest.ExpireSession(t, h)
	recipetest.Receive(t, expired, "the session's expiry")
	recipetest.WaitChildren(t, observer, base+"/api", 1) // the ephemeral one went with the session
	h2 := z.Connect()
	if err := d.Reattach(ctx, h2); err != nil {
		t.Fatal(err)
	}
	recipetest.WaitChildren(t, observer, base+"/api", 2)
	if _, stat := node(t, observer, base+"/api/a1"); stat.EphemeralOwner != h2.ClientID().SessionID {
		t.Errorf("a1 is owned by %#x, want the new session %#x", stat.EphemeralOwner, h2.ClientID().SessionID)
	}
	want := []discovery.ServiceInstance{dynamic, static}
	for got := p.Instances(); !cmp.Equal(want, got); {
		got = recipetest.Receive(t, changes, "the provider's view of the registration")
	}
}

// registerAll registers api instances with the ids given.
func registerAll(t *testing.T, d *discovery.ServiceDiscovery, ids ...string) []discovery.ServiceInstance {
	var all []discovery.ServiceInstance
	for i, id := range ids {
		all = append(all, register(t, d, api(id, 1000+i)))
	}
	return all
}

// Round robin hands the instances out in turn, in node name order;
// random hands out only instances, each at some point.
func testProviderStrategies(t *testing.T, z *recipetest.Place) {
	d := registry(t, z.Connect())
	ctx := recipetest.Context(t)
	all := registerAll(t, d, "c", "a", "b")
	slices.SortFunc(all, func(x, y discovery.ServiceInstance) int { return strings.Compare(x.ID, y.ID) })
	rr, err := d.NewProvider(ctx, "api", discovery.RoundRobin())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for range 6 {
		inst, err := rr.Instance()
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, inst.ID)
	}
	if diff := cmp.Diff([]string{"a", "b", "c", "a", "b", "c"}, ids); diff != "" {
		t.Errorf("round robin (-want +got):\n%s", diff)
	}
	random, err := d.NewProvider(ctx, "api", discovery.Random())
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for range 200 { // each missed with probability (2/3)^200
		inst, err := random.Instance()
		if err != nil || !slices.ContainsFunc(all, func(i discovery.ServiceInstance) bool { return cmp.Equal(i, inst) }) {
			t.Fatalf("random: %+v, %v", inst, err)
		}
		seen[inst.ID]++
	}
	if len(seen) != 3 {
		t.Errorf("random handed out %v, want all three", seen)
	}
	wrong, err := d.NewProvider(ctx, "api", outOfRange{})
	if err != nil {
		t.Fatal(err)
	}
	if inst, err := wrong.Instance(); err == nil {
		t.Errorf("a strategy's index out of range gave %+v", inst)
	}
}

// outOfRange is a broken strategy.
type outOfRange struct{}

func (outOfRange) Pick(instances []discovery.ServiceInstance) int { return len(instances) }

// A provider follows registrations, updates, disabling and
// unregistrations made elsewhere.
func testProviderFollowsChanges(t *testing.T, z *recipetest.Place) {
	d := registry(t, z.Connect())
	ctx := recipetest.Context(t)
	p, err := d.NewProvider(ctx, "api", nil)
	if err != nil {
		t.Fatal(err)
	}
	changes, stop := p.Subscribe()
	defer stop()
	next := func(what string) []discovery.ServiceInstance {
		t.Helper()
		return recipetest.Receive(t, changes, what)
	}
	other := registry(t, z.Connect())
	a1 := register(t, other, api("a1", 1))
	if diff := cmp.Diff([]discovery.ServiceInstance{a1}, next("a1 registered")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	a1.Port = 2
	if err := other.Update(ctx, a1); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]discovery.ServiceInstance{a1}, next("a1 updated")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	a1.Disabled = true
	if err := other.Update(ctx, a1); err != nil {
		t.Fatal(err)
	}
	if got := next("a1 disabled"); len(got) != 0 {
		t.Errorf("a disabled instance handed out: %+v", got)
	}
	if _, err := p.Instance(); !errors.Is(err, discovery.ErrNoInstances) {
		t.Errorf("Instance = %v, want ErrNoInstances", err)
	}
	a1.Disabled = false
	if err := other.Update(ctx, a1); err != nil {
		t.Fatal(err)
	}
	next("a1 enabled")
	if err := other.Unregister(ctx, a1); err != nil {
		t.Fatal(err)
	}
	if got := next("a1 unregistered"); len(got) != 0 {
		t.Errorf("after Unregister: %+v", got)
	}
	// The server removes the empty containers; the provider watches for
	// the service to come back.
	recipetest.WaitGone(t, z.Connect(), base)
	a2 := register(t, other, api("a2", 3))
	for got := p.Instances(); !cmp.Equal([]discovery.ServiceInstance{a2}, got); {
		got = next("a2 after the service came back")
	}
}

// An update costs the provider one read: of the instance that changed.
func testProviderReadsOnlyWhatChanged(t *testing.T, z *recipetest.Place) {
	h, px := z.ConnectViaProxy(recipetest.SessionTimeout)
	other := registry(t, z.Connect())
	registerAll(t, other, "a", "b", "c")
	p, err := registry(t, h).NewProvider(recipetest.Context(t), "api", nil)
	if err != nil {
		t.Fatal(err)
	}
	changes, stop := p.Subscribe()
	defer stop()
	px.RecordClientFrames()
	if err := other.Update(recipetest.Context(t), api("b", 7)); err != nil {
		t.Fatal(err)
	}
	for got := p.Instances(); len(got) != 3 || got[1].Port != 7; {
		got = recipetest.Receive(t, changes, "b's new port")
	}
	want := []recipetest.Request{{Op: serialize.OpGetData, Path: z.Chroot + base + "/api/b"}}
	if diff := cmp.Diff(want, recipetest.Requests(px)); diff != "" {
		t.Errorf("requests for one update (-want +got):\n%s", diff)
	}
}

// A context already done sends nothing.
func testDoneContext(t *testing.T, z *recipetest.Place) {
	h, p := z.ConnectViaProxy(recipetest.SessionTimeout)
	d := registry(t, h)
	p.RecordClientFrames()
	done, cancel := context.WithCancel(context.Background())
	cancel()
	inst := api("a1", 1)
	calls := map[string]error{}
	_, calls["Register"] = d.Register(done, inst)
	calls["Update"] = d.Update(done, inst)
	calls["Unregister"] = d.Unregister(done, inst)
	_, calls["QueryForNames"] = d.QueryForNames(done)
	_, calls["QueryForInstances"] = d.QueryForInstances(done, "api")
	_, calls["QueryForInstance"] = d.QueryForInstance(done, "api", "a1")
	_, calls["NewProvider"] = d.NewProvider(done, "api", nil)
	calls["Reattach"] = d.Reattach(done, h)
	for call, err := range calls {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s = %v, want context.Canceled", call, err)
		}
	}
	recipetest.SentNothing(t, h, p)
}

// Close unregisters every instance, the persistent ones too, and ends the
// providers.
func testClose(t *testing.T, z *recipetest.Place) {
	h := z.Connect()
	d := discovery.New(h, base)
	ctx := recipetest.Context(t)
	register(t, d, api("a1", 1))
	static := api("s1", 2)
	static.ServiceType = discovery.Permanent
	register(t, d, static)
	p, err := d.NewProvider(ctx, "api", nil)
	if err != nil {
		t.Fatal(err)
	}
	changes, _ := p.Subscribe()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case _, open := <-changes:
		if open {
			t.Error("a change published by Close")
		}
	case <-time.After(recipetest.Timeout):
		t.Error("the subscription outlived Close")
	}
	if _, err := p.Instance(); !errors.Is(err, discovery.ErrClosed) {
		t.Errorf("Instance after Close = %v", err)
	}
	if _, err := d.Register(ctx, api("a2", 1)); !errors.Is(err, discovery.ErrClosed) {
		t.Errorf("Register after Close = %v", err)
	}
	recipetest.WaitChildren(t, h, base+"/api", 0)
	if err := d.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if _, err := discovery.New(nil, base).QueryForNames(ctx); err == nil {
		t.Error("a registry without a handle answered")
	}
}
