package hashtable

// Watcher is a watcher as the handle registers it. The tables store and
// compare watchers and never call them, so any value will do; the handle
// knows their type (zhandle.Watcher).
//
// Identity. A watcher registered twice on the same path in the same table is
// kept once, and a watcher registered in several tables fires once per event,
// as in C and Java. Two watchers are the same when Go's == says so: same
// dynamic type, comparable, equal values. A watcher whose dynamic type is not
// comparable — a func, a struct holding a func, map or slice — has no
// identity: each of its registrations is distinct (it fires once per
// registration) and it can only be removed together with all watchers of a
// path (Remove with a nil watcher). Comparing watchers never panics.
type Watcher = any
