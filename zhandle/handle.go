package zhandle

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zkloop/zkloop/completion"
	"github.com/zkloop/zkloop/hashtable"
	"github.com/zkloop/zkloop/internal/goid"
	"github.com/zkloop/zkloop/internal/hostlist"
	"github.com/zkloop/zkloop/loop"
	"github.com/zkloop/zkloop/serialize"
)

// Close bounds, as zookeeper_close: flush the CloseSession request for at
// most closeFlush, then wait at most closeReply for its reply.
const (
	closeFlush = 3 * time.Second
	closeReply = 1500 * time.Millisecond
)

// Handle is a ZooKeeper session (zhandle_t). All methods are safe for
// concurrent use.
type Handle struct {
	cfg           config
	chroot        string
	log           *slog.Logger
	loop          *loop.Loop
	completions   *completion.Queue
	watches       *hashtable.Tables
	defaultRef    Watcher        // registers "the default watcher" (watch=true)
	configTracker *configTracker // reads /zookeeper/config for WithConfigTracking
	trace         tracers        // WithTracer's hooks
	stats         counters       // for Stats

	loopDone       chan struct{}      // closed when the I/O goroutine has ended
	completionDone chan struct{}      // closed when the completion goroutine has ended
	completionGoID atomic.Uint64      // goroutine of do_completion, for Close from a callback
	closed         context.Context    // done once Close is called: ends background work
	cancelClosed   context.CancelFunc // ends closed
	background     sync.WaitGroup     // goroutines of the handle beyond the two loops (config tracking's resolver)

	recvTimeout atomic.Int64 // ns: requested until the handshake, then negotiated
	born        time.Time    // Init's time: the origin of heardAt
	heardAt     atomic.Int64 // ns after born: the server provably heard from the session then or later; 0 before any session
	sessionID   atomic.Int64 // for the log; ClientID under mu is the truth
	lastZxid    atomic.Int64 // last_zxid: the newest zxid seen in a reply
	watcher     atomic.Pointer[Watcher]

	mu            sync.Mutex
	state         State
	closing       bool      // Close was called: no new requests
	closeDeadline time.Time // when the loop gives up on CloseSession
	clientID      ClientID
	hosts         *hostlist.List             // the servers and the choice of the next one
	hostSpec      string                     // the host list as given, for re-resolution
	hostNames     bool                       // hostSpec names hosts, not only IP literals
	current       hostlist.Address           // the server connected or connecting to
	moveServer    bool                       // SetServers asks the loop to leave the current server
	rwServer      hostlist.Address           // a read/write server a probe found, to move to
	out           []byte                     // framed requests the loop has not taken yet
	sent          completion.List            // requests queued or written, awaiting replies (sent_requests)
	auths         []authInfo                 // every AddAuth, re-sent after each handshake (auth_list_head)
	aclScratch    []serialize.ACL            // wireACLLocked's buffer
	authSent      completion.List            // one entry per auth reply still due: the AddAuth waiter, or a placeholder for a re-send
	xid           int32                      // the last xid handed out
	stateWaiters  map[chan struct{}]struct{} // WaitConnected calls, told of every state change
	sessionSubs   []*sessionSub              // AddSessionWatcher's watchers, in the order added
	authCause     error                      // why SASL or TLS failed, for WaitConnected in StateAuthFailed

	c    conn         // owned by the I/O goroutine
	sasl saslExchange // the SASL exchange of the connection (phaseSASL); owned by the I/O goroutine
}

