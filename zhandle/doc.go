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
// Asynchronous calls take a typed callback that runs on the completion
// goroutine; slices passed to a callback may alias the reply buffer and are
// valid only until the callback returns.
//
// # Contexts
//
// Synchronous calls take a context first and follow the convention of
// database/sql and net/http:
//
//   - A context already done when the call starts: nothing is sent, and the
//     call returns ctx.Err().
//   - A context that ends while the request is in flight: the call returns
//     ctx.Err() at once, and the loop consumes and recycles the late reply.
//     The request was sent, so a write may or may not have been applied.
//     To find out, read the node back; to make a retry safe, make the write
//     conditional: a version other than -1 for Set, Delete and SetACL, or a
//     Multi whose CheckOp fails if the first attempt took effect.
//
// # TLS
//
// WithTLS encrypts the connection without giving up the design: the loop
// still owns one non-blocking socket and polls it through x/sys/unix; the
// socket never reaches the Go netpoller. crypto/tls wants a net.Conn it
// can block on, so it gets an in-memory one (tlsTransport): the loop reads
// ciphertext from the socket into it and writes to the socket what
// crypto/tls wrote into it.
//
//   - The handshake cannot stop half-way and resume: tls.Conn keeps the
//     first read error for good. So it runs on a goroutine of its own that
//     blocks on the transport (a condition variable), never on the socket,
//     and ends with the handshake, waking the loop with the result.
//   - After the handshake the loop calls tls.Conn itself, without waiting:
//     writes seal records into memory, and reads are made only once a whole
//     record has arrived (the transport parses record headers). A read that
//     still finds nothing gets a temporary net.Error, which tls.Conn
//     returns without recording; the next read resumes.
//
// A connection thus costs one goroutine for the length of its handshake
// and none after. Other designs were worse: a goroutine per connection
// reading a blocking socket is a second I/O thread and a second wakeup per
// reply; handing the descriptor to crypto/tls through net.FileConn gives it
// to the netpoller; the QUIC API of crypto/tls (non-blocking) has no
// record layer and needs the QUIC transport-parameters extension, which a
// ZooKeeper server does not send.
//
// Unlike the C client, the server's certificate is verified against the
// host name as written in the host list, and a verification failure is
// not retried in a loop (see WithTLS).
package zhandle
