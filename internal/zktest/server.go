package zktest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

const (
	// startTimeout bounds a start: JVM launch, database load and, in an
	// ensemble, leader election. A start takes about a second; the rest is
	// slack for a loaded CI machine.
	startTimeout = 60 * time.Second
	// startAttempts is how often a start is tried when another process took
	// a port between freePort and the server's bind.
	startAttempts = 3
	pollInterval  = 50 * time.Millisecond
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
// when the test failed. Stop, Kill, Start and the queries may be called from
// any goroutine; Start calls t.Fatal on failure and so belongs to the test's
// goroutine.
type Server struct {
	t         testing.TB
	opts      *options
	java      string
	classpath string
	id        int    // myid; 0 for a standalone server
	dir       string // configuration, log4j.properties, log, data/

	clientPort, quorumPort, electionPort int
	secureClientPort                     int // 0 without WithTLS

	mu      sync.Mutex
	proc    *process // nil when stopped
	retired bool     // replaced by a retried start: no log at cleanup
}

// Standalone starts a standalone server (tickTime 500 ms, see the package
// documentation for the rest of its configuration) and returns once it
// serves clients. It skips the test, or fails it when CI is set, if no server
// can be started here (see Require), and fails the test if the server does
// not come up.
func Standalone(t testing.TB, opts ...Option) *Server {
	t.Helper()
	return startServers(t, 0, newOptions(opts))[0]
}

// startServers starts a standalone server (n == 0) or an ensemble of n
// servers and waits until it serves, trying new ports when one was taken.
func startServers(t testing.TB, n int, o *options) []*Server {
	t.Helper()
	Require(t)
	java, classpath, err := installation()
	if err != nil {
		t.Fatalf("zktest: %v", err)
	}
	for attempt := 1; ; attempt++ {
		servers, err := tryStart(t, n, o, java, classpath)
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

func tryStart(t testing.TB, n int, o *options, java, classpath string) ([]*Server, error) {
	ids := []int{0}
	if n > 0 {
		ids = make([]int, n)
		for i := range ids {
			ids[i] = i + 1
		}
	}
	servers := make([]*Server, len(ids))
	for i, id := range ids {
		s, err := newServer(t, o, id, java, classpath)
		if err != nil {
			return servers[:i], err
		}
		servers[i] = s
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
func newServer(t testing.TB, o *options, id int, java, classpath string) (*Server, error) {
	s := &Server{t: t, opts: o, java: java, classpath: classpath, id: id, dir: t.TempDir()}
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
	return s, nil
}

// cleanup kills the process and, if the test failed, prints the log tail.
// It runs before t.TempDir removes the directory (cleanups run last first).
func (s *Server) cleanup() {
	if err := s.take(func(p *process) error { return p.kill() }); err != nil {
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
	_ = s.take(func(p *process) error { return p.kill() })
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
// when the server has no TLS (see WithTLS).
func (s *Server) SecureAddr() string {
	if s.secureClientPort == 0 {
		return ""
	}
	return net.JoinHostPort(loopback, strconv.Itoa(s.secureClientPort))
}

// ClientPort returns the client port.
func (s *Server) ClientPort() int { return s.clientPort }

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
	return s.proc != nil && !s.proc.exited()
}

// FourLetter sends a four-letter command ("ruok", "srvr", "stat", "mntr",
// "cons", "wchs", ...) and returns the answer.
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
// 10 s). Its data stays for Start. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	if err := s.take(func(p *process) error { return p.stop() }); err != nil {
		s.t.Errorf("zktest: stop %s: %v", s, err)
	}
}

// Kill kills the server with SIGKILL, as a crash, and waits for it to exit.
// Its data stays for Start. Killing a stopped server does nothing.
func (s *Server) Kill() {
	if err := s.take(func(p *process) error { return p.kill() }); err != nil {
		s.t.Errorf("zktest: kill %s: %v", s, err)
	}
}

// take detaches the process, if any, and ends it with end.
func (s *Server) take(end func(*process) error) error {
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
// An ensemble member serves only once it is part of a quorum: to bring back
// several members of an ensemble that lost its quorum, use
// Ensemble.StartAll.
func (s *Server) Start() {
	s.t.Helper()
	err := s.launch()
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
		defer cancel()
		err = s.waitServing(ctx)
	}
	if err != nil {
		s.t.Fatalf("zktest: restart: %v", err)
	}
}

// launch starts the JVM, output appended to the log file.
func (s *Server) launch() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil && !s.proc.exited() {
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
	cmd := exec.Command(s.java, jvmArgs(s, s.classpath, s.opts)...)
	cmd.Dir = s.dir
	cmd.Stdout = log
	cmd.Stderr = log
	p, err := startProcess(cmd)
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
	if p == nil || !p.exited() {
		return nil
	}
	err := fmt.Errorf("%s exited: %v", s, p.err)
	if bytes.Contains([]byte(s.logTail(logTailBytes)), []byte("Address already in use")) {
		err = fmt.Errorf("%w (%w)", err, errPortInUse)
	}
	return err
}

// logTail returns up to the last n bytes of the log, from a line start.
func (s *Server) logTail(n int64) string { return fileTail(s.LogPath(), n) }

// fileTail returns up to the last n bytes of a log file, from a line start.
func fileTail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	defer f.Close() // read only
	fi, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("(log: %v)", err)
	}
	off := max(fi.Size()-n, 0)
	b, err := io.ReadAll(io.NewSectionReader(f, off, fi.Size()-off))
	if err != nil {
		return fmt.Sprintf("(log: %v)", err)
	}
	if off > 0 {
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}

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
