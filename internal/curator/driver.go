package curator

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zkloop/zkloop/internal/jvm"
)

// PayloadClass is the Java class of the payload of service instances
// in a discovery started with "details": the "@class" a Go writer must put
// in the payload for Curator to read it. Its bean fields are "description"
// (a string) and "weight" (an int).
const PayloadClass = "CuratorDriver$InstanceDetails"

const (
	// curatorConnectTimeout bounds NewClient; the driver itself gives up
	// after 30 s.
	curatorConnectTimeout = 40 * time.Second
	// maxCuratorLine bounds one line from the driver (a list of instances).
	maxCuratorLine = 16 << 20
	// curatorHeap is the driver JVM's heap: a few clients and caches.
	curatorHeap = "-Xmx128m"
	// startTimeout bounds the driver's start, about a second, with slack
	// for a loaded machine.
	startTimeout = 60 * time.Second
	// logTailBytes is how much of its stderr the driver prints when its
	// test failed.
	logTailBytes = 16 << 10
)

// A Driver is a JVM running Apache Curator 5.4 from Debian's jars, for
// interop tests: it hosts named CuratorFramework clients and recipe
// instances (locks, elections, service discovery, counters, barriers,
// caches) and runs commands on them. Every name has its own Java thread: the
// commands for one name run in order, each replying when done (an acquire
// once the lock is held), and different names run concurrently. Do may be
// called from any goroutine.
//
// The line protocol, on the JVM's stdin and stdout:
//
//	<id> <command> <args as a JSON array of strings>   request
//	<id> ok <result as JSON>                            reply
//	<id> err <message as a JSON string>                 failure
//	event <name> <kind> <JSON object>                   event
//
// The commands, their arguments, results and events are listed in the
// header of CuratorDriver.java; in short: ping, close, client.new,
// client.session, client.expire, node.create/set/get/delete/children,
// mutex.new, rwlock.new, semaphore.new, lock.acquire/release/loop,
// latch.start, selector.start/interrupt, election.isLeader/leader/participants,
// discovery.start/register/update/unregister/query/instances/names,
// sharedcount.start/get/set/increment, atomiclong.new/get/increment/add,
// barrier.new/set/remove/wait, doublebarrier.new/enter/leave, cache.start.
type Driver struct {
	t       testing.TB
	proc    *jvm.Process
	stdin   *os.File
	logPath string        // the JVM's stderr
	done    chan struct{} // closed when read has returned

	writeMu sync.Mutex // one request line at a time

	mu      sync.Mutex
	nextID  uint64
	calls   map[uint64]chan response
	events  []Event       // not yet taken by WaitEvent or TakeEvents
	arrived chan struct{} // closed and replaced when an event arrives
	err     error         // why the driver stopped; set once
}

// An Event is a line "event <name> <kind> <data>" from the driver: a
// client's connection state, a leadership change, a hold of a lock loop, a
// cache change.
type Event struct {
	Source  string          // the name of the client or recipe instance
	Kind    string          // "state", "isLeader", "held", "created", ...
	Data    json.RawMessage // the JSON object
	Nanos   int64           // when Java emitted it, on the clock of MonotonicNanos
	Arrived time.Time       // when it was read here
}

// response is the driver's reply to one command: its result, or the
// error it failed with.
type response struct {
	result string
	err    error
}

// Start starts the driver JVM, killed in t.Cleanup, and returns once
// it answers. It compiles the driver with javac on first use in a test
// binary (cached in the user's cache directory). It skips the test under
// -short: interop tests start a JVM and take seconds. It skips the test,
// or fails it when CI is set, if javac or a jar is missing, naming the
// Debian package.
func Start(t testing.TB) *Driver {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a JVM running Curator (not under -short)")
	}
	java, javac, classpath, err := curatorInstallation()
	if err != nil {
		jvm.Require(t, fmt.Errorf("curator: cannot start Curator: %w; `make deps` installs it", err))
	}
	classes, err := curatorClasses(javac, classpath)
	if err != nil {
		t.Fatalf("curator: %v", err)
	}
	c, err := startCurator(t, java, classes+string(os.PathListSeparator)+classpath)
	if err != nil {
		t.Fatalf("curator: start Curator: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if _, err := c.Do(ctx, "ping"); err != nil {
		t.Fatalf("curator: %v", err)
	}
	return c
}

