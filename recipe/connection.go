package recipe

import (
	"strconv"
	"sync"
	"time"

	"github.com/zkloop/zkloop/zhandle"
)

// ConnectionState is the state of a handle's connection as Curator's
// ConnectionStateListener names it, which recipes act on.
type ConnectionState int32

// Connection states. Suspended, Reconnected and Lost are derived from the
// handle's session events as CURATOR.md §6 maps them, with a Lost that
// comes before the server can hand the session's nodes to anyone else.
const (
	// Latent: the handle has not established a session yet.
	Latent ConnectionState = iota
	// Connected: the handle's first session is established (CONNECTED).
	Connected
	// Suspended: the connection was lost after a session was established
	// (the handle reports zhandle.StateConnecting); the session may live
	// on, and what it holds is in doubt (SUSPENDED).
	Suspended
	// Reconnected: connected again after Suspended, Lost or ReadOnly, to
	// the same session or a new one (RECONNECTED).
	Reconnected
	// Lost: the session has expired (zhandle.StateExpiredSession, also
	// when the handle decides it itself, zhandle.WithClientSideExpiry),
	// authentication failed for good, the handle was closed
	// (zhandle.StateClosed), or the connection has stayed down
	// until the handle's SessionAliveUntil, the earliest moment the server
	// could have expired the session (LOST). In the last case the session
	// may still turn out alive (Reconnected follows), but whatever it held
	// must be treated as lost from then on, before another client can be
	// given it. Curator posts LOST a full session timeout after SUSPENDED,
	// which can be later.
	Lost
	// ReadOnly: connected to a read-only server (READ_ONLY). It does not
	// prove the session alive: Lost can follow.
	ReadOnly
)

var connectionStateNames = [...]string{"LATENT", "CONNECTED", "SUSPENDED", "RECONNECTED", "LOST", "READ_ONLY"}

// String returns Curator's name of the state ("SUSPENDED").
func (s ConnectionState) String() string {
	if s >= 0 && int(s) < len(connectionStateNames) {
		return connectionStateNames[s]
	}
	return "ConnectionState(" + strconv.Itoa(int(s)) + ")"
}

// IsConnected reports whether the state is one of a live connection
// (Curator's isConnected): Connected, Reconnected or ReadOnly.
func (s ConnectionState) IsConnected() bool {
	return s == Connected || s == Reconnected || s == ReadOnly
}

// ErrorPolicy says which connection states end what a recipe holds (a
// lock, leadership): Curator's ConnectionStateErrorPolicy.
type ErrorPolicy int32

const (
	// SessionErrorPolicy counts only Lost as an error: a holder keeps
	// holding through a suspension and learns of a loss once the session
	// is, or may be, gone (SessionConnectionStateErrorPolicy). The locks'
	// default.
	SessionErrorPolicy ErrorPolicy = iota
	// StandardErrorPolicy counts Suspended and Lost: a holder stops as
	// soon as the connection is lost, since it cannot know whether the
	// session survives (StandardConnectionStateErrorPolicy, Curator's
	// default, and the one leader election needs).
	StandardErrorPolicy
)

// IsError reports whether the policy counts s as the end of a holding.
func (p ErrorPolicy) IsError(s ConnectionState) bool {
	return s == Lost || s == Suspended && p == StandardErrorPolicy
}

// String returns the name of the policy's Curator class.
func (p ErrorPolicy) String() string {
	switch p {
	case SessionErrorPolicy:
		return "SessionConnectionStateErrorPolicy"
	case StandardErrorPolicy:
		return "StandardConnectionStateErrorPolicy"
	}
	return "ErrorPolicy(" + strconv.Itoa(int(p)) + ")"
}

// A Tracker follows a handle's connection in Curator's terms and tells a
// listener of every change of state, in order: Curator's
// ConnectionStateManager for one recipe. It registers a session watcher
// on the handle (zhandle.Handle.AddSessionWatcher) and, while the
// connection is down, a timer for the handle's SessionAliveUntil, so that
// Lost is posted the moment the server could have expired the session.
//
// The listener runs on the handle's completion goroutine, or on the
// timer's, one call at a time, without the Tracker's lock held: it may
// call State and Stop, but must not block, and must not make synchronous
// calls on the handle (they would wait for the completion goroutine it is
// holding up); it should hand work to a goroutine of its own or use the
// handle's asynchronous calls.
type Tracker struct {
	h        *zhandle.Handle
	listener func(ConnectionState)
	remove   func() // the session watcher's

	// deliver is held while a change is decided and delivered, so that
	// the completion goroutine and the timer deliver one at a time, in
	// the order decided.
	deliver sync.Mutex

	mu      sync.Mutex
	state   ConnectionState
	session int64       // the session id last connected
	timer   *time.Timer // fires at SessionAliveUntil while the connection is down; made on first use
	stopped bool
}

