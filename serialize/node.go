package serialize

// Node records: create, delete, exists, getData, setData, check and sync.

// CreateRequest is the jute record proto.CreateRequest, the body of OpCreate,
// OpCreate2 and OpCreateContainer; Flags is a CreateMode.
type CreateRequest struct {
	Path  string
	Data  []byte
	ACL   []ACL
	Flags int32
}

func (r *CreateRequest) Encode(dst []byte) []byte {
	dst = AppendString(dst, r.Path)
	dst = AppendBuffer(dst, r.Data)
	dst = appendRecords(dst, r.ACL)
	return AppendInt32(dst, r.Flags)
}

func (r *CreateRequest) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *CreateRequest) readFrom(rd *Reader) {
	r.Path = rd.String()
	r.Data = rd.BufferInto(r.Data)
	r.ACL = readRecords(rd, r.ACL, minACLSize)
	r.Flags = rd.Int32()
}

// CreateTTLRequest is the jute record proto.CreateTTLRequest, the body of
// OpCreateTTL; TTL is in milliseconds, at most MaxTTL.
type CreateTTLRequest struct {
	Path  string
	Data  []byte
	ACL   []ACL
	Flags int32
	TTL   int64
}

func (r *CreateTTLRequest) Encode(dst []byte) []byte {
	dst = AppendString(dst, r.Path)
	dst = AppendBuffer(dst, r.Data)
	dst = appendRecords(dst, r.ACL)
	dst = AppendInt32(dst, r.Flags)
	return AppendInt64(dst, r.TTL)
}

func (r *CreateTTLRequest) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *CreateTTLRequest) readFrom(rd *Reader) {
	r.Path = rd.String()
	r.Data = rd.BufferInto(r.Data)
	r.ACL = readRecords(rd, r.ACL, minACLSize)
	r.Flags = rd.Int32()
	r.TTL = rd.Int64()
}

// CreateResponse is the jute record proto.CreateResponse: the path created
// (with the sequence number, if any).
type CreateResponse struct {
	Path string
}

func (r *CreateResponse) Encode(dst []byte) []byte { return AppendString(dst, r.Path) }

func (r *CreateResponse) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *CreateResponse) readFrom(rd *Reader) { r.Path = rd.String() }

// Create2Response is the jute record proto.Create2Response, the answer to
// OpCreate2, OpCreateContainer and OpCreateTTL.
type Create2Response struct {
	Path string
	Stat Stat
}

func (r *Create2Response) Encode(dst []byte) []byte {
	dst = AppendString(dst, r.Path)
	return r.Stat.Encode(dst)
}

func (r *Create2Response) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *Create2Response) readFrom(rd *Reader) {
	r.Path = rd.String()
	r.Stat.readFrom(rd)
}

// DeleteRequest is the jute record proto.DeleteRequest; Version -1 matches
// any version.
type DeleteRequest struct {
	Path    string
	Version int32
}

func (r *DeleteRequest) Encode(dst []byte) []byte {
	dst = AppendString(dst, r.Path)
	return AppendInt32(dst, r.Version)
}

func (r *DeleteRequest) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *DeleteRequest) readFrom(rd *Reader) {
	r.Path = rd.String()
	r.Version = rd.Int32()
}

// ExistsRequest is the jute record proto.ExistsRequest.
type ExistsRequest struct {
	Path  string
	Watch bool
}

func (r *ExistsRequest) Encode(dst []byte) []byte {
	dst = AppendString(dst, r.Path)
	return AppendBool(dst, r.Watch)
}

func (r *ExistsRequest) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *ExistsRequest) readFrom(rd *Reader) {
	r.Path = rd.String()
	r.Watch = rd.Bool()
}

// ExistsResponse is the jute record proto.ExistsResponse.
type ExistsResponse struct {
	Stat Stat
}

func (r *ExistsResponse) Encode(dst []byte) []byte { return r.Stat.Encode(dst) }

func (r *ExistsResponse) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *ExistsResponse) readFrom(rd *Reader) { r.Stat.readFrom(rd) }

// GetDataRequest is the jute record proto.GetDataRequest.
type GetDataRequest struct {
	Path  string
	Watch bool
}

func (r *GetDataRequest) Encode(dst []byte) []byte {
	dst = AppendString(dst, r.Path)
	return AppendBool(dst, r.Watch)
}

func (r *GetDataRequest) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *GetDataRequest) readFrom(rd *Reader) {
	r.Path = rd.String()
	r.Watch = rd.Bool()
}

// GetDataResponse is the jute record proto.GetDataResponse, also the answer
// to OpReconfig and to getData on ConfigNode. Decode copies Data into the
// record's own slice, reusing its capacity.
type GetDataResponse struct {
	Data []byte
	Stat Stat
}

func (r *GetDataResponse) Encode(dst []byte) []byte {
	dst = AppendBuffer(dst, r.Data)
	return r.Stat.Encode(dst)
}

func (r *GetDataResponse) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *GetDataResponse) readFrom(rd *Reader) {
	r.Data = rd.BufferInto(r.Data)
	r.Stat.readFrom(rd)
}

// SetDataRequest is the jute record proto.SetDataRequest; Version -1
// matches any version.
type SetDataRequest struct {
	Path    string
	Data    []byte
	Version int32
}

func (r *SetDataRequest) Encode(dst []byte) []byte {
	dst = AppendString(dst, r.Path)
	dst = AppendBuffer(dst, r.Data)
	return AppendInt32(dst, r.Version)
}

func (r *SetDataRequest) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *SetDataRequest) readFrom(rd *Reader) {
	r.Path = rd.String()
	r.Data = rd.BufferInto(r.Data)
	r.Version = rd.Int32()
}

// SetDataResponse is the jute record proto.SetDataResponse.
type SetDataResponse struct {
	Stat Stat
}

func (r *SetDataResponse) Encode(dst []byte) []byte { return r.Stat.Encode(dst) }

func (r *SetDataResponse) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *SetDataResponse) readFrom(rd *Reader) { r.Stat.readFrom(rd) }

// CheckVersionRequest is the jute record proto.CheckVersionRequest, the body
// of OpCheck inside a multi.
type CheckVersionRequest struct {
	Path    string
	Version int32
}

func (r *CheckVersionRequest) Encode(dst []byte) []byte {
	dst = AppendString(dst, r.Path)
	return AppendInt32(dst, r.Version)
}

func (r *CheckVersionRequest) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *CheckVersionRequest) readFrom(rd *Reader) {
	r.Path = rd.String()
	r.Version = rd.Int32()
}

// SyncRequest is the jute record proto.SyncRequest.
type SyncRequest struct {
	Path string
}

func (r *SyncRequest) Encode(dst []byte) []byte { return AppendString(dst, r.Path) }

func (r *SyncRequest) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *SyncRequest) readFrom(rd *Reader) { r.Path = rd.String() }

// SyncResponse is the jute record proto.SyncResponse.
type SyncResponse struct {
	Path string
}

func (r *SyncResponse) Encode(dst []byte) []byte { return AppendString(dst, r.Path) }

func (r *SyncResponse) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *SyncResponse) readFrom(rd *Reader) { r.Path = rd.String() }
