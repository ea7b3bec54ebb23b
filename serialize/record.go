package serialize

// Every record type (data.go, headers.go, session.go, node.go, children.go,
// acl.go, watches.go, sasl.go, admin.go) has the same three methods:
//
//	Encode(dst []byte) []byte        appends the record; a nil slice or vector
//	                                 is written as -1 (Java's null), an empty
//	                                 one as 0
//	Decode(src []byte) (int, error)  fills the record from the start of src
//	                                 and returns the bytes consumed
//	readFrom(*Reader)                the body of Decode, so records nest
//
// Decode reuses the capacity of the record's slices and never aliases src.
// When Decode fails the record's contents are unspecified.
//
// A ustring is a Go string of the bytes on the wire, unchanged either way,
// as in the C client. Java's BinaryOutputArchive writes each UTF-16 unit on
// its own, so a character outside the BMP arrives as two three-byte
// surrogates (CESU-8), not as four UTF-8 bytes; Java reads standard UTF-8.
//
// A null ustring (length -1) decodes as "". Only ReconfigRequest's strings
// are written as null when empty (AppendNullableString): the server tests
// them for null, and the Java client sends null for the ones it does not
// use. Every other ustring of zookeeper.jute is never null from the Java
// client or server, or the server treats null and "" alike (a path is
// invalid either way; an empty or null GetEphemeralsRequest prefix means
// every ephemeral), so "" is written with length 0. Buffers and vectors
// keep Go's nil as null.
//
// Each Decode calls its own readFrom rather than sharing a helper that takes
// an interface: the interface call would move the Reader to the heap and
// cost an allocation per Decode.

// Smallest wire sizes of the records that appear as vector elements, for
// Reader.VectorLen: a count the remaining input cannot hold is refused
// before anything is allocated.
const (
	minIDSize         = 4 + 4         // two empty strings
	minACLSize        = 4 + minIDSize // perms and an Id
	minClientInfoSize = 4 + 4         // two empty strings
)

// consumed is the result of a Decode: the bytes read, or the first error.
func consumed(rd *Reader) (int, error) {
	if err := rd.Err(); err != nil {
		return 0, err
	}
	return rd.Offset(), nil
}

// appendRecords appends a vector of records; a nil slice is written as -1.
func appendRecords[T any, P interface {
	*T
	Encode([]byte) []byte
}](dst []byte, v []T) []byte {
	if v == nil {
		return AppendInt32(dst, -1)
	}
	dst = AppendInt32(dst, int32(len(v)))
	for i := range v {
		dst = P(&v[i]).Encode(dst)
	}
	return dst
}

// readRecords reads a vector of records into dst, reusing its capacity;
// -1 gives nil. minSize is the smallest wire size of one element.
func readRecords[T any, P interface {
	*T
	readFrom(*Reader)
}](r *Reader, dst []T, minSize int) []T {
	n := r.VectorLen(minSize)
	if n < 0 || r.Err() != nil {
		return nil
	}
	if dst == nil || cap(dst) < n {
		dst = make([]T, n)
	}
	dst = dst[:n]
	for i := range dst {
		P(&dst[i]).readFrom(r)
	}
	return dst
}
