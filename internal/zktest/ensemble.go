package zktest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// An Ensemble is a quorum of servers on loopback, each a Server with its own
// directory and ports, server ids 1..n in order. Its configuration is the
// dynamic kind (reconfigEnabled=true, standaloneEnabled=false), so Reconfig
// works for the super user (see SuperAuth, Members and ParseConfig).
type Ensemble struct {
	Servers []*Server
	t       testing.TB
}

// StartEnsemble starts n servers as one ensemble and returns once they have
// a quorum: every server is leader or follower. It skips or fails like
// Standalone. n may be 1: a one-member quorum, not a standalone server.
func StartEnsemble(t testing.TB, n int, opts ...Option) *Ensemble {
	t.Helper()
	if n < 1 {
		t.Fatalf("zktest: StartEnsemble(%d): need at least one server", n)
	}
	return &Ensemble{Servers: startServers(t, n, newOptions(opts)), t: t}
}

// ConnectString returns the client addresses of all servers, running or not,
// comma-separated, as a client's host list.
func (e *Ensemble) ConnectString() string {
	addrs := make([]string, len(e.Servers))
	for i, s := range e.Servers {
		addrs[i] = s.Addr()
	}
	return strings.Join(addrs, ",")
}

// Leader returns the index in Servers of the running server that reports
// itself leader, or -1 if none does.
func (e *Ensemble) Leader() int {
	for i, s := range e.Servers {
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
	for _, s := range e.Servers {
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
	return waitQuorum(ctx, e.Servers)
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
	for _, s := range e.Servers {
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
	for _, s := range e.Servers {
		wg.Go(s.Stop)
	}
	wg.Wait()
}
