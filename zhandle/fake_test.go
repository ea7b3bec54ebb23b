package zhandle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/zkloop/zkloop/internal/fakeserver"
	"github.com/zkloop/zkloop/serialize"
)

// Connection-level tests against the scripted fake server of
// internal/fakeserver: the framing of replies, the handshake, what drops a
// connection, the receive deadline, back-off, expiry in the handshake,
// pings, and what a handle sends after a (re)connect, frame by frame.

// fakeTrickle writes b one byte per read of the client.
func fakeTrickle(c *fakeserver.Conn, b []byte) {
	for i := range b {
		c.WriteRaw(b[i : i+1])
		fakeWaitRead(c)
	}
}

// checkGet checks one Get of path against the data and Stat served.
func checkGet(t *testing.T, h *Handle, path string, want []byte, wantStat Stat) {
	t.Helper()
	got, stat, err := h.Get(testContext(t), path, false)
	if err != nil {
		t.Fatalf("Get(%s): %v", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Get(%s) data: got %d bytes %.40q, want %d bytes %.40q", path, len(got), got, len(want), want)
	}
	if diff := cmp.Diff(wantStat, stat); diff != "" {
		t.Errorf("Get(%s) Stat (-want +got):\n%s", path, diff)
	}
}

// TestFakeReplySplitAtEveryOffset feeds the handshake reply and a getData
// reply split in two at every byte offset, each split on a connection of
// its own, and once a byte at a time; every split decodes to the same
// session and the same reply. Each write waits until the client has read
// the previous one (fakeWaitRead), so the pieces arrive as separate reads.
func TestFakeReplySplitAtEveryOffset(t *testing.T) {
	data := []byte("the data of /split")
	stat := fakeStat(3, len(data))
	handshake := fakeConnectFrame(fakeSessionID, fakeTimeoutMs, false)
	reply := func(xid int32) []byte { return fakeReplyFrame(xid, 0x30, 0, fakeDataBody(data, stat)) }
	offsets := max(len(handshake), len(reply(1))) - 1

	fs := fakeserver.New(t)
	serveGet := func(c *fakeserver.Conn, write func([]byte)) {
		xid, op, body := c.ReadRequestAnswerPings()
		if op != serialize.OpGetData || fakePath(body) != "/split" {
			t.Errorf("request %v %q, want getData /split", op, fakePath(body))
			return
		}
		write(reply(xid))
	}
	fs.Script(func(c *fakeserver.Conn) { // first, byte by byte
		c.ReadConnect()
		fakeTrickle(c, handshake)
		serveGet(c, func(b []byte) { fakeTrickle(c, b) })
	})
	for k := 1; k <= offsets; k++ {
		fs.Script(func(c *fakeserver.Conn) {
			c.ReadConnect()
			fakeWriteSplit(c, handshake, min(k, len(handshake)-1))
			serveGet(c, func(b []byte) { fakeWriteSplit(c, b, min(k, len(b)-1)) })
		}) // the script ends and closes the connection: the next split is on a new one
	}

	rec := newRecorder()
	h := initHandle(t, fs.Addr(), rec, sessionTimeout)
	for k := 0; k <= offsets; k++ {
		rec.waitSession(t, StateConnected)
		if id := h.ClientID(); id != fakeClientID(fakeSessionID) {
			t.Fatalf("split %d: ClientID %#x %q, want %#x %q", k, id.SessionID, id.Passwd, fakeSessionID, fakePasswd)
		}
		checkGet(t, h, "/split", data, stat)
		rec.waitSession(t, StateConnecting)
	}
	t.Logf("%d connections: handshake (%d bytes) and reply (%d bytes) split at every offset, and trickled", offsets+1, len(handshake), len(reply(1)))
}

// TestFakeLargeReplySplit sends a getData reply larger than the initial
// read buffer, split around the buffer's size and the frame's edges, all
// on one connection: the buffer grows, and later replies still decode.
func TestFakeLargeReplySplit(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 40<<10/16)
	stat := fakeStat(9, len(data))
	frame := func(xid int32) []byte { return fakeReplyFrame(xid, 0x31, 0, fakeDataBody(data, stat)) }
	n := len(frame(1))
	offsets := []int{1, 3, 4, 5, 19, 20, 21, 24, 25, initialReadBuf - 1, initialReadBuf, initialReadBuf + 1, 2 * initialReadBuf, n - 2, n - 1}

	fs := fakeserver.New(t)
	fs.Script(func(c *fakeserver.Conn) {
		c.Handshake(fakeSessionID, fakeTimeoutMs, fakePasswd, false)
		i := 0
		fakeServe(c, func(xid int32, op serialize.OpCode, body []byte) {
			if i < len(offsets) {
				fakeWriteSplit(c, frame(xid), offsets[i])
			} else {
				c.WriteRaw(frame(xid))
			}
			i++
		})
	})
	h := connectHandle(t, fs.Addr(), nil, sessionTimeout)
	for range len(offsets) + 1 {
		checkGet(t, h, "/large", data, stat)
	}
}

