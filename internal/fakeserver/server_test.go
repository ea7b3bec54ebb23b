package fakeserver

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zkloop/zkloop/serialize"
)

// errRecorder collects Errorf calls, so failures of scripts can be tested.
type errRecorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *errRecorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *errRecorder) recorded() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.errs
}

var testPasswd = []byte("0123456789abcdef")

func TestSession(t *testing.T) {
	fs := New(t)
	var got ConnectInfo
	var gotXid int32
	var gotOp serialize.OpCode
	var gotBody []byte
	fs.Script(func(c *Conn) {
		got = c.Handshake(0x1234, 4000, testPasswd, true)
		gotXid, gotOp, gotBody = c.ReadRequestAnswerPings()
		c.Reply(gotXid, 7, serialize.ErrNoNode, nil)
		c.Event(serialize.EventCreated, serialize.KeeperSyncConnected, "/a")
		c.ExpectClosed()
	})

	c := dialRaw(t, fs.Addr())
	c.writeFrame(connectRequest(5, 3000, 0x99, testPasswd, false))
	wantResp := []byte{
		0, 0, 0, 0, // protocolVersion
		0, 0, 0x0f, 0xa0, // timeOut 4000
		0, 0, 0, 0, 0, 0, 0x12, 0x34, // sessionId
		0, 0, 0, 16, // passwd length
	}
	wantResp = append(append(wantResp, testPasswd...), 1) // readOnly
	if diff := cmp.Diff(wantResp, c.readFrame()); diff != "" {
		t.Errorf("ConnectResponse (-want +got):\n%s", diff)
	}
	if code, body := c.call(serialize.XidPing, serialize.OpPing, nil); code != serialize.Ok || len(body) != 0 {
		t.Errorf("ping reply: %v, %d bytes", code, len(body))
	}
	if code, _ := c.call(1, serialize.OpExists, []byte("body")); code != serialize.ErrNoNode {
		t.Errorf("reply error = %v, want %v", code, serialize.ErrNoNode)
	}
	wantEvent := []byte{
		0xff, 0xff, 0xff, 0xff, // xid -1
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // zxid -1
		0, 0, 0, 0, // err
		0, 0, 0, 1, // type NodeCreated
		0, 0, 0, 3, // state SyncConnected
		0, 0, 0, 2, '/', 'a',
	}
	if diff := cmp.Diff(wantEvent, c.readFrame()); diff != "" {
		t.Errorf("event frame (-want +got):\n%s", diff)
	}
	if err := c.conn.Close(); err != nil {
		t.Fatal(err)
	}
	fs.Close() // waits for the script

	want := ConnectInfo{LastZxidSeen: 5, TimeoutMs: 3000, SessionID: 0x99, Passwd: testPasswd, HasReadOnly: true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ConnectInfo (-want +got):\n%s", diff)
	}
	if gotXid != 1 || gotOp != serialize.OpExists || string(gotBody) != "body" {
		t.Errorf("ReadRequest = %d, %v, %q; want 1, exists, \"body\"", gotXid, gotOp, gotBody)
	}
}

func TestConnectForms(t *testing.T) {
	legacyRequest := connectRequest(0, 3000, 0, testPasswd, false)
	legacyRequest = legacyRequest[:len(legacyRequest)-1]
	tests := []struct {
		name     string
		request  []byte
		write    func(c *Conn)
		want     ConnectInfo
		wantResp int // length of the response frame
	}{
		{
			name:     "read-only client, read-only server",
			request:  connectRequest(0, 3000, 0, testPasswd, true),
			write:    func(c *Conn) { c.WriteConnect(1, 3000, testPasswd, true) },
			want:     ConnectInfo{TimeoutMs: 3000, Passwd: testPasswd, ReadOnly: true, HasReadOnly: true},
			wantResp: 37,
		},
		{
			name:     "client and server before 3.4",
			request:  legacyRequest,
			write:    func(c *Conn) { c.WriteConnectLegacy(1, 3000, testPasswd) },
			want:     ConnectInfo{TimeoutMs: 3000, Passwd: testPasswd},
			wantResp: 36,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := New(t)
			var got ConnectInfo
			fs.Script(func(c *Conn) {
				got = c.ReadConnect()
				tt.write(c)
			})
			c := dialRaw(t, fs.Addr())
			c.writeFrame(tt.request)
			if resp := c.readFrame(); len(resp) != tt.wantResp {
				t.Errorf("response of %d bytes, want %d", len(resp), tt.wantResp)
			}
			fs.Close()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ConnectInfo (-want +got):\n%s", diff)
			}
		})
	}
}