// Init creates a handle and starts connecting (zookeeper_init). It returns
// at once; the session event arrives on watcher, and WaitConnected waits
// for it. hosts is "host:port,host:port[/chroot]"; recvTimeout is the
// session timeout asked of the server. watcher may be nil.
func Init(hosts string, watcher Watcher, recvTimeout time.Duration, opts ...Option) (*Handle, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if recvTimeout <= 0 || recvTimeout.Milliseconds() > 1<<31-1 {
		return nil, fmt.Errorf("%w: session timeout %v", ErrBadArguments, recvTimeout)
	}
	if cfg.sasl != nil && cfg.sasl.user == "" {
		return nil, fmt.Errorf("%w: WithSASLDigest with an empty user name", ErrBadArguments)
	}
	hostList, chroot, err := splitChroot(hosts)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), resolveCallTimeout)
	defer cancel()
	addrs, err := (&Handle{cfg: cfg}).resolve(ctx, hostList)
	if err != nil {
		return nil, err
	}
	lp, err := loop.New()
	if err != nil {
		return nil, err
	}
	h := &Handle{
		cfg:            cfg,
		chroot:         chroot,
		loop:           lp,
		completions:    completion.NewQueue(),
		watches:        hashtable.New(),
		loopDone:       make(chan struct{}),
		completionDone: make(chan struct{}),
		state:          StateNotConnected,
		born:           time.Now(),
		clientID:       cfg.clientID,
		hosts:          hostlist.New(addrs),
		hostSpec:       hostList,
		hostNames:      hostlist.HasNames(hostList),
		xid:            int32(time.Now().Unix() & 0x3fffffff), // seeded with the time, as C
	}
	h.defaultRef = defaultWatcher{h}
	h.configTracker = &configTracker{h: h}
	h.trace = newTracers(cfg.tracer)
	h.closed, h.cancelClosed = context.WithCancel(context.Background())
	h.SetWatcher(watcher)
	h.recvTimeout.Store(int64(recvTimeout))
	h.sessionID.Store(cfg.clientID.SessionID)
	h.log = slog.New(sessionLogHandler{cfg.logger.Handler(), &h.sessionID})
	h.c.init()
	h.c.connectLimit = max(cfg.connectTimeout, 0)
	h.c.seenRW = cfg.clientID.SessionID != 0 // a session given by the user exists (Java sets seenRwServerBefore)
	h.log.Info("initiating", "hosts", hosts, "timeout", recvTimeout)
	go h.runLoop()
	go h.runCompletions()
	return h, nil
}

func sessionAttr(id int64) string { return fmt.Sprintf("%#x", id) }

// sessionLogHandler adds the current session id to every log record, so
// that the handle's logger can be made once and still name the session the
// server assigns later.
type sessionLogHandler struct {
	slog.Handler
	id *atomic.Int64
}

func (s sessionLogHandler) Handle(ctx context.Context, r slog.Record) error {
	r.AddAttrs(slog.String("session", sessionAttr(s.id.Load())))
	return s.Handler.Handle(ctx, r)
}

func (s sessionLogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return sessionLogHandler{s.Handler.WithAttrs(attrs), s.id}
}

func (s sessionLogHandler) WithGroup(name string) slog.Handler {
	return sessionLogHandler{s.Handler.WithGroup(name), s.id}
}

// defaultWatcher stands for the handle's default watcher in the watch
// tables: a request with watch=true registers it, and an event delivered to
// it goes to whatever watcher SetWatcher installed last.
type defaultWatcher struct{ h *Handle }

func (d defaultWatcher) Process(ev Event) {
	if w := d.h.watcher.Load(); w != nil && *w != nil {
		(*w).Process(ev)
	}
}

// SetWatcher replaces the default watcher and returns the previous one
// (zoo_set_watcher).
func (h *Handle) SetWatcher(w Watcher) Watcher {
	old := h.watcher.Swap(&w)
	if old == nil {
		return nil
	}
	return *old
}

// State returns the session state (zoo_state).
func (h *Handle) State() State {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.state
}

// ClientID returns the session id and password, for WithClientID
// (zoo_client_id).
func (h *Handle) ClientID() ClientID {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.clientID
}

// RecvTimeout returns the session timeout: the negotiated one once
// connected, the requested one before (zoo_recv_timeout).
func (h *Handle) RecvTimeout() time.Duration { return time.Duration(h.recvTimeout.Load()) }

// CurrentServer returns the address of the server the handle is connected
// or connecting to, or "" (zoo_get_current_server).
func (h *Handle) CurrentServer() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.current == (hostlist.Address{}) {
		return ""
	}
	return h.current.String()
}

