package zktest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/zkloop/zkloop/internal/jvm"
)

const (
	// startTimeout bounds a start: JVM launch, database load and, in an
	// ensemble, leader election. A start takes about a second; the rest is
	// slack for a loaded CI machine.
	startTimeout = 60 * time.Second
	// startAttempts is how often a start is tried when another process took
	// a port between freePort and the server's bind.
	startAttempts = 3
	pollInterval  = 20 * time.Millisecond
	// fourLetterTimeout bounds a four-letter command; the server answers on
	// loopback in milliseconds.
	fourLetterTimeout = 5 * time.Second
	// probeTimeout bounds the srvr of a readiness poll, which may meet the
	// unclosed connection described at fourLetter.
	probeTimeout = 500 * time.Millisecond
	// logTailBytes is how much of its log a server prints when its test failed.
	logTailBytes = 16 << 10
)

// errPortInUse marks a start that failed because a port was taken.
var errPortInUse = errors.New("a port was taken by another process")

// A Server is one ZooKeeper server process on loopback, standalone or a
// member of an Ensemble. It lives in its own directory (configuration, data
// and log) under t.TempDir and is killed in t.Cleanup; its log is printed
// when the test failed. Stop, Kill and the queries may be called from any
// goroutine; Start and Restart call t.Fatal on failure and so belong to the
// test's goroutine.
type Server struct {
	t       testing.TB
	opts    *options
	install install
	id      int       // myid; 0 for a standalone server
	dir     string    // configuration, logging configuration, log, data/
	peers   []*Server // the members of its ensemble, itself included

	clientPort, quorumPort, electionPort int
	secureClientPort                     int // 0 without TLS

	mu      sync.Mutex
	proc    *jvm.Process // nil when stopped
	retired bool         // replaced by a retried start: no log at cleanup
}

// NewServer starts a standalone server on a free loopback port, its data
// under t.TempDir, and returns once it serves clients: the four-letter
// command srvr answers with its version and mode. The server is killed in
// t.Cleanup. See the package documentation for its configuration and opts
// for what can be changed.
//
// NewServer skips the test, or fails it when the environment variable CI
// is set, if no server can be started here (see Require), and fails the
// test if the server does not come up within a minute.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	o := newOptions(opts)
	if o.reconfig {
		return startServers(t, 1, o)[0]
	}
	return startServers(t, 0, o)[0]
}

// startServers starts a standalone server (n == 0) or an ensemble of n
// servers and waits until it serves, trying new ports when one was taken.
func startServers(t testing.TB, n int, o *options) []*Server {
	t.Helper()
	Require(t)
	in, err := installation()
	if err != nil {
		t.Fatalf("zktest: %v", err)
	}
	in.archive = archive(t, in)
	if o.autoTLS && o.tls == nil {
		o.tls = newServerTLS(t)
	}
	for attempt := 1; ; attempt++ {
		servers, err := tryStart(t, n, o, in)
		if err == nil {
			return servers
		}
		if !errors.Is(err, errPortInUse) || attempt == startAttempts {
			t.Fatalf("zktest: %v", err)
		}
		t.Logf("zktest: %v; retrying on other ports", err)
		for _, s := range servers {
			s.retire()
		}
	}
}

