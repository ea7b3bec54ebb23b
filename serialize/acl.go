package serialize

// ACL records: getACL and setACL.

// GetACLRequest is the jute record proto.GetACLRequest.
type GetACLRequest struct {
	Path string
}

func (r *GetACLRequest) Encode(dst []byte) []byte { return AppendString(dst, r.Path) }

func (r *GetACLRequest) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *GetACLRequest) readFrom(rd *Reader) { r.Path = rd.String() }

// GetACLResponse is the jute record proto.GetACLResponse.
type GetACLResponse struct {
	ACL  []ACL
	Stat Stat
}

func (r *GetACLResponse) Encode(dst []byte) []byte {
	dst = appendRecords(dst, r.ACL)
	return r.Stat.Encode(dst)
}

func (r *GetACLResponse) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *GetACLResponse) readFrom(rd *Reader) {
	r.ACL = readRecords(rd, r.ACL, minACLSize)
	r.Stat.readFrom(rd)
}

// SetACLRequest is the jute record proto.SetACLRequest; Version is the
// expected ACL version (Aversion), -1 for any.
type SetACLRequest struct {
	Path    string
	ACL     []ACL
	Version int32
}

func (r *SetACLRequest) Encode(dst []byte) []byte {
	dst = AppendString(dst, r.Path)
	dst = appendRecords(dst, r.ACL)
	return AppendInt32(dst, r.Version)
}

func (r *SetACLRequest) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *SetACLRequest) readFrom(rd *Reader) {
	r.Path = rd.String()
	r.ACL = readRecords(rd, r.ACL, minACLSize)
	r.Version = rd.Int32()
}

// SetACLResponse is the jute record proto.SetACLResponse.
type SetACLResponse struct {
	Stat Stat
}

func (r *SetACLResponse) Encode(dst []byte) []byte { return r.Stat.Encode(dst) }

func (r *SetACLResponse) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *SetACLResponse) readFrom(rd *Reader) { r.Stat.readFrom(rd) }
