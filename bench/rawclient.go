package bench

import (
	"fmt"
	"io"
	"net"
	"time"

	"github.com/zkloop/zkloop/serialize"
)

// RawClient is the floor the client is measured against: a blocking
// client on one net.Conn that writes requests and reads their replies on
// the caller's goroutine, with no queues, no loop and no completion
// goroutine. It speaks just enough of the protocol for getData (with or
// without a watch) and setData, counts the notifications it reads, and is
// not safe for concurrent use.
type RawClient struct {
	c      net.Conn
	wbuf   []byte
	rbuf   []byte
	xid    int32
	events int // notifications read so far
}

// DialRaw connects to addr and opens a session with the given timeout.
func DialRaw(addr string, sessionTimeout time.Duration) (*RawClient, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	r := &RawClient{c: c, wbuf: make([]byte, 0, 64<<10), rbuf: make([]byte, 64<<10)}
	req := serialize.ConnectRequest{TimeOut: int32(sessionTimeout.Milliseconds()), Passwd: make([]byte, serialize.PasswdLen)}
	var start int
	r.wbuf, start = serialize.BeginFrame(r.wbuf[:0])
	r.wbuf = serialize.AppendBool(req.Encode(r.wbuf), false)
	r.wbuf, _ = serialize.FinishFrame(r.wbuf, start, serialize.DefaultMaxBuffer) // a fixed-size record fits
	if err := r.flush(); err != nil {
		_ = c.Close()
		return nil, err
	}
	body, err := r.readFrame()
	if err == nil {
		var resp serialize.ConnectResponse
		if _, err = resp.Decode(body); err == nil && resp.TimeOut <= 0 {
			err = fmt.Errorf("session refused")
		}
	}
	if err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("handshake with %s: %w", addr, err)
	}
	return r, nil
}

// Close closes the connection without closing the session (the server
// expires it).
func (r *RawClient) Close() error { return r.c.Close() }

// GetData reads a node's data, leaving a data watch when watch is set; the
// slice aliases the client's buffer and is valid until the next call.
func (r *RawClient) GetData(path string, watch bool) ([]byte, error) {
	r.wbuf = r.wbuf[:0]
	r.appendGetData(path, watch)
	if err := r.flush(); err != nil {
		return nil, err
	}
	return r.readGetData()
}

// GetDataPipelined sends n getData requests with one write and reads the n
// replies: the floor for requests in flight.
func (r *RawClient) GetDataPipelined(path string, n int) error {
	r.wbuf = r.wbuf[:0]
	for range n {
		r.appendGetData(path, false)
	}
	if err := r.flush(); err != nil {
		return err
	}
	for range n {
		if _, err := r.readGetData(); err != nil {
			return err
		}
	}
	return nil
}

// SetData writes a node's data, any version.
func (r *RawClient) SetData(path string, data []byte) error {
	r.wbuf = r.wbuf[:0]
	start := r.begin(serialize.OpSetData)
	req := serialize.SetDataRequest{Path: path, Data: data, Version: -1}
	r.wbuf = req.Encode(r.wbuf)
	if err := r.finish(start); err != nil {
		return err
	}
	if err := r.flush(); err != nil {
		return err
	}
	_, err := r.readReply()
	return err
}

// WaitEvents reads until n notifications in all have been read; nothing
// else is expected meanwhile.
func (r *RawClient) WaitEvents(n int) error {
	for r.events < n {
		if _, _, err := r.readMessage(); err != nil {
			return err
		}
	}
	return nil
}

// Events returns the number of notifications read so far.
func (r *RawClient) Events() int { return r.events }

func (r *RawClient) appendGetData(path string, watch bool) {
	start := r.begin(serialize.OpGetData)
	req := serialize.GetDataRequest{Path: path, Watch: watch}
	r.wbuf = req.Encode(r.wbuf)
	_ = r.finish(start) // a path-sized request fits
}

func (r *RawClient) readGetData() ([]byte, error) {
	body, err := r.readReply()
	if err != nil {
		return nil, err
	}
	rd := serialize.NewReader(body)
	data := rd.BufferAlias()
	return data, rd.Err()
}

func (r *RawClient) begin(op serialize.OpCode) int {
	r.xid++
	var start int
	r.wbuf, start = serialize.BeginFrame(r.wbuf)
	hdr := serialize.RequestHeader{Xid: r.xid, Type: int32(op)}
	r.wbuf = hdr.Encode(r.wbuf)
	return start
}

func (r *RawClient) finish(start int) error {
	var err error
	r.wbuf, err = serialize.FinishFrame(r.wbuf, start, serialize.DefaultMaxBuffer)
	return err
}

func (r *RawClient) flush() error {
	_, err := r.c.Write(r.wbuf)
	return err
}

// readReply reads the next reply to a request and returns its body after
// the ReplyHeader; a ZooKeeper error is returned as such. Notifications on
// the way are counted.
func (r *RawClient) readReply() ([]byte, error) {
	for {
		xid, body, err := r.readMessage()
		if err != nil || xid != serialize.XidWatcherEvent && xid != serialize.XidPing {
			return body, err
		}
	}
}

// readMessage reads one frame and returns its xid and the body after the
// ReplyHeader, counting a notification.
func (r *RawClient) readMessage() (int32, []byte, error) {
	body, err := r.readFrame()
	if err != nil {
		return 0, nil, err
	}
	var hdr serialize.ReplyHeader
	n, err := hdr.Decode(body)
	switch {
	case err != nil:
		return 0, nil, err
	case hdr.Xid == serialize.XidWatcherEvent:
		r.events++
	case hdr.Err != 0:
		return hdr.Xid, nil, serialize.Error(hdr.Err)
	}
	return hdr.Xid, body[n:], nil
}

// readFrame reads one frame into rbuf and returns its body.
func (r *RawClient) readFrame() ([]byte, error) {
	if _, err := io.ReadFull(r.c, r.rbuf[:serialize.FrameHeaderLen]); err != nil {
		return nil, err
	}
	n, err := serialize.FrameLen(r.rbuf, serialize.DefaultMaxBuffer)
	if err != nil {
		return nil, err
	}
	if n > len(r.rbuf) {
		r.rbuf = make([]byte, n)
	}
	if _, err := io.ReadFull(r.c, r.rbuf[:n]); err != nil {
		return nil, err
	}
	return r.rbuf[:n], nil
}
