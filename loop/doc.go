// Package loop is the I/O goroutine of the client: the port of do_io and the
// self-pipe wakeup (wakeup_io_thread) of mt_adaptor.c.
//
// A Loop polls two descriptors with unix.Poll — its self-pipe and the socket
// its Handler names — and calls the Handler after each poll:
//
//	for {
//	    fd, events, timeout := h.Interest()   // zookeeper_interest
//	    poll([wake pipe, fd], timeout)
//	    drain the wake pipe
//	    if !h.Process(revents) { return }      // zookeeper_process
//	}
//
// The loop never blocks in the Go netpoller: the socket stays a raw
// non-blocking descriptor owned by the Handler. Wakeups from any number of
// callers merge: Wake writes a byte only when the loop is, or is about to be,
// asleep in poll and no other wakeup is pending, so a burst of requests
// costs one write and one read, and requests queued while the loop is busy
// cost none.
//
// A Handler that also implements Expecter can say, after Process, that
// more work is due within microseconds — it has just woken a goroutine
// that will likely queue a request at once. The loop then spins a few
// turns before it sleeps: it yields its thread, so that the goroutine
// just woken runs here rather than on another thread woken for it, and
// looks again without sleeping. A request queued meanwhile finds the loop
// awake and costs neither a self-pipe write nor a poll; the blocking poll
// ends the spin.
//
// The package does not know ZooKeeper; it drives anything that implements
// Handler.
//
// This package is part of zkloop's implementation, used by package
// zhandle; it carries no compatibility promise beyond zhandle's API.
package loop
