//go:build !race

package serialize

import (
	"runtime"
	"testing"
)

// Encoding into a buffer with room allocates nothing.
func TestEncodeAllocs(t *testing.T) {
	for _, rec := range []codec{
		&RequestHeader{Xid: 7, Type: int32(OpGetData)},
		&GetDataRequest{Path: goldenPath, Watch: true},
		&SetDataRequest{Path: goldenPath, Data: goldenData(), Version: 3},
		&CreateRequest{Path: goldenPath, Data: goldenData(), ACL: goldenACLs(), Flags: int32(Ephemeral)},
		&ReplyHeader{Xid: 7, Zxid: 1 << 40, Err: int32(ErrNoNode)},
		&goldenStat,
		&ReconfigRequest{LeavingServers: "3", CurConfigID: -1}, // two null strings
	} {
		buf := make([]byte, 0, 1024)
		if n := testing.AllocsPerRun(100, func() { buf = rec.Encode(buf[:0]) }); n != 0 {
			t.Errorf("%s.Encode: %v allocations, want 0", recordName(rec), n)
		}
	}
}

// Decoding fixed-size records, and data into a record whose Data has the
// capacity, allocates nothing.
func TestDecodeAllocs(t *testing.T) {
	for _, rec := range []codec{
		&ReplyHeader{Xid: 7, Zxid: 1 << 40, Err: int32(ErrNoNode)},
		&goldenStat,
		&RequestHeader{Xid: 7, Type: int32(OpGetData)},
		&GetDataResponse{Data: goldenData(), Stat: goldenStat},
	} {
		wire := rec.Encode(nil)
		dst := newLike(rec)
		if _, err := dst.Decode(wire); err != nil { // sizes dst's buffers
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(100, func() { _, _ = dst.Decode(wire) }); n != 0 {
			t.Errorf("%s.Decode: %v allocations, want 0", recordName(rec), n)
		}
	}
}

// A length or count the input cannot hold is refused before anything of
// that size is allocated.
func TestCorruptDoesNotAllocate(t *testing.T) {
	const runs = 10
	for _, c := range corruptCases() {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range runs {
			_, _ = c.rec.Decode(c.src)
		}
		runtime.ReadMemStats(&after)
		if per := (after.TotalAlloc - before.TotalAlloc) / runs; per > 4096 {
			t.Errorf("%s: %d bytes allocated per Decode", c.name, per)
		}
	}
}
