package serialize

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Every proper prefix of a golden vector is missing some field, so Decode
// must refuse it, and without panicking.
func TestDecodeTruncated(t *testing.T) {
	for _, g := range golden(t) {
		for cut := range len(g.wire) {
			n, err := newLike(g.rec).Decode(g.wire[:cut:cut])
			var de *DecodeError
			if !errors.As(err, &de) || n != 0 {
				t.Errorf("%s cut at %d of %d: Decode = %d, %v; want 0, *DecodeError", g.name, cut, len(g.wire), n, err)
			}
		}
	}
}

// join concatenates encoded pieces.
func join(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func i32(v int32) []byte { return AppendInt32(nil, v) }

type corruptCase struct {
	name string
	rec  codec
	src  []byte
}

// corruptCases are inputs Decode must refuse: bad lengths, and counts the
// input cannot hold. None may allocate anything near what it claims
// (checked by TestCorruptDoesNotAllocate).
func corruptCases() []corruptCase {
	stat := goldenStat.Encode(nil)
	return []corruptCase{
		{"buffer length -2", &GetDataResponse{}, join(i32(-2), stat)},
		{"buffer length MinInt32", &SetDataRequest{}, join(AppendString(nil, "/a"), i32(-1<<31), i32(0))},
		{"buffer length beyond input", &GetDataResponse{}, join(i32(1<<31-1), stat)},
		{"buffer length over the maximum", &GetDataResponse{}, join(i32(DefaultMaxBuffer+1), make([]byte, DefaultMaxBuffer+1), stat)},
		{"string length -2", &GetDataRequest{}, join(i32(-2), []byte("ab\x01"))},
		{"string length beyond input", &SyncResponse{}, join(i32(1<<30), []byte("/a"))},
		{"nested string length -5", &ACL{}, join(i32(31), i32(-5), i32(0))},
		{"vector count -2", &GetChildrenResponse{}, i32(-2)},
		{"vector count MaxInt32", &SetWatches{}, join(AppendInt64(nil, 1), i32(1<<31-1), make([]byte, 64))},
		{"strings count beyond input", &GetChildrenResponse{}, join(i32(1<<20), make([]byte, 100))},
		// 10 ACLs need at least 120 bytes; 80 would pass a 4-byte estimate.
		{"ACL count beyond input", &GetACLResponse{}, join(i32(10), make([]byte, 80))},
		{"ClientInfo count beyond input", &WhoAmIResponse{}, join(i32(3), make([]byte, 20))},
		{"ACL vector count over the maximum", &CreateRequest{}, join(AppendString(nil, "/"), i32(-1), i32(DefaultMaxBuffer+1), make([]byte, 16))},
		{"second vector bad", &SetWatches2{}, join(AppendInt64(nil, 0), AppendStrings(nil, []string{"/a"}), i32(-3))},
	}
}

func TestDecodeCorrupt(t *testing.T) {
	for _, c := range corruptCases() {
		t.Run(c.name, func(t *testing.T) {
			n, err := c.rec.Decode(c.src)
			var de *DecodeError
			if !errors.As(err, &de) || n != 0 {
				t.Fatalf("Decode = %d, %v; want 0, *DecodeError", n, err)
			}
			if de.Offset < 0 || de.Offset > len(c.src) {
				t.Errorf("error offset %d outside the input of %d bytes", de.Offset, len(c.src))
			}
		})
	}
}

// Java writes a null ustring as length -1; Go strings have no null, so it
// decodes as "" and is written back as length 0.
func TestDecodeNullString(t *testing.T) {
	src := join(i32(int32(EventSession)), i32(int32(KeeperSyncConnected)), i32(-1))
	var got WatcherEvent
	n, err := got.Decode(src)
	if err != nil || n != len(src) {
		t.Fatalf("Decode = %d, %v; want %d, nil", n, err, len(src))
	}
	want := WatcherEvent{Type: int32(EventSession), State: int32(KeeperSyncConnected)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// Java reads any non-zero byte as true.
func TestDecodeBoolNonZero(t *testing.T) {
	var got MultiHeader
	if _, err := got.Decode(join(i32(-1), []byte{0x80}, i32(-1))); err != nil {
		t.Fatal(err)
	}
	if !got.Done {
		t.Error("Done = false for byte 0x80, want true")
	}
}
