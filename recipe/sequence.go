package recipe

import (
	"slices"
	"strings"
)

// SequenceKey returns what Curator sorts a sequential child by
// (StandardLockInternalsDriver.fixForSorting): the text after the last
// occurrence of marker ("lock-", "latch-", "lease-", "__READ__",
// "__WRIT__"), or the whole name when marker does not occur in it. The
// protection prefix comes before the marker, so it never affects the
// order.
func SequenceKey(name, marker string) string {
	if i := strings.LastIndex(name, marker); i >= 0 {
		return name[i+len(marker):]
	}
	return name
}

// SortSequential sorts the children of a recipe directory as Curator does:
// by the key left after applying SequenceKey with each marker in turn
// (InterProcessReadWriteLock strips through the last "__READ__", then
// through the last "__WRIT__"), compared as strings, keeping the server's
// order among equal keys (Java's sort is stable too).
//
// The keys are compared as strings, not numbers, exactly as Curator
// compares them, so that a Go and a Java contender agree on the order
// even in the corner cases: a sequence number is the parent's signed
// 32-bit cversion formatted "%010d", and after 2^31 child changes it turns
// negative ("-2147483648"), which sorts before the positive ones by '-'.
// A child without the marker sorts by its full name: recipe directories
// must hold only the recipe's nodes, as Curator requires. Go compares
// bytes where Java compares UTF-16 units; the two orders differ only for
// names with characters above U+FFFF, which recipe nodes never have.
func SortSequential(children []string, markers ...string) {
	slices.SortStableFunc(children, func(a, b string) int {
		for _, m := range markers {
			a, b = SequenceKey(a, m), SequenceKey(b, m)
		}
		return strings.Compare(a, b)
	})
}
