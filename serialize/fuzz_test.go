package serialize

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// One fuzz target per record family (file); FUZZ_TARGETS lists them for the
// Makefile. The first input byte picks the record within the family, the
// rest is fed to its Decode. Seeds: the golden vectors.

func FuzzDecodeData(f *testing.F)     { fuzzFamily(f, dataRecords) }
func FuzzDecodeHeaders(f *testing.F)  { fuzzFamily(f, headerRecords) }
func FuzzDecodeSession(f *testing.F)  { fuzzFamily(f, sessionRecords) }
func FuzzDecodeNode(f *testing.F)     { fuzzFamily(f, nodeRecords) }
func FuzzDecodeChildren(f *testing.F) { fuzzFamily(f, childrenRecords) }
func FuzzDecodeACL(f *testing.F)      { fuzzFamily(f, aclRecords) }
func FuzzDecodeWatches(f *testing.F)  { fuzzFamily(f, watchRecords) }
func FuzzDecodeSASL(f *testing.F)     { fuzzFamily(f, saslRecords) }
func FuzzDecodeAdmin(f *testing.F)    { fuzzFamily(f, adminRecords) }

// fuzzFamily checks, for any input, that Decode does not panic, and that
// when it succeeds the record encodes to as many bytes as it consumed and
// that encoding decodes to the same record.
func fuzzFamily(f *testing.F, family []codec) {
	index := make(map[string]byte)
	for i, rec := range family {
		index[recordName(rec)] = byte(i)
	}
	for _, g := range golden(f) {
		if i, ok := index[recordName(g.rec)]; ok {
			f.Add(append([]byte{i}, g.wire...))
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		proto := family[int(in[0])%len(family)]
		got := newLike(proto)
		n, err := got.Decode(in[1:])
		if err != nil {
			return
		}
		if n < 0 || n > len(in)-1 {
			t.Fatalf("%s.Decode consumed %d of %d bytes", recordName(proto), n, len(in)-1)
		}
		enc := got.Encode(nil)
		if len(enc) != n {
			t.Fatalf("%s: decoded from %d bytes, encodes to %d", recordName(proto), n, len(enc))
		}
		again := newLike(proto)
		if m, err := again.Decode(enc); err != nil || m != len(enc) {
			t.Fatalf("%s: re-decode = %d, %v; want %d, nil", recordName(proto), m, err, len(enc))
		}
		if diff := cmp.Diff(got, again); diff != "" {
			t.Fatalf("%s: re-decode differs (-first +second):\n%s", recordName(proto), diff)
		}
	})
}
