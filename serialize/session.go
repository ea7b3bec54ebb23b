package serialize

// Session records: the handshake, authentication and whoami.

// ConnectRequest is the jute record proto.ConnectRequest, the first packet
// on a connection. Clients since 3.4 append a readOnly boolean after the
// record (not part of it; AppendBool it after Encode).
type ConnectRequest struct {
	ProtocolVersion int32
	LastZxidSeen    int64
	TimeOut         int32 // requested session timeout, ms
	SessionID       int64 // 0 for a new session
	Passwd          []byte
}

func (r *ConnectRequest) Encode(dst []byte) []byte {
	dst = AppendInt32(dst, r.ProtocolVersion)
	dst = AppendInt64(dst, r.LastZxidSeen)
	dst = AppendInt32(dst, r.TimeOut)
	dst = AppendInt64(dst, r.SessionID)
	return AppendBuffer(dst, r.Passwd)
}

func (r *ConnectRequest) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *ConnectRequest) readFrom(rd *Reader) {
	r.ProtocolVersion = rd.Int32()
	r.LastZxidSeen = rd.Int64()
	r.TimeOut = rd.Int32()
	r.SessionID = rd.Int64()
	r.Passwd = rd.BufferInto(r.Passwd)
}

// ConnectResponse is the jute record proto.ConnectResponse, the server's
// answer to ConnectRequest. Servers since 3.4 append a readOnly boolean
// after the record, which Decode leaves unread.
type ConnectResponse struct {
	ProtocolVersion int32
	TimeOut         int32 // negotiated session timeout, ms; 0 if expired
	SessionID       int64
	Passwd          []byte
}

func (r *ConnectResponse) Encode(dst []byte) []byte {
	dst = AppendInt32(dst, r.ProtocolVersion)
	dst = AppendInt32(dst, r.TimeOut)
	dst = AppendInt64(dst, r.SessionID)
	return AppendBuffer(dst, r.Passwd)
}

func (r *ConnectResponse) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *ConnectResponse) readFrom(rd *Reader) {
	r.ProtocolVersion = rd.Int32()
	r.TimeOut = rd.Int32()
	r.SessionID = rd.Int64()
	r.Passwd = rd.BufferInto(r.Passwd)
}

// AuthPacket is the jute record proto.AuthPacket, the body of an addAuth
// request (OpSetAuth, Xid XidAuth).
type AuthPacket struct {
	Type   int32
	Scheme string
	Auth   []byte
}

func (r *AuthPacket) Encode(dst []byte) []byte {
	dst = AppendInt32(dst, r.Type)
	dst = AppendString(dst, r.Scheme)
	return AppendBuffer(dst, r.Auth)
}

func (r *AuthPacket) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *AuthPacket) readFrom(rd *Reader) {
	r.Type = rd.Int32()
	r.Scheme = rd.String()
	r.Auth = rd.BufferInto(r.Auth)
}

// WhoAmIResponse is the jute record proto.WhoAmIResponse, the answer to
// OpWhoAmI (which has no request body): the session's identities.
type WhoAmIResponse struct {
	ClientInfo []ClientInfo
}

func (r *WhoAmIResponse) Encode(dst []byte) []byte {
	return appendRecords(dst, r.ClientInfo)
}

func (r *WhoAmIResponse) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *WhoAmIResponse) readFrom(rd *Reader) {
	r.ClientInfo = readRecords(rd, r.ClientInfo, minClientInfoSize)
}
