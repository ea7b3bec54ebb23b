package cache

import (
	"errors"
	"slices"

	"github.com/zkloop/zkloop/zhandle"
)

// A readOp is one read the cache asks for: a node's data and Stat, or its
// children.
type readOp struct {
	readKey
	est int // bytes the reply is expected to take
}

// A readKey names a read.
type readKey struct {
	path     string
	children bool
}

// A readBatch is the operations of one MultiRead.
type readBatch struct {
	ops   []readOp
	sweep bool
}

// Reads are sent in MultiRead batches of at most limit operations and
// about maxBatchBytes of reply, estimated from the data lengths known (the
// node's, or the mean of those read). The limit starts at initialLimit and
// doubles with every batch answered, up to maxLimit. A batch whose reply
// is larger than the handle accepts fails with ErrMarshalling (WithMaxFrame),
// so its paths become suspects, read one per batch until read; the next
// sweep then knows their lengths. A single reply too large (the children
// of a node with some 40,000 of them, with the default maximum) cannot be
// read at all: that read is left out with a warning, as a node that
// cannot be read.
const (
	initialLimit  = 64
	maxLimit      = 1024
	maxBatchBytes = 512 << 10
	sweepWindow   = 4   // sweep batches in flight
	opOverhead    = 120 // bytes of a data reply besides the data: headers and Stat
	nameOverhead  = 24  // bytes per child name expected in a children reply
)

// A sweeper reads a whole tree: at the start of an epoch, every node
// cached and every path whose changes were cut short; then the children of
// every node whose children changed (or that is new), and the data of
// every child not read yet. At most sweepWindow batches are in flight.
type sweeper struct {
	active   bool
	todo     []readOp
	inflight int
	asked    map[string]bool // paths whose data this sweep reads
	slot     *slot           // resolved when the sweep is complete
}

func (s *sweeper) stop() { *s = sweeper{} }

// startSweep reads the tree again, at the start of an epoch.
func (a *applier) startSweep() {
	if a.group == nil {
		a.group = map[string]obs{}
	}
	a.sw = sweeper{active: true, asked: map[string]bool{}, slot: &slot{kind: slotSweep, seq: a.seq}}
	a.queue.push(a.sw.slot)
	a.t.idx.each(func(n *znode) { a.askData(n.path) })
	for p := range a.group {
		a.askData(p)
	}
	for p := range a.carried {
		a.askData(p)
	}
	clear(a.carried)
	a.askData(a.root)
}

// askData queues a read of p's data in the sweep, once.
func (a *applier) askData(p string) {
	if a.sw.asked[p] {
		return
	}
	a.sw.asked[p] = true
	a.sw.todo = append(a.sw.todo, a.dataOp(p))
}

// dataOp returns the read of p's data, with its expected size.
func (a *applier) dataOp(p string) readOp {
	est := a.sizes.mean()
	if v, _ := a.t.get(p); v != nil {
		est = int(v.stat.DataLength)
	}
	return readOp{readKey{path: p}, est + opOverhead + len(p)}
}

// readEvent reads a node an event is about, at the end of the batch.
func (a *applier) readEvent(p string) {
	if a.evAsked[p] {
		return
	}
	a.evAsked[p] = true
	a.evReads = append(a.evReads, a.dataOp(p))
}

// sendReads sends the reads of the batch: those of events first, since
// every change waits for them, then the sweep's, within its window.
func (a *applier) sendReads() {
	for reads := a.evReads; len(reads) > 0; {
		n := a.batchLen(reads)
		if a.send(reads[:n], false) != nil {
			break // the session event follows, and the slots carry over
		}
		reads = reads[n:]
	}
	clear(a.evReads)
	a.evReads = a.evReads[:0]
	clear(a.evAsked)
	for a.sw.active && a.sw.inflight < sweepWindow && len(a.sw.todo) > 0 {
		n := a.batchLen(a.sw.todo)
		if a.send(a.sw.todo[:n], true) != nil {
			break // the session event follows, and the sweep starts again
		}
		a.sw.inflight++
		a.sw.todo = a.sw.todo[n:]
	}
	if len(a.sw.todo) == 0 {
		a.sw.todo = nil
	}
}

// batchLen returns how many of ops the next batch takes: a suspect goes
// alone.
func (a *applier) batchLen(ops []readOp) int {
	if a.suspects[ops[0].readKey] {
		return 1
	}
	n, bytes := 0, 0
	for n < len(ops) && n < a.limit && (n == 0 || bytes+ops[n].est <= maxBatchBytes) && !a.suspects[ops[n].readKey] {
		bytes += ops[n].est
		n++
	}
	return n
}

// sizeMean is the running mean of the data lengths read.
type sizeMean struct{ sum, n int64 }

func (m *sizeMean) add(n int32) { m.sum, m.n = m.sum+int64(n), m.n+1 }

