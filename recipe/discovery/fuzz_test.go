package discovery

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzInstanceJSON reads arbitrary node data as an instance, as a Provider
// reads whatever another client wrote: it never panics, and an instance
// it reads and can write reads back the same.
func FuzzInstanceJSON(f *testing.F) {
	for _, seed := range []string{javaCompatible, javaFull, javaString, `{}`, `null`, `{"port":"80"}`, `{"enabled":"false"}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var inst ServiceInstance
		if inst.UnmarshalJSON(data) != nil {
			return
		}
		out, err := inst.encode(true)
		if err != nil {
			return // not an instance this side would register
		}
		var again ServiceInstance
		if err := again.UnmarshalJSON(out); err != nil {
			t.Fatalf("%s written as %s, which does not read back: %v", data, out, err)
		}
		if diff := cmp.Diff(inst, again); diff != "" {
			t.Fatalf("%s written as %s reads back differently (-first +again):\n%s", data, out, diff)
		}
	})
}

// FuzzURISpec parses arbitrary templates: never a panic, and a parsed
// spec's String parses to a spec that prints and builds the same ("a{}b"
// is the literals "a" and "b", which print as "ab", one literal).
func FuzzURISpec(f *testing.F) {
	for _, seed := range []string{"{scheme}://{address}:{port}/api", "", "{}", "a{}b", "a{b}c", "{[}x{]}", "}", "{"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, template string) {
		spec, err := ParseURISpec(template)
		if err != nil {
			return
		}
		printed := spec.String()
		again, err := ParseURISpec(printed)
		if err != nil {
			t.Fatalf("%q parsed, but its String %q does not: %v", template, printed, err)
		}
		if again.String() != printed {
			t.Fatalf("%q prints as %q, which prints as %q", template, printed, again.String())
		}
		vars := map[string]string{"x": "<x>"}
		if a, b := spec.Build(instanceCompatible, vars), again.Build(instanceCompatible, vars); a != b {
			t.Fatalf("%q builds %q, its String %q builds %q", template, a, printed, b)
		}
	})
}
