package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zkloop/zkloop/zhandle"
)

// session holds what the command line says about the session.
type session struct {
	server       string        // connect string: "host:port,...[/chroot]"
	timeout      time.Duration // session timeout asked of the server
	readOnly     bool          // -r: accept a read-only server
	clientIDFile string        // -clientid: resume the session saved there, save new ones
	wait         bool          // -waitforconnection
	trace        bool          // -trace: a line per request on stderr
	security                   // TLS and SASL
}

// shell runs zkcli commands on one ZooKeeper session at a time. It is the
// port of ZooKeeperMain (zkCli.sh) and cli.c: Run executes one command
// (words, the name first) and RunLine one typed line; output goes to out,
// error lines and logs to errOut, watch events to events.
type shell struct {
	out, errOut, events io.Writer
	loc                 *time.Location // for ctime and mtime
	interactive         bool           // session events are printed, the prompt is shown; else batch mode
	cfg                 session
	logLevel            *slog.LevelVar
	logger              *slog.Logger

	printWatches atomic.Bool
	onState      func() // the terminal redraws its prompt; may be nil

	// saveMu is held while the -clientid file is written, so that the
	// exit, which saves the session too, waits for a write the watcher
	// has begun rather than end the process in the middle of it.
	saveMu  sync.Mutex
	savedID int64 // the session id last written to cfg.clientIDFile

	mu       sync.Mutex
	h        *zhandle.Handle // nil once closed
	host     string          // connect string of h
	unwaited bool            // batch mode: h's session is to be waited for before a command needs it
	history  map[int]string  // this session's commands by number (history, redo)
	count    int             // number of commands run, the prompt's counter
	wexisted *eventPrinter   // the watcher of wexists
}

// newShell returns a shell writing to out and errOut; watch events go to
// events. It does not connect.
func newShell(cfg session, out, errOut, events io.Writer, interactive bool) *shell {
	s := &shell{
		out: out, errOut: errOut, events: events,
		loc:         time.Local,
		interactive: interactive,
		cfg:         cfg,
		logLevel:    new(slog.LevelVar),
		history:     map[int]string{},
	}
	s.logLevel.Set(s.quietLevel())
	s.logger = slog.New(slog.NewTextHandler(errOut, &slog.HandlerOptions{Level: s.logLevel}))
	s.printWatches.Store(true)
	s.wexisted = &eventPrinter{s: s}
	return s
}

// quietLevel is the log level without -d or verbose: warnings on a
// terminal (cli_mt logs at WARN), only errors in scripts, whose stderr is
// for failed commands.
func (s *shell) quietLevel() slog.Level {
	if s.interactive {
		return slog.LevelWarn
	}
	return slog.LevelError
}

// handle returns the current handle, or nil when the session was closed.
func (s *shell) handle() *zhandle.Handle {
	h, _ := s.current()
	return h
}

// current returns the current handle, or nil, and its connect string.
func (s *shell) current() (*zhandle.Handle, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.h, s.host
}

// connect closes the current session, if any, and starts a new one on
// host, resuming id when it is not zero. With -waitforconnection, or when
// resuming, it waits for the session within the session timeout, while
// the handle tries the servers in turn; in batch mode Run waits before the
// first command that needs the session, so that local commands (help,
// version) run without one.
func (s *shell) connect(ctx context.Context, host string, id zhandle.ClientID) error {
	if err := s.open(host, id); err != nil {
		return err
	}
	if !s.cfg.wait && id.SessionID == 0 {
		return nil
	}
	err := s.waitSession(ctx)
	switch {
	case err == nil:
		return nil
	case id.SessionID != 0 && errors.Is(err, zhandle.ErrSessionExpired):
		// The saved session is gone: start a new one, as cli_mt would
		// have to be restarted without its myid file.
		fmt.Fprintf(s.errOut, "Session %s has expired; starting a new session\n", javaHex(id.SessionID))
		return s.connect(ctx, host, zhandle.ClientID{})
	case !s.cfg.wait && s.interactive:
		return nil // resuming, and the server is slow: commands will wait or fail
	}
	return s.noSession(err)
}

