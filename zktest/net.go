package zktest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/zkloop/zkloop/serialize"
)

// loopback is the only address servers listen on.
const loopback = "127.0.0.1"

// handedOut remembers the ports freePort returned, so that two servers of
// this test binary never get the same one while neither has bound it yet.
var handedOut struct {
	sync.Mutex
	ports map[int]bool
}

// pickPort is freePort; tests replace it to provoke the port race.
var pickPort = freePort

// freePort returns a loopback TCP port that was free a moment ago: one
// that a listener could bind, which is closed at once. It is chosen at
// random below the kernel's range of ephemeral ports, where no outgoing
// connection of this machine can take it as its local port before the
// server binds it (a server's election port is bound seconds after its
// start, and tests make many connections meanwhile). Another process can
// still take it; starts retry on that race. Without a known range, the
// kernel picks the port.
func freePort() (int, error) {
	handedOut.Lock()
	defer handedOut.Unlock()
	if handedOut.ports == nil {
		handedOut.ports = make(map[int]bool)
	}
	low := ephemeralLow()
	for range 100 {
		port := 0
		if low > minPort {
			port = minPort + rand.IntN(low-minPort)
		}
		l, err := net.Listen("tcp", net.JoinHostPort(loopback, strconv.Itoa(port)))
		if err != nil {
			if port != 0 {
				continue // in use: try another
			}
			return 0, fmt.Errorf("pick a free port: %w", err)
		}
		port = l.Addr().(*net.TCPAddr).Port
		if err := l.Close(); err != nil {
			return 0, fmt.Errorf("pick a free port: %w", err)
		}
		if !handedOut.ports[port] {
			handedOut.ports[port] = true
			return port, nil
		}
	}
	return 0, errors.New("pick a free port: no free port found in 100 tries")
}

// minPort is the lowest port freePort returns: above the ports of the
// usual services.
const minPort = 20000

// ephemeralLow returns the first port of the kernel's ephemeral range, or
// 0 when it cannot be read.
var ephemeralLow = sync.OnceValue(func() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(b))
	if len(fields) != 2 {
		return 0
	}
	low, err := strconv.Atoi(fields[0])
	if err != nil {
		return 0
	}
	return low
})

// fourLetter sends a four-letter command to addr and returns the whole
// answer; the server closes the connection after answering. During startup
// ZooKeeper 3.8 sometimes writes the answer and then fails to close the
// connection (a NullPointerException in ZooKeeperServer.removeCnxn), so an
// answer followed by a timeout counts as complete.
func fourLetter(addr, cmd string, timeout time.Duration) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return "", err
	}
	defer conn.Close() // read-only use after the write; a close error changes nothing
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return "", err
	}
	if _, err := io.WriteString(conn, cmd); err != nil {
		return "", err
	}
	out, err := io.ReadAll(conn)
	if len(out) > 0 && errors.Is(err, os.ErrDeadlineExceeded) {
		err = nil
	}
	if err != nil {
		return "", fmt.Errorf("four-letter %q to %s: %w", cmd, addr, err)
	}
	return string(out), nil
}

// errNotServing is the Mode error of a server that is up but has no
// quorum, or is still loading its database.
var errNotServing = errors.New("server is not serving requests")

// parseMode returns the value of the "Mode: " line of a srvr answer that
// starts with the server's version, as every answer of a serving server
// does.
func parseMode(srvr string) (string, error) {
	if strings.Contains(srvr, "not currently serving") {
		return "", errNotServing
	}
	if !strings.HasPrefix(srvr, "Zookeeper version: ") {
		return "", fmt.Errorf("srvr answer without the version: %q", srvr)
	}
	sc := bufio.NewScanner(strings.NewReader(srvr))
	for sc.Scan() {
		if mode, ok := strings.CutPrefix(sc.Text(), "Mode: "); ok {
			return strings.TrimSpace(mode), nil
		}
	}
	return "", fmt.Errorf("no Mode in srvr answer %q", srvr)
}

// appendFrame appends body with its length prefix to dst.
func appendFrame(dst, body []byte) ([]byte, error) {
	dst, start := serialize.BeginFrame(dst)
	return serialize.FinishFrame(append(dst, body...), start, serialize.DefaultMaxBuffer)
}

// readRecord reads one frame and decodes its start into rec (a record of
// package serialize).
func readRecord(r io.Reader, rec interface{ Decode([]byte) (int, error) }) error {
	frame, err := serialize.ReadFrame(r, serialize.DefaultMaxBuffer)
	if err != nil {
		return err
	}
	_, err = rec.Decode(frame)
	return err
}
