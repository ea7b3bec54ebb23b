package serialize

// SASL records: the tokens exchanged by OpSASL.

// GetSASLRequest is the jute record proto.GetSASLRequest.
type GetSASLRequest struct {
	Token []byte
}

func (r *GetSASLRequest) Encode(dst []byte) []byte { return AppendBuffer(dst, r.Token) }

func (r *GetSASLRequest) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *GetSASLRequest) readFrom(rd *Reader) { r.Token = rd.BufferInto(r.Token) }

// SetSASLRequest is the jute record proto.SetSASLRequest.
type SetSASLRequest struct {
	Token []byte
}

func (r *SetSASLRequest) Encode(dst []byte) []byte { return AppendBuffer(dst, r.Token) }

func (r *SetSASLRequest) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *SetSASLRequest) readFrom(rd *Reader) { r.Token = rd.BufferInto(r.Token) }

// SetSASLResponse is the jute record proto.SetSASLResponse.
type SetSASLResponse struct {
	Token []byte
}

func (r *SetSASLResponse) Encode(dst []byte) []byte { return AppendBuffer(dst, r.Token) }

func (r *SetSASLResponse) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *SetSASLResponse) readFrom(rd *Reader) { r.Token = rd.BufferInto(r.Token) }
