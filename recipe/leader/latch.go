package leader

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"

	"github.com/zkloop/zkloop/recipe"
	"github.com/zkloop/zkloop/zhandle"
)

// Errors of the elections.
var (
	// ErrClosed is returned by the calls on a Latch or Selector that has
	// been closed.
	ErrClosed = errors.New("leader: closed")
	// ErrNotStarted is returned by Await on a Latch that was not started.
	ErrNotStarted = errors.New("leader: not started")
	// ErrStarted is returned by a second Start.
	ErrStarted = errors.New("leader: already started")

	errNoHandle = errors.New("leader: nil *zhandle.Handle")
)

// A Latch is a participant in a leader election compatible with
// Curator's LeaderLatch: Go and Java processes using the same path elect
// one leader among them. Once started it stays in the election until
// closed, leading whenever its node is the first of the queue and the
// connection allows (see WithErrorPolicy). It is safe for concurrent use.
//
// A Latch that is not started is an observer: Participants and Leader
// work without joining, as on Curator's LeaderLatch.
type Latch struct {
	election
	data []byte // the id, the node's data
	cfg  config
	wake signal // wakes the loop: the watches and the connection

	mu      sync.Mutex
	started bool
	closed  bool
	tracker *recipe.Tracker                 // from Start
	cancel  context.CancelFunc              // ends the loop; from Start
	done    chan struct{}                   // closed when Start's create or the loop has returned
	path    string                          // our node, or ""
	owner   int64                           // its ephemeralOwner: the session that made it
	term    chan struct{}                   // while leading; closed when the leadership ends
	elected chan struct{}                   // closed, then replaced, when a leadership begins
	ended   chan struct{}                   // closed when the latch leaves the election
	err     error                           // why it left
	observe func(leading bool, node string) // tests: every change, under mu
}

// signal wakes a waiter without ever blocking the handle's completion
// goroutine: one pending wake-up is enough, since the waiter reads
// everything again when it wakes. As a zhandle.Watcher it is raised by
// every event.
type signal chan struct{}

func (s signal) Process(zhandle.Event) { s.raise() }

func (s signal) raise() {
	select {
	case s <- struct{}{}:
	default:
	}
}

// NewLatch returns a Latch in the election at path (Curator's latchPath)
// with the id given, which becomes its node's data as UTF-8 and is what
// Participants and Leader report; it may be empty, as Curator's default.
// Nothing is sent until Start.
func NewLatch(h *zhandle.Handle, path, id string, opts ...Option) *Latch {
	return &Latch{election: election{h, path, latchMarker}, data: []byte(id), cfg: newConfig(opts), wake: make(signal, 1),
		done: make(chan struct{}), elected: make(chan struct{}), ended: make(chan struct{})}
}

// Start joins the election: it creates the latch's node, a protected
// EPHEMERAL_SEQUENTIAL "<path>/_c_<uuid>-latch-NNNNNNNNNN" holding the id
// (parents made as containers), and then follows the election in the
// background until Close. It returns once the node exists; ctx bounds
// only that. A ctx already done sends nothing and leaves the latch as it
// was. Otherwise a Latch starts once: after a Start that failed (the
// create refused, or ctx ended), it is out of the election for good and
// Await reports why.
func (l *Latch) Start(ctx context.Context) error {
	return l.start(ctx, l.create)
}

// start is Start with the first node made by create.
func (l *Latch) start(ctx context.Context, create func(context.Context) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if l.h == nil {
		return errNoHandle
	}
	run, cancel := context.WithCancel(context.Background())
	l.mu.Lock()
	switch {
	case l.closed:
		l.mu.Unlock()
		cancel()
		return ErrClosed
	case l.started:
		l.mu.Unlock()
		cancel()
		return ErrStarted
	}
	l.started, l.cancel = true, cancel
	l.tracker = recipe.NewTracker(l.h, l.connectionChanged)
	l.mu.Unlock()

	ctx, stop := context.WithCancel(ctx)
	defer stop()
	defer context.AfterFunc(run, stop)() // Close ends the create too
	if err := create(ctx); err != nil {
		l.tracker.Stop()
		l.leave(err)
		close(l.done)
		if l.isClosed() {
			return ErrClosed
		}
		return err
	}
	go l.follow(run)
	return nil
}

