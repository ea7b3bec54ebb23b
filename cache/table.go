package cache

import (
	"hash/maphash"
	"math/bits"
	"sync/atomic"

	"github.com/zkloop/zkloop/zhandle"
)

// A view is what readers see of a node: immutable once published. A change
// publishes a new view; a reader holding the old one keeps a consistent
// node, and the slices in it are never written again.
type view struct {
	data     []byte
	stat     zhandle.Stat
	children []string // sorted; each name shares the bytes of the child's path
}

// A znode is the cache's entry for one path, from the moment the node is
// cached until it leaves the cache. Its path and hash never change; its
// view is swapped atomically.
type znode struct {
	path string
	hash uint64
	view atomic.Pointer[view]

	// Written and read by the applier goroutine only.
	statSeq uint64 // input position of the reply the view's Stat comes from
}

// tombstone marks a slot whose node was removed, so that probes for
// other paths go on past it. It matches no path.
var tombstone = &znode{}

// A table is one generation of the index: open addressing with linear
// probing over atomic pointers. Only the applier writes it; readers take
// no lock. A slot goes from nil to a node, from a node to the tombstone, and
// from the tombstone to a node; slots never move, so a probe never misses
// a node that stays in the table while it runs. At least half the slots
// are nil, which ends every probe.
type table struct {
	mask  uint64
	slots []atomic.Pointer[znode]
	used  int // slots not nil: nodes and tombstones
	live  int // nodes
}

// An index maps paths to nodes. Readers call lookup from any goroutine;
// insert and remove are the applier's. When a table fills up, the applier
// builds a larger one and swaps it in; readers still probing the old one
// see the index as it was a moment before.
type index struct {
	seed maphash.Seed
	cur  atomic.Pointer[table]
}

// minSlots is the size of the first table.
const minSlots = 64

func newIndex() *index {
	x := &index{seed: maphash.MakeSeed()}
	x.cur.Store(newTable(minSlots))
	return x
}

func newTable(n int) *table {
	return &table{mask: uint64(n - 1), slots: make([]atomic.Pointer[znode], n)}
}

// lookup returns the node cached at path, or nil. It allocates nothing.
func (x *index) lookup(path string) *znode {
	t := x.cur.Load()
	h := maphash.String(x.seed, path)
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		n := t.slots[i].Load()
		if n == nil {
			return nil
		}
		if n.hash == h && n.path == path && n != tombstone {
			return n
		}
	}
}

// newNode makes a node for path, not yet in the index.
func (x *index) newNode(path string, v *view) *znode {
	n := &znode{path: path, hash: maphash.String(x.seed, path)}
	n.view.Store(v)
	return n
}

// insert adds n, whose path is not in the index.
func (x *index) insert(n *znode) {
	t := x.cur.Load()
	if 2*(t.used+1) > len(t.slots) {
		t = x.rebuild(t.live + 1)
	}
	t.place(n)
}

// place puts n in the first free slot of its probe sequence.
func (t *table) place(n *znode) {
	for i := n.hash & t.mask; ; i = (i + 1) & t.mask {
		switch t.slots[i].Load() {
		case nil:
			t.used++
			fallthrough
		case tombstone:
			t.slots[i].Store(n)
			t.live++
			return
		}
	}
}

// remove takes n out of the index.
func (x *index) remove(n *znode) {
	t := x.cur.Load()
	for i := n.hash & t.mask; ; i = (i + 1) & t.mask {
		switch t.slots[i].Load() {
		case nil:
			return
		case n:
			t.slots[i].Store(tombstone)
			t.live--
			return
		}
	}
}

// rebuild swaps in a table without tombstones, with room for live nodes at
// a load of at most a quarter, and returns it.
func (x *index) rebuild(live int) *table {
	old := x.cur.Load()
	t := newTable(max(minSlots, 1<<bits.Len(uint(4*live-1))))
	for i := range old.slots {
		if n := old.slots[i].Load(); n != nil && n != tombstone {
			t.place(n)
		}
	}
	x.cur.Store(t)
	return t
}

// len returns the number of nodes.
func (x *index) len() int { return x.cur.Load().live }

// each calls f for every node, in no order. Only the applier may call it.
func (x *index) each(f func(*znode)) {
	t := x.cur.Load()
	for i := range t.slots {
		if n := t.slots[i].Load(); n != nil && n != tombstone {
			f(n)
		}
	}
}
