// Package recipe holds what every zkloop recipe needs once, so that the
// recipes (recipe/lock, recipe/leader, recipe/discovery, recipe/counter,
// recipe/barrier) write the same znodes as Apache Curator 5.4 and survive
// connection trouble the same way. It is built only on zhandle's public
// API, like any user's code.
//
// What it ports from Curator:
//
//   - Protected creates (CreateBuilder.withProtection, ProtectedUtils):
//     CreateProtected names a node "_c_<uuid>-<name>" and, after a lost
//     reply, finds it by listing the parent instead of creating a second
//     one; it deletes a node a dead session left, and cleans up in the
//     background when the caller gives up. IsProtected, StripProtection
//     and RandomUUID go with it.
//   - Parents as containers (creatingParentContainersIfNeeded): Create
//     and CreateParents, re-creating missing parents on every NoNode.
//   - Sequence order (StandardLockInternalsDriver.fixForSorting):
//     SequenceKey and SortSequential compare the text after the last
//     marker as strings, as Java does.
//   - Guaranteed deletes (delete().guaranteed(), FailedDeleteManager):
//     DeleteGuaranteed retries across reconnects until the node is gone.
//   - Retries (RetryLoop): Retryable and Retry, which waits for the
//     connection instead of sleeping by a policy.
//   - Connection states (ConnectionStateManager,
//     ConnectionStateErrorPolicy): a Tracker turns the handle's session
//     events into CONNECTED, SUSPENDED, RECONNECTED, LOST and READ_ONLY,
//     with LOST at the handle's SessionAliveUntil — before the server can
//     expire the session, where Curator waits a session timeout after
//     SUSPENDED. ErrorPolicy chooses whether SUSPENDED already ends a
//     holding.
//   - Default data (CuratorFrameworkFactory's defaultData): DefaultData,
//     the local IP address as text.
//   - Listeners (SharedCountListener, ServiceCacheListener): a
//     Broadcast hands each new value to subscribers' channels without
//     blocking the goroutine that publishes it.
//
// Every call that takes a context sends nothing when the context is
// already done, as zhandle's calls do. Callbacks (DeleteGuaranteed's
// done, a Tracker's listener) run on the handle's completion goroutine or
// a goroutine of this package and must not block.
package recipe
