package hashtable

import "reflect"

// entry is one registration in a path's list: the watcher and whether it has
// an identity (see Watcher), decided once when it is registered.
type entry struct {
	w        Watcher
	identity bool
}

// hasIdentity reports whether w can be compared with == without panicking:
// its dynamic type is comparable and so is every value held in an interface
// inside it. For the usual watchers (pointers, funcs) this is a type check
// that does not allocate; structs and arrays are looked through with
// reflect.Value.Comparable, which follows fields, elements and interfaces.
func hasIdentity(w Watcher) bool {
	if w == nil {
		return false
	}
	switch t := reflect.TypeOf(w); t.Kind() {
	case reflect.Struct, reflect.Array:
		return t.Comparable() && reflect.ValueOf(w).Comparable()
	default:
		return t.Comparable()
	}
}

// indexOf returns the position of w in list, or -1. w must have an identity:
// then x == w cannot panic whatever x holds, because == only compares values
// of identical dynamic types, and every type reached inside w is comparable.
func indexOf(list []entry, w Watcher) int {
	for i, e := range list {
		if e.w == w {
			return i
		}
	}
	return -1
}

// Same reports whether a and b are one watcher by the rule of the tables
// (see Watcher): both have an identity and a == b. It never panics.
func Same(a, b Watcher) bool {
	return hasIdentity(a) && a == b
}

// linearScanMax is how many watchers a collection checks for duplicates by a
// linear scan before it switches to a set.
const linearScanMax = 32

// collector appends watchers to dst, skipping any that this collection has
// already appended: a watcher fires once per event even when it sits in
// several tables or on several ancestors (Java collects into a Set).
// Watchers already in dst before the collection are not looked at.
type collector struct {
	dst   []Watcher
	start int
	seen  map[Watcher]struct{} // nil until the collection outgrows linearScanMax
}

func newCollector(dst []Watcher) collector {
	return collector{dst: dst, start: len(dst)}
}

// expect prepares for a collection of about n watchers: above linearScanMax
// the set is made at once, at its final size.
func (c *collector) expect(n int) {
	if n > linearScanMax && c.seen == nil {
		c.seen = make(map[Watcher]struct{}, n)
	}
}

// add appends the watchers of one path's list. Entries of one list are
// distinct already, so the first list needs no checks.
func (c *collector) add(list []entry) {
	if len(c.dst) == c.start && c.seen == nil {
		for _, e := range list {
			c.dst = append(c.dst, e.w)
		}
	} else {
		for _, e := range list {
			if !e.identity || !c.collected(e.w) {
				c.dst = append(c.dst, e.w)
			}
		}
	}
	if c.seen == nil && len(c.dst)-c.start > linearScanMax {
		c.seen = make(map[Watcher]struct{}, 2*(len(c.dst)-c.start))
		for _, w := range c.dst[c.start:] {
			if hasIdentity(w) {
				c.seen[w] = struct{}{}
			}
		}
	}
}

// collected reports whether w (which has an identity) was appended already,
// and when the set is in use records it as appended.
func (c *collector) collected(w Watcher) bool {
	if c.seen != nil {
		if _, ok := c.seen[w]; ok {
			return true
		}
		c.seen[w] = struct{}{}
		return false
	}
	for _, x := range c.dst[c.start:] {
		if x == w { // safe: w has an identity (see indexOf)
			return true
		}
	}
	return false
}