// IsLeader reports whether the latch leads now (Curator's hasLeadership).
// Await tells the holder of every change without polling.
func (l *Latch) IsLeader() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.term != nil
}

// Await waits until the latch leads, and returns a channel that is closed
// when that leadership ends: the latch was closed, the connection was
// lost (see WithErrorPolicy), the session ended or may have, or someone
// deleted the latch's node. A leader must stop acting as one when it is
// closed; the latch stays in the election and may lead again, which a
// later Await reports. Await returns ctx's error if ctx ends first,
// ErrClosed once the latch is closed, ErrNotStarted before Start, and the
// error that ended the election for the latch otherwise (the session's
// expiry, zhandle.ErrSessionExpired: make a new handle and a new Latch).
func (l *Latch) Await(ctx context.Context) (<-chan struct{}, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l.mu.Lock()
	for {
		switch {
		case l.term != nil:
			term := l.term
			l.mu.Unlock()
			return term, nil
		case l.closed:
			l.mu.Unlock()
			return nil, ErrClosed
		case l.err != nil:
			err := l.err
			l.mu.Unlock()
			return nil, err
		case !l.started:
			l.mu.Unlock()
			return nil, ErrNotStarted
		}
		elected := l.elected
		l.mu.Unlock()
		select {
		case <-elected:
		case <-l.ended:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		l.mu.Lock()
	}
}

// Node returns the path of the latch's node, or "" when it has none (not
// started, closed, or between a loss of its node and the next one).
func (l *Latch) Node() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.path
}

// Close leaves the election: the leadership, if any, ends first (its
// channel closes), then the background work stops and the node is
// deleted, in the background and across reconnects (a guaranteed delete),
// so that the next leader is chosen only after this one stopped. Close is
// idempotent; it does not close the handle.
func (l *Latch) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.endTermLocked()
	cancel := l.cancel
	l.mu.Unlock()
	if cancel == nil { // never started
		l.leave(ErrClosed)
		return nil
	}
	cancel()
	<-l.done
	l.tracker.Stop()
	l.mu.Lock()
	path := l.path
	l.path = ""
	l.mu.Unlock()
	if path != "" {
		recipe.DeleteGuaranteed(l.h, path, nil)
	}
	return nil
}

// follow is the latch's background work: check the election, then wait
// for a watch or a change of the connection, until the latch is closed
// or the session ends.
func (l *Latch) follow(ctx context.Context) {
	defer close(l.done)
	for {
		if err := l.check(ctx); err != nil {
			l.leave(err)
			return
		}
		select {
		case <-l.wake:
		case <-ctx.Done():
			l.leave(ctx.Err())
			return
		}
	}
}

// check is Curator's checkLeadership: it finds the latch's place in the
// queue and leads if it is first, or watches the node just ahead of it
// (only that one: no herd). It returns once a watch is set that will wake
// the loop.
func (l *Latch) check(ctx context.Context) error {
	for {
		select { // what woke us is read below
		case <-l.wake:
		default:
		}
		children, err := l.queue(ctx)
		if err != nil {
			return err
		}
		l.mu.Lock()
		path, owner := l.path, l.owner
		l.mu.Unlock()
		ours := slices.Index(children, path[strings.LastIndexByte(path, '/')+1:])
		session := l.h.ClientID().SessionID
		if ours < 0 || owner != session {
			// Our node is gone, or is a session's that is over: make
			// another (Curator's reset).
			if err := l.reset(ctx, path); err != nil {
				return err
			}
			continue
		}
		if ours > 0 {
			l.endTerm() // cannot happen while our node lives, since sequence numbers grow
			// getData rather than exists: no watch stays on a node
			// that is already gone.
			_, _, err := l.h.WGet(ctx, recipe.Join(l.dir, children[ours-1]), l.wake)
			if done, err := settled(ctx, l.h, err); done {
				return err
			}
			continue
		}
		// First in the queue. Read our node again, watching it so that a
		// deletion by anyone ends the leadership, and lead only if it is
		// still this session's (CURATOR.md P2, Curator 5.7's check).
		_, stat, err := l.h.WGet(ctx, path, (*nodeWatch)(l))
		switch {
		case errors.Is(err, zhandle.ErrNoNode) || err == nil && stat.EphemeralOwner != session:
			if err := l.reset(ctx, path); err != nil {
				return err
			}
			continue
		case err != nil:
			if done, err := settled(ctx, l.h, err); done {
				return err
			}
			continue
		}
		l.claim(path)
		return nil
	}
}

