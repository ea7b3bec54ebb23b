package zhandle

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/zkloop/zkloop/internal/fakeserver"
	"github.com/zkloop/zkloop/serialize"
)

// The fake server's side of the connection-level tests (fake_test.go,
// close_test.go, sasl_test.go, soak_test.go): the session it hands out,
// frame builders, answers, a serving loop, and writes split so that the
// client reads them apart.

const (
	fakeSessionID int64 = 0x1d0c5e55
	fakeTimeoutMs       = int32(sessionTimeout / time.Millisecond)
)

// fakePasswd is the session password the fake server hands out.
var fakePasswd = []byte("0123456789abcdef")

// fakeClientID is the ClientID of a fake session id with fakePasswd.
func fakeClientID(id int64) ClientID {
	cid := ClientID{SessionID: id}
	copy(cid.Passwd[:], fakePasswd)
	return cid
}

// fakeFrame prefixes body with its length.
func fakeFrame(body []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	return append(b, body...)
}

// fakeReplyFrame is a whole reply frame: ReplyHeader and body.
func fakeReplyFrame(xid int32, zxid int64, rc Error, body []byte) []byte {
	hdr := serialize.ReplyHeader{Xid: xid, Zxid: zxid, Err: int32(rc)}
	return fakeFrame(append(hdr.Encode(nil), body...))
}

// fakeConnectFrame is a whole ConnectResponse frame with the read-only byte.
func fakeConnectFrame(sessionID int64, timeoutMs int32, readOnly bool) []byte {
	resp := serialize.ConnectResponse{TimeOut: timeoutMs, SessionID: sessionID, Passwd: fakePasswd}
	return fakeFrame(serialize.AppendBool(resp.Encode(nil), readOnly))
}

// fakeStat is the Stat the fake server reports for a node of n bytes.
func fakeStat(version int32, n int) Stat {
	return Stat{Czxid: 0x10, Mzxid: 0x20 + int64(version), Ctime: 1700000000000, Mtime: 1700000001000,
		Version: version, DataLength: int32(n), Pzxid: 0x10}
}

// fakeDataBody is a GetDataResponse.
func fakeDataBody(data []byte, stat Stat) []byte {
	resp := serialize.GetDataResponse{Data: data, Stat: serialize.Stat(stat)}
	return resp.Encode(nil)
}

// fakeStatBody is an ExistsResponse or SetDataResponse.
func fakeStatBody(stat Stat) []byte { return (*serialize.Stat)(&stat).Encode(nil) }

// fakePath decodes the path at the start of a request body (every request
// of a path: getData, exists, create, delete, ...).
func fakePath(body []byte) string {
	r := serialize.NewReader(body)
	return r.String()
}

// fakeServe answers a session's requests until the client closes it: pings
// are answered, CloseSession is answered and ends the script; any other
// request goes to answer, which replies as it likes (nil: an empty OK
// reply).
func fakeServe(c *fakeserver.Conn, answer func(xid int32, op serialize.OpCode, body []byte)) {
	c.SetTimeout(time.Minute) // the client may stay idle for long
	for {
		xid, op, body := c.ReadRequestAnswerPings()
		switch {
		case op == serialize.OpClose:
			c.Reply(xid, 0, 0, nil)
			return
		case answer != nil:
			answer(xid, op, body)
		default:
			c.Reply(xid, 0, 0, nil)
		}
	}
}

// fakeWaitRead waits until the client has read every byte the fake server
// wrote on c, so that the next write reaches it as a separate read: the
// client's side of the socket (found in /proc/net/tcp) had bytes queued
// and has none now. On loopback a write is queued at the receiver before
// it returns (unless the kernel deferred its network softirq), so a queue
// never seen non-empty within a millisecond was read before the first
// look. It waits on a condition, not for a time; after waitTimeout it gives
// up quietly, and the split it was to force is then merely likely.
func fakeWaitRead(c *fakeserver.Conn) {
	server := c.Conn().LocalAddr().(*net.TCPAddr)
	client := c.Conn().RemoteAddr().(*net.TCPAddr)
	queued := false
	start := time.Now()
	for time.Since(start) < waitTimeout {
		rx, ok := fakeTCPRecvQueue(client, server)
		switch {
		case !ok:
			return
		case rx > 0:
			queued = true
		case queued || time.Since(start) > time.Millisecond:
			return
		}
		runtime.Gosched()
	}
}

// fakeTCPRecvQueue returns the receive queue of the IPv4 socket
// local→remote from /proc/net/tcp.
func fakeTCPRecvQueue(local, remote *net.TCPAddr) (int, bool) {
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		return 0, false
	}
	defer f.Close() // read only
	hexAddr := func(a *net.TCPAddr) string {
		ip := a.IP.To4()
		return fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], a.Port)
	}
	l, r := hexAddr(local), hexAddr(remote)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 || fields[1] != l || fields[2] != r {
			continue
		}
		_, rxq, ok := strings.Cut(fields[4], ":") // tx_queue:rx_queue
		if !ok {
			return 0, false
		}
		n, err := strconv.ParseInt(rxq, 16, 64)
		return int(n), err == nil
	}
	return 0, false
}

// fakeWriteSplit writes b in two reads' worth: b[:k], then b[k:].
func fakeWriteSplit(c *fakeserver.Conn, b []byte, k int) {
	c.WriteRaw(b[:k])
	fakeWaitRead(c)
	c.WriteRaw(b[k:])
}

// fakeGetReply answers a getData request with data and version 1.
func fakeGetReply(c *fakeserver.Conn, xid int32, zxid int64, data []byte) {
	c.Reply(xid, zxid, 0, fakeDataBody(data, fakeStat(1, len(data))))
}

// fakeAnswer replies to a request as a server would to an existing node
// /…/x, /…/y (the answers only need to decode).
func fakeAnswer(c *fakeserver.Conn, xid int32, op serialize.OpCode, body []byte, zxid int64) {
	switch op {
	case serialize.OpExists, serialize.OpSetData:
		c.Reply(xid, zxid, 0, fakeStatBody(fakeStat(1, 1)))
	case serialize.OpGetData:
		fakeGetReply(c, xid, zxid, []byte("d"))
	case serialize.OpCreate:
		resp := serialize.CreateResponse{Path: fakePath(body)}
		c.Reply(xid, zxid, 0, resp.Encode(nil))
	case serialize.OpGetChildren:
		resp := serialize.GetChildrenResponse{Children: []string{"x"}}
		c.Reply(xid, zxid, 0, resp.Encode(nil))
	default: // delete, auth, SetWatches
		c.Reply(xid, zxid, 0, nil)
	}
}
