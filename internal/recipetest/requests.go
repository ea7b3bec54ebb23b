package recipetest

import (
	"github.com/zkloop/zkloop/internal/zktest"
	"github.com/zkloop/zkloop/serialize"
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
