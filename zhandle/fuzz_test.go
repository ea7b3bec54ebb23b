package zhandle

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zkloop/zkloop/completion"
	"github.com/zkloop/zkloop/hashtable"
	"github.com/zkloop/zkloop/internal/hostlist"
	"github.com/zkloop/zkloop/loop"
	"github.com/zkloop/zkloop/serialize"
)

// FuzzProcessReplies drives the receive path of a handle (Process, with
// readSocket, consumeFrames, the handshake, processReply, notifications
// and, on the completion side, deliver and decodeResult) with an
// arbitrary byte stream from the server, written in pieces of split bytes
// (0: at once; larger pieces when that would take over fuzzTurns). The
// handle has no goroutines: its socket is one end of a socketpair, the
// test writes the stream to the other end and calls Process itself. It starts established, or handshaking a resumed
// session, with requests of many kinds pending, synchronous and not, and
// an AddAuth. Whatever the stream, Process must not panic; every request
// completes exactly once (the asynchronous ones in the order of issue);
// and the handle either keeps its connection or drops it cleanly: socket
// closed, nothing left pending, every request in flight failed.
func FuzzProcessReplies(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s.handshaking, s.split, s.stream)
	}
	f.Fuzz(func(t *testing.T, handshaking bool, split uint16, stream []byte) {
		fz := newFuzzHandle(t, handshaking)
		fz.feed(t, stream, int(split))
		fz.finish(t)
	})
}

// fuzzTurns bounds the Process calls of one input: each costs a few
// system calls, and the fuzzer likes small splits of long inputs.
const fuzzTurns = 256

// fuzzSession is the session id of the fuzzed handle.
const fuzzSession int64 = 0x5e55_10a0

// fuzzMaxFrame is the fuzzed handle's maximum frame (WithMaxFrame), small
// so that short inputs reach the handling of oversized replies.
const fuzzMaxFrame = 4 << 10

// The requests pending on the fuzzed handle, in the order of issue (xid i+1
// for fuzzPlan[i]); the AddAuth, last, has xid -4.
var fuzzPlan = []struct {
	op   serialize.OpCode
	sync bool
}{
	{serialize.OpGetData, false},      // AGet /a, default watcher
	{serialize.OpExists, true},        // Exists /b, default watcher
	{serialize.OpGetChildren2, false}, // AGetChildren2 /c, default watcher
	{serialize.OpMulti, false},        // AMulti
	{serialize.OpGetData, true},       // Get /d, a watcher of the test
	{serialize.OpCreate, false},       // ACreate /e
	{serialize.OpGetACL, false},       // AGetACL /f
	{serialize.OpGetChildren, true},   // GetChildren /h
	{serialize.OpSync, false},         // ASync /g
	{serialize.OpMulti, true},         // Multi
	{serialize.OpSetData, false},      // ASet /i
	{serialize.OpSetAuth, false},      // AAddAuth
}

// fuzzHandle is a handle without goroutines and what the test knows of
// its requests.
type fuzzHandle struct {
	h       *Handle
	peer    int                 // the server's end of the socketpair
	calls   []int               // completions per request of fuzzPlan
	results []error             // the last result of each
	order   []int               // the requests of fuzzPlan in order of their callbacks
	entries []*completion.Entry // the synchronous requests of fuzzPlan; nil for the others
}

