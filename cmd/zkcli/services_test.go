package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/zkloop/zkloop/recipe/discovery"
	"github.com/zkloop/zkloop/zktest"
)

// testServices lists a registry that recipe/discovery wrote: the JSON
// printed is the instances registered.
func testServices(t *testing.T, srv *zktest.Server) {
	const base = "/zkcli-services"
	h := client(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d := discovery.New(h, base)
	defer d.Close()
	payload, err := discovery.NewPayload("com.acme.Details", map[string]int{"weight": 2})
	if err != nil {
		t.Fatal(err)
	}
	spec, err := discovery.ParseURISpec("{scheme}://{address}:{port}")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]discovery.ServiceInstance{}
	for _, inst := range []discovery.ServiceInstance{
		{Name: "api", ID: "i1", Address: "10.0.0.1", Port: 8080, Payload: payload, URISpec: &spec},
		{Name: "api", ID: "i2", Address: "10.0.0.2", Port: 8080, ServiceType: discovery.Static, Disabled: true},
		{Name: "web", ID: "w1", Address: "10.0.0.3", SSLPort: 443},
	} {
		inst, err := d.Register(ctx, inst)
		if err != nil {
			t.Fatal(err)
		}
		want[inst.Name+"/"+inst.ID] = inst
	}
	r := zkcli(t, "", "-server", srv.Addr(), "services", base)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("zkcli services: exit %d, stderr %q", r.code, r.stderr)
	}
	// The output is a service line, then per instance an id line and its
	// JSON, indented.
	got := map[string]discovery.ServiceInstance{}
	var service, id string
	var block strings.Builder
	flush := func() {
		if id == "" {
			return
		}
		var inst discovery.ServiceInstance
		if err := json.Unmarshal([]byte(block.String()), &inst); err != nil {
			t.Errorf("%s/%s: %v in %q", service, id, err, block.String())
		}
		got[service+"/"+id] = inst
		id = ""
		block.Reset()
	}
	for _, line := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "    "):
			block.WriteString(line)
		case strings.HasPrefix(line, "  "):
			flush()
			id = strings.TrimSuffix(strings.TrimPrefix(line, "  "), ":")
		default:
			flush()
			service = strings.TrimSuffix(line, ":")
		}
	}
	flush()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("instances printed (-want +got):\n%s\noutput:\n%s", diff, r.stdout)
	}
}
