package fakeserver

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/zkloop/zkloop/serialize"
)

// rawClient speaks just enough of the protocol, with the serialize
// primitives only, to check the fake server from the client side.
type rawClient struct {
	t    testing.TB
	conn net.Conn
	xid  int32
}

func dialRaw(t testing.TB, addr string) *rawClient {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &rawClient{t: t, conn: conn}
}

func (c *rawClient) writeFrame(body []byte) {
	c.t.Helper()
	frame, start := serialize.BeginFrame(nil)
	frame, err := serialize.FinishFrame(append(frame, body...), start, serialize.DefaultMaxBuffer)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second)); err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.conn.Write(frame); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// readN reads exactly n bytes within 10 s.
func (c *rawClient) readN(n int) []byte {
	c.t.Helper()
	if err := c.conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		c.t.Fatal(err)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(c.conn, b); err != nil {
		c.t.Fatalf("read %d bytes: %v", n, err)
	}
	return b
}

func (c *rawClient) readFrame() []byte {
	c.t.Helper()
	n, err := serialize.FrameLen(c.readN(serialize.FrameHeaderLen), serialize.DefaultMaxBuffer)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.readN(n)
}

// connectRequest encodes a ConnectRequest with the readOnly byte.
func connectRequest(lastZxid int64, timeoutMs int32, sessionID int64, passwd []byte, readOnly bool) []byte {
	b := serialize.AppendInt32(nil, serialize.ProtocolVersion)
	b = serialize.AppendInt64(b, lastZxid)
	b = serialize.AppendInt32(b, timeoutMs)
	b = serialize.AppendInt64(b, sessionID)
	b = serialize.AppendBuffer(b, passwd)
	return serialize.AppendBool(b, readOnly)
}

// call sends a request with the next xid (or xid, when not zero) and returns
// the reply's error code and body, skipping notifications.
func (c *rawClient) call(xid int32, op serialize.OpCode, body []byte) (serialize.Error, []byte) {
	c.t.Helper()
	if xid == 0 {
		c.xid++
		xid = c.xid
	}
	req := serialize.AppendInt32(nil, xid)
	req = serialize.AppendInt32(req, int32(op))
	c.writeFrame(append(req, body...))
	for {
		frame := c.readFrame()
		r := serialize.NewReader(frame)
		gotXid, _, code := r.Int32(), r.Int64(), serialize.Error(r.Int32())
		if r.Err() != nil {
			c.t.Fatalf("bad ReplyHeader: %v", r.Err())
		}
		if gotXid == serialize.XidWatcherEvent {
			continue
		}
		if gotXid != xid {
			c.t.Fatalf("reply xid %d, want %d", gotXid, xid)
		}
		return code, frame[r.Offset():]
	}
}
