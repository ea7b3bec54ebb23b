package cache

import (
	"fmt"
	"strings"
)

// checkRoot refuses a root that is not an absolute ZooKeeper path: empty,
// relative, ending in "/" (other than "/" itself) or with an empty segment.
// The handle checks the rest (characters) when the watch is set.
func checkRoot(root string) error {
	switch {
	case root == "":
		return fmt.Errorf("cache: empty root path")
	case root[0] != '/':
		return fmt.Errorf("cache: root %q is not absolute", root)
	case root == "/":
		return nil
	case strings.HasSuffix(root, "/"):
		return fmt.Errorf("cache: root %q ends in /", root)
	case strings.Contains(root, "//"):
		return fmt.Errorf("cache: root %q has an empty segment", root)
	}
	return nil
}

// parentOf returns the parent of a path other than "/".
func parentOf(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i == 0 {
		return "/"
	}
	return p[:i]
}

// nameOf returns the last segment of a path other than "/". It shares the
// path's bytes, so children lists cost no copies of the names.
func nameOf(p string) string {
	return p[strings.LastIndexByte(p, '/')+1:]
}

// childPath joins a parent path and a child's name.
func childPath(parent, name string) string {
	if parent == "/" {
		return "/" + name
	}
	return parent + "/" + name
}

// depthBelow returns how many segments p has below root, or -1 when p is
// neither root nor under it.
func depthBelow(root, p string) int {
	if p == root {
		return 0
	}
	var rest string
	if root == "/" {
		rest = p[1:]
	} else {
		var ok bool
		if rest, ok = strings.CutPrefix(p, root); !ok || !strings.HasPrefix(rest, "/") {
			return -1
		}
		rest = rest[1:]
	}
	if rest == "" {
		return -1
	}
	return strings.Count(rest, "/") + 1
}