// TestFakeRepliesInOneWrite answers 200 requests in flight with one write
// of about 50 KiB, many times the read buffer, so that frames straddle
// reads: every reply reaches its callback in order with its own data, and
// the synchronous calls after it still decode.
func TestFakeRepliesInOneWrite(t *testing.T) {
	const inFlight, after = 200, 32
	dataFor := func(path string) []byte { return bytes.Repeat([]byte(path), 30) }
	fs := fakeserver.New(t)
	fs.Script(func(c *fakeserver.Conn) {
		c.Handshake(fakeSessionID, fakeTimeoutMs, fakePasswd, false)
		var replies []byte
		for range inFlight {
			xid, _, body := c.ReadRequestAnswerPings()
			data := dataFor(fakePath(body))
			replies = append(replies, fakeReplyFrame(xid, 0x40, 0, fakeDataBody(data, fakeStat(1, len(data))))...)
		}
		c.WriteRaw(replies)
		fakeServe(c, func(xid int32, _ serialize.OpCode, body []byte) {
			fakeGetReply(c, xid, 0x41, dataFor(fakePath(body)))
		})
	})
	h := connectHandle(t, fs.Addr(), nil, sessionTimeout)

	type reply struct{ Path, Data string }
	var (
		mu   sync.Mutex
		got  []reply
		want []reply
		done = make(chan struct{})
	)
	for i := range inFlight {
		path := fmt.Sprintf("/burst/%03d", i)
		want = append(want, reply{path, string(dataFor(path))})
		err := h.AGet(path, false, func(err error, data []byte, _ *Stat) {
			if err != nil {
				t.Errorf("AGet(%s): %v", path, err)
			}
			mu.Lock()
			got = append(got, reply{path, string(data)}) // data is valid only in the callback
			n := len(got)
			mu.Unlock()
			if n == inFlight {
				close(done)
			}
		})
		if err != nil {
			t.Fatalf("AGet(%s): %v", path, err)
		}
	}
	recv(t, done, "last callback")
	mu.Lock()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("callbacks (-want +got):\n%s", diff)
	}
	mu.Unlock()
	for i := range after {
		path := fmt.Sprintf("/after/%03d", i)
		data := dataFor(path)
		checkGet(t, h, path, data, fakeStat(1, len(data)))
	}
}

// TestFakeHandshakeForms accepts the ConnectResponse with and without the
// trailing read-only byte (servers before 3.4 omit it) and takes the
// negotiated timeout, session id and password from it.
func TestFakeHandshakeForms(t *testing.T) {
	tests := []struct {
		name      string
		opts      []Option
		write     func(c *fakeserver.Conn)
		wantState State
	}{
		{
			name:      "without the read-only byte",
			write:     func(c *fakeserver.Conn) { c.WriteConnectLegacy(fakeSessionID, 12000, fakePasswd) },
			wantState: StateConnected,
		},
		{
			name:      "read/write server",
			write:     func(c *fakeserver.Conn) { c.WriteConnect(fakeSessionID, 12000, fakePasswd, false) },
			wantState: StateConnected,
		},
		{
			name:      "read-only server",
			opts:      []Option{WithReadOnly()},
			write:     func(c *fakeserver.Conn) { c.WriteConnect(fakeSessionID, 12000, fakePasswd, true) },
			wantState: StateReadOnly,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := fakeserver.New(t)
			data := []byte("after the handshake")
			fs.Script(func(c *fakeserver.Conn) {
				c.ReadConnect()
				tt.write(c)
				fakeServe(c, func(xid int32, op serialize.OpCode, body []byte) { fakeGetReply(c, xid, 0x60, data) })
			})
			rec := newRecorder()
			h := connectHandle(t, fs.Addr(), rec, sessionTimeout, tt.opts...)
			if got := h.State(); got != tt.wantState {
				t.Errorf("State() = %v, want %v", got, tt.wantState)
			}
			if got, want := h.ClientID(), fakeClientID(fakeSessionID); got != want {
				t.Errorf("ClientID() = %#x %q, want %#x %q", got.SessionID, got.Passwd, want.SessionID, want.Passwd)
			}
			if got := h.RecvTimeout(); got != 12*time.Second {
				t.Errorf("RecvTimeout() = %v, want the negotiated 12s", got)
			}
			checkGet(t, h, "/n", data, fakeStat(1, len(data)))
			rec.waitSession(t, tt.wantState)
		})
	}
}

