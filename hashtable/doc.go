// Package hashtable is the client's watcher registry: the port of
// zk_hashtable.c of the C client (activateWatcher, collectWatchers,
// the *_result_checker functions, removeWatchers), extended with the
// persistent and persistent-recursive tables of Java's ZKWatchManager.
//
// A Tables value holds five tables, each a map from server path (chroot
// included) to the watchers registered on it:
//
//	data                 getData, or exists on a node that exists   (active_node_watchers)
//	exist                exists on a node that does not exist       (active_exist_watchers)
//	child                getChildren, getChildren2                  (active_child_watchers)
//	persistent           addWatch PERSISTENT                        (Java only)
//	persistentRecursive  addWatch PERSISTENT_RECURSIVE              (Java only)
//
// The life of a watch: a request that carries a watcher keeps a
// Registration; when its reply arrives the I/O side calls Activate with the
// reply's error code, which files the watcher in the right table or drops it.
// When a WatcherEvent arrives, Collect takes the watchers the event fires —
// removing the one-shot ones — and the completion side delivers the event to
// each. On reconnect, Keys gives the paths for SetWatches/SetWatches2.
//
// Every method is safe for concurrent use. Activate and Collect do not
// allocate in the steady state of a watch that fires and is set again.
//
// This package is part of zkloop's implementation, used by package
// zhandle; it carries no compatibility promise beyond zhandle's API.
package hashtable
