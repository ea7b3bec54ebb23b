// Package lock is distributed locking on ZooKeeper that interoperates with
// Apache Curator 5.4: Mutex is InterProcessMutex, RWMutex is
// InterProcessReadWriteLock and Semaphore is InterProcessSemaphoreV2, node
// for node, so Go and Java processes can share a lock.
//
//	m := lock.NewMutex(h, "/locks/x")
//	if err := m.Lock(ctx); err != nil { ... }
//	defer m.Unlock()
//	select {
//	case <-m.Lost(): // stop: someone else may get the lock
//	case <-work:
//	}
//
// # Znodes (CURATOR.md §2)
//
// A contender creates a protected EPHEMERAL_SEQUENTIAL node in the lock's
// directory, "_c_<uuid>-lock-NNNNNNNNNN" ("__READ__", "__WRIT__" for the
// read-write lock, "lease-" under a semaphore's "leases"), with the local
// IP address as text for data unless WithData says otherwise. Missing
// directories are created as containers, which the server removes once
// empty. Contenders are ordered by the text after the marker, compared as
// Curator compares it (recipe.SortSequential). The first holds the lock;
// every other one watches only its predecessor, with getData, so a release
// wakes one waiter. A reader waits on the first writer ahead of it.
//
// # Costs
//
// An uncontended Lock is a create and a listing, two round trips; the
// holder then watches its own node (an exists, sent without waiting for
// its reply), and Unlock's delete is sent without waiting too: four
// requests a cycle to Curator's three (create, getChildren, delete), the
// fourth buying the notice of an outside delete. A waiter costs one
// getData per wake-up.
//
// # Losing a lock
//
// A lock held through a ZooKeeper session lasts only as long as the
// session, and a process cannot always know whether its session still
// lives. Curator leaves this to the application; here every holding has
// a Lost channel that is closed, by events and never by polling, when:
//
//   - the session expires, also by the handle's client-side expiry
//     (zhandle.WithClientSideExpiry);
//   - the connection has been down until the handle's SessionAliveUntil:
//     the server could expire the session from then on and give the lock
//     to someone else, so the holder is told at that moment, not after;
//   - with WithErrorPolicy(recipe.StandardErrorPolicy), as soon as the
//     connection is lost (Curator's SUSPENDED);
//   - someone deletes the lock's node;
//   - the handle is closed;
//   - the lock is released.
//
// A holder must stop acting as one when Lost is closed. Before it takes
// the lock, a contender also checks that its node belongs to its current
// session (CURATOR.md P2).
//
// # Giving up
//
// On every return from Lock without the lock (the context ended, the
// session ended, an error) the contender's node is deleted, with a
// delete that is retried across reconnects (CURATOR.md P5). A create whose
// reply was lost is recovered by its protection prefix, and one given up
// while in flight is found and deleted in the background (recipe.CreateProtected),
// so no orphan node blocks the queue (P1). Unlock releases at once and
// deletes the node in the background the same way; it takes no context,
// since a done context must send nothing and a release must always
// happen.
//
// # Re-entrancy
//
// Locks are re-entrant per value, not per goroutine (Curator's are per
// thread): a Lock on a held Mutex returns at once and needs one more
// Unlock. Two processes, or two Mutex values on one path, exclude each
// other.
package lock
