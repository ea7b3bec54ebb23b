// Package counter is shared counters on ZooKeeper that interoperate with
// Apache Curator 5.4: SharedCount is Curator's SharedCount and AtomicLong
// its DistributedAtomicLong, byte for byte, so Go and Java processes can
// count together.
//
//	c := counter.NewSharedCount(h, "/counters/shared", 0)
//	if err := c.Start(ctx); err != nil { ... }
//	defer c.Close()
//	for {
//		v, err := c.VersionedCount()
//		if err != nil { ... }
//		if ok, err := c.TrySetCount(ctx, v, v.Count+1); ok || err != nil { ... }
//	}
//
//	n := counter.NewAtomicLong(h, "/counters/along")
//	next, err := n.Increment(ctx)
//
// # Znodes (CURATOR.md §5.1, §5.2)
//
// Each counter is one persistent node, made with its parents as
// containers. A SharedCount holds a 4-byte big-endian int32 (the seed 7
// is 00000007, -2 is fffffffe); an AtomicLong an 8-byte big-endian int64,
// where a missing node or empty data is 0. Shorter data is ErrCorrupted,
// as Curator refuses it; longer data is read up to the number's size.
//
// # Compare-and-set
//
// Every conditional write is a setData with the version read (or a
// create), so no update is lost however many clients, Go or Java, write
// at once. A write whose reply is lost is sent again once reconnected,
// which cannot apply it twice; if that second one is refused, the first
// may have been applied, and the call returns ErrIndeterminate instead of
// trying again as Curator does, which can count twice.
//
// # Listening
//
// A SharedCount keeps the count in memory, read again at every change of
// the node (by a watch) and after every reconnection; Subscribe hands
// each new count to a channel without ever blocking the handle.
package counter
