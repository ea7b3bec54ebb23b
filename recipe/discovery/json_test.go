package discovery

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// javaSpec is the uriSpec of "{scheme}://{address}:{port}/api".
var javaSpec = &URISpec{Parts: []URIPart{
	{"scheme", true}, {"://", false}, {"address", true}, {":", false}, {"port", true}, {"/api", false},
}}

// The JSON Curator 5.4 wrote on this machine (CURATOR.md §9.2), and the
// instances it holds.
const (
	javaCompatible = `{"name":"myservice","id":"instance-1","address":"10.1.2.3","port":8080,"sslPort":8443,` +
		`"payload":{"@class":"CuratorProbe$InstanceDetails","description":"java side","weight":5},` +
		`"registrationTimeUTC":1796162533854,"serviceType":"DYNAMIC",` +
		`"uriSpec":{"parts":[{"value":"scheme","variable":true},{"value":"://","variable":false},` +
		`{"value":"address","variable":true},{"value":":","variable":false},` +
		`{"value":"port","variable":true},{"value":"/api","variable":false}]}}`
	javaFull = `{"name":"myservice","id":"instance-2-static","address":"10.1.2.4","port":9090,"sslPort":null,` +
		`"payload":null,"registrationTimeUTC":1796162534122,"serviceType":"STATIC","uriSpec":null,"enabled":false}`
	javaString = `{"name":"strsvc","id":"s1","address":"10.9.9.9","port":1,"sslPort":null,` +
		`"payload":"just-a-string","registrationTimeUTC":1700000000000,"serviceType":"DYNAMIC","uriSpec":null}`
)

var (
	instanceCompatible = ServiceInstance{
		Name: "myservice", ID: "instance-1", Address: "10.1.2.3", Port: 8080, SSLPort: 8443,
		Payload:             json.RawMessage(`{"@class":"CuratorProbe$InstanceDetails","description":"java side","weight":5}`),
		RegistrationTimeUTC: 1796162533854, URISpec: javaSpec,
	}
	instanceFull = ServiceInstance{
		Name: "myservice", ID: "instance-2-static", Address: "10.1.2.4", Port: 9090,
		RegistrationTimeUTC: 1796162534122, ServiceType: Static, Disabled: true,
	}
	instanceString = ServiceInstance{
		Name: "strsvc", ID: "s1", Address: "10.9.9.9", Port: 1,
		Payload: json.RawMessage(`"just-a-string"`), RegistrationTimeUTC: 1700000000000,
	}
)