// TestFakeWrongXidDropsAndResumes answers a request with an xid that is not
// the oldest pending one: a runtime inconsistency, so the handle drops the
// connection, fails the requests in flight with ErrConnectionLoss exactly
// once, and resumes the session on a new connection with the same id,
// password and the zxid of the last reply it accepted.
func TestFakeWrongXidDropsAndResumes(t *testing.T) {
	fs := fakeserver.New(t)
	data := []byte("second connection")
	fs.Script(func(c *fakeserver.Conn) {
		c.Handshake(fakeSessionID, fakeTimeoutMs, fakePasswd, false)
		xid, _, _ := c.ReadRequestAnswerPings() // Exists: a good reply
		c.Reply(xid, 0x100, 0, fakeStatBody(fakeStat(1, 0)))
		xid, _, _ = c.ReadRequestAnswerPings() // AGet
		c.ReadRequestAnswerPings()             // Get
		c.Reply(xid+7, 0x200, 0, fakeDataBody([]byte("stray"), fakeStat(1, 5)))
		c.ExpectClosed()
	})
	infos := make(chan fakeserver.ConnectInfo, 1)
	fs.Script(func(c *fakeserver.Conn) {
		infos <- c.Handshake(fakeSessionID, fakeTimeoutMs, fakePasswd, false)
		fakeServe(c, func(xid int32, op serialize.OpCode, body []byte) { fakeGetReply(c, xid, 0x300, data) })
	})

	rec := newRecorder()
	h := connectHandle(t, fs.Addr(), rec, sessionTimeout)
	if _, err := h.Exists(testContext(t), "/a", false); err != nil {
		t.Fatalf("Exists: %v", err)
	}
	count := newOutcomes(1)
	count.expect()
	if err := h.AGet("/b", false, func(err error, _ []byte, _ *Stat) { count.complete(t, 0, err) }); err != nil {
		t.Fatalf("AGet: %v", err)
	}
	syncErr := make(chan error, 1)
	go func() {
		_, _, err := h.Get(testContext(t), "/c", false)
		syncErr <- err
	}()
	count.wait(t)
	if err := recv(t, syncErr, "Get in flight"); !errors.Is(err, ErrConnectionLoss) {
		t.Errorf("Get in flight at the drop: %v, want %v", err, ErrConnectionLoss)
	}
	info := recv(t, infos, "second connection")
	want := fakeserver.ConnectInfo{LastZxidSeen: 0x100, TimeoutMs: fakeTimeoutMs, SessionID: fakeSessionID, Passwd: fakePasswd, HasReadOnly: true}
	if diff := cmp.Diff(want, info); diff != "" {
		t.Errorf("ConnectRequest after the drop (-want +got):\n%s", diff)
	}
	rec.waitSession(t, StateConnecting)
	rec.waitSession(t, StateConnected)
	checkGet(t, h, "/d", data, fakeStat(1, len(data)))
	// A later callback runs after any duplicate would have.
	later := make(chan error, 1)
	if err := h.AExists("/e", false, func(err error, _ *Stat) { later <- err }); err != nil {
		t.Fatalf("AExists: %v", err)
	}
	recv(t, later, "later callback")
	if diff := cmp.Diff(map[string]int64{ErrConnectionLoss.Error(): 1}, count.tally()); diff != "" {
		t.Errorf("completions of the AGet in flight (-want +got):\n%s", diff)
	}
}

// TestFakeBadLengthPrefix sends a negative length prefix, or one over the
// frame limit whose reply answers no request in flight: the handle drops
// the connection without allocating anything of that size, fails the
// request in flight, and resumes the session.
func TestFakeBadLengthPrefix(t *testing.T) {
	const maxFrame = 64 << 10
	reply := func(xid int32) []byte { // a reply header, and no more
		hdr := serialize.ReplyHeader{Xid: xid, Zxid: 1}
		return hdr.Encode(nil)
	}
	tests := []struct {
		name   string
		prefix uint32
		rest   []byte
	}{
		{"2 GiB answering no request", 0x7fffffff, reply(99)},
		{"one over the limit answering a ping", maxFrame + 1, reply(serialize.XidPing)},
		{"-1", 0xffffffff, reply(1)},
		{"most negative", 0x80000000, reply(1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := fakeserver.New(t)
			fs.Script(func(c *fakeserver.Conn) {
				c.Handshake(fakeSessionID, fakeTimeoutMs, fakePasswd, false)
				c.ReadRequestAnswerPings()
				c.WriteRaw(append(binary.BigEndian.AppendUint32(nil, tt.prefix), tt.rest...))
				c.ExpectClosed()
			})
			infos := make(chan fakeserver.ConnectInfo, 1)
			data := []byte("fine again")
			fs.Script(func(c *fakeserver.Conn) {
				infos <- c.Handshake(fakeSessionID, fakeTimeoutMs, fakePasswd, false)
				fakeServe(c, func(xid int32, op serialize.OpCode, body []byte) { fakeGetReply(c, xid, 0x70, data) })
			})
			h := connectHandle(t, fs.Addr(), nil, sessionTimeout, WithMaxFrame(maxFrame))

			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			failed := make(chan error, 1)
			if err := h.AGet("/big", false, func(err error, _ []byte, _ *Stat) { failed <- err }); err != nil {
				t.Fatalf("AGet: %v", err)
			}
			if err := recv(t, failed, "AGet completion"); !errors.Is(err, ErrConnectionLoss) {
				t.Errorf("AGet: %v, want %v", err, ErrConnectionLoss)
			}
			info := recv(t, infos, "second connection")
			runtime.ReadMemStats(&after)
			if info.SessionID != fakeSessionID || !bytes.Equal(info.Passwd, fakePasswd) {
				t.Errorf("second ConnectRequest: session %#x passwd %q, want %#x %q", info.SessionID, info.Passwd, fakeSessionID, fakePasswd)
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
				t.Errorf("allocated %d bytes between the bad prefix and the reconnect", grew)
			}
			if err := h.WaitConnected(testContext(t)); err != nil {
				t.Fatal(err)
			}
			checkGet(t, h, "/ok", data, fakeStat(1, len(data)))
		})
	}
}

