package cache

import (
	"slices"

	"github.com/zkloop/zkloop/zhandle"
)

// A tree is the applier's side of the cache. During a batch of inputs it
// records each node's new state in a change; publish then makes the batch
// visible: new nodes enter the index, changed nodes get their new view
// (children lists rebuilt once per batch, however many children came and
// went), and removed nodes leave the index.
type tree struct {
	idx      *index
	keepData bool
	maxBytes int64 // -1: no limit

	dataBytes int64 // data kept, over all nodes
	dataless  int   // nodes whose data did not fit in maxBytes

	changes map[string]*change
	order   []*change // in the order first changed
}

// A change is what a batch did to one path.
type change struct {
	node    *znode          // in the index when the batch began, or nil
	cur     *view           // the state now; nil: absent
	own     bool            // cur belongs to this batch and may be modified
	kids    map[string]bool // children that came (true) or went (false)
	statSeq uint64
	dropped bool // cur's data was dropped for maxBytes
}

func newTree(keepData bool, maxBytes int64) *tree {
	return &tree{idx: newIndex(), keepData: keepData, maxBytes: maxBytes, changes: map[string]*change{}}
}

// get returns the state of the node at p (nil when absent) and the input
// position of its Stat.
func (t *tree) get(p string) (*view, uint64) {
	if ch := t.changes[p]; ch != nil {
		return ch.cur, ch.statSeq
	}
	if n := t.idx.lookup(p); n != nil {
		return n.view.Load(), n.statSeq
	}
	return nil, 0
}

// change returns p's change of this batch, starting one if needed.
func (t *tree) change(p string) *change {
	ch := t.changes[p]
	if ch == nil {
		ch = &change{node: t.idx.lookup(p)}
		if ch.node != nil {
			ch.cur, ch.statSeq = ch.node.view.Load(), ch.node.statSeq
			ch.dropped = ch.cur.data == nil && ch.cur.stat.DataLength > 0 && t.keepData
		}
		t.changes[p] = ch
		t.order = append(t.order, ch)
	}
	return ch
}

// set makes v, read at input position seq, the state of the node at p,
// which is root or has a parent in the tree. v becomes the tree's: its
// children are set here and at publish.
func (t *tree) set(p string, v *view, seq uint64, root bool) {
	ch := t.change(p)
	if ch.cur == nil {
		if !root {
			t.kid(p, true)
		}
		v.children = nil
	} else {
		v.children = ch.cur.children
		t.account(ch, nil)
	}
	t.account(ch, v)
	ch.cur, ch.own, ch.statSeq = v, true, seq
}

// account adds v's data to the bytes kept (v nil: subtracts ch.cur's),
// dropping it when it does not fit.
func (t *tree) account(ch *change, v *view) {
	if v == nil {
		t.dataBytes -= int64(len(ch.cur.data))
		if ch.dropped {
			t.dataless--
			ch.dropped = false
		}
		return
	}
	n := int64(len(v.data))
	if !t.keepData || t.maxBytes >= 0 && t.dataBytes+n > t.maxBytes {
		v.data = nil
		if t.keepData && v.stat.DataLength > 0 {
			ch.dropped = true
			t.dataless++
		}
		return
	}
	t.dataBytes += n
}

// stat returns the Stat of the node at p, which is in the tree, for the
// caller to change.
func (t *tree) stat(p string) *zhandle.Stat {
	ch := t.change(p)
	if !ch.own {
		cp := *ch.cur
		ch.cur, ch.own = &cp, true
	}
	return &ch.cur.stat
}

// remove takes the node at p, which is in the tree and has no children
// in it, out of the tree.
func (t *tree) remove(p string, root bool) {
	ch := t.change(p)
	t.account(ch, nil)
	ch.cur, ch.own, ch.kids = nil, false, nil
	if !root {
		t.kid(p, false)
	}
}

// kid records that the child at p came or went.
func (t *tree) kid(p string, present bool) {
	ch := t.change(parentOf(p))
	if ch.kids == nil {
		ch.kids = map[string]bool{}
	}
	ch.kids[nameOf(p)] = present
}

// publish makes the batch's changes visible to readers.
func (t *tree) publish() {
	if len(t.order) == 0 {
		return
	}
	for _, ch := range t.order {
		if ch.cur == nil || ch.kids == nil {
			continue
		}
		if !ch.own {
			cp := *ch.cur
			ch.cur = &cp
		}
		ch.cur.children = mergeChildren(ch.cur.children, ch.kids)
	}
	// Nodes enter before their parents list them and leave after, so a
	// name a reader finds in Children was cached a moment before.
	for p, ch := range t.changes {
		if ch.node == nil && ch.cur != nil {
			n := t.idx.newNode(p, ch.cur)
			n.statSeq = ch.statSeq
			t.idx.insert(n)
		}
	}
	for _, ch := range t.order {
		if ch.node != nil && ch.cur != nil {
			ch.node.view.Store(ch.cur)
			ch.node.statSeq = ch.statSeq
		}
	}
	for _, ch := range t.order {
		if ch.node != nil && ch.cur == nil {
			t.idx.remove(ch.node)
		}
	}
	// clear costs the map's capacity, not its length: a large batch (a
	// priming) leaves a map too large to clear after every small one.
	if len(t.order) > maxKeptChanges {
		t.changes, t.order = map[string]*change{}, nil
		return
	}
	clear(t.changes)
	clear(t.order)
	t.order = t.order[:0]
}

// maxKeptChanges is the largest batch whose map publish clears for the
// next batch rather than dropping it.
const maxKeptChanges = 256

// mergeChildren returns base, a sorted list of names, without the names
// in kids and with those kids marks present, sorted. It never writes base.
func mergeChildren(base []string, kids map[string]bool) []string {
	var added []string
	for name, present := range kids {
		if present {
			added = append(added, name)
		}
	}
	slices.Sort(added)
	out := make([]string, 0, len(base)+len(added))
	for _, name := range base {
		if _, touched := kids[name]; touched {
			continue
		}
		for len(added) > 0 && added[0] < name {
			out = append(out, added[0])
			added = added[1:]
		}
		out = append(out, name)
	}
	out = append(out, added...)
	if len(out) == 0 {
		return nil
	}
	return out
}

// subtree returns the cached nodes at and below p, deepest first.
func (t *tree) subtree(p string) []string {
	var out []string
	var walk func(string)
	walk = func(q string) {
		v, _ := t.get(q)
		if v == nil {
			return
		}
		children := v.children
		if ch := t.changes[q]; ch != nil && ch.kids != nil {
			children = mergeChildren(children, ch.kids)
		}
		for _, name := range children {
			walk(childPath(q, name))
		}
		out = append(out, q)
	}
	walk(p)
	return out
}
