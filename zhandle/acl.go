package zhandle

import "github.com/zkloop/zkloop/serialize"

// wireACLLocked returns acl as the codec's records, in a buffer the handle
// reuses so that encoding an ACL list allocates nothing; h.mu is held, and
// the result is valid until h.mu is released. (A buffer on the stack
// would escape: the codec encodes records through a generic helper.)
func (h *Handle) wireACLLocked(acl []ACL) []serialize.ACL {
	wire := h.aclScratch[:0]
	for _, a := range acl {
		wire = append(wire, serialize.ACL{Perms: int32(a.Perms), ID: serialize.Id{Scheme: a.ID.Scheme, ID: a.ID.ID}})
	}
	h.aclScratch = wire
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