// TestFakeOversizedReply answers requests with replies over the frame
// limit: each fails its own request with ErrMarshalling, the rest of the
// frame is skipped as it arrives, in pieces, without being kept, and the
// connection goes on: the requests queued behind get their replies.
func TestFakeOversizedReply(t *testing.T) {
	const maxFrame = 64 << 10
	sizes := []int{maxFrame + 1, 4 << 20} // just over, and 64 times the limit
	data := []byte("fine")
	fs := fakeserver.New(t)
	fs.Script(func(c *fakeserver.Conn) {
		c.Handshake(fakeSessionID, fakeTimeoutMs, fakePasswd, false)
		zeros := make([]byte, 32<<10) // the body, written piece by piece
		for _, size := range sizes {
			xid, _, _ := c.ReadRequestAnswerPings()
			hdr := serialize.ReplyHeader{Xid: xid, Zxid: 0x70}
			frame := append(binary.BigEndian.AppendUint32(nil, uint32(size)), hdr.Encode(nil)...)
			c.WriteRaw(frame)
			for sent := serialize.ReplyHeaderLen; sent < size; sent += len(zeros) {
				c.WriteRaw(zeros[:min(len(zeros), size-sent)])
			}
			xid, _, _ = c.ReadRequestAnswerPings()
			fakeGetReply(c, xid, 0x71, data)
		}
		fakeServe(c, func(xid int32, op serialize.OpCode, body []byte) { fakeGetReply(c, xid, 0x71, data) })
	})
	h := connectHandle(t, fs.Addr(), nil, sessionTimeout, WithMaxFrame(maxFrame))
	for _, size := range sizes {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if _, _, err := h.Get(testContext(t), "/big", false); !errors.Is(err, ErrMarshalling) {
			t.Errorf("Get of a %d-byte reply: %v, want %v", size, err, ErrMarshalling)
		}
		checkGet(t, h, "/after", data, fakeStat(1, len(data)))
		runtime.ReadMemStats(&after)
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
			t.Errorf("allocated %d bytes for a %d-byte reply that was refused", grew, size)
		}
	}
	if n := fs.Accepted(); n != 1 {
		t.Errorf("%d connections, want the first kept", n)
	}
	if s := h.Stats(); s.Reconnects != 0 {
		t.Errorf("Stats().Reconnects = %d, want 0", s.Reconnects)
	}
}

// TestFakeStalledServerDetected connects first to a server that accepts
// and never answers: after 2/3 of the session timeout without a byte, and
// not before, the handle drops it and tries the next address.
func TestFakeStalledServerDetected(t *testing.T) {
	const timeout = 3 * time.Second
	stalled, next := fakeserver.New(t), fakeserver.New(t)
	dropped := make(chan time.Time, 1)
	stalled.Script(func(c *fakeserver.Conn) {
		c.ReadConnect()
		c.SetTimeout(waitTimeout)
		c.ExpectClosed()
		dropped <- time.Now()
	})
	reached := make(chan time.Time, 1)
	next.Script(func(c *fakeserver.Conn) {
		c.ReadConnect()
		reached <- time.Now()
		c.WriteConnect(fakeSessionID, int32(timeout/time.Millisecond), fakePasswd, false)
		fakeServe(c, nil)
	})

	start := time.Now() // before the handle exists: a lower bound of its clock
	h := initHandle(t, stalled.Addr()+","+next.Addr(), nil, timeout, WithDeterministicOrder())
	detect := recv(t, dropped, "drop of the stalled server").Sub(start)
	moved := recv(t, reached, "connect to the next server")
	want := timeout * 2 / 3
	if detect < want {
		t.Errorf("stalled server dropped after %v, before 2/3·T = %v", detect, want)
	}
	if detect > want+lateness {
		t.Errorf("stalled server dropped after %v, later than 2/3·T = %v by over %v", detect, want, lateness)
	}
	if gap := moved.Sub(start) - detect; gap > lateness {
		t.Errorf("next server reached %v after the drop", gap)
	}
	t.Logf("stalled server dropped %v after Init (2/3·T = %v); next server reached %v later", detect.Round(time.Millisecond), want, (moved.Sub(start) - detect).Round(time.Millisecond))
	if err := h.WaitConnected(testContext(t)); err != nil {
		t.Fatal(err)
	}
}

