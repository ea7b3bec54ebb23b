package hashtable

import (
	"fmt"

	"github.com/zkloop/zkloop/serialize"
)

// funcWatcher is a watcher without identity, as zhandle.WatcherFunc.
type funcWatcher func()

// recorder is a watcher with an identity (a pointer) and a name for diffs.
type recorder struct{ name string }

// funcHolder is comparable by type but holds a func in an interface field:
// == on two of them with the same inner type would panic.
type funcHolder struct{ inner Watcher }

// valueWatcher is a comparable value type: equal values are the same watcher.
type valueWatcher struct{ name string }

// watchers returns one *recorder per name.
func watchers(names ...string) map[string]*recorder {
	m := make(map[string]*recorder, len(names))
	for _, n := range names {
		m[n] = &recorder{name: n}
	}
	return m
}

// names returns a printable name per watcher, in order.
func names(ws []Watcher) []string {
	out := make([]string, 0, len(ws))
	for _, w := range ws {
		out = append(out, name(w))
	}
	return out
}

func name(w Watcher) string {
	switch w := w.(type) {
	case *recorder:
		return w.name
	case valueWatcher:
		return "value:" + w.name
	case funcWatcher:
		return "func"
	case funcHolder:
		return "holder"
	}
	return fmt.Sprintf("%T", w)
}

type removedName struct {
	Name string
	Type serialize.EventType
}

func removedNames(rs []Removed) []removedName {
	out := make([]removedName, 0, len(rs))
	for _, r := range rs {
		out = append(out, removedName{name(r.Watcher), r.Type})
	}
	return out
}

// act is one Activate call in a test table.
type act struct {
	kind Kind
	path string
	w    string // name of a *recorder
	rc   serialize.Error
}

// setup returns a registry with the activations applied to the named
// recorders (created as needed).
func setup(acts []act) (*Tables, map[string]*recorder) {
	t := New()
	ws := map[string]*recorder{}
	for _, a := range acts {
		r, ok := ws[a.w]
		if !ok {
			r = &recorder{name: a.w}
			ws[a.w] = r
		}
		t.Activate(Registration{Kind: a.kind, Path: a.path, Watcher: r}, a.rc)
	}
	return t, ws
}

// ok is an activation with rc Ok.
func ok(kind Kind, path, w string) act { return act{kind, path, w, serialize.Ok} }

// inEveryTable registers w on path in each of the five tables.
func inEveryTable(path, w string) []act {
	return []act{
		ok(KindData, path, w),
		{KindExists, path, w, serialize.ErrNoNode},
		ok(KindChild, path, w),
		ok(KindPersistent, path, w),
		ok(KindPersistentRecursive, path, w),
	}
}
