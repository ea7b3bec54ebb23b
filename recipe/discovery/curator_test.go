package discovery_test

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zkloop/zkloop/internal/curator"
	"github.com/zkloop/zkloop/internal/recipetest"
	"github.com/zkloop/zkloop/recipe/discovery"
	"github.com/zkloop/zkloop/zhandle"
)

// details is the payload bean of the Curator driver (curator.PayloadClass).
type details struct {
	Description string `json:"description"`
	Weight      int    `json:"weight"`
}

// curatorDo runs a driver command, failing the test otherwise, and
// decodes its result into out unless out is nil.
func curatorDo(t *testing.T, cur *curator.Driver, out any, cmd string, args ...string) {
	t.Helper()
	if err := cur.DoJSON(recipetest.Context(t), out, cmd, args...); err != nil {
		t.Fatalf("curator %s %q: %v", cmd, args, err)
	}
}

// asMap is an instance's JSON as a map, all fields included.
func asMap(t *testing.T, inst discovery.ServiceInstance) map[string]any {
	t.Helper()
	text, err := json.Marshal(inst)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{"enabled": true} // what Curator reads when it is absent
	if err := json.Unmarshal(text, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestCurator checks service discovery both ways against Curator 5.4's
// ServiceDiscovery, on one registry: Go's instances as Java reads them,
// and Java's as Go reads them, payloads included.
func TestCurator(t *testing.T) {
	cur, z := recipetest.StartCurator(t, "j")
	curatorDo(t, cur, nil, "discovery.start", "beans", "j", base, "details")
	curatorDo(t, cur, nil, "discovery.start", "maps", "j", base, "map", "full")
	d := registry(t, z.Connect())
	ctx := recipetest.Context(t)

	t.Run("Go to Java", func(t *testing.T) {
		payload, err := discovery.NewPayload(curator.PayloadClass, details{"go side", 3})
		if err != nil {
			t.Fatal(err)
		}
		spec, err := discovery.ParseURISpec("{scheme}://{address}:{ssl-port}/v2")
		if err != nil {
			t.Fatal(err)
		}
		for _, inst := range []discovery.ServiceInstance{
			{Name: "api", ID: "go-1", Address: "10.0.0.2", Port: 9090, SSLPort: 9443, Payload: payload, URISpec: &spec},
			{Name: "api", ID: "go-2", Address: "10.0.0.3", Port: 9091, ServiceType: discovery.Static, Disabled: true},
		} {
			inst = register(t, d, inst)
			var got map[string]any
			curatorDo(t, cur, &got, "discovery.query", "beans", "api", inst.ID)
			if diff := cmp.Diff(asMap(t, inst), got); diff != "" {
				t.Errorf("%s as Curator reads it (-want +got):\n%s", inst.ID, diff)
			}
		}
		var all []map[string]any
		curatorDo(t, cur, &all, "discovery.instances", "beans", "api")
		if len(all) != 2 {
			t.Errorf("Curator's queryForInstances: %v, want go-1 and go-2", all)
		}
		inst := register(t, d, discovery.ServiceInstance{Name: "maps", ID: "go-m", Address: "10.0.0.4", Port: 1,
			Payload: mustPayload(t, "java.util.LinkedHashMap", map[string]any{"k": "v"})})
		var got map[string]any
		curatorDo(t, cur, &got, "discovery.query", "maps", "maps", "go-m")
		if diff := cmp.Diff(asMap(t, inst), got); diff != "" {
			t.Errorf("a map payload as Curator reads it (-want +got):\n%s", diff)
		}
		if err := d.Unregister(ctx, inst); err != nil {
			t.Fatal(err)
		}
		if result, err := cur.Do(ctx, "discovery.query", "maps", "maps", "go-m"); err != nil || result != "null" {
			t.Errorf("Curator's query after Go's Unregister = %s, %v; want null", result, err)
		}
	})

	t.Run("Java to Go", func(t *testing.T) {
		p, err := d.NewProvider(ctx, "jsvc", nil)
		if err != nil {
			t.Fatal(err)
		}
		changes, stop := p.Subscribe()
		defer stop()
		curatorDo(t, cur, nil, "discovery.register", "beans", `{"name":"jsvc","id":"java-1","address":"10.1.2.3",`+
			`"port":8080,"sslPort":8443,"payload":{"description":"java side","weight":5},"registrationTimeUTC":1700000000000,`+
			`"serviceType":"DYNAMIC","uriSpec":"{scheme}://{address}:{port}/api"}`)
		spec, err := discovery.ParseURISpec("{scheme}://{address}:{port}/api")
		if err != nil {
			t.Fatal(err)
		}
		want := discovery.ServiceInstance{Name: "jsvc", ID: "java-1", Address: "10.1.2.3", Port: 8080, SSLPort: 8443,
			Payload:             json.RawMessage(`{"@class":"` + curator.PayloadClass + `","description":"java side","weight":5}`),
			RegistrationTimeUTC: 1700000000000, URISpec: &spec}
		got, err := d.QueryForInstance(ctx, "jsvc", "java-1")
		if diff := cmp.Diff(want, got); diff != "" || err != nil {
			t.Errorf("Java's instance as Go reads it: %v (-want +got):\n%s", err, diff)
		}
		var back details
		if err := json.Unmarshal(got.Payload, &back); err != nil || back != (details{"java side", 5}) {
			t.Errorf("the payload into a struct: %+v, %v", back, err)
		}
		for list := p.Instances(); !cmp.Equal([]discovery.ServiceInstance{want}, list); {
			list = recipetest.Receive(t, changes, "Java's instance in the provider")
		}

		curatorDo(t, cur, nil, "discovery.register", "maps", `{"name":"jsvc","id":"java-m","address":"10.1.2.4","port":1,`+
			`"payload":{"k":"v","n":2},"registrationTimeUTC":1,"enabled":false}`)
		got, err = d.QueryForInstance(ctx, "jsvc", "java-m")
		wantMap := discovery.ServiceInstance{Name: "jsvc", ID: "java-m", Address: "10.1.2.4", Port: 1, RegistrationTimeUTC: 1,
			Payload: json.RawMessage(`{"@class":"java.util.LinkedHashMap","k":"v","n":2}`), Disabled: true}
		if diff := cmp.Diff(wantMap, got); diff != "" || err != nil {
			t.Errorf("Java's map instance as Go reads it: %v (-want +got):\n%s", err, diff)
		}
		if diff := cmp.Diff([]discovery.ServiceInstance{want, wantMap}, instances(t, d, "jsvc")); diff != "" {
			t.Errorf("QueryForInstances (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]discovery.ServiceInstance{want}, p.Instances()); diff != "" {
			t.Errorf("the provider hands out a disabled instance (-want +got):\n%s", diff)
		}

		curatorDo(t, cur, nil, "discovery.unregister", "beans", "jsvc", "java-1")
		for list := p.Instances(); len(list) != 0; {
			list = recipetest.Receive(t, changes, "Java's unregistration in the provider")
		}
		if _, err := d.QueryForInstance(ctx, "jsvc", "java-1"); !errors.Is(err, zhandle.ErrNoNode) {
			t.Errorf("QueryForInstance after Java's unregistration = %v", err)
		}
	})

	t.Run("names", func(t *testing.T) {
		var javaNames []string
		curatorDo(t, cur, &javaNames, "discovery.names", "beans")
		slices.Sort(javaNames)
		goNames, err := d.QueryForNames(ctx)
		if diff := cmp.Diff(javaNames, goNames); diff != "" || err != nil {
			t.Errorf("QueryForNames: %v (-Java +Go):\n%s", err, diff)
		}
	})
}

func mustPayload(t *testing.T, class string, v any) json.RawMessage {
	t.Helper()
	p, err := discovery.NewPayload(class, v)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
