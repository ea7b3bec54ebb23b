package bench

import (
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"sync/atomic"

	"github.com/zkloop/zkloop/serialize"
)

// Buffer sizes of a fake connection. Replies to one read are written with
// one write; a frame larger than the read buffer grows it.
const (
	fakeReadBuf  = 64 << 10
	fakeWriteBuf = 64 << 10
	fakeTimeout  = 30000 // ms, when the client asks for none
)

// FakeServer is a ZooKeeper stand-in for benchmarks: it listens on
// 127.0.0.1, performs the handshake and answers every request at once with
// a canned reply, without allocating per request, so that the client's
// cost dominates what a benchmark measures. It keeps no tree:
//
//   - getData answers the data given to NewFakeServer and a Stat; a getData
//     with the watch flag is followed by a NodeDataChanged event for its
//     path, so a watcher that re-arms fires again at once;
//   - exists and setData answer the Stat; create echoes the path (create2
//     adds the Stat); delete, setWatches, setAuth and ping answer an empty
//     reply; sync echoes the path; getChildren answers no children;
//   - closeSession is answered and the connection closed;
//   - anything else is answered with ErrUnimplemented.
//
// Each connection has one goroutine, one read and one write buffer.
type FakeServer struct {
	ln        net.Listener
	dataReply []byte // GetDataResponse: data, then Stat
	statReply []byte // Stat alone: exists, setData, and create2's tail
	zxid      atomic.Int64
	sessionID atomic.Int64

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// NewFakeServer starts a fake server whose nodes all hold data (copied).
func NewFakeServer(data []byte) (*FakeServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	return newFakeServer(ln, data), nil
}

// NewTLSFakeServer starts a fake server that speaks TLS with cfg.
func NewTLSFakeServer(data []byte, cfg *tls.Config) (*FakeServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	return newFakeServer(tls.NewListener(ln, cfg), data), nil
}

func newFakeServer(ln net.Listener, data []byte) *FakeServer {
	stat := serialize.Stat{
		Czxid: 1, Mzxid: 2, Ctime: 1700000000000, Mtime: 1700000000001,
		Version: 1, DataLength: int32(len(data)), Pzxid: 1,
	}
	if data == nil {
		data = []byte{}
	}
	reply := serialize.GetDataResponse{Data: data, Stat: stat}
	s := &FakeServer{
		ln:        ln,
		dataReply: reply.Encode(nil),
		statReply: stat.Encode(nil),
		conns:     make(map[net.Conn]struct{}),
	}
	s.sessionID.Store(0x10000_0000)
	s.wg.Add(1)
	go s.accept()
	return s
}

// Addr returns the host:port clients connect to.
func (s *FakeServer) Addr() string { return s.ln.Addr().String() }

// Close stops accepting, closes every connection and waits for their
// goroutines. It is idempotent.
func (s *FakeServer) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	for c := range s.conns {
		_ = c.Close() // its goroutine sees the error and ends
	}
	s.mu.Unlock()
	_ = s.ln.Close() // accept sees the error and ends
	s.wg.Wait()
}

func (s *FakeServer) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return // closed
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serve(c)
	}
}

func (s *FakeServer) serve(c net.Conn) {
	defer s.wg.Done()
	fc := fakeConn{srv: s, c: c, rbuf: make([]byte, fakeReadBuf), wbuf: make([]byte, 0, fakeWriteBuf)}
	fc.run()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	_ = c.Close() // may already be closed by Close
}

// fakeConn is one client connection of a FakeServer, owned by its
// goroutine.
type fakeConn struct {
	srv        *FakeServer
	c          net.Conn
	rbuf       []byte
	rlen       int
	wbuf       []byte
	handshaken bool
}

// errCloseSession ends a connection after its closeSession reply.
var errCloseSession = errors.New("session closed")

// run reads, answers every whole frame of each read, and writes the
// answers with one write, until the client goes or the server closes.
func (fc *fakeConn) run() {
	for {
		if fc.rlen == len(fc.rbuf) {
			fc.rbuf = append(fc.rbuf, make([]byte, len(fc.rbuf))...)
		}
		n, err := fc.c.Read(fc.rbuf[fc.rlen:])
		if err != nil {
			return
		}
		fc.rlen += n
		off := 0
		for fc.rlen-off >= serialize.FrameHeaderLen {
			size, err := serialize.FrameLen(fc.rbuf[off:], serialize.DefaultMaxBuffer)
			if err != nil {
				return
			}
			end := off + serialize.FrameHeaderLen + size
			if end > fc.rlen {
				break
			}
			err = fc.answer(fc.rbuf[off+serialize.FrameHeaderLen : end])
			off = end
			if err != nil {
				_ = fc.flush() // the reply to closeSession; the client may be gone
				return
			}
		}
		fc.rlen = copy(fc.rbuf, fc.rbuf[off:fc.rlen])
		if err := fc.flush(); err != nil {
			return
		}
	}
}

func (fc *fakeConn) flush() error {
	if len(fc.wbuf) == 0 {
		return nil
	}
	_, err := fc.c.Write(fc.wbuf)
	fc.wbuf = fc.wbuf[:0]
	return err
}

