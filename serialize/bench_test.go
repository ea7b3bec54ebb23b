package serialize

import (
	"fmt"
	"testing"
)

func BenchmarkEncodeGetDataRequestFramed(b *testing.B) {
	b.ReportAllocs()
	hdr := RequestHeader{Type: int32(OpGetData)}
	req := GetDataRequest{Path: "/zkloop/bench/node-0000000042", Watch: true}
	buf := make([]byte, 0, 256)
	for b.Loop() {
		hdr.Xid++
		var start int
		buf, start = BeginFrame(buf[:0])
		buf = hdr.Encode(buf)
		buf = req.Encode(buf)
		var err error
		if buf, err = FinishFrame(buf, start, DefaultMaxBuffer); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecodeGetDataResponse(b *testing.B) {
	b.ReportAllocs()
	reply := (&ReplyHeader{Xid: 42, Zxid: 1 << 33}).Encode(nil)
	reply = (&GetDataResponse{Data: make([]byte, 100), Stat: goldenStat}).Encode(reply)
	b.SetBytes(int64(len(reply)))
	var hdr ReplyHeader
	var resp GetDataResponse
	for b.Loop() {
		n, err := hdr.Decode(reply)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := resp.Decode(reply[n:]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeStat(b *testing.B) {
	b.ReportAllocs()
	buf := make([]byte, 0, 128)
	for b.Loop() {
		buf = goldenStat.Encode(buf[:0])
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecodeStat(b *testing.B) {
	b.ReportAllocs()
	wire := goldenStat.Encode(nil)
	b.SetBytes(int64(len(wire)))
	var st Stat
	for b.Loop() {
		if _, err := st.Decode(wire); err != nil {
			b.Fatal(err)
		}
	}
}

// Each child name is a new string: 100 allocations are the floor.
func BenchmarkDecodeGetChildrenResponse100(b *testing.B) {
	b.ReportAllocs()
	children := make([]string, 100)
	for i := range children {
		children[i] = fmt.Sprintf("node-%010d", i)
	}
	wire := (&GetChildrenResponse{Children: children}).Encode(nil)
	b.SetBytes(int64(len(wire)))
	var resp GetChildrenResponse
	for b.Loop() {
		if _, err := resp.Decode(wire); err != nil {
			b.Fatal(err)
		}
	}
}
