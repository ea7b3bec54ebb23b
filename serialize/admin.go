package serialize

// Administrative records: reconfig, ephemerals and the child quota of
// 3.x servers.

// ReconfigRequest is the jute record proto.ReconfigRequest (OpReconfig),
// answered with a GetDataResponse holding the new configuration.
// CurConfigID -1 skips the version check.
//
// The three strings are null on the wire when empty, as the Java client
// sends the ones it does not use and the C client sends NULL: the server
// makes a non-incremental reconfig of any non-null NewMembers, so an
// empty one would ask it to replace the membership with nothing.
type ReconfigRequest struct {
	JoiningServers string // server specs, comma-separated; "" is null
	LeavingServers string // server ids, comma-separated; "" is null
	NewMembers     string // the whole membership; "" (null) makes the reconfig incremental
	CurConfigID    int64
}

func (r *ReconfigRequest) Encode(dst []byte) []byte {
	dst = AppendNullableString(dst, r.JoiningServers)
	dst = AppendNullableString(dst, r.LeavingServers)
	dst = AppendNullableString(dst, r.NewMembers)
	return AppendInt64(dst, r.CurConfigID)
}

func (r *ReconfigRequest) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *ReconfigRequest) readFrom(rd *Reader) {
	r.JoiningServers = rd.String()
	r.LeavingServers = rd.String()
	r.NewMembers = rd.String()
	r.CurConfigID = rd.Int64()
}

// GetEphemeralsRequest is the jute record proto.GetEphemeralsRequest
// (OpGetEphemerals): the session's ephemeral nodes under PrefixPath.
type GetEphemeralsRequest struct {
	PrefixPath string
}

func (r *GetEphemeralsRequest) Encode(dst []byte) []byte { return AppendString(dst, r.PrefixPath) }

func (r *GetEphemeralsRequest) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *GetEphemeralsRequest) readFrom(rd *Reader) { r.PrefixPath = rd.String() }

// GetEphemeralsResponse is the jute record proto.GetEphemeralsResponse.
type GetEphemeralsResponse struct {
	Ephemerals []string
}

func (r *GetEphemeralsResponse) Encode(dst []byte) []byte {
	return AppendStrings(dst, r.Ephemerals)
}

func (r *GetEphemeralsResponse) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *GetEphemeralsResponse) readFrom(rd *Reader) { r.Ephemerals = rd.Strings(r.Ephemerals) }

// GetMaxChildrenRequest is the jute record proto.GetMaxChildrenRequest.
type GetMaxChildrenRequest struct {
	Path string
}

func (r *GetMaxChildrenRequest) Encode(dst []byte) []byte { return AppendString(dst, r.Path) }

func (r *GetMaxChildrenRequest) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *GetMaxChildrenRequest) readFrom(rd *Reader) { r.Path = rd.String() }

// GetMaxChildrenResponse is the jute record proto.GetMaxChildrenResponse.
type GetMaxChildrenResponse struct {
	Max int32
}

func (r *GetMaxChildrenResponse) Encode(dst []byte) []byte { return AppendInt32(dst, r.Max) }

func (r *GetMaxChildrenResponse) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *GetMaxChildrenResponse) readFrom(rd *Reader) { r.Max = rd.Int32() }

// SetMaxChildrenRequest is the jute record proto.SetMaxChildrenRequest.
type SetMaxChildrenRequest struct {
	Path string
	Max  int32
}

func (r *SetMaxChildrenRequest) Encode(dst []byte) []byte {
	dst = AppendString(dst, r.Path)
	return AppendInt32(dst, r.Max)
}

func (r *SetMaxChildrenRequest) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *SetMaxChildrenRequest) readFrom(rd *Reader) {
	r.Path = rd.String()
	r.Max = rd.Int32()
}
