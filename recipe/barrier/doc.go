// Package barrier is barriers on ZooKeeper that interoperate with Apache
// Curator 5.4: Barrier is Curator's DistributedBarrier and DoubleBarrier
// its DistributedDoubleBarrier, on the same znodes, so Go and Java
// processes can wait at the same barrier.
//
//	b := barrier.NewDoubleBarrier(h, "/barriers/job", 4)
//	if err := b.Enter(ctx); err != nil { ... }
//	work()
//	if err := b.Leave(ctx); err != nil { ... }
//
// # Znodes (CURATOR.md §5.3, §5.4)
//
// A Barrier is up while its node exists: a persistent node holding
// recipe.DefaultData (the local IP address as text), its parents made as
// containers. A DoubleBarrier's members are ephemeral children of its
// node named by a random UUID, with recipe.DefaultData; the member that
// counts enough of them makes the persistent child "ready", and the
// members leaving delete it.
//
// # Waking up
//
// Every wait watches a node and wakes at every event, connection events
// included, then looks again: a wake-up is never taken as the condition
// (CURATOR.md P8, the bypass of Curator's GH-1290). Every call takes a
// context, and one already done sends nothing.
package barrier
