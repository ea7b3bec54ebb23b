package cache

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zkloop/zkloop/zhandle"
)

// The index finds what was inserted and not removed, across rebuilds and
// over tombstones.
func TestIndex(t *testing.T) {
	x := newIndex()
	nodes := map[string]*znode{}
	for i := range 5000 {
		p := fmt.Sprintf("/n%d", i)
		nodes[p] = x.newNode(p, &view{})
		x.insert(nodes[p])
		if i%3 == 0 {
			x.remove(nodes[fmt.Sprintf("/n%d", i/2)])
			delete(nodes, fmt.Sprintf("/n%d", i/2))
		}
	}
	if x.len() != len(nodes) {
		t.Errorf("len() = %d, want %d", x.len(), len(nodes))
	}
	for i := range 5000 {
		p := fmt.Sprintf("/n%d", i)
		if got := x.lookup(p); got != nodes[p] {
			t.Errorf("lookup(%s) = %p, want %p", p, got, nodes[p])
		}
	}
	seen := 0
	x.each(func(n *znode) {
		seen++
		if nodes[n.path] != n {
			t.Errorf("each visited %s, not in the index", n.path)
		}
	})
	if seen != len(nodes) {
		t.Errorf("each visited %d nodes, want %d", seen, len(nodes))
	}
	if got := x.lookup(""); got != nil {
		t.Errorf(`lookup("") = %v, want nil (not the tombstone)`, got)
	}
}

// Readers never miss a node that stays in the index while others come
// and go and the table is rebuilt under them.
func TestIndexConcurrentReaders(t *testing.T) {
	x := newIndex()
	const stable = 100
	for i := range stable {
		p := fmt.Sprintf("/stable%d", i)
		x.insert(x.newNode(p, &view{data: []byte(p)}))
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	for r := range 4 {
		wg.Go(func() {
			for i := r; !stop.Load(); i++ {
				p := fmt.Sprintf("/stable%d", i%stable)
				n := x.lookup(p)
				if n == nil || string(n.view.Load().data) != p {
					t.Errorf("lookup(%s) = %v", p, n)
					return
				}
			}
		})
	}
	var churn []*znode
	for i := range 20000 {
		n := x.newNode(fmt.Sprintf("/churn%d", i), &view{})
		x.insert(n)
		churn = append(churn, n)
		if len(churn) > 500 {
			x.remove(churn[0])
			churn = churn[1:]
		}
	}
	stop.Store(true)
	wg.Wait()
}

// mergeChildren removes and adds names without writing its input.
func TestMergeChildren(t *testing.T) {
	for _, tc := range []struct {
		name string
		base []string
		kids map[string]bool
		want []string
	}{
		{"add to nothing", nil, map[string]bool{"b": true, "a": true}, []string{"a", "b"}},
		{"remove all", []string{"a"}, map[string]bool{"a": false}, nil},
		{"interleave", []string{"b", "d"}, map[string]bool{"a": true, "c": true, "e": true, "d": false}, []string{"a", "b", "c", "e"}},
		{"recreated", []string{"a", "b"}, map[string]bool{"a": true}, []string{"a", "b"}},
		{"absent removed", []string{"a"}, map[string]bool{"z": false}, []string{"a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := slices.Clone(tc.base)
			got := mergeChildren(base, tc.kids)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("mergeChildren (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.base, base); diff != "" {
				t.Errorf("base written (-before +after):\n%s", diff)
			}
		})
	}
}

// A tree publishes a batch at once: nodes, children lists, data bytes.
func TestTreePublish(t *testing.T) {
	tr := newTree(true, 10)
	tr.set("/r", &view{data: []byte("root")}, 1, true)
	tr.set("/r/a", &view{data: []byte("aaaa")}, 1, false)
	tr.set("/r/b", &view{data: []byte("bbbb")}, 1, false) // over 10 bytes: kept without data
	if tr.idx.lookup("/r") != nil {
		t.Errorf("a node visible before publish")
	}
	tr.publish()
	got := map[string]string{}
	tr.idx.each(func(n *znode) {
		v := n.view.Load()
		got[n.path] = fmt.Sprintf("%q %v", v.data, v.children)
	})
	want := map[string]string{`/r`: `"root" [a b]`, `/r/a`: `"aaaa" []`, `/r/b`: `"" []`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("published (-want +got):\n%s", diff)
	}
	if tr.dataBytes != 8 || tr.dataless != 0 {
		t.Errorf("dataBytes %d, dataless %d; want 8, 0 (b has no data length in its Stat)", tr.dataBytes, tr.dataless)
	}
	tr.remove("/r/a", false)
	tr.set("/r/b", &view{data: []byte("bb"), stat: zhandle.Stat{DataLength: 2}}, 2, false)
	tr.publish()
	if names := tr.idx.lookup("/r").view.Load().children; !slices.Equal(names, []string{"b"}) {
		t.Errorf("children after removing a: %v", names)
	}
	if tr.idx.lookup("/r/a") != nil || tr.dataBytes != 6 {
		t.Errorf("after removing /r/a: lookup %v, dataBytes %d (want nil, 6)", tr.idx.lookup("/r/a"), tr.dataBytes)
	}
}