// SetServers replaces the server list (zoo_set_servers). As the C client
// (ZOOKEEPER-1355), the handle leaves its server only when it must (the
// server is no longer listed) or, when the ensemble grew, with the
// probability that spreads clients evenly; in-flight requests then fail
// with ErrConnectionLoss and the session moves. A chroot, if given, must
// be the handle's. Host names are resolved within resolveCallTimeout
// (10 s); names that do not resolve by then are left out, and
// ErrBadArguments is returned when nothing resolves.
func (h *Handle) SetServers(hosts string) error {
	hostList, chroot, err := splitChroot(hosts)
	if err != nil {
		return err
	}
	if chroot != h.chroot && chroot != "" {
		return fmt.Errorf("%w: SetServers cannot change the chroot", ErrBadArguments)
	}
	ctx, cancel := context.WithTimeout(context.Background(), resolveCallTimeout)
	defer cancel()
	addrs, err := h.resolve(ctx, hostList)
	if err != nil {
		return err
	}
	h.useServers(hostList, addrs)
	return nil
}

// useServers installs a resolved host list and wakes the loop to move if
// the list says so.
func (h *Handle) useServers(hostList string, addrs []hostlist.Address) {
	h.mu.Lock()
	h.hostSpec, h.hostNames = hostList, hostlist.HasNames(hostList)
	if h.hosts.Update(addrs, h.current) {
		h.moveServer = true
	}
	h.mu.Unlock()
	h.loop.Wake()
}

// resolve resolves a host list and shuffles it unless deterministic order
// was asked for.
func (h *Handle) resolve(ctx context.Context, hostList string) ([]hostlist.Address, error) {
	addrs, err := hostlist.Resolve(ctx, hostList)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadArguments, err)
	}
	if !h.cfg.deterministic {
		hostlist.Shuffle(addrs)
	}
	return addrs, nil
}

