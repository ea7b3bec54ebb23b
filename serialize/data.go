package serialize

// Records of the module org.apache.zookeeper.data: identities, ACLs and the
// node metadata that many responses carry.

// Id is the jute record data.Id: an authentication scheme and an identity
// within it ("world"/"anyone", "digest"/"user:hash", "ip"/"10.0.0.0/8").
type Id struct {
	Scheme string
	ID     string
}

func (r *Id) Encode(dst []byte) []byte {
	dst = AppendString(dst, r.Scheme)
	return AppendString(dst, r.ID)
}

func (r *Id) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *Id) readFrom(rd *Reader) {
	r.Scheme = rd.String()
	r.ID = rd.String()
}

// ACL is the jute record data.ACL: permission bits (see Perm) granted to an Id.
type ACL struct {
	Perms int32
	ID    Id
}

func (r *ACL) Encode(dst []byte) []byte {
	dst = AppendInt32(dst, r.Perms)
	return r.ID.Encode(dst)
}

func (r *ACL) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *ACL) readFrom(rd *Reader) {
	r.Perms = rd.Int32()
	r.ID.readFrom(rd)
}

// Stat is the jute record data.Stat: the metadata of a znode as clients see it.
type Stat struct {
	Czxid          int64 // zxid of the create
	Mzxid          int64 // zxid of the last data change
	Ctime          int64 // creation time, ms since the epoch
	Mtime          int64 // last modification time, ms since the epoch
	Version        int32 // data version
	Cversion       int32 // children version
	Aversion       int32 // ACL version
	EphemeralOwner int64 // owning session if ephemeral, else 0
	DataLength     int32
	NumChildren    int32
	Pzxid          int64 // zxid of the last change to the children
}

func (r *Stat) Encode(dst []byte) []byte {
	dst = AppendInt64(dst, r.Czxid)
	dst = AppendInt64(dst, r.Mzxid)
	dst = AppendInt64(dst, r.Ctime)
	dst = AppendInt64(dst, r.Mtime)
	dst = AppendInt32(dst, r.Version)
	dst = AppendInt32(dst, r.Cversion)
	dst = AppendInt32(dst, r.Aversion)
	dst = AppendInt64(dst, r.EphemeralOwner)
	dst = AppendInt32(dst, r.DataLength)
	dst = AppendInt32(dst, r.NumChildren)
	return AppendInt64(dst, r.Pzxid)
}

func (r *Stat) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *Stat) readFrom(rd *Reader) {
	r.Czxid = rd.Int64()
	r.Mzxid = rd.Int64()
	r.Ctime = rd.Int64()
	r.Mtime = rd.Int64()
	r.Version = rd.Int32()
	r.Cversion = rd.Int32()
	r.Aversion = rd.Int32()
	r.EphemeralOwner = rd.Int64()
	r.DataLength = rd.Int32()
	r.NumChildren = rd.Int32()
	r.Pzxid = rd.Int64()
}

// StatPersisted is the jute record data.StatPersisted: Stat as the server
// stores it, without DataLength and NumChildren.
type StatPersisted struct {
	Czxid          int64
	Mzxid          int64
	Ctime          int64
	Mtime          int64
	Version        int32
	Cversion       int32
	Aversion       int32
	EphemeralOwner int64
	Pzxid          int64
}

func (r *StatPersisted) Encode(dst []byte) []byte {
	dst = AppendInt64(dst, r.Czxid)
	dst = AppendInt64(dst, r.Mzxid)
	dst = AppendInt64(dst, r.Ctime)
	dst = AppendInt64(dst, r.Mtime)
	dst = AppendInt32(dst, r.Version)
	dst = AppendInt32(dst, r.Cversion)
	dst = AppendInt32(dst, r.Aversion)
	dst = AppendInt64(dst, r.EphemeralOwner)
	return AppendInt64(dst, r.Pzxid)
}

func (r *StatPersisted) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *StatPersisted) readFrom(rd *Reader) {
	r.Czxid = rd.Int64()
	r.Mzxid = rd.Int64()
	r.Ctime = rd.Int64()
	r.Mtime = rd.Int64()
	r.Version = rd.Int32()
	r.Cversion = rd.Int32()
	r.Aversion = rd.Int32()
	r.EphemeralOwner = rd.Int64()
	r.Pzxid = rd.Int64()
}

// ClientInfo is the jute record data.ClientInfo: one identity of a session,
// as listed by WhoAmIResponse.
type ClientInfo struct {
	AuthScheme string
	User       string
}

func (r *ClientInfo) Encode(dst []byte) []byte {
	dst = AppendString(dst, r.AuthScheme)
	return AppendString(dst, r.User)
}

func (r *ClientInfo) Decode(src []byte) (int, error) {
	rd := NewReader(src)
	r.readFrom(&rd)
	return consumed(&rd)
}

func (r *ClientInfo) readFrom(rd *Reader) {
	r.AuthScheme = rd.String()
	r.User = rd.String()
}
