package zhandle

import "github.com/zkloop/zkloop/serialize"

// aclBuf is room for the ACL lists requests usually carry (OPEN_ACL_UNSAFE
// has one entry), so that encoding them allocates nothing.
type aclBuf [4]serialize.ACL

// wireACL returns acl as the codec's records, in buf when it fits.
func wireACL(acl []ACL, buf *aclBuf) []serialize.ACL {
	wire := buf[:0]
	for _, a := range acl {
		wire = append(wire, serialize.ACL{Perms: int32(a.Perms), ID: serialize.Id{Scheme: a.ID.Scheme, ID: a.ID.ID}})
	}
	return wire
}

// userACL returns the codec's ACL records as a new list of ACL.
func userACL(wire []serialize.ACL) []ACL {
	acl := make([]ACL, len(wire))
	for i, a := range wire {
		acl[i] = ACL{Perms: Perm(a.Perms), ID: ID{Scheme: a.ID.Scheme, ID: a.ID.ID}}
	}
	return acl
}