// open closes the current session, if any, and starts a handle on host,
// resuming id when it is not zero.
func (s *shell) open(host string, id zhandle.ClientID) error {
	s.closeHandle()
	w := &sessionWatcher{s: s, ready: make(chan struct{})}
	options := append([]zhandle.Option{zhandle.WithLogger(s.logger), zhandle.WithConnectTimeout(connectTimeout)}, s.cfg.security.options()...)
	if s.cfg.readOnly {
		options = append(options, zhandle.WithReadOnly())
	}
	if s.cfg.trace {
		options = append(options, zhandle.WithTracer(&requestPrinter{w: s.errOut}))
	}
	if id.SessionID != 0 {
		options = append(options, zhandle.WithClientID(id))
	}
	h, err := zhandle.Init(host, w, s.cfg.timeout, options...)
	if err != nil {
		return err
	}
	w.h = h
	close(w.ready)
	s.mu.Lock()
	s.h, s.host, s.unwaited = h, host, !s.interactive
	s.mu.Unlock()
	s.stateChanged()
	return nil
}

// connectTimeout bounds a server's silence while a connection is set up
// (zhandle.WithConnectTimeout), doubling after each miss: a ZooKeeper 3.8
// server that is starting sometimes neither answers nor closes a
// connection, and without the bound the handle, as the C client, would
// wait two thirds of the session timeout (20 s by default) before it
// tries again.
const connectTimeout = time.Second

// waitSession waits for the session of the current handle within the
// session timeout.
func (s *shell) waitSession(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.timeout)
	defer cancel()
	defer func() {
		s.mu.Lock()
		s.unwaited = false
		s.mu.Unlock()
	}()
	h, _ := s.current()
	return h.WaitConnected(ctx)
}

// noSessionError is the failure to get a session; in batch mode the
// commands after it do not run.
type noSessionError struct{ msg string }

func (e *noSessionError) Error() string { return e.msg }

// noSession explains why waitSession failed, naming the servers when none
// served in time. An interruption stays as it is.
func (s *shell) noSession(err error) error {
	switch {
	case errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, context.DeadlineExceeded):
		_, host := s.current()
		return &noSessionError{fmt.Sprintf("Could not establish a session with %s within %v: %s",
			strings.Join(serverList(host), ", "), s.cfg.timeout, errorLine(zhandle.ErrConnectionLoss, ""))}
	}
	return &noSessionError{errorLine(err, "")}
}

// serverList returns the servers of a connect string, without the chroot.
func serverList(connect string) []string {
	hosts, _, _ := strings.Cut(connect, "/")
	return strings.Split(hosts, ",")
}

// closeHandle ends the session (zookeeper_close) and forgets the handle.
func (s *shell) closeHandle() {
	s.mu.Lock()
	h := s.h
	s.h = nil
	s.mu.Unlock()
	if h != nil {
		_ = h.Close() // Close always returns nil; it is idempotent
		s.stateChanged()
	}
}

// detach forgets the handle without ending the session, so that another
// zkcli can resume it with -clientid. It is used only on exit: the process
// ending closes the socket, and the server keeps the session for its
// timeout.
func (s *shell) detach() {
	s.mu.Lock()
	s.h = nil
	s.mu.Unlock()
}

func (s *shell) stateChanged() {
	if s.onState != nil {
		s.onState()
	}
}

// prompt is zkCli.sh's prompt with the server the session is using:
// "[zk: 127.0.0.1:2181(CONNECTED) 3] ".
func (s *shell) prompt() string {
	s.mu.Lock()
	h, host, count := s.h, s.host, s.count
	s.mu.Unlock()
	state := "CLOSED"
	if h != nil {
		state = h.State().String()
		if server := h.CurrentServer(); server != "" {
			host = server
			if i := strings.IndexByte(s.host, '/'); i >= 0 {
				host += s.host[i:] // the chroot
			}
		}
	}
	return fmt.Sprintf("[zk: %s(%s) %d] ", host, state, count)
}

// sessionWatcher is the default watcher of one handle.
type sessionWatcher struct {
	s     *shell
	ready chan struct{} // closed once h is set
	h     *zhandle.Handle
}

func (w *sessionWatcher) Process(ev zhandle.Event) {
	<-w.ready
	s := w.s
	if ev.Type == zhandle.EventSession {
		if ev.State == zhandle.StateConnected || ev.State == zhandle.StateReadOnly {
			s.saveClientID(w.h.ClientID())
		}
		s.stateChanged()
		if !s.interactive {
			return // scripts see failed commands, not session chatter
		}
	}
	s.printEvent(ev)
}