// TestFakeCloseOnAcceptBacksOff points a handle at a server that closes
// every connection at once: the handle retries with the back-off of a
// full pass over the list (recv_timeout/60, jittered by up to half), not
// in a busy loop, and Close still returns at once.
func TestFakeCloseOnAcceptBacksOff(t *testing.T) {
	const timeout = 6 * time.Second
	const attempts = 6
	backoff := timeout / 60
	fs := fakeserver.New(t)
	accepts := make(chan time.Time, 64)
	fs.SetDefault(func(c *fakeserver.Conn) {
		select {
		case accepts <- time.Now():
		default:
		}
		c.Close()
	})
	rec := newRecorder()
	h := initHandle(t, fs.Addr(), rec, timeout)
	var times []time.Time
	for range attempts {
		times = append(times, recv(t, accepts, "connect attempt"))
	}
	var gaps []time.Duration
	for i := 1; i < len(times); i++ {
		gap := times[i].Sub(times[i-1])
		gaps = append(gaps, gap.Round(time.Millisecond))
		// The accept times lag the client's connects by a scheduling
		// delay; the tolerance covers that, not a shorter back-off (a
		// busy loop would reconnect within a millisecond).
		if gap < backoff*3/4 {
			t.Errorf("attempt %d came %v after the previous one, want at least the back-off %v", i, gap, backoff)
		}
		if gap > backoff*3/2+lateness {
			t.Errorf("attempt %d came %v after the previous one, later than the longest back-off %v by over %v", i, gap, backoff*3/2, lateness)
		}
	}
	t.Logf("gaps between connect attempts: %v (back-off %v to %v)", gaps, backoff, backoff*3/2)
	took := closeHandle(t, h)
	if took > lateness {
		t.Errorf("Close took %v while reconnecting", took)
	}
	if got := rec.all(); len(got) != 0 {
		t.Errorf("events without a session: %v", got)
	}
}

// TestFakeHandshakeExpiry answers the handshake as for an expired session:
// another session id for a resumed one, or a timeout of 0. The handle
// becomes StateExpiredSession, tells the watcher once, fails what is
// pending with ErrSessionExpired and refuses later calls at once.
func TestFakeHandshakeExpiry(t *testing.T) {
	tests := []struct {
		name        string
		resume      int64 // session resumed with WithClientID; 0 for none
		replyID     int64
		replyTimout int32
	}{
		{"resumed session comes back with another id", 0x1111, 0x2222, fakeTimeoutMs},
		{"timeout 0 for a new session", 0, 0x3333, 0},
		{"timeout 0 for a resumed session", 0x4444, 0x4444, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := fakeserver.New(t)
			infos := make(chan fakeserver.ConnectInfo, 1)
			proceed := make(chan struct{})
			fs.Script(func(c *fakeserver.Conn) {
				infos <- c.ReadConnect()
				<-proceed
				c.WriteConnect(tt.replyID, tt.replyTimout, fakePasswd, false)
				c.ExpectClosed()
			})
			var opts []Option
			if tt.resume != 0 {
				opts = append(opts, WithClientID(fakeClientID(tt.resume)))
			}
			rec := newRecorder()
			h := initHandle(t, fs.Addr(), rec, sessionTimeout, opts...)
			count := newOutcomes(1)
			count.expect()
			if err := h.AGet("/pending", false, func(err error, _ []byte, _ *Stat) { count.complete(t, 0, err) }); err != nil {
				t.Fatalf("AGet: %v", err)
			}
			info := recv(t, infos, "ConnectRequest")
			if info.SessionID != tt.resume || tt.resume != 0 && !bytes.Equal(info.Passwd, fakePasswd) {
				t.Errorf("ConnectRequest: session %#x passwd %q, want %#x", info.SessionID, info.Passwd, tt.resume)
			}
			close(proceed)

			if err := h.WaitConnected(testContext(t)); !errors.Is(err, ErrSessionExpired) {
				t.Errorf("WaitConnected: %v, want %v", err, ErrSessionExpired)
			}
			if got := h.State(); got != StateExpiredSession {
				t.Errorf("State() = %v, want %v", got, StateExpiredSession)
			}
			count.wait(t)
			if diff := cmp.Diff(map[string]int64{ErrSessionExpired.Error(): 1}, count.tally()); diff != "" {
				t.Errorf("completion of the pending request (-want +got):\n%s", diff)
			}
			if _, err := h.Exists(testContext(t), "/later", false); !errors.Is(err, ErrSessionExpired) {
				t.Errorf("Exists after expiry: %v, want %v", err, ErrSessionExpired)
			}
			if err := h.AGet("/later", false, func(error, []byte, *Stat) { t.Error("callback of a refused request") }); !errors.Is(err, ErrSessionExpired) {
				t.Errorf("AGet after expiry: %v, want %v", err, ErrSessionExpired)
			}
			closeHandle(t, h) // delivers everything still queued
			if diff := cmp.Diff([]Event{sessionEvent(StateExpiredSession)}, rec.all()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if n := fs.Accepted(); n != 1 {
				t.Errorf("%d connections after expiry, want 1", n)
			}
		})
	}
}

