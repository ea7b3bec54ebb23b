// Package tlsconn runs crypto/tls for the poll loop without giving up the
// loop's design (the ssl branches of zookeeper.c: ssl_connect in
// zookeeper_interest, the SSL_read/SSL_write of recv_buffer/send_buffer).
//
// The loop owns one non-blocking socket and polls it through x/sys/unix;
// the socket never reaches the Go netpoller. crypto/tls wants a net.Conn it
// can block on, so it gets an in-memory one, the Transport: the loop reads
// ciphertext from the socket into it (Fill) and writes to the socket what
// crypto/tls wrote into it (Conn.Due).
//
//   - The handshake cannot stop half-way and resume: tls.Conn keeps the
//     first read error for good. So it runs on a goroutine of its own that
//     blocks on the Transport (a condition variable), never on the socket,
//     and ends with the handshake, waking the loop with the result.
//   - After the handshake the loop calls tls.Conn itself, without waiting:
//     writes seal records into memory, and reads are made only once a whole
//     record has arrived (the Transport parses record headers; tls.Conn
//     allocates on every attempt to read a record). A read that still finds
//     nothing gets ErrNoInput, a temporary net.Error, which tls.Conn
//     returns without recording; the next read resumes.
//
// A connection thus costs one goroutine for the length of its handshake and
// none after. Other designs were worse: a goroutine per connection reading a
// blocking socket is a second I/O thread and a second wakeup per reply;
// handing the descriptor to crypto/tls through net.FileConn gives it to the
// netpoller; the QUIC API of crypto/tls (non-blocking) has no record layer
// and needs the QUIC transport-parameters extension, which a ZooKeeper
// server does not send.
//
// Two behaviours of crypto/tls are relied on, each pinned by a test that
// fails if a Go release changes it: a temporary error from the Transport is
// not sticky (TestTemporaryErrorNotSticky), and a server's alert is a
// *net.OpError with Op "remote error" (TestRemoteAlertRecognised).
package tlsconn
