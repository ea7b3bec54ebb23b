// Package cache keeps a local copy of a ZooKeeper subtree: the data, Stat
// and children of every node under a root, kept current by one persistent
// recursive watch, with reads that take nanoseconds, no lock and no
// allocation. It plays the part of Curator's CuratorCache (and TreeCache),
// on zhandle's public API.
//
//	c, err := cache.New(h, "/config", cache.WithListener(func(ev cache.Event) { ... }))
//	if err := c.WaitInitialized(ctx); err != nil { ... }
//	data, stat, ok := c.Get("/config/db")
//	names, ok := c.Children("/config")
//	if !c.Fresh() { ... } // disconnected, expired or re-reading: how stale is c.Staleness()
//	defer c.Close()
//
// # Reads
//
// Readers find a node through an index of atomic pointers (open addressing,
// linear probing, written by the cache's goroutine only) and load the
// node's view: an immutable record of its data, Stat and sorted children.
// A change publishes a new view; nothing a reader was given is ever written
// again. An update costs one small allocation per changed node, however
// large the tree; a copy-on-write snapshot of the whole tree would cost
// one per node. Children lists are rebuilt once per batch of changes, so a
// directory of many children that churns costs one copy per batch, not one
// per child.
//
// # Order and consistency
//
// The watch says which node changed, not how; so after each event the cache
// reads the node, as CuratorCache does, in MultiRead batches. Events and
// replies reach the cache in the order the server sent them, and that order
// is what the cache relies on: a reply shows the node as it was after every
// event that came before the reply. The cache places each change in a slot
// in event order, fills the slot with the reply that follows, merges the
// slots a reply makes redundant, and applies slots strictly in order. So
// listeners see changes in zxid order, and Get never goes back in time;
// a state older than the one cached (an earlier Czxid, or the same Czxid and
// an earlier Mzxid) is ignored.
//
// Priming and every re-read are a sweep: the watch is set (and the session
// synced) first, then every node is read, in batches. What the sweep
// reads of a node that has no event since the watch was set is its state at
// the watch; so the sweep's findings are applied before every event that
// came during it, and nothing is lost or applied twice.
//
// The Stat of a cached node is the one ZooKeeper last returned for it,
// with the creations and deletions of its children seen since counted in
// Cversion and NumChildren, and a creation's Czxid in Pzxid. ZooKeeper does
// not say when a deletion happened, so after one the cache reads the parent
// again: its Pzxid is exact once that read is back. ZooKeeper sends no
// event for SetACL: Aversion is as last read.
//
// # Connection loss, expiry and how stale the cache is
//
// A lost connection makes the cache not fresh at once (Fresh, EventStale).
// The handle restores the watch when it reconnects, but the server does
// not send the changes made meanwhile; so the cache sweeps again: it reads
// every cached node (and the children of every node whose Cversion moved),
// and reports what changed, deletions first (a node deleted and created
// again is seen by its new Czxid), then EventResynced with how long the
// cache may have missed changes: from the send time of the last ping the
// server answered before the loss to the end of the sweep. An expired
// session (EventStale with zhandle.ErrSessionExpired) leaves the cache
// serving its last state, not fresh, until Rebuild gives it a handle with a
// new session, or WithRenewal's function does.
//
// # Costs
//
// Each change costs one read (a deletion two: the parent too), batched
// with others under load into one MultiRead per batch of events. A sweep
// costs one request per few hundred nodes: priming 10,000 nodes takes 16
// requests and keeps about 300 bytes per node besides the data. The watch stays on the
// server after Close while the handle lives: zhandle's RemoveWatches for
// one watcher removes only the local registration, as the Java client does,
// so the server keeps sending the subtree's events to the handle, which
// drops them.
package cache
