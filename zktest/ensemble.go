package zktest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

// An Ensemble is a quorum of servers on loopback, each a Server with its own
// directory and ports: Member(0) to Member(n-1), whose server ids (myid)
// are 1 to n. Its configuration is the dynamic kind of ZooKeeper 3.5 and
// later (standaloneEnabled=false, the client address on each server line);
// with WithReconfig, the super user may change it (see Members and
// ParseConfig).
type Ensemble struct {
	servers []*Server
	t       testing.TB
}

// NewEnsemble starts n servers as one ensemble and returns once they have
// a quorum: every server is leader or follower. Its servers take the same
// options as NewServer's; it skips or fails like NewServer. n may be 1: a
// one-member quorum, not a standalone server.
func NewEnsemble(t testing.TB, n int, opts ...Option) *Ensemble {
	t.Helper()
	if n < 1 {
		t.Fatalf("zktest: NewEnsemble(%d): need at least one server", n)
	}
	return &Ensemble{servers: startServers(t, n, newOptions(opts)), t: t}
}

// Addr returns the client addresses of all members, running or not,
// comma-separated: the connect string of a client.
func (e *Ensemble) Addr() string { return e.joinAddrs((*Server).Addr) }

// SecureAddr is Addr with the members' TLS client addresses (see
// Server.SecureAddr); "" when they have no TLS.
func (e *Ensemble) SecureAddr() string {
	if e.servers[0].SecureAddr() == "" {
		return ""
	}
	return e.joinAddrs((*Server).SecureAddr)
}

func (e *Ensemble) joinAddrs(addr func(*Server) string) string {
	addrs := make([]string, len(e.servers))
	for i, s := range e.servers {
		addrs[i] = addr(s)
	}
	return strings.Join(addrs, ",")
}

// Member returns the member i, from 0; its server id is i+1. An i out of
// range fails the test.
func (e *Ensemble) Member(i int) *Server {
	e.t.Helper()
	if i < 0 || i >= len(e.servers) {
		e.t.Fatalf("zktest: Member(%d) of an ensemble of %d", i, len(e.servers))
	}
	return e.servers[i]
}

// Servers returns the members in order: Servers()[i] is Member(i).
func (e *Ensemble) Servers() []*Server { return slices.Clone(e.servers) }

// Leader returns the index (see Member) of the running server that reports
// itself leader, or -1 if none does.
func (e *Ensemble) Leader() int {
	for i, s := range e.servers {
		if !s.Running() {
			continue
		}
		if mode, err := s.Mode(); err == nil && mode == "leader" {
			return i
		}
	}
	return -1
}

// Roles returns the leader and the followers, in order, among the running
// servers, as srvr reports their modes. It fails the test unless exactly
// one server leads; like StartAll, it belongs to the test's goroutine.
func (e *Ensemble) Roles() (leader *Server, followers []*Server) {
	e.t.Helper()
	for _, s := range e.servers {
		if !s.Running() {
			continue
		}
		mode, err := s.Mode()
		switch {
		case err != nil:
			e.t.Fatalf("zktest: %s: %v", s, err)
		case mode == "leader" && leader != nil:
			e.t.Fatalf("zktest: %s and %s both lead", leader, s)
		case mode == "leader":
			leader = s
		case mode == "follower":
			followers = append(followers, s)
		}
	}
	if leader == nil {
		e.t.Fatalf("zktest: no running server leads")
	}
	return leader, followers
}

// WaitQuorum waits until the running servers form a quorum (exactly one
// leader, the others followers), or ctx ends. Stopped servers are left out;
// a server that exited by itself is an error.
func (e *Ensemble) WaitQuorum(ctx context.Context) error {
	return waitQuorum(ctx, e.servers)
}

func waitQuorum(ctx context.Context, servers []*Server) error {
	return poll(ctx, func() (notYet, fatal error) {
		leaders, running := 0, 0
		for _, s := range servers {
			if err := s.checkAlive(); err != nil {
				return nil, err
			}
			if !s.Running() {
				continue
			}
			running++
			mode, err := s.mode(probeTimeout)
			switch {
			case err != nil:
				return fmt.Errorf("%s: %w", s, err), nil
			case mode == "leader":
				leaders++
			case mode != "follower":
				return fmt.Errorf("%s is %s", s, mode), nil
			}
		}
		switch {
		case running == 0:
			return nil, errors.New("no server is running")
		case leaders != 1:
			return fmt.Errorf("%d leaders among %d running servers", leaders, running), nil
		}
		return nil, nil
	})
}

// StartAll starts every stopped server and waits for the quorum; it fails
// the test if there is none within a minute.
func (e *Ensemble) StartAll() {
	e.t.Helper()
	for _, s := range e.servers {
		if s.Running() {
			continue
		}
		if err := s.launch(); err != nil {
			e.t.Fatalf("zktest: %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := e.WaitQuorum(ctx); err != nil {
		e.t.Fatalf("zktest: ensemble restart: %v", err)
	}
}

// StopAll stops every server (SIGTERM) in parallel and waits for them.
func (e *Ensemble) StopAll() {
	var wg sync.WaitGroup
	for _, s := range e.servers {
		wg.Go(s.Stop)
	}
	wg.Wait()
}