func startCurator(t testing.TB, java, classpath string) (*Driver, error) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "curator.log")
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	// The child has its own descriptor once started; ours writes nothing.
	defer log.Close()
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	stdoutR, stdoutW, err := os.Pipe()
	if err != nil {
		closeFiles(stdinR, stdinW)
		return nil, err
	}
	args := append([]string{"-cp", classpath, curatorHeap}, jvm.QuickFlags...)
	cmd := exec.Command(java, append(args, curatorMainClass)...)
	cmd.Dir = dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdinR, stdoutW, log
	p, err := jvm.Start(cmd)
	closeFiles(stdinR, stdoutW) // the child's ends
	if err != nil {
		closeFiles(stdinW, stdoutR)
		return nil, err
	}
	c := &Driver{
		t: t, proc: p, stdin: stdinW, logPath: logPath, done: make(chan struct{}),
		calls: make(map[uint64]chan response), arrived: make(chan struct{}),
	}
	go c.read(stdoutR)
	t.Cleanup(c.cleanup)
	return c, nil
}

// closeFiles closes pipe ends; a pipe's close cannot lose data.
func closeFiles(files ...*os.File) {
	for _, f := range files {
		_ = f.Close()
	}
}

// cleanup kills the JVM and, if the test failed, prints its stderr.
func (c *Driver) cleanup() {
	if err := c.proc.Kill(); err != nil {
		c.t.Errorf("curator: cleanup of Curator: %v", err)
	}
	closeFiles(c.stdin)
	<-c.done
	if c.t.Failed() {
		c.t.Logf("curator: end of %s:\n%s", c.logPath, jvm.FileTail(c.logPath, logTailBytes))
	}
}

// read dispatches the driver's lines until its stdout ends.
func (c *Driver) read(stdout *os.File) {
	defer close(c.done)
	defer closeFiles(stdout)
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 64<<10), maxCuratorLine)
	for lines.Scan() {
		if err := c.handle(lines.Text(), time.Now()); err != nil {
			c.stop(err)
			return
		}
	}
	err := lines.Err()
	if err == nil {
		err = io.EOF
	}
	c.stop(fmt.Errorf("curator JVM stopped (%v); end of %s:\n%s", err, c.logPath, jvm.FileTail(c.logPath, 4<<10)))
}

// handle records an event or delivers a reply.
func (c *Driver) handle(line string, arrived time.Time) error {
	if rest, ok := strings.CutPrefix(line, "event "); ok {
		parts := strings.SplitN(rest, " ", 3)
		if len(parts) != 3 {
			return fmt.Errorf("curator: malformed event %q", line)
		}
		var stamp struct {
			Nanos int64 `json:"nanos"`
		}
		if err := json.Unmarshal([]byte(parts[2]), &stamp); err != nil {
			return fmt.Errorf("curator: event %q: %w", line, err)
		}
		c.mu.Lock()
		c.events = append(c.events, Event{
			Source: parts[0], Kind: parts[1], Data: json.RawMessage(parts[2]), Nanos: stamp.Nanos, Arrived: arrived,
		})
		close(c.arrived)
		c.arrived = make(chan struct{})
		c.mu.Unlock()
		return nil
	}
	parts := strings.SplitN(line, " ", 3)
	if len(parts) != 3 {
		return fmt.Errorf("curator: malformed reply %q", line)
	}
	id, err := strconv.ParseUint(parts[0], 10, 64)
	if err != nil {
		return fmt.Errorf("curator: reply %q: %w", line, err)
	}
	var r response
	switch parts[1] {
	case "ok":
		r.result = parts[2]
	case "err":
		var msg string
		if err := json.Unmarshal([]byte(parts[2]), &msg); err != nil {
			return fmt.Errorf("curator: reply %q: %w", line, err)
		}
		r.err = errors.New(msg)
	default:
		return fmt.Errorf("curator: malformed reply %q", line)
	}
	c.mu.Lock()
	ch := c.calls[id]
	delete(c.calls, id)
	c.mu.Unlock()
	if ch != nil { // nil: the caller gave up waiting
		ch <- r
	}
	return nil
}

// stop records why the driver stopped and fails every waiting call.
func (c *Driver) stop(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	c.err = err
	for id, ch := range c.calls {
		ch <- response{err: err}
		delete(c.calls, id)
	}
	close(c.arrived)
}

