package zktest

import (
	"errors"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// process is one running JVM, the leader of its own process group.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once Wait has returned
	err  error         // Wait's result; read only after done is closed
}

// live holds every process started and not yet reaped, for KillAll.
var live struct {
	sync.Mutex
	procs map[*process]struct{}
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

// startProcess starts cmd in a new process group that dies with the test
// binary and registers it for KillAll. cmd's Stdout and Stderr must be nil
// or *os.File, so that no copying goroutine is involved.
func startProcess(cmd *exec.Cmd) (*process, error) {
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
	p := &process{cmd: cmd, done: make(chan struct{})}
	live.Lock()
	if live.procs == nil {
		live.procs = make(map[*process]struct{})
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

// exited reports whether the process has been reaped.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// signalGroup sends sig to the whole process group unless the leader has
// already been reaped (its id could then name someone else's group).
func (p *process) signalGroup(sig unix.Signal) {
	if p.exited() {
		return
	}
	// ESRCH means the group is already gone; nothing else can fail for a
	// group we created and are allowed to signal.
	_ = unix.Kill(-p.cmd.Process.Pid, sig)
}

// wait waits up to timeout for the process to exit and reports whether it did.
func (p *process) wait(timeout time.Duration) bool {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-p.done:
		return true
	case <-timer.C:
		return false
	}
}

// kill sends SIGKILL to the process group and waits for the exit.
func (p *process) kill() error {
	p.signalGroup(unix.SIGKILL)
	if !p.wait(killTimeout) {
		return errors.New("process did not exit after SIGKILL")
	}
	return nil
}

// stop sends SIGTERM, waits up to stopTimeout, then kills.
func (p *process) stop() error {
	p.signalGroup(unix.SIGTERM)
	if p.wait(stopTimeout) {
		return nil
	}
	return p.kill()
}

const (
	stopTimeout = 10 * time.Second
	killTimeout = 10 * time.Second
)

// KillAll kills every JVM started by this package (ZooKeeper servers and
// Curator drivers) and still running, and waits for each to exit. They are
// killed in t.Cleanup anyway; KillAll is a guard for TestMain, after m.Run,
// in case a test left one behind:
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		zktest.KillAll()
//		os.Exit(code)
//	}
func KillAll() {
	live.Lock()
	procs := make([]*process, 0, len(live.procs))
	for p := range live.procs {
		procs = append(procs, p)
	}
	live.Unlock()
	for _, p := range procs {
		p.signalGroup(unix.SIGKILL)
	}
	for _, p := range procs {
		p.wait(killTimeout)
	}
}
