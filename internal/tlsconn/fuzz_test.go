package tlsconn

import (
	"bytes"
	"testing"

	"golang.org/x/sys/unix"
)

// FuzzTLSTransport feeds the transport arbitrary bytes from a server,
// through a socket in arbitrary pieces, and reads them back in arbitrary
// sizes, as crypto/tls would after the handshake. The bytes come back in
// order, no read crosses the end of a record (as the stream's headers
// define records), wholeRecord promises only what a read then delivers,
// and the input buffer stays bounded whatever the headers claim.
func FuzzTLSTransport(f *testing.F) {
	f.Add([]byte{23, 3, 3, 0, 2, 'h', 'i', 23, 3, 3, 0, 0, 21}, []byte{3, 1, 7, 2})
	f.Add(append([]byte{23, 3, 3, 0xff, 0xff}, make([]byte, 1000)...), []byte{0, 5, 200})
	f.Add([]byte{22, 3, 1}, []byte{1})
	f.Fuzz(func(t *testing.T, stream, sizes []byte) {
		if len(sizes) == 0 {
			sizes = []byte{1}
		}
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fds[0])
		defer unix.Close(fds[1])
		tr := NewTransport(func() {})
		tr.HandshakeOver()

		var got []byte
		next := 0 // index into sizes
		size := func() int { n := int(sizes[next%len(sizes)]); next++; return n + 1 }
		// recordEnd is where the record holding stream[off] ends, by the
		// stream's headers; past the stream when its header is cut short.
		// off only grows.
		end := 0
		recordEnd := func(off int) int {
			for end <= off {
				if end+headerLen > len(stream) {
					return end + headerLen
				}
				end += recordLen(stream[end:])
			}
			return end
		}
		for sent := 0; ; {
			if sent < len(stream) {
				n, err := unix.Write(fds[0], stream[sent:min(len(stream), sent+size()*37)])
				if err != nil {
					t.Fatalf("write: %v", err)
				}
				sent += n
				for {
					if _, _, err := tr.Fill(func(p []byte) (int, error) { return unix.Read(fds[1], p) }); err != nil {
						break // EAGAIN: drained
					}
				}
			}
			if cap(tr.in) > 2*readSize+headerLen+0xffff {
				t.Fatalf("input buffer of %d bytes", cap(tr.in))
			}
			for {
				whole := tr.WholeRecord()
				limit := recordEnd(len(got))
				p := make([]byte, size())
				n, err := tr.Read(p)
				if err == ErrNoInput {
					if whole {
						t.Fatalf("wholeRecord true at %d, then no input", len(got))
					}
					break
				}
				if err != nil || n == 0 {
					t.Fatalf("Read = %d, %v", n, err)
				}
				if len(got)+n > limit {
					t.Fatalf("read [%d, %d) crosses the record end %d", len(got), len(got)+n, limit)
				}
				got = append(got, p[:n]...)
			}
			if sent == len(stream) {
				break
			}
		}
		if !bytes.HasPrefix(stream, got) {
			t.Fatalf("read back %x; not a prefix of %x", got, stream)
		}
		if len(got) < len(stream) && recordEnd(len(got)) <= len(stream) {
			t.Fatalf("reads stopped at %d, though the record up to %d is whole", len(got), recordEnd(len(got)))
		}
	})
}
