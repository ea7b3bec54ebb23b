package hostlist

import (
	"math/rand/v2"
	"slices"
)

// List is the server list of a handle and the choice of the next
// server: addrvec_t with zoo_cycle_next_server, update_addrs and
// get_next_server_in_reconfig of zookeeper.c (ZOOKEEPER-1355).
//
// Normally it cycles through addrs round robin. When the list changes
// (SetServers, or a re-resolution that yields other addresses), the client
// moves only when the load should shift: it leaves a server that is gone,
// and leaves a server that stays with the probability that evens out the
// clients over a grown ensemble. While moving ("reconfig mode") it picks
// among the servers new to the list with probability pNew and among the
// old ones otherwise, until it has tried them all.
type List struct {
	addrs []Address
	next  int // index of the next server in addrs

	reconfig   bool
	pOld, pNew float64
	oldAddrs   []Address // in the new list and in the previous one
	newAddrs   []Address // only in the new list
	oldNext    int
	newNext    int

	rand func() float64 // uniform in [0,1); drand48 in C
}

// New returns a list of addrs, in the order given.
func New(addrs []Address) *List {
	return &List{addrs: addrs, rand: rand.Float64}
}

// Update installs a new resolved list (update_addrs). current is the server
// the handle is connected or connecting to (zero when none). It reports
// whether the handle should drop that connection and move.
func (l *List) Update(resolved []Address, current Address) (move bool) {
	if sameServers(l.addrs, resolved) {
		// Perhaps named differently: the names are what TLS verifies.
		for i, a := range l.addrs {
			l.addrs[i].Host = resolved[slices.IndexFunc(resolved, a.SameServer)].Host
		}
		return false
	}
	foundCurrent := slices.ContainsFunc(resolved, current.SameServer)
	l.oldAddrs, l.newAddrs = l.oldAddrs[:0], l.newAddrs[:0]
	for _, a := range resolved {
		if slices.ContainsFunc(l.addrs, a.SameServer) {
			l.oldAddrs = append(l.oldAddrs, a)
		} else {
			l.newAddrs = append(l.newAddrs, a)
		}
	}
	l.oldNext, l.newNext = 0, 0
	numOld, numNew, prev := len(l.oldAddrs), len(l.newAddrs), len(l.addrs)
	l.reconfig = true
	switch {
	case numOld+numNew > prev && foundCurrent:
		// Grown, and our server stays: move to a new server with the
		// probability that leaves each server its fair share.
		if l.rand() <= 1-float64(prev)/float64(numOld+numNew) {
			l.pNew, l.pOld = 1, 0
		} else {
			l.reconfig = false
		}
	case numOld+numNew > prev:
		// Grown, and our server is gone: the old servers have enough.
		l.pNew, l.pOld = 1, 0
	case foundCurrent:
		// Same size or shrunk, and our server stays: it should gain load.
		l.reconfig = false
	case prev == numOld:
		// No server left the list, yet ours is not in it (we had none):
		// the formula below would divide by zero; the old servers will do.
		l.pNew, l.pOld = 0, 1
	default:
		// Shrunk, and our server is gone: spread over old and new so that
		// every remaining server ends up with the same expected load.
		l.pOld = float64(numOld*(prev-(numOld+numNew))) / float64((numOld+numNew)*(prev-numOld))
		l.pNew = 1 - l.pOld
	}
	l.addrs = resolved
	if l.next >= len(l.addrs) {
		l.next = 0
	}
	return l.reconfig && current != (Address{})
}

// sameServers reports whether two lists hold the same addresses in any
// order (addrvec_eq): resolution shuffles, so order means nothing.
func sameServers(a, b []Address) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.ContainsFunc(b, x.SameServer) {
			return false
		}
	}
	return true
}

// Next returns the server to try next (zoo_cycle_next_server).
func (l *List) Next() Address {
	if l.reconfig {
		if a, ok := l.nextInReconfig(); ok {
			return a
		}
		l.reconfig = false // tried every old and new server: back to round robin
	}
	a := l.addrs[l.next%len(l.addrs)]
	l.next = (l.next + 1) % len(l.addrs)
	return a
}

// nextInReconfig is get_next_server_in_reconfig: a new server with
// probability pNew (or when the old ones are used up), else an old one.
func (l *List) nextInReconfig() (Address, bool) {
	takeNew := l.rand() <= l.pNew
	if l.newNext < len(l.newAddrs) && (takeNew || l.oldNext >= len(l.oldAddrs)) {
		l.newNext++
		return l.newAddrs[l.newNext-1], true
	}
	if l.oldNext < len(l.oldAddrs) {
		l.oldNext++
		return l.oldAddrs[l.oldNext-1], true
	}
	return Address{}, false
}

// Len returns the number of servers.
func (l *List) Len() int { return len(l.addrs) }

// Addrs returns a copy of the servers, in the list's order.
func (l *List) Addrs() []Address { return slices.Clone(l.addrs) }
