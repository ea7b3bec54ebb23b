package zhandle

import (
	"fmt"
	"strings"
)

// validatePath is isValidPath of zookeeper.c (PathUtils.validatePath in
// Java): absolute, no empty segment, no trailing slash except for "/"
// itself, no "." or ".." segment, and no NUL, control or reserved
// characters. A sequential create's path is checked with a sequence number
// appended, so it may end in "/".
func validatePath(path string, sequential bool) error {
	if sequential {
		path += "1"
	}
	if why := pathProblem(path); why != "" {
		if sequential {
			path = path[:len(path)-1]
		}
		return fmt.Errorf("%w: invalid path %q: %s", ErrBadArguments, path, why)
	}
	return nil
}

// pathProblem says what is wrong with path, or "".
func pathProblem(path string) string {
	switch {
	case path == "":
		return "empty"
	case path[0] != '/':
		return "not absolute"
	case path == "/":
		return ""
	case path[len(path)-1] == '/':
		return "trailing slash"
	}
	segStart := 1
	for i, r := range path {
		switch {
		case r == 0:
			return "NUL character"
		case r < 0x20 || r >= 0x7f && r <= 0x9f:
			return fmt.Sprintf("control character %U", r)
		case r >= 0xd800 && r <= 0xf8ff || r >= 0xfff0 && r <= 0xffff:
			return fmt.Sprintf("reserved character %U", r) // U+FFFD is also what invalid UTF-8 decodes to
		case r > 0xffff:
			return fmt.Sprintf("character %U beyond the BMP", r) // a surrogate pair in Java's UTF-16: refused by the server
		case r != '/' || i == 0:
			continue
		}
		switch seg := path[segStart:i]; seg {
		case "":
			return "empty segment"
		case ".", "..":
			return "relative segment " + seg
		}
		segStart = i + 1
	}
	if seg := path[segStart:]; seg == "." || seg == ".." {
		return "relative segment " + seg
	}
	return ""
}

// serverPath prepends the chroot (prepend_string in zookeeper.c).
func (h *Handle) serverPath(path string) string {
	if h.chroot == "" {
		return path
	}
	if path == "/" {
		return h.chroot
	}
	return h.chroot + path
}

// clientPath strips the chroot from a path the server sent (sub_string in
// zookeeper.c). A path outside the chroot is returned unchanged.
func (h *Handle) clientPath(path string) string {
	if h.chroot == "" {
		return path
	}
	rest, ok := strings.CutPrefix(path, h.chroot)
	switch {
	case !ok:
		return path
	case rest == "":
		return "/"
	case rest[0] != '/':
		return path // a sibling such as /chroot2 shares the prefix only
	}
	return rest
}
