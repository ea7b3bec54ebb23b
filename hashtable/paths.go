package hashtable

import "strings"

// parent returns the parent of an absolute path ("/a/b" → "/a", "/a" → "/")
// and false for "/" and for paths that do not start with "/". Iterating
//
//	for p, ok := path, true; ok; p, ok = parent(p)
//
// visits the path and every ancestor up to "/" (Java's
// PathParentIterator.forAll) without allocating.
func parent(p string) (string, bool) {
	if p == "/" {
		return "", false
	}
	i := strings.LastIndexByte(p, '/')
	switch {
	case i < 0:
		return "", false
	case i == 0:
		return "/", true
	}
	return p[:i], true
}
