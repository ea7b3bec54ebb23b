package hostlist

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
)

func servers(ports ...int) []Address {
	out := make([]Address, len(ports))
	for i, p := range ports {
		out[i] = Address{AddrPort: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(p))}
	}
	return out
}

// TestRebalance follows TestReconfig.cc of the C client: clients spread
// evenly over the old list get the new list (each shuffled, as
// zookeeper_init shuffles), and the ones that move must leave every server
// of the new list with its fair share.
func TestRebalance(t *testing.T) {
	const clients = 3000
	for _, tc := range []struct {
		name     string
		old, new []int
	}{
		{"grow 3 to 5", []int{1, 2, 3}, []int{1, 2, 3, 4, 5}},
		{"shrink 5 to 3", []int{1, 2, 3, 4, 5}, []int{1, 2, 3}},
		{"replace 2 of 5", []int{1, 2, 3, 4, 5}, []int{1, 2, 3, 6, 7}},
		{"grow 3 to 4 replacing 1", []int{1, 2, 3}, []int{1, 2, 4, 5}},
		{"shrink 5 to 3 replacing 1", []int{1, 2, 3, 4, 5}, []int{1, 2, 6}},
		{"same list", []int{1, 2, 3}, []int{1, 2, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(len(tc.name))))
			load := map[Address]int{}
			moved := 0
			for c := range clients {
				old := servers(tc.old...)
				rng.Shuffle(len(old), func(i, j int) { old[i], old[j] = old[j], old[i] })
				l := New(old)
				l.rand = rng.Float64
				current := servers(tc.old[c%len(tc.old)])[0]
				resolved := servers(tc.new...)
				rng.Shuffle(len(resolved), func(i, j int) { resolved[i], resolved[j] = resolved[j], resolved[i] })
				if l.Update(resolved, current) {
					current = l.Next()
					moved++
				}
				load[current]++
			}
			fair := float64(clients) / float64(len(tc.new))
			for _, a := range servers(tc.new...) {
				if got := float64(load[a]); got < 0.9*fair || got > 1.1*fair {
					t.Errorf("%v has %v clients, want %.0f ± 10%% (load %v)", a, got, fair, load)
				}
			}
			if len(load) != len(tc.new) {
				t.Errorf("clients on servers outside the new list: %v", load)
			}
			// Nobody moves without need: every client of a removed server,
			// and each staying server's surplus over its fair share.
			minMoves := 0
			for _, p := range tc.old {
				target := 0
				if slices.Contains(tc.new, p) {
					target = int(fair)
				}
				minMoves += max(0, clients/len(tc.old)-target)
			}
			t.Logf("moved %d of %d (at least %d needed)", moved, clients, minMoves)
			if float64(moved) > 1.15*float64(minMoves)+float64(clients)/100 {
				t.Errorf("moved %d clients, the even split needs about %d", moved, minMoves)
			}
		})
	}
}

func TestNextServerRoundRobin(t *testing.T) {
	l := New(servers(1, 2, 3))
	var got []string
	for range 7 {
		got = append(got, l.Next().String())
	}
	want := fmt.Sprint([]string{"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3", "127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3", "127.0.0.1:1"})
	if fmt.Sprint(got) != want {
		t.Errorf("order %v, want %v", got, want)
	}
}

func TestReconfigModeTriesEveryServerThenRoundRobin(t *testing.T) {
	l := New(servers(1, 2, 3))
	l.rand = func() float64 { return 0.5 }
	if !l.Update(servers(2, 3, 4), servers(1)[0]) {
		t.Fatal("the current server left the list, yet update says stay")
	}
	seen := map[Address]bool{}
	for range 3 {
		seen[l.Next()] = true
	}
	if len(seen) != 3 || l.reconfig != true {
		t.Errorf("reconfig mode tried %v", seen)
	}
	l.Next() // all tried: back to round robin over the new list
	if l.reconfig {
		t.Error("still in reconfig mode after trying every server")
	}
}