func TestScriptOrder(t *testing.T) {
	fs := New(t)
	sayIndex := func(c *Conn) { c.WriteRaw([]byte{byte(c.Index())}) }
	fs.Script(sayIndex, sayIndex)
	fs.SetDefault(CloseOnAccept)
	for i := range 2 {
		c := dialRaw(t, fs.Addr())
		if got := c.readN(1)[0]; int(got) != i {
			t.Errorf("connection %d ran the script of connection %d", i, got)
		}
	}
	c := dialRaw(t, fs.Addr())
	if n, err := c.conn.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Errorf("after the queue: read = %d, %v; want EOF from CloseOnAccept", n, err)
	}
	if got := fs.Accepted(); got != 3 {
		t.Errorf("Accepted() = %d, want 3", got)
	}
}

func TestNeverAnswer(t *testing.T) {
	fs := New(t) // NeverAnswer is the default
	c := dialRaw(t, fs.Addr())
	c.writeFrame([]byte("hello"))
	if err := c.conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.conn.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read from a silent server: %v, want a timeout", err)
	}
	fs.Close()
	if err := c.conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.conn.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("read after Close: %v, want EOF", err)
	}
}

func TestRawWrites(t *testing.T) {
	fs := New(t)
	fs.Script(func(c *Conn) {
		c.WriteRaw([]byte{0, 0})
		c.WriteTrickle([]byte{0, 2, 'o', 'k'}, time.Millisecond)
		c.WriteFrame([]byte("next"))
	})
	c := dialRaw(t, fs.Addr())
	if got := string(c.readFrame()); got != "ok" {
		t.Errorf("first frame %q, want \"ok\"", got)
	}
	if got := string(c.readFrame()); got != "next" {
		t.Errorf("second frame %q, want \"next\"", got)
	}
}

// TestFakeFailures checks that a failing script reports where it failed
// and stops there.
func TestFailures(t *testing.T) {
	tests := []struct {
		name   string
		send   []byte // by the client, which then closes unless wait
		wait   bool   // keep the connection open, so the read times out
		script func(c *Conn)
		want   string
	}{
		{"timeout", nil, true, func(c *Conn) { c.ReadFrame() }, "i/o timeout"},
		{"negative length", []byte{0xff, 0xff, 0xff, 0xfe}, true, func(c *Conn) { c.ReadFrame() }, "negative frame length"},
		{"frame too large", []byte{0x7f, 0, 0, 0}, true, func(c *Conn) { c.ReadFrame() }, "exceeds the maximum"},
		{"truncated body", []byte{0, 0, 0, 9, 1, 2}, false, func(c *Conn) { c.ReadFrame() }, "read 9-byte frame body: unexpected EOF"},
		{"short header", []byte{0, 0, 0, 2, 0, 0}, false, func(c *Conn) { c.ReadRequest() }, "decode RequestHeader"},
		{"short connect", []byte{0, 0, 0, 4, 0, 0, 0, 0}, false, func(c *Conn) { c.ReadConnect() }, "decode ConnectRequest"},
		{"data instead of close", []byte{1}, true, func(c *Conn) { c.ExpectClosed() }, "expected the client to close, got data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &errRecorder{TB: t}
			fs := New(rec)
			finished := false
			fs.Script(func(c *Conn) {
				c.SetTimeout(100 * time.Millisecond)
				tt.script(c)
				finished = true
			})
			c := dialRaw(t, fs.Addr())
			if _, err := c.conn.Write(tt.send); err != nil {
				t.Fatal(err)
			}
			if !tt.wait {
				if err := c.conn.(*net.TCPConn).CloseWrite(); err != nil {
					t.Fatal(err)
				}
			}
			// The script closes the connection when it ends.
			if err := c.conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, c.conn); err != nil {
				t.Fatalf("waiting for the script to close: %v", err)
			}
			fs.Close()
			errs := rec.recorded()
			if len(errs) != 1 || !strings.Contains(errs[0], tt.want) || !strings.HasPrefix(errs[0], "server_test.go:") {
				t.Errorf("errors = %q, want one from server_test.go containing %q", errs, tt.want)
			}
			if finished {
				t.Error("the script went on after the failure")
			}
		})
	}
}

func TestExpectClosed(t *testing.T) {
	rec := &errRecorder{TB: t}
	fs := New(rec)
	fs.Script(func(c *Conn) { c.ExpectClosed() })
	c := dialRaw(t, fs.Addr())
	if err := c.conn.Close(); err != nil {
		t.Fatal(err)
	}
	fs.Close()
	if errs := rec.recorded(); len(errs) != 0 {
		t.Errorf("ExpectClosed on a closed connection: %q", errs)
	}
}
