package serialize

import (
	"encoding/binary"
	"fmt"
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
