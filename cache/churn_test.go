package cache

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/zkloop/zkloop/zhandle"
)

// A churner makes random creates, sets and deletes in a three-level tree
// (fanout 4: at most 84 nodes under the root) through its own handle,
// keeping a model of which nodes exist so that most operations succeed.
// It tolerates failures (a connection lost mid-operation leaves the
// outcome unknown): it reads the node back then.
type churner struct {
	t      testing.TB
	h      *zhandle.Handle
	root   string
	rng    *rand.Rand
	exists map[string]bool
	paths  []string // every path the tree may hold, parents first
	ops    int      // operations that succeeded

	// With a probe (a node outside the cache's root), each delete is a
	// multi that also sets the probe, whose new Mzxid is then the
	// deletion's zxid; and every operation's zxid is recorded.
	probe   string
	mu      sync.Mutex
	records []opRecord
}

// An opRecord is an operation that took effect, with its zxid.
type opRecord struct {
	kind EventType // EventCreated, EventChanged, EventDeleted
	path string
	zxid int64
}

func (ch *churner) record(kind EventType, p string, zxid int64) {
	ch.mu.Lock()
	ch.records = append(ch.records, opRecord{kind, p, zxid})
	ch.mu.Unlock()
}

func newChurner(t testing.TB, h *zhandle.Handle, root string, seed uint64) *churner {
	ch := &churner{t: t, h: h, root: root, rng: rand.New(rand.NewPCG(seed, 1)), exists: map[string]bool{}}
	var add func(parent string, depth int)
	add = func(parent string, depth int) {
		if depth == 3 {
			return
		}
		for i := range 4 {
			p := childPath(parent, fmt.Sprintf("%c%d", 'a'+depth, i))
			ch.paths = append(ch.paths, p)
			add(p, depth+1)
		}
	}
	add(root, 0)
	for _, p := range ch.paths {
		ch.refresh(p)
	}
	return ch
}

// refresh reads whether p exists.
func (ch *churner) refresh(p string) {
	_, err := ch.h.Exists(testContext(ch.t), p, false)
	if err != nil && !errors.Is(err, zhandle.ErrNoNode) {
		ch.t.Fatalf("Exists %s: %v", p, err)
	}
	ch.exists[p] = err == nil
}

// run makes n random operations, window at a time in flight: each is
// chosen on the model as the operations before it leave it, which the
// server applies in order. fault runs before each operation is chosen.
func (ch *churner) run(n, window int, fault func(i int)) {
	for i := 0; i < n; {
		var wg sync.WaitGroup
		var mu sync.Mutex
		var failed []string
		done := func(p string) func(error) {
			wg.Add(1)
			return func(err error) {
				if err != nil {
					mu.Lock()
					failed = append(failed, p)
					mu.Unlock()
				}
				wg.Done()
			}
		}
		start := i
		for end := min(i+window, n); i < end; i++ {
			if fault != nil {
				fault(i)
			}
			if err := ch.step(done); err != nil {
				ch.t.Fatalf("operation %d not sent: %v", i, err)
			}
		}
		wg.Wait()
		ch.ops += i - start - len(failed)
		for _, p := range failed {
			ch.refresh(p)
			ch.refresh(parentOf(p))
		}
	}
}

// step sends one random operation.
func (ch *churner) step(done func(p string) func(error)) error {
	p := ch.paths[ch.rng.IntN(len(ch.paths))]
	data := fmt.Appendf(nil, "%d", ch.rng.Uint32())
	switch {
	case !ch.exists[p]:
		for parent := parentOf(p); parent != ch.root && !ch.exists[parent]; parent = parentOf(p) {
			p = parent // create the missing ancestors first
		}
		ch.exists[p] = true
		cb := done(p)
		return ch.h.ACreate2(p, data, zhandle.OpenACLUnsafe, zhandle.Persistent, func(err error, _ string, st *zhandle.Stat) {
			if err == nil {
				ch.record(EventCreated, p, st.Czxid)
			}
			cb(err)
		})
	case ch.rng.IntN(2) == 0 || ch.hasChildren(p):
		cb := done(p)
		return ch.h.ASet(p, data, -1, func(err error, st *zhandle.Stat) {
			if err == nil {
				ch.record(EventChanged, p, st.Mzxid)
			}
			cb(err)
		})
	case ch.probe != "":
		ch.exists[p] = false
		cb := done(p)
		return ch.h.AMulti([]zhandle.Op{zhandle.DeleteOp{Path: p, Version: -1}, zhandle.SetDataOp{Path: ch.probe, Version: -1}},
			func(err error, results []zhandle.OpResult) {
				if err == nil {
					ch.record(EventDeleted, p, results[1].Stat.Mzxid)
				}
				cb(err)
			})
	default:
		ch.exists[p] = false
		return ch.h.ADelete(p, -1, done(p))
	}
}

func (ch *churner) hasChildren(p string) bool {
	for q, ok := range ch.exists {
		if ok && parentOf(q) == p {
			return true
		}
	}
	return false
}