// newFuzzHandle builds a handle as Init does, without starting its
// goroutines, on one end of a socketpair, established or handshaking,
// with the requests of fuzzPlan pending and watches set.
func newFuzzHandle(t *testing.T, handshaking bool) *fuzzHandle {
	lp, err := loop.New() // AAddAuth and the other A* calls wake it; nothing drains it
	if err != nil {
		t.Fatal(err)
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	cfg := defaultConfig()
	cfg.maxFrame = fuzzMaxFrame
	h := &Handle{
		cfg:            cfg,
		loop:           lp,
		completions:    completion.NewQueue(),
		watches:        hashtable.New(),
		loopDone:       make(chan struct{}),
		completionDone: make(chan struct{}),
		state:          StateConnected,
		clientID:       fakeClientID(fuzzSession),
		hosts:          hostlist.New([]hostlist.Address{{}}),
		log:            cfg.logger,
	}
	h.defaultRef = defaultWatcher{h}
	h.recvTimeout.Store(int64(time.Minute))
	h.c.init()
	now := time.Now()
	h.c.fd, h.c.phase, h.c.seenRW = fds[0], phaseEstablished, true
	h.c.lastSend, h.c.lastRecv = now, now
	if handshaking {
		h.state, h.c.phase, h.c.sentSession = StateAssociating, phaseHandshaking, fuzzSession
	}
	fz := &fuzzHandle{h: h, peer: fds[1], calls: make([]int, len(fuzzPlan)), results: make([]error, len(fuzzPlan)),
		entries: make([]*completion.Entry, len(fuzzPlan))}
	t.Cleanup(func() {
		// Both are the test's own descriptors; a close error could only be EBADF.
		_ = unix.Close(fz.peer)
		_ = lp.Close()
	})

	// Watches of a test watcher on paths the events of the seeds name.
	w := WatcherFunc(func(Event) {})
	for _, r := range []hashtable.Registration{
		{Kind: hashtable.KindData, Path: "/a", Watcher: w},
		{Kind: hashtable.KindExists, Path: "/new", Watcher: w},
		{Kind: hashtable.KindChild, Path: "/c", Watcher: w},
		{Kind: hashtable.KindPersistentRecursive, Path: "/", Watcher: w},
	} {
		h.watches.Activate(r, 0)
	}
	fz.queue(t, w)
	return fz
}

// queue issues the requests of fuzzPlan.
func (fz *fuzzHandle) queue(t *testing.T, w Watcher) {
	h := fz.h
	h.xid = 0
	ops := []Op{
		CreateOp{Path: "/m1", Data: []byte("x"), ACL: OpenACLUnsafe},
		SetDataOp{Path: "/m2", Data: []byte("y"), Version: -1},
		CheckOp{Path: "/m3", Version: 1},
		DeleteOp{Path: "/m4", Version: -1},
	}
	// A synchronous caller that never gets its completion stops waiting
	// when this ends; the fuzz target then reports it.
	ctx := testContext(t)
	for i, p := range fuzzPlan {
		var err error
		if p.sync {
			e := completion.GetSync(ctx)
			switch i {
			case 1:
				err = h.queuePathWatch(e, serialize.OpExists, hashtable.KindExists, "/b", h.defaultRef)
			case 4:
				err = h.queuePathWatch(e, serialize.OpGetData, hashtable.KindData, "/d", w)
			case 7:
				err = h.queuePathWatch(e, serialize.OpGetChildren, hashtable.KindChild, "/h", nil)
			case 9:
				err = h.queueMulti(e, ops)
			}
			if err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			fz.entries[i] = e
			continue
		}
		done := func(err error) {
			fz.calls[i]++
			fz.results[i] = err
			fz.order = append(fz.order, i)
		}
		switch i {
		case 0:
			err = h.AGet("/a", true, func(err error, _ []byte, _ *Stat) { done(err) })
		case 2:
			err = h.AGetChildren2("/c", true, func(err error, _ []string, _ *Stat) { done(err) })
		case 3:
			err = h.AMulti(ops, func(err error, _ []OpResult) { done(err) })
		case 5:
			err = h.ACreate("/e", []byte("e"), OpenACLUnsafe, Persistent, func(err error, _ string) { done(err) })
		case 6:
			err = h.AGetACL("/f", func(err error, _ []ACL, _ *Stat) { done(err) })
		case 8:
			err = h.ASync("/g", func(err error, _ string) { done(err) })
		case 10:
			err = h.ASet("/i", []byte("i"), -1, func(err error, _ *Stat) { done(err) })
		case 11:
			err = h.AAddAuth("digest", []byte("u:p"), func(err error) { done(err) })
		}
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
}

// feed writes stream to the handle's socket in pieces of split bytes (all
// at once for 0; larger pieces when that would take over fuzzTurns) and
// runs Process after each, as the loop would on a readable socket. It
// stops early when the handle drops the connection.
func (fz *fuzzHandle) feed(t *testing.T, stream []byte, split int) {
	h := fz.h
	if split <= 0 {
		split = len(stream)
	}
	split = max(split, (len(stream)+fuzzTurns-1)/fuzzTurns, 1)
	for turns := 0; len(stream) > 0 && h.c.fd >= 0; turns++ {
		if turns > 2*fuzzTurns+64 {
			t.Fatalf("stream not consumed after %d turns; %d bytes left", turns, len(stream))
		}
		n, err := unix.Write(fz.peer, stream[:min(split, len(stream))])
		switch {
		case err == unix.EAGAIN: // the socket buffer is full: the handle reads first
		case err != nil:
			t.Fatalf("write to the handle: %v", err)
		default:
			stream = stream[n:]
		}
		if !(*driver)(h).Process(loop.EventRead) {
			break // the session ended (expired, auth failed)
		}
		fz.drainPeer(t)
	}
}

// drainPeer reads what the handle wrote (requests, SetWatches) and reports
// whether the handle's end is closed.
func (fz *fuzzHandle) drainPeer(t *testing.T) (closed bool) {
	var buf [4096]byte
	for {
		n, err := unix.Read(fz.peer, buf[:])
		switch {
		case err == unix.EINTR:
		case err == unix.EAGAIN:
			return false
		case err == unix.ECONNRESET:
			return true
		case err != nil:
			t.Fatalf("read from the handle: %v", err)
		case n == 0:
			return true
		}
	}
}

// finish checks the connection, ends the session as a transport failure
// and then Close would, runs the callbacks as the completion goroutine
// would, and checks that every request completed exactly once.
func (fz *fuzzHandle) finish(t *testing.T) {
	h := fz.h
	if h.c.fd < 0 {
		// Dropped (or the session ended): cleanly.
		if !fz.drainPeer(t) {
			t.Error("the handle dropped the connection but its socket is open")
		}
		h.mu.Lock()
		sent, authSent, out := h.sent.Len(), h.authSent.Len(), len(h.out)
		h.mu.Unlock()
		if sent != 0 || authSent != 0 || out != 0 {
			t.Errorf("after the drop: %d requests, %d auths pending, %d bytes queued", sent, authSent, out)
		}
	} else {
		if fz.drainPeer(t) {
			t.Error("the handle's socket is closed but it keeps the connection")
		}
		h.dropConn(ErrConnectionLoss) // the transport fails
		if !fz.drainPeer(t) {
			t.Error("dropConn left the socket open")
		}
	}
	h.shutdownConn(ErrClosing) // Close: whatever waits for a handshake fails
	h.completions.PushList(&h.c.completed)
	h.completions.Close()
	h.completions.Run(h.deliver) // the completion goroutine's work, here

	// The synchronous callers wait only now, so that no goroutine makes
	// the fuzzer's coverage depend on scheduling; a delivered entry
	// returns at once. Unlike a callback, an entry cannot show a second
	// completion, but one would take the paths of the asynchronous
	// requests (a reply pops the head of the sent queue, a failure empties
	// the lists), whose callbacks are counted.
	for i, e := range fz.entries {
		if e == nil {
			continue
		}
		if err := e.Wait(); err != nil {
			t.Errorf("synchronous request %d (%v) never completed: %v", i, fuzzPlan[i].op, err)
			continue
		}
		fz.calls[i]++
		fz.results[i] = asError(e.Rc)
		completion.Put(e) // as the synchronous calls do once they have read the result
	}
	for i, n := range fz.calls {
		if n != 1 {
			t.Errorf("request %d (%v) completed %d times", i, fuzzPlan[i].op, n)
		}
	}
	// Asynchronous callbacks run in the order of issue; the AddAuth is
	// answered apart from the others (xid -4), so it is left out.
	last := -1
	for _, i := range fz.order {
		if fuzzPlan[i].op == serialize.OpSetAuth {
			continue
		}
		if i < last {
			t.Errorf("callbacks in order %v, want the order of issue", fz.order)
			break
		}
		last = i
	}
}

// Seeds: the replies a server would send to fuzzPlan, pieces of them,
// and what a broken or hostile server might send.

type fuzzSeed struct {
	name        string
	handshaking bool
	split       uint16
	stream      []byte
	keep        bool // the handle keeps the connection
	answered    bool // every request gets its reply: ErrNoNode for the second multi, success for the others
	refused     bool // with answered: the first request's reply is over the maximum frame, so ErrMarshalling
}

func fuzzSeeds() []fuzzSeed {
	stat := serialize.Stat{Czxid: 1, Mzxid: 2, Version: 3, DataLength: 4, Pzxid: 5}
	statBody := stat.Encode(nil)
	data := serialize.GetDataResponse{Data: []byte("data"), Stat: stat}
	children := serialize.GetChildren2Response{Children: []string{"x", "y"}, Stat: stat}
	acl := serialize.GetACLResponse{ACL: []serialize.ACL{{Perms: int32(PermAll), ID: serialize.Id{Scheme: "world", ID: "anyone"}}}, Stat: stat}
	end := serialize.MultiHeader{Type: -1, Done: true, Err: -1}
	var multi, multiFailed []byte
	for _, r := range []struct {
		typ  serialize.OpCode
		body []byte
	}{
		{serialize.OpCreate, serialize.AppendString(nil, "/m1")},
		{serialize.OpSetData, statBody},
		{serialize.OpCheck, nil},
		{serialize.OpDelete, nil},
	} {
		mh := serialize.MultiHeader{Type: int32(r.typ)}
		multi = append(mh.Encode(multi), r.body...)
		failed := serialize.MultiHeader{Type: int32(serialize.OpError), Err: int32(ErrNoNode)}
		multiFailed = serialize.AppendInt32(failed.Encode(multiFailed), int32(ErrNoNode))
	}
	multi, multiFailed = end.Encode(multi), end.Encode(multiFailed)

	// Replies to fuzzPlan, in order, with zxids from 0x100; the second
	// multi fails.
	bodies := [][]byte{
		data.Encode(nil), statBody, children.Encode(nil), multi, data.Encode(nil),
		serialize.AppendString(nil, "/e"), acl.Encode(nil), serialize.AppendStrings(nil, []string{"h1"}),
		serialize.AppendString(nil, "/g"), multiFailed, statBody,
	}
	var replies []byte
	for i, b := range bodies {
		rc := Error(0)
		if i == 9 {
			rc = ErrNoNode
		}
		replies = append(replies, fakeReplyFrame(int32(i+1), 0x100+int64(i), rc, b)...)
	}
	afterFirst := replies[len(fakeReplyFrame(1, 0x100, 0, bodies[0])):]
	oversized := fakeReplyFrame(1, 0x100, 0, make([]byte, fuzzMaxFrame)) // a GetDataResponse too large to read
	authOK := fakeReplyFrame(serialize.XidAuth, 0, 0, nil)
	event := func(typ EventType, path string) []byte {
		ev := serialize.WatcherEvent{Type: int32(typ), State: int32(StateConnected), Path: path}
		return fakeReplyFrame(serialize.XidWatcherEvent, -1, 0, ev.Encode(nil))
	}
	events := cat(event(EventChanged, "/a"), event(EventCreated, "/new"), event(EventChild, "/c"),
		event(EventDeleted, "/d"), event(99, "/a"), event(EventCreated, "/deep/below"))
	handshake := fakeConnectFrame(fuzzSession, 30000, false)
	legacy := serialize.ConnectResponse{TimeOut: 30000, SessionID: fuzzSession, Passwd: fakePasswd}
	length := func(n uint32) []byte { return binary.BigEndian.AppendUint32(nil, n) }
	tooLargeHeader := func(xid int32) []byte {
		hdr := serialize.ReplyHeader{Xid: xid, Zxid: 1}
		return cat(length(0x7fffffff), hdr.Encode(nil), []byte("and the rest"))
	}

	return []fuzzSeed{
		{"every reply, auth, events", false, 0, cat(replies, authOK, events), true, true, false},
		{"every reply a byte at a time", false, 1, cat(replies, authOK), true, true, false},
		{"events, then half the replies in 7-byte pieces", false, 7, cat(events, replies[:len(replies)/2]), true, false, false},
		{"ping and SetWatches replies", false, 0, cat(fakeReplyFrame(serialize.XidPing, 0x200, 0, nil), fakeReplyFrame(serialize.XidSetWatches, 0, 0, nil), replies), true, false, false},
		{"auth failed", false, 0, fakeReplyFrame(serialize.XidAuth, 0, ErrAuthFailed, nil), false, false, false},
		{"an xid never sent", false, 0, fakeReplyFrame(99, 1, 0, nil), false, false, false},
		{"a truncated GetDataResponse", false, 0, fakeReplyFrame(1, 1, 0, []byte{0, 0, 0, 9, 'd'}), true, false, false},
		{"a negative data length", false, 0, fakeReplyFrame(1, 1, 0, []byte{0xff, 0xff, 0xff, 0xf0}), true, false, false},
		{"the reply of a later request first", false, 0, fakeReplyFrame(3, 1, 0, []byte{0x7f, 0xff, 0xff, 0xff}), false, false, false},
		{"an error reply", false, 0, fakeReplyFrame(1, 1, ErrNoNode, nil), true, false, false},
		{"a length over the frame limit, its reply header still to come", false, 0, cat(length(0x7fffffff), []byte("oversized")), true, false, false},
		{"a reply over the frame limit to an xid never sent", false, 0, tooLargeHeader(99), false, false, false},
		{"a reply over the frame limit, skipped", false, 0, cat(tooLargeHeader(1), replies[:9]), true, false, false},
		{"the first reply over the frame limit, then the others", false, 0, cat(oversized, afterFirst, authOK), true, true, true},
		{"the first reply over the frame limit in 100-byte pieces", false, 100, cat(oversized, afterFirst, authOK), true, true, true},
		{"length -1", false, 0, cat(length(0xffffffff), []byte("negative")), false, false, false},
		{"the most negative length", false, 0, cat(length(0x80000000), []byte("most negative")), false, false, false},
		{"a frame at the limit, never completed", false, 0, cat(length(fuzzMaxFrame), []byte("short")), true, false, false},
		{"an empty frame", false, 0, cat(length(0), replies), false, false, false},
		{"a frame shorter than a reply header", false, 0, cat(length(8), []byte("garbage!")), false, false, false},
		{"a frame cut in its length prefix", false, 3, cat(replies[:9], []byte{0, 0}), true, false, false},
		{"handshake, every reply, auth, events", true, 0, cat(handshake, replies, authOK, events), true, true, false},
		{"handshake and replies a byte at a time", true, 1, cat(handshake, replies), true, false, false},
		{"handshake with another session: expired", true, 0, fakeConnectFrame(fuzzSession+1, 30000, false), false, false, false},
		{"handshake with timeout 0: expired", true, 0, fakeConnectFrame(fuzzSession, 0, false), false, false, false},
		{"read-only handshake", true, 0, cat(fakeConnectFrame(fuzzSession, 30000, true), replies), true, false, false},
		{"handshake without the read-only byte", true, 0, fakeFrame(legacy.Encode(nil)), true, false, false},
		{"a handshake too short", true, 0, cat(length(4), []byte{0, 0, 0, 0}), false, false, false},
		{"garbage after the handshake", true, 0, cat(handshake, []byte("garbage after the handshake")), false, false, false},
	}
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// TestFuzzSeeds runs the seeds as the fuzz target does and checks they do
// what they are named for: the well-formed streams keep the connection,
// the broken ones drop it.
func TestFuzzSeeds(t *testing.T) {
	for _, s := range fuzzSeeds() {
		t.Run(s.name, func(t *testing.T) {
			fz := newFuzzHandle(t, s.handshaking)
			fz.feed(t, s.stream, int(s.split))
			if kept := fz.h.c.fd >= 0; kept != s.keep {
				t.Errorf("connection kept: %v, want %v", kept, s.keep)
			}
			fz.finish(t)
			if !s.answered {
				return
			}
			for i, err := range fz.results {
				var want error
				switch {
				case i == 9:
					want = ErrNoNode
				case i == 0 && s.refused:
					want = ErrMarshalling
				}
				if !errors.Is(err, want) {
					t.Errorf("request %d (%v): %v, want %v", i, fuzzPlan[i].op, err, want)
				}
			}
		})
	}
}
