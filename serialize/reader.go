package serialize

import (
	"encoding/binary"
	"fmt"
)

// DefaultMaxBuffer is the largest buffer, string, vector or frame accepted
// by default: jute.maxbuffer (0xfffff) plus jute.maxbuffer.extrasize (1024),
// the limit BinaryInputArchive.checkLength applies in the Java client.
const DefaultMaxBuffer = 0xfffff + 1024

// DecodeError describes input a decoder refused: where, and why.
type DecodeError struct {
	Offset int    // byte offset into the input where the bad field starts
	Reason string // what was wrong
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("jute: decode at offset %d: %s", e.Offset, e.Reason)
}

// Reader decodes Jute primitives from a byte slice, the port of the
// deserialize_* functions of recordio.c. The first error sticks: later reads
// return zero values and Err reports the first failure. The zero Reader is
// empty; use NewReader.
type Reader struct {
	buf []byte
	off int
	max int
	err error
}

// NewReader returns a Reader over src that refuses lengths over
// DefaultMaxBuffer.
func NewReader(src []byte) Reader {
	return Reader{buf: src, max: DefaultMaxBuffer}
}

// SetMaxBuffer changes the largest buffer, string or vector length accepted.
func (r *Reader) SetMaxBuffer(n int) { r.max = n }

// Err returns the first error met, or nil.
func (r *Reader) Err() error { return r.err }

// Offset returns the number of bytes consumed so far.
func (r *Reader) Offset() int { return r.off }

// Len returns the number of bytes not yet consumed.
func (r *Reader) Len() int { return len(r.buf) - r.off }

// Fail records a decode error at the current offset unless one is already
// recorded; record decoders use it for semantic checks.
func (r *Reader) Fail(reason string) {
	if r.err == nil {
		r.err = &DecodeError{Offset: r.off, Reason: reason}
	}
}

func (r *Reader) take(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n > len(r.buf)-r.off {
		r.err = &DecodeError{Offset: r.off, Reason: fmt.Sprintf("truncated %s: need %d bytes, have %d", what, n, len(r.buf)-r.off)}
		return nil
	}
	b := r.buf[r.off : r.off+n : r.off+n]
	r.off += n
	return b
}

// Int32 reads a Jute int.
func (r *Reader) Int32() int32 {
	b := r.take(4, "int")
	if b == nil {
		return 0
	}
	return int32(binary.BigEndian.Uint32(b))
}

// Int64 reads a Jute long.
func (r *Reader) Int64() int64 {
	b := r.take(8, "long")
	if b == nil {
		return 0
	}
	return int64(binary.BigEndian.Uint64(b))
}

// Bool reads a Jute boolean: one byte, non-zero is true.
func (r *Reader) Bool() bool {
	b := r.take(1, "boolean")
	if b == nil {
		return false
	}
	return b[0] != 0
}

// length reads an int32 length prefix. It returns -1 for nil and refuses any
// other negative value, a length over the maximum, and a length larger than
// the bytes left times unit (the smallest encoding of one element).
func (r *Reader) length(what string, unit int) int {
	start := r.off
	n := int(r.Int32())
	if r.err != nil {
		return 0
	}
	switch {
	case n == -1:
		return -1
	case n < -1:
		r.err = &DecodeError{Offset: start, Reason: fmt.Sprintf("negative %s length %d", what, n)}
	case n > r.max:
		r.err = &DecodeError{Offset: start, Reason: fmt.Sprintf("%s length %d exceeds maximum %d", what, n, r.max)}
	case n > (len(r.buf)-r.off)/unit:
		r.err = &DecodeError{Offset: start, Reason: fmt.Sprintf("%s length %d exceeds the %d bytes left", what, n, len(r.buf)-r.off)}
	default:
		return n
	}
	return 0
}

// BufferAlias reads a Jute buffer and returns a slice of the input: no copy,
// valid as long as the input is. nil on -1 and on error; an empty length
// gives an empty non-nil slice.
func (r *Reader) BufferAlias() []byte {
	n := r.length("buffer", 1)
	if n < 0 || r.err != nil {
		return nil
	}
	return r.take(n, "buffer")
}

// BufferInto reads a Jute buffer into dst[:0], reusing its capacity, and
// returns it; nil when the wire says -1.
func (r *Reader) BufferInto(dst []byte) []byte {
	b := r.BufferAlias()
	if b == nil {
		return nil
	}
	if dst == nil {
		dst = make([]byte, 0, len(b))
	}
	return append(dst[:0], b...)
}

// String reads a Jute ustring. The wire's -1 (null) decodes as "".
func (r *Reader) String() string {
	n := r.length("string", 1)
	if n <= 0 || r.err != nil {
		return ""
	}
	return string(r.take(n, "string"))
}

// VectorLen reads a vector's element count; -1 (null) is returned as is.
// minElemSize is the smallest wire size of one element, so that a count the
// remaining input cannot hold is refused before anything is allocated.
func (r *Reader) VectorLen(minElemSize int) int {
	return r.length("vector", max(minElemSize, 1))
}
