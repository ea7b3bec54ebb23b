package main

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/zkloop/zkloop/cmd/zkcli/internal/lineedit"
)

// completeTimeout bounds the server requests of one tab press.
const completeTimeout = 2 * time.Second

// complete completes the word that ends the text before the cursor: a
// command name in first position (and after help), else a znode path when
// the word starts with "/", asking the server for the children of the
// typed parent, as JLineZNodeCompleter does. A single item ends with the
// character that follows it: a space, or a slash before the children of a
// node that has some. A listing shows the last segment of the paths.
func (s *shell) complete(before string) lineedit.Completion {
	start := strings.LastIndexAny(before, " \t") + 1
	word := before[start:]
	first := strings.TrimSpace(before[:start])
	switch {
	case first == "" || first == "help":
		return completeCommand(start, word)
	case strings.HasPrefix(word, "/"):
		return s.completePath(start, word)
	}
	return lineedit.Completion{Start: start}
}

func completeCommand(start int, word string) lineedit.Completion {
	c := lineedit.Completion{Start: start}
	for _, name := range commandNames() {
		if strings.HasPrefix(name, word) {
			c.Items = append(c.Items, name)
		}
	}
	c.Show = c.Items
	if len(c.Items) == 1 {
		c.Items = []string{c.Items[0] + " "}
	}
	return c
}

func (s *shell) completePath(start int, word string) lineedit.Completion {
	c := lineedit.Completion{Start: start}
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
			c.Items = append(c.Items, childPath(parent, name))
			c.Show = append(c.Show, name)
		}
	}
	if len(c.Items) == 1 {
		end := " "
		if stat, err := h.Exists(ctx, c.Items[0], false); err == nil && stat.NumChildren > 0 {
			end = "/"
		}
		c.Items[0] += end
	}
	return c
}