func tryStart(t testing.TB, n int, o *options, in install) ([]*Server, error) {
	ids := []int{0}
	if n > 0 {
		ids = make([]int, n)
		for i := range ids {
			ids[i] = i + 1
		}
	}
	servers := make([]*Server, len(ids))
	for i, id := range ids {
		s, err := newServer(t, o, id, in)
		if err != nil {
			return servers[:i], err
		}
		servers[i] = s
	}
	if n > 0 {
		for _, s := range servers {
			s.peers = servers
		}
	}
	for _, s := range servers {
		if err := writeFiles(s, servers, o); err != nil {
			return servers, err
		}
	}
	for _, s := range servers {
		if err := s.launch(); err != nil {
			return servers, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if n == 0 {
		return servers, servers[0].waitServing(ctx)
	}
	return servers, waitQuorum(ctx, servers)
}

// newServer makes a stopped server with its own directory and ports, killed
// in t.Cleanup.
func newServer(t testing.TB, o *options, id int, in install) (*Server, error) {
	s := &Server{t: t, opts: o, install: in, id: id, dir: t.TempDir()}
	t.Cleanup(s.cleanup)
	ports := []*int{&s.clientPort}
	if id != 0 {
		ports = append(ports, &s.quorumPort, &s.electionPort)
	}
	if o.tls != nil {
		ports = append(ports, &s.secureClientPort)
	}
	for _, p := range ports {
		var err error
		if *p, err = pickPort(); err != nil {
			return nil, err
		}
	}
	registry.add(s)
	return s, nil
}

// cleanup kills the process and, if the test failed, prints the log tail.
// It runs before t.TempDir removes the directory (cleanups run last first).
func (s *Server) cleanup() {
	registry.remove(s)
	if err := s.take((*jvm.Process).Kill); err != nil {
		s.t.Errorf("zktest: cleanup of %s: %v", s, err)
	}
	s.mu.Lock()
	retired := s.retired
	s.mu.Unlock()
	if s.t.Failed() && !retired {
		s.t.Logf("zktest: end of %s:\n%s", s.LogPath(), s.logTail(logTailBytes))
	}
}

// retire kills a server whose start is being retried elsewhere.
func (s *Server) retire() {
	// An error would be a process that ignores SIGKILL; cleanup reports it.
	_ = s.take((*jvm.Process).Kill)
	registry.remove(s)
	s.mu.Lock()
	s.retired = true
	s.mu.Unlock()
}

// String names the server in messages: "server 127.0.0.1:2181" or
// "server.2 127.0.0.1:2182".
func (s *Server) String() string {
	if s.id == 0 {
		return "server " + s.Addr()
	}
	return "server." + strconv.Itoa(s.id) + " " + s.Addr()
}

// Addr returns the client address, "127.0.0.1:<port>".
func (s *Server) Addr() string {
	return net.JoinHostPort(loopback, strconv.Itoa(s.clientPort))
}

// SecureAddr returns the TLS client address, "127.0.0.1:<secure port>"; ""
// when the server has no TLS (see WithTLS). Clients connect there with
// ClientTLS.
func (s *Server) SecureAddr() string {
	if s.secureClientPort == 0 {
		return ""
	}
	return net.JoinHostPort(loopback, strconv.Itoa(s.secureClientPort))
}

// ID returns the server's myid in its ensemble, 0 for a standalone server.
func (s *Server) ID() int { return s.id }

// Dir returns the server's directory: zoo.cfg, the log, and data/.
func (s *Server) Dir() string { return s.dir }

// LogPath returns the server's log file; restarts append to it.
func (s *Server) LogPath() string { return filepath.Join(s.dir, logFile) }

// Running reports whether the server process is running: started, not
// stopped, not exited.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc != nil && !s.proc.Exited()
}

// FourLetter sends a four-letter command ("ruok", "srvr", "stat", "mntr",
// "cons", "wchs", "dump", ...; all are enabled) and returns the answer.
func (s *Server) FourLetter(cmd string) (string, error) {
	return fourLetter(s.Addr(), cmd, fourLetterTimeout)
}

// Mode returns the server's mode as srvr reports it: "standalone",
// "leader", "follower", "observer" or "read-only"; an error while the server
// is down or not serving (no quorum, loading).
func (s *Server) Mode() (string, error) { return s.mode(fourLetterTimeout) }

func (s *Server) mode(timeout time.Duration) (string, error) {
	out, err := fourLetter(s.Addr(), "srvr", timeout)
	if err != nil {
		return "", err
	}
	return parseMode(out)
}

// Stop stops the server with SIGTERM and waits for it to exit (SIGKILL after
// 10 s). Its data and its sessions stay for Start; the sessions' clients
// see their connections closed. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	if err := s.take((*jvm.Process).Stop); err != nil {
		s.t.Errorf("zktest: stop %s: %v", s, err)
	}
}