// answer appends the reply to one request frame (or the handshake).
func (fc *fakeConn) answer(body []byte) error {
	if !fc.handshaken {
		return fc.handshake(body)
	}
	var hdr serialize.RequestHeader
	n, err := hdr.Decode(body)
	if err != nil {
		return err
	}
	body = body[n:]
	switch op := serialize.OpCode(hdr.Type); op {
	case serialize.OpGetData:
		path, watch := pathAndWatch(body)
		fc.reply(hdr.Xid, fc.srv.nextZxid(), serialize.Ok, fc.srv.dataReply)
		if watch {
			fc.changed(path)
		}
	case serialize.OpExists, serialize.OpSetData:
		fc.reply(hdr.Xid, fc.srv.nextZxid(), serialize.Ok, fc.srv.statReply)
	case serialize.OpCreate, serialize.OpCreate2, serialize.OpSync:
		// CreateRequest and SyncRequest start with the path, encoded as
		// CreateResponse and SyncResponse encode it.
		path, _ := pathAndWatch(body)
		start := fc.begin(hdr.Xid, fc.srv.nextZxid(), serialize.Ok)
		fc.wbuf = serialize.AppendBuffer(fc.wbuf, path)
		if op == serialize.OpCreate2 {
			fc.wbuf = append(fc.wbuf, fc.srv.statReply...)
		}
		fc.finish(start)
	case serialize.OpGetChildren:
		fc.reply(hdr.Xid, fc.srv.nextZxid(), serialize.Ok, emptyVector[:])
	case serialize.OpGetChildren2:
		start := fc.begin(hdr.Xid, fc.srv.nextZxid(), serialize.Ok)
		fc.wbuf = append(append(fc.wbuf, emptyVector[:]...), fc.srv.statReply...)
		fc.finish(start)
	case serialize.OpDelete, serialize.OpPing, serialize.OpSetWatches, serialize.OpSetWatches2, serialize.OpSetAuth:
		fc.reply(hdr.Xid, fc.srv.zxid.Load(), serialize.Ok, nil)
	case serialize.OpClose:
		fc.reply(hdr.Xid, fc.srv.nextZxid(), serialize.Ok, nil)
		return errCloseSession
	default:
		fc.reply(hdr.Xid, fc.srv.zxid.Load(), serialize.ErrUnimplemented, nil)
	}
	return nil
}

// emptyVector is a vector of length 0.
var emptyVector = [4]byte{}

// pathAndWatch reads the path (without making a string) and the watch
// flag of an exists, getData or getChildren request. Create and sync
// requests also start with the path; their callers ignore the flag.
func pathAndWatch(body []byte) ([]byte, bool) {
	rd := serialize.NewReader(body)
	path := rd.BufferAlias()
	watch := rd.Len() > 0 && rd.Bool()
	return path, watch
}

// handshake answers the ConnectRequest: the timeout asked for, the
// session asked for or a new one, a password, not read-only.
func (fc *fakeConn) handshake(body []byte) error {
	var req serialize.ConnectRequest
	if _, err := req.Decode(body); err != nil {
		return err
	}
	resp := serialize.ConnectResponse{
		TimeOut:   req.TimeOut,
		SessionID: req.SessionID,
		Passwd:    make([]byte, serialize.PasswdLen),
	}
	if resp.TimeOut <= 0 {
		resp.TimeOut = fakeTimeout
	}
	if resp.SessionID == 0 {
		resp.SessionID = fc.srv.sessionID.Add(1)
	}
	var start int
	fc.wbuf, start = serialize.BeginFrame(fc.wbuf)
	fc.wbuf = resp.Encode(fc.wbuf)
	fc.wbuf = serialize.AppendBool(fc.wbuf, false)
	fc.finish(start)
	fc.handshaken = true
	return nil
}

// changed appends a NodeDataChanged event for path.
func (fc *fakeConn) changed(path []byte) {
	start := fc.begin(serialize.XidWatcherEvent, -1, serialize.Ok)
	fc.wbuf = serialize.AppendInt32(fc.wbuf, int32(serialize.EventChanged))
	fc.wbuf = serialize.AppendInt32(fc.wbuf, int32(serialize.KeeperSyncConnected))
	fc.wbuf = serialize.AppendBuffer(fc.wbuf, path)
	fc.finish(start)
}

func (fc *fakeConn) reply(xid int32, zxid int64, rc serialize.Error, body []byte) {
	start := fc.begin(xid, zxid, rc)
	fc.wbuf = append(fc.wbuf, body...)
	fc.finish(start)
}

// begin starts a reply frame with its ReplyHeader and returns where the
// frame starts, for finish.
func (fc *fakeConn) begin(xid int32, zxid int64, rc serialize.Error) int {
	var start int
	fc.wbuf, start = serialize.BeginFrame(fc.wbuf)
	hdr := serialize.ReplyHeader{Xid: xid, Zxid: zxid, Err: int32(rc)}
	fc.wbuf = hdr.Encode(fc.wbuf)
	return start
}

func (fc *fakeConn) finish(start int) {
	// The fake's replies are far below the limit.
	fc.wbuf, _ = serialize.FinishFrame(fc.wbuf, start, 1<<31-1)
}

func (s *FakeServer) nextZxid() int64 { return s.zxid.Add(1) }
