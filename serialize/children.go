package serialize

// Children records: getChildren, getChildren2 and getAllChildrenNumber.

// GetChildrenRequest is the jute record proto.GetChildrenRequest.
type GetChildrenRequest struct {
	Path  string
	Watch bool
}

func (r *GetChildrenRequest) Encode(dst []byte) []byte {
	dst = AppendString(dst, r.Path)
	return AppendBool(dst, r.Watch)
}

func (r *GetChildrenRequest) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *GetChildrenRequest) readFrom(rd *Reader) {
	r.Path = rd.String()
	r.Watch = rd.Bool()
}

// GetChildrenResponse is the jute record proto.GetChildrenResponse: the
// names of the children, without the parent path.
type GetChildrenResponse struct {
	Children []string
}

func (r *GetChildrenResponse) Encode(dst []byte) []byte { return AppendStrings(dst, r.Children) }

func (r *GetChildrenResponse) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *GetChildrenResponse) readFrom(rd *Reader) { r.Children = rd.Strings(r.Children) }

// GetChildren2Request is the jute record proto.GetChildren2Request.
type GetChildren2Request struct {
	Path  string
	Watch bool
}

func (r *GetChildren2Request) Encode(dst []byte) []byte {
	dst = AppendString(dst, r.Path)
	return AppendBool(dst, r.Watch)
}

func (r *GetChildren2Request) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *GetChildren2Request) readFrom(rd *Reader) {
	r.Path = rd.String()
	r.Watch = rd.Bool()
}

// GetChildren2Response is the jute record proto.GetChildren2Response: the
// children and the parent's Stat.
type GetChildren2Response struct {
	Children []string
	Stat     Stat
}

func (r *GetChildren2Response) Encode(dst []byte) []byte {
	dst = AppendStrings(dst, r.Children)
	return r.Stat.Encode(dst)
}

func (r *GetChildren2Response) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *GetChildren2Response) readFrom(rd *Reader) {
	r.Children = rd.Strings(r.Children)
	r.Stat.readFrom(rd)
}

// GetAllChildrenNumberRequest is the jute record
// proto.GetAllChildrenNumberRequest: count every descendant of Path.
type GetAllChildrenNumberRequest struct {
	Path string
}

func (r *GetAllChildrenNumberRequest) Encode(dst []byte) []byte { return AppendString(dst, r.Path) }

func (r *GetAllChildrenNumberRequest) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *GetAllChildrenNumberRequest) readFrom(rd *Reader) { r.Path = rd.String() }

// GetAllChildrenNumberResponse is the jute record
// proto.GetAllChildrenNumberResponse.
type GetAllChildrenNumberResponse struct {
	TotalNumber int32
}

func (r *GetAllChildrenNumberResponse) Encode(dst []byte) []byte {
	return AppendInt32(dst, r.TotalNumber)
}

func (r *GetAllChildrenNumberResponse) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *GetAllChildrenNumberResponse) readFrom(rd *Reader) { r.TotalNumber = rd.Int32() }
