package main

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// completeTimeout bounds the server requests of one tab press.
const completeTimeout = 2 * time.Second

// completion is what tab offers for the word before the cursor: the word
// starts at byte start of the line; items replace it; show names them for
// a listing (the last path segment, for paths). A single item is final and
// ends with the character that follows it: a space, or a slash before the
// children of a node that has some.
type completion struct {
	start int
	items []string
	show  []string
}

// complete completes the word that ends the text before the cursor: a
// command name in first position (and after help), else a znode path when
// the word starts with "/", asking the server for the children of the
// typed parent, as JLineZNodeCompleter does.
func (s *shell) complete(before string) completion {
	start := strings.LastIndexAny(before, " \t") + 1
	word := before[start:]
	first := strings.TrimSpace(before[:start])
	switch {
	case first == "" || first == "help":
		return completeCommand(start, word)
	case strings.HasPrefix(word, "/"):
		return s.completePath(start, word)
	}
	return completion{start: start}
}

func completeCommand(start int, word string) completion {
	c := completion{start: start}
	for _, name := range commandNames() {
		if strings.HasPrefix(name, word) {
			c.items = append(c.items, name)
		}
	}
	c.show = c.items
	if len(c.items) == 1 {
		c.items = []string{c.items[0] + " "}
	}
	return c
}

func (s *shell) completePath(start int, word string) completion {
	c := completion{start: start}
	h := s.handle()
	if h == nil {
		return c
	}
	ctx, cancel := context.WithTimeout(context.Background(), completeTimeout)
	defer cancel()
	slash := strings.LastIndexByte(word, '/')
	parent, prefix := word[:slash], word[slash+1:]
	if parent == "" {
		parent = "/"
	}
	children, err := h.GetChildren(ctx, parent, false)
	if err != nil {
		return c
	}
	slices.Sort(children)
	for _, name := range children {
		if strings.HasPrefix(name, prefix) {
			c.items = append(c.items, childPath(parent, name))
			c.show = append(c.show, name)
		}
	}
	if len(c.items) == 1 {
		end := " "
		if stat, err := h.Exists(ctx, c.items[0], false); err == nil && stat.NumChildren > 0 {
			end = "/"
		}
		c.items[0] += end
	}
	return c
}

// commonPrefix is the longest prefix of every item.
func commonPrefix(items []string) string {
	if len(items) == 0 {
		return ""
	}
	p := items[0]
	for _, it := range items[1:] {
		for !strings.HasPrefix(it, p) {
			p = p[:len(p)-1]
		}
	}
	for !utf8.ValidString(p) {
		p = p[:len(p)-1] // never end inside a character
	}
	return p
}
