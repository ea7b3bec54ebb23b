package serialize

// Headers: what precedes every request and reply body, the parts of a multi,
// and the two bodies that are not answers to a request (errors, watches).

// RequestHeader is the jute record proto.RequestHeader, in front of every
// request body: Xid matches the reply to the request, Type is an OpCode.
type RequestHeader struct {
	Xid  int32
	Type int32
}

func (r *RequestHeader) Encode(dst []byte) []byte {
	dst = AppendInt32(dst, r.Xid)
	return AppendInt32(dst, r.Type)
}

func (r *RequestHeader) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *RequestHeader) readFrom(rd *Reader) {
	r.Xid = rd.Int32()
	r.Type = rd.Int32()
}

// ReplyHeader is the jute record proto.ReplyHeader, in front of every reply
// body: the request's Xid (or a special Xid*), the server's last zxid and an
// Error code (0 for success).
type ReplyHeader struct {
	Xid  int32
	Zxid int64
	Err  int32
}

// ReplyHeaderLen is the size of a ReplyHeader on the wire.
const ReplyHeaderLen = 4 + 8 + 4

func (r *ReplyHeader) Encode(dst []byte) []byte {
	dst = AppendInt32(dst, r.Xid)
	dst = AppendInt64(dst, r.Zxid)
	return AppendInt32(dst, r.Err)
}

func (r *ReplyHeader) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *ReplyHeader) readFrom(rd *Reader) {
	r.Xid = rd.Int32()
	r.Zxid = rd.Int64()
	r.Err = rd.Int32()
}

// MultiHeader is the jute record proto.MultiHeader, in front of each
// operation of a multi request or result; Done marks the end (Type -1).
type MultiHeader struct {
	Type int32
	Done bool
	Err  int32
}

func (r *MultiHeader) Encode(dst []byte) []byte {
	dst = AppendInt32(dst, r.Type)
	dst = AppendBool(dst, r.Done)
	return AppendInt32(dst, r.Err)
}

func (r *MultiHeader) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *MultiHeader) readFrom(rd *Reader) {
	r.Type = rd.Int32()
	r.Done = rd.Bool()
	r.Err = rd.Int32()
}

// ErrorResponse is the jute record proto.ErrorResponse: the result of a
// failed operation inside a multi.
type ErrorResponse struct {
	Err int32
}

func (r *ErrorResponse) Encode(dst []byte) []byte { return AppendInt32(dst, r.Err) }

func (r *ErrorResponse) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *ErrorResponse) readFrom(rd *Reader) { r.Err = rd.Int32() }

// WatcherEvent is the jute record proto.WatcherEvent: the body of a
// notification (Xid XidWatcherEvent). Type is an EventType, State a
// KeeperState, Path the server-side path (chroot included).
type WatcherEvent struct {
	Type  int32
	State int32
	Path  string
}

func (r *WatcherEvent) Encode(dst []byte) []byte {
	dst = AppendInt32(dst, r.Type)
	dst = AppendInt32(dst, r.State)
	return AppendString(dst, r.Path)
}

func (r *WatcherEvent) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *WatcherEvent) readFrom(rd *Reader) {
	r.Type = rd.Int32()
	r.State = rd.Int32()
	r.Path = rd.String()
}
