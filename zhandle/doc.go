// Package zhandle is a ZooKeeper client: a Handle is one session with an
// ensemble, the port of the C client's zhandle_t and of the API of
// zookeeper.c (zookeeper_init, zoo_*, zoo_a*).
//
//	h, err := zhandle.Init("127.0.0.1:2181,[::1]:2182/app", watcher, 10*time.Second)
//	if err != nil { ... }
//	defer h.Close()
//	if err := h.WaitConnected(ctx); err != nil { ... }
//	path, err := h.Create(ctx, "/jobs/job-", data, zhandle.OpenACLUnsafe, zhandle.PersistentSequential)
//
// # Sessions
//
// Init returns at once, like zookeeper_init, and the handle connects in
// the background; the session event arrives on the watcher, and
// WaitConnected waits for it. When a connection is lost the handle
// reconnects to the next server of the list and resumes the session: the
// requests in flight fail with ErrConnectionLoss, the watches are restored,
// and requests made meanwhile are sent once the session is back. A session
// the server expired ends the handle (StateExpiredSession): make a new one.
// Every request is completed exactly once: with its reply, or with
// ErrConnectionLoss, ErrSessionExpired, ErrAuthFailed or ErrClosing.
// AddSessionWatcher and SessionAliveUntil tell whoever holds something the
// session owns (a lock, an ephemeral node) when it may be lost.
//
// # Calls
//
// Every operation has a synchronous form taking a context (Create, Get,
// Multi, ...) and an asynchronous one taking a typed callback (ACreate,
// AGet, AMulti, ...). Callbacks and watchers run on one goroutine of the
// handle, in reply order, and must not block it (a synchronous call from
// inside one waits forever). Slices passed to a callback may alias the
// reply buffer and are valid only until the callback returns: this is what
// makes the asynchronous path allocation free. GetInto reads into the
// caller's buffer, so that a synchronous read allocates nothing either.
//
// Paths are checked before anything is sent (ErrBadArguments), as are
// frames against the maximum size (WithMaxFrame). Errors are Error values
// with the C client's codes, compared with errors.Is; states, event types,
// create modes and permissions keep the C values with Go names.
//
// # Contexts
//
// Synchronous calls take a context first and follow the convention of
// database/sql and net/http:
//
//   - A context already done when the call starts: nothing is sent, and the
//     call returns ctx.Err().
//   - A context that ends while the request is in flight: the call returns
//     ctx.Err() at once, and the handle consumes and recycles the late
//     reply. The request was sent, so a write may or may not have been
//     applied. To find out, read the node back; to make a retry safe, make
//     the write conditional: a version other than -1 for Set, Delete and
//     SetACL, or a Multi whose CheckOp fails if the first attempt took
//     effect.
//
// # Watches
//
// A watch set by Exists, Get or GetChildren (watch true: the default
// watcher; WExists, WGet, WGetChildren: a Watcher of the caller's) fires
// once, routed as the C client's three watcher tables route it; AddWatch
// sets persistent and recursive watches. A session event goes to the
// default watcher and to every watcher registered.
//
// # Security
//
// WithTLS encrypts every connection and verifies the server against the
// host as the host list names it; WithSASLDigest authenticates with SASL
// DIGEST-MD5; AddAuth adds identities such as digest. A server that
// refuses the client ends the handle in StateAuthFailed, with the reason
// in WaitConnected's error.
//
// # Design
//
// A Handle owns one non-blocking socket, polled through x/sys/unix by one
// goroutine (do_io of mt_adaptor.c, package loop), and one goroutine that
// runs callbacks and watchers (do_completion, package completion).
// Synchronous callers wait on a condition variable of their own and are
// woken by the I/O goroutine, which decodes the reply straight into their
// result:
//
//	caller ──(frame request, queue entry, wake)──► self-pipe
//	do_io:  Interest → poll → Process   (zookeeper_interest / zookeeper_process)
//	        replies matched to the sent queue by xid:
//	          synchronous  → decoded into the waiter's entry, its sync.Cond signalled
//	          asynchronous → completion queue
//	do_completion: callbacks and watchers, in reply order
//
// The packages loop, completion, hashtable and serialize are that
// implementation; only zhandle's API is promised to stay.
package zhandle