// Go writes byte for byte what Curator's serializers write.
func TestEncodeAsCurator(t *testing.T) {
	tests := []struct {
		name string
		inst ServiceInstance
		full bool
		want string
	}{
		{"compatible", instanceCompatible, false, javaCompatible},
		{"full", instanceFull, true, javaFull},
		{"string payload", instanceString, false, javaString},
		{"full enabled", instanceString, true, javaString[:len(javaString)-1] + `,"enabled":true}`},
		// Compatible mode would drop it: a disabled instance says so.
		{"disabled", instanceFull, false, javaFull},
		{"empty uri spec", ServiceInstance{Name: "a", ID: "b", URISpec: &URISpec{}}, false,
			`{"name":"a","id":"b","address":"","port":null,"sslPort":null,"payload":null,"registrationTimeUTC":0,"serviceType":"DYNAMIC","uriSpec":{"parts":[]}}`},
		{"no HTML escapes", ServiceInstance{Name: "a&b", ID: "<id>"}, false,
			`{"name":"a&b","id":"<id>","address":"","port":null,"sslPort":null,"payload":null,"registrationTimeUTC":0,"serviceType":"DYNAMIC","uriSpec":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.inst.encode(tt.full)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("JSON (-want +got):\n%s", diff)
			}
		})
	}
	if got, err := json.Marshal(instanceCompatible); err != nil || string(got) != javaCompatible {
		t.Errorf("json.Marshal = %s, %v; want the compatible form", got, err)
	}
}

func TestEncodeRefusesInvalid(t *testing.T) {
	for _, inst := range []ServiceInstance{
		{ID: "x"},
		{Name: "a/b", ID: "x"},
		{Name: "a", ID: ""},
		{Name: "a", ID: "x/y"},
		{Name: "a", ID: "x", Port: 65536},
		{Name: "a", ID: "x", SSLPort: -1},
		{Name: "a", ID: "x", ServiceType: 4},
		{Name: "a", ID: "x", Payload: json.RawMessage(`{"unclosed":`)},
	} {
		if _, err := inst.encode(false); !errors.Is(err, ErrInvalidInstance) {
			t.Errorf("encode(%+v) = %v, want ErrInvalidInstance", inst, err)
		}
	}
}

// Go reads what Java writes, and what Java reads, as Java reads it.
func TestDecodeAsCurator(t *testing.T) {
	tests := []struct {
		name string
		json string
		want ServiceInstance
	}{
		{"compatible", javaCompatible, instanceCompatible},
		{"full", javaFull, instanceFull},
		{"string payload", javaString, instanceString},
		{
			// Jackson's pretty printer, members in another order, an
			// unknown member, a map payload tagged with its class.
			name: "pretty, reordered, unknown member",
			json: "{\n  \"serviceType\" : \"PERMANENT\",\n  \"id\" : \"m1\",\n  \"name\" : \"maps\",\n" +
				"  \"payload\" : {\n    \"@class\" : \"java.util.LinkedHashMap\",\n    \"k\" : \"v\"\n  },\n" +
				"  \"future\" : [ 1, 2 ],\n  \"port\" : 31337\n}",
			want: ServiceInstance{Name: "maps", ID: "m1", Port: 31337, ServiceType: Permanent,
				Payload: json.RawMessage(`{"@class":"java.util.LinkedHashMap","k":"v"}`)},
		},
		{
			name: "minimal: Curator's defaults",
			json: `{"name":"a","id":"b","address":"10.0.0.1","port":80}`,
			want: ServiceInstance{Name: "a", ID: "b", Address: "10.0.0.1", Port: 80},
		},
		{
			name: "nulls",
			json: `{"name":null,"id":"b","address":null,"port":null,"payload":null,"registrationTimeUTC":null,"serviceType":null,"uriSpec":null}`,
			want: ServiceInstance{ID: "b"},
		},
		{
			// Jackson coerces numbers in strings; a primitive boolean
			// read from null is false.
			name: "coercions",
			json: `{"name":"a","id":"b","port":"8080","registrationTimeUTC":"17","enabled":null}`,
			want: ServiceInstance{Name: "a", ID: "b", Port: 8080, RegistrationTimeUTC: 17, Disabled: true},
		},
		{
			name: "enabled as a string",
			json: `{"name":"a","id":"b","enabled":"false"}`,
			want: ServiceInstance{Name: "a", ID: "b", Disabled: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got ServiceInstance
			if err := json.Unmarshal([]byte(tt.json), &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("instance (-want +got):\n%s", diff)
			}
		})
	}
}

// What Java's reader refuses, Go refuses too, with ErrInvalidInstance.
func TestDecodeRefuses(t *testing.T) {
	for _, text := range []string{
		``,
		`null`,
		`[]`,
		`"instance"`,
		`{"name":"a","serviceType":"dynamic"}`, // case-sensitive, as the Java enum
		`{"name":"a","serviceType":"DYNAMIC_SEQ"}`,
		`{"name":"a","port":80.5}`,
		`{"name":"a","port":2147483648}`,
		`{"name":"a","port":true}`,
		`{"name":7}`,
		`{"name":"a","enabled":"yes"}`,
		`{"name":"a","uriSpec":{"parts":[{"value":1}]}}`,
		`{"name":"a","payload":{`,
	} {
		var inst ServiceInstance
		if err := json.Unmarshal([]byte(text), &inst); err == nil {
			t.Errorf("Unmarshal(%s) = %+v, want an error", text, inst)
		} else if text != "" && text[0] == '{' && !errors.Is(err, ErrInvalidInstance) && json.Valid([]byte(text)) {
			t.Errorf("Unmarshal(%s) = %v, want ErrInvalidInstance", text, err)
		}
	}
}

func TestServiceTypeText(t *testing.T) {
	for _, st := range []ServiceType{Dynamic, Static, Permanent, DynamicSequential} {
		text, err := st.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back ServiceType
		if err := back.UnmarshalText(text); err != nil || back != st || st.String() != string(text) {
			t.Errorf("%v: text %s read back as %v, %v", st, text, back, err)
		}
	}
	if _, err := ServiceType(9).MarshalText(); err == nil {
		t.Error("ServiceType(9) marshalled")
	}
	if got := ServiceType(9).String(); got != "ServiceType(9)" {
		t.Errorf("String() = %q", got)
	}
}

func TestURISpec(t *testing.T) {
	tests := []struct {
		template string
		parts    []URIPart
	}{
		{"{scheme}://{address}:{port}/api", javaSpec.Parts},
		{"", nil},
		{"plain", []URIPart{{"plain", false}}},
		{"{}x{id}", []URIPart{{"x", false}, {"id", true}}}, // an empty variable is dropped, as in Curator
		{"{[}a{]}", []URIPart{{"[", true}, {"a", false}, {"]", true}}},
	}
	for _, tt := range tests {
		spec, err := ParseURISpec(tt.template)
		if err != nil {
			t.Fatalf("ParseURISpec(%q): %v", tt.template, err)
		}
		if diff := cmp.Diff(tt.parts, spec.Parts); diff != "" {
			t.Errorf("ParseURISpec(%q) (-want +got):\n%s", tt.template, diff)
		}
	}
	if got := javaSpec.String(); got != "{scheme}://{address}:{port}/api" {
		t.Errorf("String() = %q", got)
	}
	for _, bad := range []string{"{a", "a}", "{a{b}}", "}"} {
		if _, err := ParseURISpec(bad); err == nil {
			t.Errorf("ParseURISpec(%q) succeeded", bad)
		}
	}
}

func TestURISpecBuild(t *testing.T) {
	spec, err := ParseURISpec("{scheme}://{address}:{port}/{name}/{id}?s={ssl-port}&t={registration-time-utc}&k={service-type}&{[}x{]}{unknown}{extra}")
	if err != nil {
		t.Fatal(err)
	}
	inst := ServiceInstance{Name: "api", ID: "i1", Address: "10.0.0.1", Port: 80, RegistrationTimeUTC: 5, ServiceType: DynamicSequential}
	tests := []struct {
		inst ServiceInstance
		vars map[string]string
		want string
	}{
		{inst, nil, "http://10.0.0.1:80/api/i1?s=&t=5&k=dynamic_sequential&{x}"},
		{ServiceInstance{Name: "api", SSLPort: 443}, map[string]string{"extra": "!", "scheme": "ftp"}, "ftp://:/api/?s=443&t=0&k=dynamic&{x}!"},
		{ServiceInstance{SSLPort: 443}, nil, "https://://?s=443&t=0&k=dynamic&{x}"},
	}
	for _, tt := range tests {
		if got := spec.Build(tt.inst, tt.vars); got != tt.want {
			t.Errorf("Build(%+v, %v) = %q, want %q", tt.inst, tt.vars, got, tt.want)
		}
	}
}

func TestPayload(t *testing.T) {
	type details struct {
		Description string `json:"description"`
		Weight      int    `json:"weight"`
	}
	tests := []struct {
		class string
		v     any
		want  string
	}{
		{"com.acme.Details", details{"go side", 3}, `{"@class":"com.acme.Details","description":"go side","weight":3}`},
		{"java.util.LinkedHashMap", map[string]int{}, `{"@class":"java.util.LinkedHashMap"}`},
		{"", "just-a-string", `"just-a-string"`},
		{"", 42, `42`},
	}
	for _, tt := range tests {
		got, err := NewPayload(tt.class, tt.v)
		if err != nil || string(got) != tt.want {
			t.Errorf("NewPayload(%q, %v) = %s, %v; want %s", tt.class, tt.v, got, err, tt.want)
		}
		if class := PayloadClass(got); class != tt.class {
			t.Errorf("PayloadClass(%s) = %q, want %q", got, class, tt.class)
		}
		var back details
		if _, ok := tt.v.(details); ok {
			if err := json.Unmarshal(got, &back); err != nil || back != tt.v {
				t.Errorf("the payload read back into the struct: %+v, %v", back, err)
			}
		}
	}
	for _, bad := range []any{"a string", []int{1}, map[string]string{"@class": "x"}, func() {}} {
		if p, err := NewPayload("com.acme.Details", bad); err == nil {
			t.Errorf("NewPayload(%v) = %s, want an error", bad, p)
		}
	}
	if class := PayloadClass(json.RawMessage(`[1]`)); class != "" {
		t.Errorf("PayloadClass of an array = %q", class)
	}
}