func (s *shell) printEvent(ev zhandle.Event) {
	if s.printWatches.Load() {
		io.WriteString(s.events, watcherLines(ev))
	}
}

// eventPrinter is a watcher of its own (wexists), printing what it gets.
type eventPrinter struct{ s *shell }

func (p *eventPrinter) Process(ev zhandle.Event) { p.s.printEvent(ev) }

// saveClientID writes a new session's id to the -clientid file (cli_mt's
// myid file).
func (s *shell) saveClientID(id zhandle.ClientID) {
	if s.cfg.clientIDFile == "" {
		return
	}
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	if id.SessionID == s.savedID {
		return
	}
	s.savedID = id.SessionID
	if err := writeClientID(s.cfg.clientIDFile, id); err != nil {
		fmt.Fprintf(s.errOut, "saving the session id: %v\n", err)
	}
}

// errQuit is returned by quit and exit.
var errQuit = errors.New("quit")

// RunLine runs one typed or scripted line: blank lines and lines starting
// with # are skipped. The line is numbered in the session's history, as
// zkCli.sh numbers it.
func (s *shell) RunLine(ctx context.Context, line string) error {
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' {
		return nil
	}
	s.mu.Lock()
	s.history[s.count] = line
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.count++
		s.mu.Unlock()
		s.stateChanged()
	}()
	words, err := splitLine(line)
	if err != nil {
		return err
	}
	return s.Run(ctx, words)
}

// Run runs one command: words[0] is its name.
func (s *shell) Run(ctx context.Context, words []string) error {
	if len(words) == 0 {
		return nil
	}
	c := lookup(words[0])
	if c == nil {
		return fmt.Errorf("Command not found: %s", words[0])
	}
	o, err := c.spec.parse(words)
	if err == nil && (len(o.args)-1 < c.minArgs || c.maxArgs >= 0 && len(o.args)-1 > c.maxArgs) {
		return errors.New(c.usageLine())
	}
	if err != nil {
		return fmt.Errorf("%v; usage: %s", err, c.usageLine())
	}
	var h *zhandle.Handle
	if !c.local {
		if h, err = s.sessionHandle(ctx); err != nil {
			return err
		}
	}
	err = c.run(ctx, s, h, o)
	if err != nil && h != nil && h.State() == zhandle.StateAuthFailed {
		return authFailure(h, err)
	}
	return err
}

// sessionHandle returns the handle for a command that needs the session;
// in batch mode the first such command waits for the session.
func (s *shell) sessionHandle(ctx context.Context) (*zhandle.Handle, error) {
	s.mu.Lock()
	h, unwaited := s.h, s.unwaited
	s.mu.Unlock()
	switch {
	case h == nil:
		return nil, errors.New("Not connected")
	case !unwaited:
		return h, nil
	}
	if err := s.waitSession(ctx); err != nil {
		return nil, s.noSession(err)
	}
	return s.handle(), nil
}

// authFailure is the error of a command that failed on a handle whose TLS
// or SASL authentication failed: the cause, a TLS or SASL error, which
// says more than the command's AuthFailed. WaitConnected returns it at
// once in that state.
func authFailure(h *zhandle.Handle, err error) error {
	cause := h.WaitConnected(context.Background())
	if cause == error(zhandle.ErrAuthFailed) {
		return err // an auth packet was refused: nothing more to say
	}
	return errors.New(errorLine(cause, ""))
}

// runScript runs the commands of r, one a line, reporting failures on
// errOut. It stops at quit or when ctx ends, and reports whether every
// command succeeded.
func (s *shell) runScript(ctx context.Context, r io.Reader) bool {
	ok := true
	br := bufio.NewReader(r)
	for ctx.Err() == nil {
		line, readErr := br.ReadString('\n')
		if line != "" {
			err := s.RunLine(ctx, line)
			if errors.Is(err, errQuit) {
				return ok
			}
			if err != nil {
				s.report(err)
				ok = false
			}
			if errors.As(err, new(*noSessionError)) {
				return false
			}
		}
		if readErr != nil {
			if readErr != io.EOF {
				s.report(readErr)
				ok = false
			}
			return ok
		}
	}
	return false
}

// report prints a failed command's error line.
func (s *shell) report(err error) {
	fmt.Fprintln(s.errOut, errorLine(err, ""))
}

// lockedWriter serializes writes from the shell and from watchers.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