// Kill kills the server with SIGKILL, as a crash, and waits for it to exit.
// Its data and its sessions stay for Start (the server syncs nothing to
// disk, but what it wrote survives the process). Killing a stopped server
// does nothing.
func (s *Server) Kill() {
	if err := s.take((*jvm.Process).Kill); err != nil {
		s.t.Errorf("zktest: kill %s: %v", s, err)
	}
}

// take detaches the process, if any, and ends it with end.
func (s *Server) take(end func(*jvm.Process) error) error {
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p == nil {
		return nil
	}
	return end(p)
}

// Start starts a stopped server again with the same configuration, ports and
// data, and waits until it serves clients; it fails the test if it does not.
// The sessions it had are there again, their expiry clocks restarted: a
// client that reconnects within its session timeout keeps its session,
// ephemeral nodes and watches. An ensemble member serves only once it is
// part of a quorum: to bring back several members of an ensemble that lost
// its quorum, use Ensemble.StartAll.
func (s *Server) Start() {
	s.t.Helper()
	err := s.launch()
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
		defer cancel()
		err = s.waitServing(ctx)
	}
	if err != nil {
		s.t.Fatalf("zktest: start %s: %v", s, err)
	}
}

// Restart stops the server (SIGTERM, see Stop) and starts it again (see
// Start): its clients lose their connections and keep their sessions.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.Start()
}

// launch starts the JVM, output appended to the log file.
func (s *Server) launch() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil && !s.proc.Exited() {
		return fmt.Errorf("%s is already running", s)
	}
	log, err := os.OpenFile(s.LogPath(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	// The child has its own descriptor once started; ours only writes the
	// marker, so a close error cannot lose anything of the server's.
	defer log.Close()
	if _, err := fmt.Fprintf(log, "=== zktest: starting %s at %s\n", s, time.Now().Format(time.RFC3339Nano)); err != nil {
		return err
	}
	cmd := exec.Command(s.install.java, jvmArgs(s)...)
	cmd.Dir = s.dir
	cmd.Stdout = log
	cmd.Stderr = log
	p, err := jvm.Start(cmd)
	if err != nil {
		return fmt.Errorf("start %s: %w", s, err)
	}
	s.proc = p
	return nil
}

// waitServing waits until the server reports a mode and accepts
// connections on its secure port, if it has one, or has exited.
func (s *Server) waitServing(ctx context.Context) error {
	return poll(ctx, func() (notYet, fatal error) {
		if err := s.checkAlive(); err != nil {
			return nil, err
		}
		if _, err := s.mode(probeTimeout); err != nil {
			return err, nil
		}
		return s.secureListening(probeTimeout), nil
	})
}

// checkAlive returns an error if the server was started and has exited by
// itself; a server stopped through Stop or Kill is not an error.
func (s *Server) checkAlive() error {
	s.mu.Lock()
	p := s.proc
	s.mu.Unlock()
	if p == nil || !p.Exited() {
		return nil
	}
	err := fmt.Errorf("%s exited: %v", s, p.Err())
	if bytes.Contains([]byte(s.logTail(logTailBytes)), []byte("Address already in use")) {
		err = fmt.Errorf("%w (%w)", err, errPortInUse)
	}
	return err
}

// logTail returns up to the last n bytes of the log, from a line start.
func (s *Server) logTail(n int64) string { return jvm.FileTail(s.LogPath(), n) }

// KillAll kills every server started by this package in this test binary
// (and any other JVM of zkloop's test harness) that is still running, and
// waits for each to exit. They are killed in t.Cleanup anyway; KillAll is a
// guard for TestMain, after m.Run, in case a server outlived its test (one
// shared by a package's tests, started with a testing.TB that outlives
// them):
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		zktest.KillAll()
//		os.Exit(code)
//	}
func KillAll() { jvm.KillAll() }

// poll calls check every pollInterval until it reports neither notYet nor
// fatal, returns fatal, or ctx ends; then the last notYet says why.
func poll(ctx context.Context, check func() (notYet, fatal error)) error {
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		notYet, fatal := check()
		if fatal != nil {
			return fatal
		}
		if notYet == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w; last: %v", ctx.Err(), notYet)
		case <-ticker.C:
		}
	}
}
