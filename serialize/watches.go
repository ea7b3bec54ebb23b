package serialize

// Watch records: restoring watches after a reconnect, persistent watches,
// and checking or removing watches.

// SetWatches is the jute record proto.SetWatches (OpSetWatches, Xid
// XidSetWatches): the watches to restore after a reconnect, each list of
// paths relative to the zxid RelativeZxid.
type SetWatches struct {
	RelativeZxid int64
	DataWatches  []string
	ExistWatches []string
	ChildWatches []string
}

func (r *SetWatches) Encode(dst []byte) []byte {
	dst = AppendInt64(dst, r.RelativeZxid)
	dst = AppendStrings(dst, r.DataWatches)
	dst = AppendStrings(dst, r.ExistWatches)
	return AppendStrings(dst, r.ChildWatches)
}

func (r *SetWatches) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *SetWatches) readFrom(rd *Reader) {
	r.RelativeZxid = rd.Int64()
	r.DataWatches = rd.Strings(r.DataWatches)
	r.ExistWatches = rd.Strings(r.ExistWatches)
	r.ChildWatches = rd.Strings(r.ChildWatches)
}

// SetWatches2 is the jute record proto.SetWatches2 (OpSetWatches2):
// SetWatches plus the persistent and persistent-recursive watches.
type SetWatches2 struct {
	RelativeZxid               int64
	DataWatches                []string
	ExistWatches               []string
	ChildWatches               []string
	PersistentWatches          []string
	PersistentRecursiveWatches []string
}

func (r *SetWatches2) Encode(dst []byte) []byte {
	dst = AppendInt64(dst, r.RelativeZxid)
	dst = AppendStrings(dst, r.DataWatches)
	dst = AppendStrings(dst, r.ExistWatches)
	dst = AppendStrings(dst, r.ChildWatches)
	dst = AppendStrings(dst, r.PersistentWatches)
	return AppendStrings(dst, r.PersistentRecursiveWatches)
}

func (r *SetWatches2) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *SetWatches2) readFrom(rd *Reader) {
	r.RelativeZxid = rd.Int64()
	r.DataWatches = rd.Strings(r.DataWatches)
	r.ExistWatches = rd.Strings(r.ExistWatches)
	r.ChildWatches = rd.Strings(r.ChildWatches)
	r.PersistentWatches = rd.Strings(r.PersistentWatches)
	r.PersistentRecursiveWatches = rd.Strings(r.PersistentRecursiveWatches)
}

// AddWatchRequest is the jute record proto.AddWatchRequest (OpAddWatch);
// Mode is an AddWatchMode.
type AddWatchRequest struct {
	Path string
	Mode int32
}

func (r *AddWatchRequest) Encode(dst []byte) []byte {
	dst = AppendString(dst, r.Path)
	return AppendInt32(dst, r.Mode)
}

func (r *AddWatchRequest) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *AddWatchRequest) readFrom(rd *Reader) {
	r.Path = rd.String()
	r.Mode = rd.Int32()
}

// CheckWatchesRequest is the jute record proto.CheckWatchesRequest
// (OpCheckWatches); Type is a WatcherType.
type CheckWatchesRequest struct {
	Path string
	Type int32
}

func (r *CheckWatchesRequest) Encode(dst []byte) []byte {
	dst = AppendString(dst, r.Path)
	return AppendInt32(dst, r.Type)
}

func (r *CheckWatchesRequest) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *CheckWatchesRequest) readFrom(rd *Reader) {
	r.Path = rd.String()
	r.Type = rd.Int32()
}

// RemoveWatchesRequest is the jute record proto.RemoveWatchesRequest
// (OpRemoveWatches); Type is a WatcherType.
type RemoveWatchesRequest struct {
	Path string
	Type int32
}

func (r *RemoveWatchesRequest) Encode(dst []byte) []byte {
	dst = AppendString(dst, r.Path)
	return AppendInt32(dst, r.Type)
}

func (r *RemoveWatchesRequest) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *RemoveWatchesRequest) readFrom(rd *Reader) {
	r.Path = rd.String()
	r.Type = rd.Int32()
}
