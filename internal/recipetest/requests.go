package recipetest

import (
	"testing"

	"github.com/zkloop/zkloop/serialize"
	"github.com/zkloop/zkloop/zhandle"
	"github.com/zkloop/zkloop/zktest"
)

// Request is one request a client sent, as a Proxy recorded it: its
// opcode and, for the requests that start with a path, the path as the
// server sees it (chroot included).
type Request struct {
	Op   serialize.OpCode
	Path string
}

// Requests decodes the frames p recorded since RecordClientFrames, pings
// left out.
func Requests(p *zktest.Proxy) []Request {
	var reqs []Request
	for _, frame := range p.ClientFrames() {
		r := serialize.NewReader(frame)
		r.Int32() // xid
		req := Request{Op: serialize.OpCode(r.Int32())}
		switch req.Op {
		case serialize.OpPing:
			continue
		case serialize.OpCreate, serialize.OpCreate2, serialize.OpCreateContainer, serialize.OpCreateTTL,
			serialize.OpDelete, serialize.OpExists, serialize.OpGetData, serialize.OpSetData,
			serialize.OpGetChildren, serialize.OpGetChildren2, serialize.OpSync, serialize.OpGetACL,
			serialize.OpSetACL, serialize.OpCheckWatches, serialize.OpRemoveWatches, serialize.OpAddWatch:
			req.Path = r.String()
		}
		reqs = append(reqs, req)
	}
	return reqs
}

// Count returns how many of reqs have opcode op.
func Count(reqs []Request, op serialize.OpCode) int {
	n := 0
	for _, r := range reqs {
		if r.Op == op {
			n++
		}
	}
	return n
}

// SentNothing checks that h has sent nothing through p since
// RecordClientFrames: it sends a Sync, whose reply comes after those of
// anything sent before it, and expects it to be the only request
// recorded. It is how a test shows that a call on a context already done
// sent nothing.
func SentNothing(t testing.TB, h *zhandle.Handle, p *zktest.Proxy) {
	t.Helper()
	if _, err := h.Sync(Context(t), "/"); err != nil {
		t.Fatal(err)
	}
	var ops []serialize.OpCode
	for _, r := range Requests(p) {
		ops = append(ops, r.Op)
	}
	if len(ops) != 1 || ops[0] != serialize.OpSync {
		t.Errorf("requests sent: %v, want only the Sync", ops)
	}
}
