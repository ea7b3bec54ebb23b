package serialize

import "encoding/binary"

// AppendInt32 appends a Jute int (big-endian, four bytes).
func AppendInt32(dst []byte, v int32) []byte {
	return binary.BigEndian.AppendUint32(dst, uint32(v))
}

// AppendInt64 appends a Jute long (big-endian, eight bytes).
func AppendInt64(dst []byte, v int64) []byte {
	return binary.BigEndian.AppendUint64(dst, uint64(v))
}

// AppendBool appends a Jute boolean as one byte, 1 or 0.
func AppendBool(dst []byte, v bool) []byte {
	if v {
		return append(dst, 1)
	}
	return append(dst, 0)
}

// AppendBuffer appends a Jute buffer: an int32 length and the bytes; a nil
// slice is written as length -1.
func AppendBuffer(dst []byte, b []byte) []byte {
	if b == nil {
		return AppendInt32(dst, -1)
	}
	dst = AppendInt32(dst, int32(len(b)))
	return append(dst, b...)
}

// AppendString appends a Jute ustring: an int32 length and the UTF-8 bytes.
// Go strings have no null, so the length is never -1; fields where the
// protocol gives null a meaning of its own use AppendNullableString.
func AppendString(dst []byte, s string) []byte {
	dst = AppendInt32(dst, int32(len(s)))
	return append(dst, s...)
}

// AppendNullableString appends a ustring that the protocol lets be null,
// as the C client's serializer writes a NULL char*: "" is written as
// length -1 (Java's null), any other string as AppendString does. Reader's
// String gives "" for -1, so such a field decodes and re-encodes to the
// same bytes; an empty string on the wire (length 0) comes back as -1.
func AppendNullableString(dst []byte, s string) []byte {
	if s == "" {
		return AppendInt32(dst, -1)
	}
	return AppendString(dst, s)
}

// AppendStrings appends a vector<ustring>; a nil slice is written as -1.
func AppendStrings(dst []byte, v []string) []byte {
	if v == nil {
		return AppendInt32(dst, -1)
	}
	dst = AppendInt32(dst, int32(len(v)))
	for _, s := range v {
		dst = AppendString(dst, s)
	}
	return dst
}

// Strings reads a vector<ustring> into dst[:0], reusing its capacity; a
// null vector (-1) gives nil.
func (r *Reader) Strings(dst []string) []string {
	n := r.VectorLen(4)
	if n < 0 || r.err != nil {
		return nil
	}
	if dst == nil {
		dst = make([]string, 0, n)
	}
	dst = dst[:0]
	for i := 0; i < n && r.err == nil; i++ {
		dst = append(dst, r.String())
	}
	return dst
}