// settled sorts out the outcome of setting a watch: done with nil when it
// is set, done with the error when it cannot be, and not done (look
// again) when the node was gone or the connection came back after a
// loss.
func settled(ctx context.Context, h *zhandle.Handle, err error) (bool, error) {
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, zhandle.ErrNoNode):
		return false, nil
	case recipe.Retryable(err):
		if err := h.WaitConnected(ctx); err != nil {
			return true, err
		}
		return false, nil
	}
	return true, err
}

// create makes the latch's node.
func (l *Latch) create(ctx context.Context) error {
	path, stat, err := recipe.CreateProtected(ctx, l.h, recipe.Join(l.dir, latchMarker), l.data, l.cfg.acl, zhandle.EphemeralSequential)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.path, l.owner = path, stat.EphemeralOwner
	l.mu.Unlock()
	return nil
}

// reset gives up the node at old, if any (a guaranteed delete), and makes
// a new one.
func (l *Latch) reset(ctx context.Context, old string) error {
	l.mu.Lock()
	l.endTermLocked()
	l.path = ""
	l.mu.Unlock()
	if old != "" {
		recipe.DeleteGuaranteed(l.h, old, nil)
	}
	return l.create(ctx)
}

// claim begins a leadership on the node at path, unless one is under way,
// the latch is closed, or the connection is in an error state of the
// policy. The Tracker sets its state before it calls its listener, which
// takes l.mu: either the state read here is already the error, or the
// listener finds the leadership begun and ends it.
func (l *Latch) claim(path string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.term != nil || l.closed || l.path != path || l.cfg.policy.IsError(l.tracker.State()) {
		return
	}
	l.term = make(chan struct{})
	close(l.elected)
	l.elected = make(chan struct{})
	if l.observe != nil {
		l.observe(true, path)
	}
}

func (l *Latch) isClosed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closed
}

func (l *Latch) endTerm() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.endTermLocked()
}

// endTermLocked ends the leadership, if any.
func (l *Latch) endTermLocked() {
	if l.term == nil {
		return
	}
	close(l.term)
	l.term = nil
	if l.observe != nil {
		l.observe(false, l.path)
	}
}

// leave records why the latch left the election (ErrClosed once it is
// closed) and ends its leadership.
func (l *Latch) leave(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.endTermLocked()
	if l.closed {
		err = ErrClosed
	}
	if l.err == nil {
		l.err = err
		close(l.ended)
	}
}

// connectionChanged is the Tracker's listener: an error state of the
// policy ends the leadership at once; every change has the loop look
// again (Curator re-checks on RECONNECTED).
func (l *Latch) connectionChanged(s recipe.ConnectionState) {
	if l.cfg.policy.IsError(s) {
		l.endTerm()
	}
	l.wake.raise()
}

// nodeWatch is the watcher of the latch's own node: its deletion ends the
// leadership at once.
type nodeWatch Latch

func (w *nodeWatch) Process(ev zhandle.Event) {
	l := (*Latch)(w)
	if ev.Type == zhandle.EventDeleted {
		l.mu.Lock()
		if ev.Path == l.path {
			l.endTermLocked()
		}
		l.mu.Unlock()
	}
	l.wake.raise()
}
