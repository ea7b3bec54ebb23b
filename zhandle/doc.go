// Package zhandle is the ZooKeeper client handle: the port of zhandle_t and
// the public API of zookeeper.c (zookeeper_init, zoo_a*, zoo_*), driven by
// the poll loop of package loop and the completion goroutine of package
// completion, as mt_adaptor.c drives zookeeper.c.
//
// A Handle owns one socket and two goroutines:
//
//	caller ──(frame request, queue entry, wake)──► self-pipe
//	do_io   (loop.Loop):  Interest → poll → Process   (zookeeper_interest / zookeeper_process)
//	        replies matched to the sent queue by xid:
//	          synchronous  → decoded into the waiter's entry, its sync.Cond signalled
//	          asynchronous → completion queue
//	do_completion (completion.Queue): callbacks and watchers, in reply order
//
// Init returns at once, like zookeeper_init; the session event arrives on
// the watcher. Requests made before the session is established, or while it
// is re-established after a connection loss, are queued and sent after the
// handshake (with WithSASLDigest, after the SASL exchange too). Every request is completed exactly once: with its reply, or
// with ErrConnectionLoss, ErrSessionExpired, ErrAuthFailed or ErrClosing.
//
// Synchronous calls take a context; cancelling it abandons the wait, and
// the loop consumes and recycles the late reply. Asynchronous calls take a
// typed callback that runs on the completion goroutine; slices passed to a
// callback may alias the reply buffer and are valid only until the callback
// returns.
package zhandle