// NewTracker starts tracking h's connection. The initial state comes from
// h.State() (Latent before the first session; Suspended when the
// connection is down after one) and is not delivered: the listener hears
// of the changes after it, as State reports them.
func NewTracker(h *zhandle.Handle, listener func(ConnectionState)) *Tracker {
	t := &Tracker{h: h, listener: listener}
	t.deliver.Lock() // events wait for the initial state
	defer t.deliver.Unlock()
	t.remove = h.AddSessionWatcher((*trackerWatcher)(t))
	t.mu.Lock()
	defer t.mu.Unlock()
	switch h.State() {
	case zhandle.StateConnected:
		t.state = Connected
	case zhandle.StateReadOnly:
		t.state = ReadOnly
	case zhandle.StateExpiredSession, zhandle.StateAuthFailed, zhandle.StateClosed:
		t.state = Lost
	default: // connecting, or between connections
		if !h.SessionAliveUntil().IsZero() {
			t.state = Suspended
			t.armLocked()
		}
	}
	t.session = h.ClientID().SessionID
	return t
}

// State returns the current state.
func (t *Tracker) State() ConnectionState {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.state
}

// Stop ends the tracking: the session watcher is removed and the timer
// stopped. A delivery already under way may still reach the listener
// once; none starts after Stop returns. Stop is idempotent and may be
// called from the listener.
func (t *Tracker) Stop() {
	t.mu.Lock()
	t.stopped = true
	if t.timer != nil {
		t.timer.Stop()
	}
	t.mu.Unlock()
	t.remove()
}

// trackerWatcher is the Tracker's session watcher; a type of its own
// keeps Process out of the Tracker's methods.
type trackerWatcher Tracker

func (w *trackerWatcher) Process(ev zhandle.Event) {
	if ev.Type == zhandle.EventSession {
		(*Tracker)(w).sessionEvent(ev.State)
	}
}

// sessionEvent moves the state on a session event of the handle and
// delivers the changes.
func (t *Tracker) sessionEvent(s zhandle.State) {
	t.deliver.Lock()
	defer t.deliver.Unlock()
	t.mu.Lock()
	changes := t.changeLocked(s)
	t.mu.Unlock()
	for _, c := range changes {
		t.listener(c)
	}
}

// changeLocked applies session event s and returns the states entered, in
// order: none, one, or Lost then Reconnected when the handle connected to
// a new session.
func (t *Tracker) changeLocked(s zhandle.State) []ConnectionState {
	if t.stopped {
		return nil
	}
	switch s {
	case zhandle.StateConnecting:
		if t.state.IsConnected() {
			t.state = Suspended
			t.armLocked()
			return []ConnectionState{Suspended}
		}
	case zhandle.StateConnected, zhandle.StateReadOnly:
		return t.connectedLocked(s == zhandle.StateReadOnly)
	case zhandle.StateExpiredSession, zhandle.StateAuthFailed, zhandle.StateClosed:
		if t.state != Lost {
			t.state = Lost
			t.stopTimerLocked()
			return []ConnectionState{Lost}
		}
	}
	return nil
}

// connectedLocked applies the establishment of a session.
func (t *Tracker) connectedLocked(readOnly bool) []ConnectionState {
	var changes []ConnectionState
	session := t.h.ClientID().SessionID
	renewed := t.state != Latent && session != t.session
	if renewed && t.state != Lost {
		changes = append(changes, Lost) // the old session, and all it held, is gone
	}
	t.session = session
	next := t.state
	switch {
	case readOnly:
		next = ReadOnly // the timer, if any, keeps running
	case t.state == Latent:
		next = Connected
	case renewed || t.state == Suspended || t.state == Lost || t.state == ReadOnly:
		next = Reconnected
	}
	if next != ReadOnly {
		t.stopTimerLocked()
	}
	if next != t.state || renewed {
		t.state = next
		changes = append(changes, next)
	}
	return changes
}

// armLocked sets the timer for the handle's SessionAliveUntil.
func (t *Tracker) armLocked() {
	d := time.Until(t.h.SessionAliveUntil())
	if t.timer == nil {
		t.timer = time.AfterFunc(d, t.expire)
		return
	}
	t.timer.Reset(d)
}

func (t *Tracker) stopTimerLocked() {
	if t.timer != nil {
		t.timer.Stop()
	}
}

// expire runs on the timer's goroutine: still not reconnected when the
// server may expire the session, the session counts as lost.
func (t *Tracker) expire() {
	t.deliver.Lock()
	defer t.deliver.Unlock()
	t.mu.Lock()
	if t.stopped || t.state != Suspended && t.state != ReadOnly {
		t.mu.Unlock()
		return
	}
	if d := time.Until(t.h.SessionAliveUntil()); d > 0 {
		t.timer.Reset(d) // the session was proven alive meanwhile
		t.mu.Unlock()
		return
	}
	t.state = Lost
	t.mu.Unlock()
	t.listener(Lost)
}