// WaitConnected waits until the session is connected (or read-only), the
// handle becomes unrecoverable or closed, or ctx ends.
func (h *Handle) WaitConnected(ctx context.Context) error {
	changed := make(chan struct{}, 1)
	h.mu.Lock()
	if h.stateWaiters == nil {
		h.stateWaiters = make(map[chan struct{}]struct{})
	}
	h.stateWaiters[changed] = struct{}{}
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.stateWaiters, changed)
		h.mu.Unlock()
	}()
	for {
		switch s := h.State(); {
		case s == StateConnected || s == StateReadOnly:
			return nil
		case s == StateAuthFailed:
			return h.authFailure() // wraps ErrAuthFailed: state -113, error -115, the codes differ
		case s.Unrecoverable():
			return ErrSessionExpired
		}
		if h.isClosing() {
			return ErrClosing
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (h *Handle) isClosing() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closing
}

// setStateLocked is the one place the state changes; h.mu is held. It
// notifies WaitConnected waiters.
func (h *Handle) setStateLocked(s State) {
	if h.state == s {
		return
	}
	h.state = s
	for ch := range h.stateWaiters {
		select {
		case ch <- struct{}{}:
		default: // already told; the waiter rereads the state
		}
	}
}

// runLoop is do_io: the I/O goroutine.
func (h *Handle) runLoop() {
	defer func() {
		h.c.handshakes.Wait() // a TLS handshake ends once its transport is closed
		close(h.loopDone)
	}()
	if err := h.loop.Run((*driver)(h)); err != nil {
		h.log.Error("poll loop failed", "err", err)
		h.mu.Lock()
		h.closing = true // nothing could complete a later request
		h.mu.Unlock()
		h.shutdownConn(ErrSystem)
		h.completions.PushList(&h.c.completed)
	}
}

// runCompletions is do_completion: the completion goroutine.
func (h *Handle) runCompletions() {
	defer close(h.completionDone)
	h.completionGoID.Store(goid.Current())
	h.completions.Run(h.deliver)
}

// Close ends the session and releases everything the handle holds
// (zookeeper_close). When connected it sends CloseSession after the
// requests already queued and waits a bounded time for the reply; then
// every request still pending fails with ErrClosing. It stops both
// goroutines and closes the socket and the self-pipe. Close is idempotent,
// safe from many goroutines at once, and safe from inside a callback or
// watcher (it then returns without waiting for the completion goroutine,
// which ends after the callback returns, as C detaches the thread).
func (h *Handle) Close() error {
	h.cancelClosed()
	h.mu.Lock()
	first := !h.closing
	if first {
		h.closing = true
		if h.state == StateConnected || h.state == StateReadOnly {
			h.closeDeadline = time.Now().Add(closeFlush + closeReply)
			h.queueCloseSessionLocked()
		}
	}
	h.mu.Unlock()
	h.loop.Wake()
	<-h.loopDone
	h.c.probe.wg.Wait() // a read/write probe ends within its timeout
	if first {
		h.queueClosedEvent()
		h.completions.Close()
	}
	if goid.Current() != h.completionGoID.Load() {
		<-h.completionDone
	}
	if first {
		h.background.Wait() // before the self-pipe goes: they wake the loop
		if err := h.loop.Close(); err != nil {
			h.log.Warn("closing the self-pipe", "err", err)
		}
		h.watches.Clear()
		h.log.Info("closed")
	}
	return nil
}

// queueCloseSessionLocked queues the CloseSession request (xid, op -11);
// its reply ends the loop.
func (h *Handle) queueCloseSessionLocked() {
	e := completion.Get()
	start := h.beginFrameLocked(e, serialize.OpClose, "")
	if err := h.finishFrameLocked(e, start); err != nil {
		completion.Put(e) // a bare header cannot exceed the frame limit
	}
}

// AddSessionWatcher registers w for every session event of the handle
// from now on (Type EventSession: StateConnecting after a connection
// loss, StateConnected or StateReadOnly once a session is established,
// StateExpiredSession, StateAuthFailed, and last StateClosed when the
// handle is closed), delivered on the completion goroutine in order with
// watch events and callbacks. Unlike a watch it
// needs no node, and it lasts until remove is called or the handle is
// closed; it is how a recipe holding a lock or a cache learns that what it
// holds may be lost. A watcher also registered on nodes gets each session
// event once. remove is idempotent and safe from any goroutine, the
// watcher itself included; once it has returned, w is not called again
// unless a delivery to w is already running on the completion goroutine.
func (h *Handle) AddSessionWatcher(w Watcher) (remove func()) {
	sub := &sessionSub{w: w}
	h.mu.Lock()
	h.sessionSubs = append(h.sessionSubs, sub)
	h.mu.Unlock()
	return func() {
		sub.removed.Store(true)
		h.mu.Lock()
		defer h.mu.Unlock()
		if i := slices.Index(h.sessionSubs, sub); i >= 0 {
			h.sessionSubs = slices.Delete(h.sessionSubs, i, i+1)
		}
	}
}

// sessionSub is one AddSessionWatcher registration.
type sessionSub struct {
	w       Watcher
	removed atomic.Bool
}

func (s *sessionSub) Process(ev Event) {
	if !s.removed.Load() {
		s.w.Process(ev)
	}
}

// SessionAliveUntil returns a time before which the server cannot have
// expired the session: the negotiated session timeout after the last
// moment the server provably heard from the handle (the send time of the
// newest ping it answered, or of the handshake). While connected it
// advances with every ping, at least every third of the timeout; after a
// connection loss it stands still. Whoever holds something the session
// owns (a lock, leadership, an ephemeral node) and is not connected again
// by then must treat it as lost from then on, before the server could give
// it to another session; the recipes do. It is the zero Time until a
// session has been established.
func (h *Handle) SessionAliveUntil() time.Time {
	heard := h.heardAt.Load()
	if heard == 0 {
		return time.Time{}
	}
	return h.born.Add(time.Duration(heard) + h.RecvTimeout())
}

// markHeard records that the server received, at t or later, what the
// handle sent at t (SessionAliveUntil).
func (h *Handle) markHeard(t time.Time) {
	h.heardAt.Store(max(int64(t.Sub(h.born)), 1))
}