// TestFakeUnknownEventIgnored sends a notification of an unknown type on a
// watched path: it is ignored, the connection stays, and the watch still
// fires on the next real event.
func TestFakeUnknownEventIgnored(t *testing.T) {
	fs := fakeserver.New(t)
	data := []byte("watched")
	fs.Script(func(c *fakeserver.Conn) {
		c.Handshake(fakeSessionID, fakeTimeoutMs, fakePasswd, false)
		xid, _, _ := c.ReadRequestAnswerPings() // Get /w with a watch
		fakeGetReply(c, xid, 0x40, data)
		c.Event(99, serialize.KeeperSyncConnected, "/w")
		c.Event(serialize.EventChanged, serialize.KeeperSyncConnected, "/w")
		fakeServe(c, func(xid int32, op serialize.OpCode, body []byte) { fakeGetReply(c, xid, 0x41, data) })
	})
	rec := newRecorder()
	h := connectHandle(t, fs.Addr(), rec, sessionTimeout)
	if _, _, err := h.Get(testContext(t), "/w", true); err != nil {
		t.Fatalf("Get: %v", err)
	}
	rec.waitFor(t, "NodeDataChanged", func(ev Event) bool { return ev.Type == EventChanged })
	checkGet(t, h, "/w", data, fakeStat(1, len(data)))
	want := []Event{sessionEvent(StateConnected), watchEvent(EventChanged, "/w")}
	if diff := cmp.Diff(want, rec.all()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if n := fs.Accepted(); n != 1 {
		t.Errorf("%d connections, want 1: the unknown event dropped the connection", n)
	}
}

// TestFakePingWhenIdle checks the ping cadence of an idle session (xid -2
// every recv_timeout/3 of send silence) and that a ping reply's zxid is
// not taken as the last zxid seen: only request replies count, as in
// zookeeper.c and ClientCnxn.
func TestFakePingWhenIdle(t *testing.T) {
	const timeout = 1500 * time.Millisecond
	const pings = 4
	fs := fakeserver.New(t)
	times := make(chan []time.Time, 1)
	fs.Script(func(c *fakeserver.Conn) {
		c.Handshake(fakeSessionID, int32(timeout/time.Millisecond), fakePasswd, false)
		var seen []time.Time
		for range pings {
			xid, op, body := c.ReadRequest()
			seen = append(seen, time.Now())
			if xid != serialize.XidPing || op != serialize.OpPing || len(body) != 0 {
				t.Errorf("idle handle sent xid %d %v with %d bytes, want a ping", xid, op, len(body))
			}
			c.Reply(serialize.XidPing, 0x999, 0, nil)
		}
		times <- seen
	})
	infos := make(chan fakeserver.ConnectInfo, 1)
	fs.Script(func(c *fakeserver.Conn) {
		infos <- c.Handshake(fakeSessionID, int32(timeout/time.Millisecond), fakePasswd, false)
		fakeServe(c, nil)
	})
	rec := newRecorder()
	connectHandle(t, fs.Addr(), rec, timeout)
	seen := recv(t, times, "pings")
	// Each ping is timed from the previous send; the fake server's read
	// times add a scheduling delay to each, which one interval gains and
	// the next loses, so single intervals get a wide margin below and
	// their mean a narrow one. Above, a ping must come before the server
	// gives up on the session (T), and on average before the handle's own
	// receive deadline (2/3·T).
	interval := timeout / 3
	var gaps []time.Duration
	for i := 1; i < len(seen); i++ {
		gap := seen[i].Sub(seen[i-1])
		gaps = append(gaps, gap.Round(time.Millisecond))
		if gap < interval-150*time.Millisecond {
			t.Errorf("ping %d came %v after the previous one, want about %v", i, gap, interval)
		}
		if gap >= timeout {
			t.Errorf("ping %d came %v after the previous one, not within the session timeout %v", i, gap, timeout)
		}
	}
	mean := seen[len(seen)-1].Sub(seen[0]) / time.Duration(len(seen)-1)
	if mean < interval-30*time.Millisecond {
		t.Errorf("pings every %v on average, want %v", mean, interval)
	}
	if mean >= timeout*2/3 {
		t.Errorf("pings every %v on average, not within the receive deadline %v", mean, timeout*2/3)
	}
	t.Logf("ping intervals %v (recv_timeout/3 = %v)", gaps, interval)
	info := recv(t, infos, "second connection") // the first script ended: the handle reconnects
	if info.LastZxidSeen != 0 {
		t.Errorf("lastZxidSeen = %#x after ping replies only, want 0", info.LastZxidSeen)
	}
	rec.waitSession(t, StateConnected)
	rec.waitSession(t, StateConnecting)
	rec.waitSession(t, StateConnected) // before Close, so that the script sees CloseSession
}

// fakeRequest is a request as the fake server saw it; Xid is kept for the
// special (negative) xids only.
type fakeRequest struct {
	Xid  int32
	Op   serialize.OpCode
	Path string
	Auth string
	Set  *serialize.SetWatches
}

func fakeDecodeRequest(t *testing.T, xid int32, op serialize.OpCode, body []byte) fakeRequest {
	r := fakeRequest{Op: op}
	switch {
	case op == serialize.OpSetAuth:
		var p serialize.AuthPacket
		if _, err := p.Decode(body); err != nil {
			t.Errorf("auth packet: %v", err)
		}
		r.Xid, r.Auth = xid, fmt.Sprintf("%d %s %s", p.Type, p.Scheme, p.Auth)
	case op == serialize.OpSetWatches:
		r.Xid, r.Set = xid, new(serialize.SetWatches)
		if _, err := r.Set.Decode(body); err != nil {
			t.Errorf("SetWatches: %v", err)
		}
	case xid < 0:
		r.Xid = xid
	default:
		r.Path = fakePath(body)
	}
	return r
}

// TestFakeRequestsBeforeHandshakeInOrder queues requests before the
// handle connects and while it waits for the handshake reply: all are sent
// after the handshake in the order they were made, and their callbacks run
// in that order. (That none is sent before the reply is checked by the
// server's receive queue at the moment it answers: a client writing early
// would most likely, not surely, be caught.)
func TestFakeRequestsBeforeHandshakeInOrder(t *testing.T) {
	fs := fakeserver.New(t)
	connected := make(chan struct{})
	proceed := make(chan struct{})
	seen := make(chan []fakeRequest, 1)
	xids := make(chan []int32, 1)
	fs.Script(func(c *fakeserver.Conn) {
		c.ReadConnect()
		close(connected)
		<-proceed
		server, client := c.Conn().LocalAddr().(*net.TCPAddr), c.Conn().RemoteAddr().(*net.TCPAddr)
		if n, ok := fakeTCPRecvQueue(server, client); ok && n > 0 {
			t.Errorf("the client sent %d bytes before the handshake reply", n)
		}
		c.WriteConnect(fakeSessionID, fakeTimeoutMs, fakePasswd, false)
		var reqs []fakeRequest
		var ids []int32
		for i := range 5 {
			xid, op, body := c.ReadRequestAnswerPings()
			reqs = append(reqs, fakeDecodeRequest(t, xid, op, body))
			ids = append(ids, xid)
			fakeAnswer(c, xid, op, body, int64(0x80+i))
		}
		seen <- reqs
		xids <- ids
		fakeServe(c, nil)
	})
	h := initHandle(t, fs.Addr(), nil, sessionTimeout)
	var mu sync.Mutex
	var order []string
	done := make(chan struct{}, 5)
	record := func(name string, err error) {
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		mu.Lock()
		order = append(order, name)
		mu.Unlock()
		done <- struct{}{}
	}
	queue := func(name string, err error) {
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	// Before the handle has connected (Init returned a moment ago).
	queue("AExists", h.AExists("/q0", false, func(err error, _ *Stat) { record("q0", err) }))
	queue("ACreate", h.ACreate("/q1", nil, OpenACLUnsafe, Persistent, func(err error, _ string) { record("q1", err) }))
	queue("ASet", h.ASet("/q2", []byte("v"), -1, func(err error, _ *Stat) { record("q2", err) }))
	recv(t, connected, "ConnectRequest")
	// While the handshake is under way.
	queue("AGet", h.AGet("/q3", false, func(err error, _ []byte, _ *Stat) { record("q3", err) }))
	queue("ADelete", h.ADelete("/q4", -1, func(err error) { record("q4", err) }))
	close(proceed)

	want := []fakeRequest{
		{Op: serialize.OpExists, Path: "/q0"},
		{Op: serialize.OpCreate, Path: "/q1"},
		{Op: serialize.OpSetData, Path: "/q2"},
		{Op: serialize.OpGetData, Path: "/q3"},
		{Op: serialize.OpDelete, Path: "/q4"},
	}
	if diff := cmp.Diff(want, recv(t, seen, "requests")); diff != "" {
		t.Errorf("requests after the handshake (-want +got):\n%s", diff)
	}
	ids := recv(t, xids, "xids")
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Errorf("xids not increasing: %v", ids)
		}
	}
	for range 5 {
		recv(t, done, "callback")
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff([]string{"q0", "q1", "q2", "q3", "q4"}, order); diff != "" {
		t.Errorf("callback order (-want +got):\n%s", diff)
	}
}

// TestFakeReconnectSendsAuthThenSetWatches checks the frames a handle sends
// on a new connection after a drop: every auth (xid -4) in the order
// added, then SetWatches (xid -8) relative to the last zxid seen with the
// watched paths as the server knows them (chroot included), then the
// requests queued while it was disconnected.
func TestFakeReconnectSendsAuthThenSetWatches(t *testing.T) {
	fs := fakeserver.New(t)
	fs.Script(func(c *fakeserver.Conn) {
		c.Handshake(fakeSessionID, fakeTimeoutMs, fakePasswd, false)
		for range 5 { // two auths, Get /a, Exists /b (no node), GetChildren /c
			xid, op, body := c.ReadRequestAnswerPings()
			switch op {
			case serialize.OpSetAuth:
				fakeAnswer(c, xid, op, body, 0)
			case serialize.OpGetData:
				fakeAnswer(c, xid, op, body, 0x10)
			case serialize.OpExists:
				c.Reply(xid, 0x11, serialize.ErrNoNode, nil)
			default:
				fakeAnswer(c, xid, op, body, 0x12)
			}
		}
	}) // the script ends: the connection drops
	infos := make(chan fakeserver.ConnectInfo, 1)
	proceed := make(chan struct{})
	seen := make(chan []fakeRequest, 1)
	fs.Script(func(c *fakeserver.Conn) {
		infos <- c.ReadConnect()
		<-proceed
		c.WriteConnect(fakeSessionID, fakeTimeoutMs, fakePasswd, false)
		var reqs []fakeRequest
		for range 5 {
			xid, op, body := c.ReadRequestAnswerPings()
			reqs = append(reqs, fakeDecodeRequest(t, xid, op, body))
			fakeAnswer(c, xid, op, body, 0x20)
		}
		seen <- reqs
		fakeServe(c, nil)
	})

	rec := newRecorder()
	h := connectHandle(t, fs.Addr()+"/chroot", rec, sessionTimeout)
	ctx := testContext(t)
	for _, cert := range []string{"alice:a", "bob:b"} {
		if err := h.AddAuth(ctx, "digest", []byte(cert)); err != nil {
			t.Fatalf("AddAuth(%s): %v", cert, err)
		}
	}
	if _, _, err := h.Get(ctx, "/a", true); err != nil {
		t.Fatalf("Get: %v", err)
	}
	if _, err := h.Exists(ctx, "/b", true); !errors.Is(err, ErrNoNode) {
		t.Fatalf("Exists: %v, want %v", err, ErrNoNode)
	}
	if _, err := h.GetChildren(ctx, "/c", true); err != nil {
		t.Fatalf("GetChildren: %v", err)
	}
	info := recv(t, infos, "second connection")
	if info.LastZxidSeen != 0x12 || info.SessionID != fakeSessionID {
		t.Errorf("second ConnectRequest: lastZxidSeen %#x session %#x, want 0x12 %#x", info.LastZxidSeen, info.SessionID, fakeSessionID)
	}
	queued := make(chan string, 2)
	if err := h.AExists("/x", false, func(err error, _ *Stat) { queued <- fmt.Sprint("x ", err) }); err != nil {
		t.Fatal(err)
	}
	if err := h.AGet("/y", false, func(err error, _ []byte, _ *Stat) { queued <- fmt.Sprint("y ", err) }); err != nil {
		t.Fatal(err)
	}
	close(proceed)

	want := []fakeRequest{
		{Xid: serialize.XidAuth, Op: serialize.OpSetAuth, Auth: "0 digest alice:a"},
		{Xid: serialize.XidAuth, Op: serialize.OpSetAuth, Auth: "0 digest bob:b"},
		{Xid: serialize.XidSetWatches, Op: serialize.OpSetWatches, Set: &serialize.SetWatches{
			RelativeZxid: 0x12,
			DataWatches:  []string{"/chroot/a"},
			ExistWatches: []string{"/chroot/b"},
			ChildWatches: []string{"/chroot/c"},
		}},
		{Op: serialize.OpExists, Path: "/chroot/x"},
		{Op: serialize.OpGetData, Path: "/chroot/y"},
	}
	if diff := cmp.Diff(want, recv(t, seen, "frames after the reconnect")); diff != "" {
		t.Errorf("frames after the reconnect (-want +got):\n%s", diff)
	}
	for _, w := range []string{"x <nil>", "y <nil>"} {
		if got := recv(t, queued, "queued callback"); got != w {
			t.Errorf("queued request: %q, want %q", got, w)
		}
	}
	rec.waitSession(t, StateConnecting)
	rec.waitSession(t, StateConnected)
}