// Do sends a command and returns its result, a JSON text, once the driver
// replies or ctx ends. A failed command's error carries the Java message.
func (c *Driver) Do(ctx context.Context, cmd string, args ...string) (string, error) {
	call := strings.Join(append([]string{"curator", cmd}, args[:min(len(args), 1)]...), " ")
	if cmd == "" || strings.ContainsAny(cmd, " \t\r\n") {
		return "", fmt.Errorf("curator: malformed command %q", cmd)
	}
	if args == nil {
		args = []string{}
	}
	argsJSON, err := json.Marshal(args)
	if err != nil {
		return "", fmt.Errorf("%s: %w", call, err)
	}
	reply := make(chan response, 1)
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return "", fmt.Errorf("%s: %w", call, c.err)
	}
	c.nextID++
	id := c.nextID
	c.calls[id] = reply
	c.mu.Unlock()

	c.writeMu.Lock()
	_, err = fmt.Fprintf(c.stdin, "%d %s %s\n", id, cmd, argsJSON)
	c.writeMu.Unlock()
	if err == nil {
		select {
		case r := <-reply:
			if r.err != nil {
				return "", fmt.Errorf("%s: %w", call, r.err)
			}
			return r.result, nil
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	c.mu.Lock()
	delete(c.calls, id)
	c.mu.Unlock()
	return "", fmt.Errorf("%s: %w", call, err)
}

// DoJSON is Do with the result decoded into out, or dropped if out is nil.
func (c *Driver) DoJSON(ctx context.Context, out any, cmd string, args ...string) error {
	result, err := c.Do(ctx, cmd, args...)
	if err != nil || out == nil {
		return err
	}
	if err := json.Unmarshal([]byte(result), out); err != nil {
		return fmt.Errorf("curator %s: result %s: %w", cmd, result, err)
	}
	return nil
}

// NewClient starts a CuratorFramework client named name, connected to
// connectString with the session timeout given, and fails the test if it
// does not connect. Call it from the test's goroutine.
func (c *Driver) NewClient(name, connectString string, sessionTimeout time.Duration) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), curatorConnectTimeout)
	defer cancel()
	if _, err := c.Do(ctx, "client.new", name, connectString, strconv.FormatInt(sessionTimeout.Milliseconds(), 10)); err != nil {
		c.t.Fatalf("curator: %v", err)
	}
}

// WaitEvent removes and returns the oldest event from source of the kind
// given, waiting for one until ctx ends; "" matches any source or kind.
// Events are kept from their arrival, so one that came before the call is
// found.
func (c *Driver) WaitEvent(ctx context.Context, source, kind string) (Event, error) {
	for {
		c.mu.Lock()
		if i := slices.IndexFunc(c.events, func(e Event) bool { return e.matches(source, kind) }); i >= 0 {
			e := c.events[i]
			c.events = slices.Delete(c.events, i, i+1)
			c.mu.Unlock()
			return e, nil
		}
		err, arrived := c.err, c.arrived
		c.mu.Unlock()
		if err != nil {
			return Event{}, fmt.Errorf("curator event %s %s: %w", source, kind, err)
		}
		select {
		case <-arrived:
		case <-ctx.Done():
			return Event{}, fmt.Errorf("curator event %s %s: %w", source, kind, ctx.Err())
		}
	}
}

// TakeEvents removes and returns, oldest first, the events that have
// arrived from source of the kind given; "" matches any source or kind.
func (c *Driver) TakeEvents(source, kind string) []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	var taken []Event
	c.events = slices.DeleteFunc(c.events, func(e Event) bool {
		if e.matches(source, kind) {
			taken = append(taken, e)
			return true
		}
		return false
	})
	return taken
}

func (e Event) matches(source, kind string) bool {
	return (source == "" || e.Source == source) && (kind == "" || e.Kind == kind)
}

// A Hold is one critical section of LockLoop.
type Hold struct {
	Node    string `json:"node"`    // path of the lock node, or of the semaphore's lease
	Counter int64  `json:"counter"` // counter value read; with a counter path only
	Enter   int64  `json:"enter"`   // sequence number of the enter ticket; with a tickets path only
	Exit    int64  `json:"exit"`    // sequence number of the exit ticket; likewise
}

// LockLoop runs lock.loop on the lock instance named lock and returns its
// holds in order once the loop ends (after an error, those done before it).
// In each of the n critical sections, Curator reads the decimal counter at
// counterPath and writes it back plus one, unless counterPath is "", and
// creates an enter and an exit ticket (PERSISTENT_SEQUENTIAL nodes
// ticketsPath/t-) around a hold of the duration given, unless ticketsPath
// is "".
func (c *Driver) LockLoop(ctx context.Context, lock string, n int, counterPath, ticketsPath string, hold time.Duration) ([]Hold, error) {
	_, err := c.Do(ctx, "lock.loop", lock, strconv.Itoa(n), counterPath, ticketsPath, strconv.FormatInt(hold.Milliseconds(), 10))
	events := c.TakeEvents(lock, "held")
	holds := make([]Hold, len(events))
	for i, e := range events {
		if jsonErr := json.Unmarshal(e.Data, &holds[i]); jsonErr != nil {
			return holds[:i], fmt.Errorf("curator lock.loop %s: hold %s: %w", lock, e.Data, jsonErr)
		}
	}
	return holds, err
}

// MonotonicNanos reads CLOCK_MONOTONIC, the clock of Java's System.nanoTime
// on Linux and so of Event.Nanos: a Go writer's MonotonicNanos before
// a write and Curator's event for it give Curator's propagation delay.
func MonotonicNanos() int64 {
	var ts unix.Timespec
	// CLOCK_MONOTONIC cannot fail with a valid pointer.
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}
