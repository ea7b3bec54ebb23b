// Package serialize is the Jute binary codec of the ZooKeeper wire protocol:
// the port of recordio.c, the generated zookeeper.jute.c and proto.h of the C
// client.
//
// Every record of zookeeper.jute (3.8/3.9) has a Go type named as its Java
// class, with two methods:
//
//	func (r *T) Encode(dst []byte) []byte      // appends; cannot fail
//	func (r *T) Decode(src []byte) (int, error) // fills r; returns bytes consumed
//
// Encoders append with encoding/binary; decoders read through a Reader whose
// error is sticky and which checks every wire length against the bytes left
// and against a maximum before allocating. Decoding never panics and never
// uses reflection. Decoded byte slices are copied into the record's own
// storage (reusing its capacity), never aliased to src.
//
// The package also holds the wire constants: opcodes, special xids, error
// codes, states, event types, create modes and permission bits, each with a
// String method, and the framing helpers that back-patch a length prefix.
//
// This package is part of zkloop's implementation, used by package
// zhandle; it carries no compatibility promise beyond zhandle's API.
package serialize
