package serialize

import (
	"encoding/binary"
	"fmt"
	"io"
)

// FrameHeaderLen is the size of the length prefix in front of every packet.
const FrameHeaderLen = 4

// FrameTooLargeError reports a frame over the allowed maximum, on either side.
type FrameTooLargeError struct {
	Len, Max int
}

func (e *FrameTooLargeError) Error() string {
	return fmt.Sprintf("jute: frame of %d bytes exceeds the maximum of %d", e.Len, e.Max)
}

// BeginFrame appends a four-byte length placeholder to dst and returns the
// extended slice with the offset of the placeholder, for FinishFrame.
func BeginFrame(dst []byte) ([]byte, int) {
	return append(dst, 0, 0, 0, 0), len(dst)
}

// FinishFrame back-patches the length of the frame that starts at start
// (as returned by BeginFrame) and returns dst. A body over max bytes is
// refused with *FrameTooLargeError and dst is cut back to start, so the
// caller's buffer holds nothing of the refused frame.
func FinishFrame(dst []byte, start, max int) ([]byte, error) {
	n := len(dst) - start - FrameHeaderLen
	if n > max {
		return dst[:start], &FrameTooLargeError{Len: n, Max: max}
	}
	binary.BigEndian.PutUint32(dst[start:], uint32(n))
	return dst, nil
}

// FrameLen decodes a received length prefix (the first four bytes of hdr)
// and checks it: a negative length or one over max is an error.
func FrameLen(hdr []byte, max int) (int, error) {
	n := int(int32(binary.BigEndian.Uint32(hdr)))
	if n < 0 {
		return 0, fmt.Errorf("jute: negative frame length %d", n)
	}
	if n > max {
		return 0, &FrameTooLargeError{Len: n, Max: max}
	}
	return n, nil
}

// ReadFrame reads one frame from a blocking reader and returns its body,
// refusing a length over max before anything of that size is allocated.
// The client's loop does not block and reads with FrameLen; this is for
// tools and test servers.
func ReadFrame(r io.Reader, max int) ([]byte, error) {
	var hdr [FrameHeaderLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("read frame length: %w", err)
	}
	n, err := FrameLen(hdr[:], max)
	if err != nil {
		return nil, err
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, fmt.Errorf("read %d-byte frame body: %w", n, err)
	}
	return body, nil
}
