package jvm

import (
	"errors"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// A Process is one running JVM, the leader of its own process group.
type Process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once Wait has returned
	err  error         // Wait's result; read only after done is closed
}

// Pid returns the process id, also the id of its process group.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Err returns how the process ended, once Exited reports true; nil before.
func (p *Process) Err() error {
	if !p.Exited() {
		return nil
	}
	return p.err
}

// live holds every process started and not yet reaped, for KillAll.
var live struct {
	sync.Mutex
	procs map[*Process]struct{}
}

// spawner starts processes from one goroutine locked to its OS thread.
// Pdeathsig is delivered when the thread that forked the child exits, not
// the process, so the forking thread must live as long as the test binary:
// this one never exits. Pdeathsig then kills the JVMs even when the test
// binary itself is killed (go test -timeout, SIGKILL), where no Cleanup runs.
var spawner struct {
	once sync.Once
	reqs chan spawnRequest
}

type spawnRequest struct {
	cmd    *exec.Cmd
	result chan error
}

func spawnLoop(reqs <-chan spawnRequest) {
	runtime.LockOSThread() // never unlocked, see spawner
	for r := range reqs {
		r.result <- r.cmd.Start()
	}
}

// Start starts cmd in a new process group that dies with the test binary
// and registers it for KillAll. cmd's Stdout and Stderr must be nil or
// *os.File, so that no copying goroutine is involved.
func Start(cmd *exec.Cmd) (*Process, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	spawner.once.Do(func() {
		spawner.reqs = make(chan spawnRequest)
		go spawnLoop(spawner.reqs)
	})
	result := make(chan error, 1)
	spawner.reqs <- spawnRequest{cmd: cmd, result: result}
	if err := <-result; err != nil {
		return nil, err
	}
	p := &Process{cmd: cmd, done: make(chan struct{})}
	live.Lock()
	if live.procs == nil {
		live.procs = make(map[*Process]struct{})
	}
	live.procs[p] = struct{}{}
	live.Unlock()
	go func() {
		p.err = cmd.Wait()
		live.Lock()
		delete(live.procs, p)
		live.Unlock()
		close(p.done)
	}()
	return p, nil
}

// Exited reports whether the process has been reaped.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// signalGroup sends sig to the whole process group unless the leader has
// already been reaped (its id could then name someone else's group).
func (p *Process) signalGroup(sig unix.Signal) {
	if p.Exited() {
		return
	}
	// ESRCH means the group is already gone; nothing else can fail for a
	// group we created and are allowed to signal.
	_ = unix.Kill(-p.cmd.Process.Pid, sig)
}

// Wait waits up to timeout for the process to exit and reports whether it did.
func (p *Process) Wait(timeout time.Duration) bool {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-p.done:
		return true
	case <-timer.C:
		return false
	}
}

// Kill sends SIGKILL to the process group and waits for the exit.
func (p *Process) Kill() error {
	p.signalGroup(unix.SIGKILL)
	if !p.Wait(killTimeout) {
		return errors.New("process did not exit after SIGKILL")
	}
	return nil
}

// Stop sends SIGTERM, waits up to 10 s, then kills.
func (p *Process) Stop() error {
	p.signalGroup(unix.SIGTERM)
	if p.Wait(stopTimeout) {
		return nil
	}
	return p.Kill()
}

const (
	stopTimeout = 10 * time.Second
	killTimeout = 10 * time.Second
)

// KillAll kills every process started by Start and still running (ZooKeeper
// servers and Curator drivers), and waits for each to exit.
func KillAll() {
	live.Lock()
	procs := make([]*Process, 0, len(live.procs))
	for p := range live.procs {
		procs = append(procs, p)
	}
	live.Unlock()
	for _, p := range procs {
		p.signalGroup(unix.SIGKILL)
	}
	for _, p := range procs {
		p.Wait(killTimeout)
	}
}