func (m *sizeMean) mean() int {
	if m.n == 0 {
		return 0
	}
	return int(m.sum / m.n)
}

// send sends one MultiRead. The handle refuses a batch when its session
// is lost (the session event follows) or closed.
func (a *applier) send(ops []readOp, sweep bool) error {
	b := &readBatch{ops: slices.Clone(ops), sweep: sweep}
	reads := make([]zhandle.ReadOp, len(ops))
	for i, op := range ops {
		if op.children {
			reads[i] = zhandle.GetChildrenOp{Path: op.path}
		} else {
			reads[i] = zhandle.GetDataOp{Path: op.path}
		}
	}
	gen, epoch := a.gen, a.epoch
	err := a.h.AMultiRead(reads, func(err error, results []zhandle.ReadResult) {
		a.c.in.push(input{kind: inReads, gen: gen, epoch: epoch, reads: b, results: results, err: err})
	})
	if err != nil {
		if !sessionProblem(err) {
			a.fatal(err)
		}
		return err
	}
	a.requests++
	return nil
}

func (a *applier) readReply(in *input) {
	if in.epoch != a.epoch {
		return // the sweep, and the slots, of that epoch are gone
	}
	b := in.reads
	if b.sweep {
		a.sw.inflight--
	}
	if in.err == nil && len(in.results) != len(b.ops) {
		in.err = errors.New("cache: MultiRead answered a different number of operations")
	}
	if len(b.ops) == 1 && errors.Is(in.err, zhandle.ErrMarshalling) {
		// One reply over the handle's maximum: a read that cannot be done.
		in.results = []zhandle.ReadResult{{Err: in.err}}
		in.err = nil
	}
	if in.err != nil {
		a.readFailed(b, in.err)
		return
	}
	a.limit = min(2*a.limit, maxLimit)
	for i, op := range b.ops {
		r := &in.results[i]
		if op.children {
			a.listed(op.path, r)
		} else {
			a.observed(op.path, r, b.sweep)
		}
	}
	if a.sw.active && a.sw.inflight == 0 && len(a.sw.todo) == 0 {
		a.sw.slot.resolved = true
		a.sw.stop()
	}
}

// readFailed handles a batch that failed as a whole. A reply over the
// handle's maximum (ErrMarshalling) makes the batch's reads suspects, done
// again one per batch; a connection problem ends the epoch (the session
// event follows) or is retried; anything else means the cache cannot work.
func (a *applier) readFailed(b *readBatch, err error) {
	tooLarge := errors.Is(err, zhandle.ErrMarshalling)
	if !tooLarge && !sessionProblem(err) {
		a.fatal(err)
		return
	}
	if tooLarge {
		for _, op := range b.ops {
			a.suspects[op.readKey] = true
		}
	}
	for _, op := range b.ops {
		switch {
		case b.sweep:
			a.sw.todo = append(a.sw.todo, op)
		case a.latest[op.path] != nil:
			a.readEvent(op.path)
		}
	}
}

// observed handles a node's data and Stat, or its absence.
func (a *applier) observed(p string, r *zhandle.ReadResult, sweep bool) {
	var o obs
	switch {
	case r.Err == nil:
		o = obs{v: &view{data: r.Data, stat: r.Stat}, seq: a.seq}
		a.sizes.add(r.Stat.DataLength)
	case errors.Is(r.Err, zhandle.ErrNoNode):
		o = obs{seq: a.seq}
	default:
		a.log.Warn("cache: node not readable, left out", "path", p, "err", r.Err)
		o = obs{seq: a.seq}
	}
	if sweep && o.v != nil && o.v.stat.NumChildren > 0 && a.cfg.keepsChildren(a.root, p) {
		// The children changed since the cache last saw them if the
		// children version moved (or the node is new to the cache).
		if cur, _ := a.t.get(p); cur == nil || cur.stat.Czxid != o.v.stat.Czxid || cur.stat.Cversion != o.v.stat.Cversion {
			a.sw.todo = append(a.sw.todo, readOp{readKey{p, true}, opOverhead + int(o.v.stat.NumChildren)*(nameOverhead+4)})
		}
	}
	delete(a.suspects, readKey{path: p})
	a.observe(p, o)
}

// listed handles a node's children: those not read yet are.
func (a *applier) listed(p string, r *zhandle.ReadResult) {
	if r.Err != nil {
		if !errors.Is(r.Err, zhandle.ErrNoNode) {
			a.log.Warn("cache: children not readable", "path", p, "err", r.Err)
		}
		return
	}
	delete(a.suspects, readKey{p, true})
	for _, name := range r.Children {
		if cp := childPath(p, name); !a.sw.asked[cp] && a.cfg.keeps(a.root, cp) {
			a.askData(cp)
		}
	}
}
