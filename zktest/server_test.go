package zktest

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zkloop/zkloop/internal/testwait"
	"github.com/zkloop/zkloop/zhandle"
)

// testTimeout bounds every wait of these tests: a reply, a state, a
// start. On loopback each takes milliseconds; the rest is slack for a
// loaded machine under -race.
const testTimeout = 30 * time.Second

// sessionTimeout is the session timeout of the tests' handles.
const sessionTimeout = 10 * time.Second

func testContext(t testing.TB) context.Context { return testwait.Context(t, testTimeout) }

// connect opens a handle on hosts, waits for its session and closes it
// when the test ends.
func connect(t testing.TB, hosts string, opts ...zhandle.Option) *zhandle.Handle {
	t.Helper()
	h, err := zhandle.Init(hosts, nil, sessionTimeout, opts...)
	if err != nil {
		t.Fatalf("Init(%q): %v", hosts, err)
	}
	t.Cleanup(func() { _ = h.Close() }) // Close always returns nil
	if err := h.WaitConnected(testContext(t)); err != nil {
		t.Fatalf("WaitConnected(%q): %v", hosts, err)
	}
	return h
}

func TestSuperDigest(t *testing.T) {
	// echo -n super:test | openssl sha1 -binary | base64
	if got, want := superDigest(), "super:D/InIHSb7yEEbrWz8b9l71RjZJU="; got != want {
		t.Errorf("superDigest() = %q, want %q", got, want)
	}
}

func TestParseMode(t *testing.T) {
	tests := []struct {
		name, srvr, want string
		wantErr          error
	}{
		{"standalone", "Zookeeper version: 3.8.0\nLatency min/avg/max: 0/0.0/0\nMode: standalone\nNode count: 5\n", "standalone", nil},
		{"follower", "Zookeeper version: 3.8.0\nMode: follower\n", "follower", nil},
		{"not serving", "This ZooKeeper instance is not currently serving requests\n", "", errNotServing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseMode(tt.srvr)
			if got != tt.want || !errors.Is(err, tt.wantErr) {
				t.Errorf("parseMode() = %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
	for _, bad := range []string{"garbage", "Mode: standalone\n", "Zookeeper version: 3.8.0\n"} {
		if _, err := parseMode(bad); err == nil {
			t.Errorf("parseMode(%q) succeeded", bad)
		}
	}
}

func TestNewServer(t *testing.T) {
	var pid int
	t.Run("run", func(t *testing.T) {
		srv := NewServer(t)
		pid = srv.proc.Pid()
		if got, err := srv.FourLetter("ruok"); err != nil || got != "imok" {
			t.Fatalf("ruok = %q, %v; want imok", got, err)
		}
		if got, err := srv.Mode(); err != nil || got != "standalone" {
			t.Errorf("Mode() = %q, %v; want standalone", got, err)
		}
		if !strings.HasPrefix(srv.Addr(), "127.0.0.1:") {
			t.Errorf("Addr() = %q, want a loopback address", srv.Addr())
		}
		if srv.SecureAddr() != "" || srv.ClientTLS() != nil {
			t.Errorf("SecureAddr() = %q, ClientTLS() = %v without TLS", srv.SecureAddr(), srv.ClientTLS())
		}
		// The JVM mapped the class-data sharing archive: it warns when it cannot.
		if serverArchive.path == "" {
			t.Error("no class-data sharing archive")
		}
		if log := srv.logTail(logTailBytes); strings.Contains(log, "Unable to use shared archive") {
			t.Errorf("the server did not use the archive %s:\n%s", serverArchive.path, log)
		}
		conf, err := srv.FourLetter("conf")
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"tickTime=500", "minSessionTimeout=1000", "maxSessionTimeout=60000"} {
			if !strings.Contains(conf, want+"\n") {
				t.Errorf("conf lacks %q:\n%s", want, conf)
			}
		}
		srv.Stop()
		if srv.Running() {
			t.Error("Running() after Stop")
		}
		if _, err := srv.FourLetter("ruok"); err == nil {
			t.Error("ruok answered after Stop")
		}
	})
	if pid == 0 {
		return // skipped: no server here
	}
	// The subtest's cleanup has run: neither the JVM nor its group remains.
	if err := unix.Kill(-pid, 0); !errors.Is(err, unix.ESRCH) {
		t.Errorf("process group %d after cleanup: kill(0) = %v, want ESRCH", pid, err)
	}
}

// TestServerFeatures checks the configuration from the client side: TTL nodes
// are enabled and the super user may read what the ACL denies to others;
// WithSystemProperty replaces a default.
func TestServerFeatures(t *testing.T) {
	srv := NewServer(t)
	h := connect(t, srv.Addr())
	ctx := testContext(t)

	if _, _, err := h.CreateTTL(ctx, "/ttl", nil, zhandle.OpenACLUnsafe, zhandle.PersistentWithTTL, time.Minute); err != nil {
		t.Errorf("CreateTTL: %v, want success (extendedTypesEnabled)", err)
	}
	nobody := []zhandle.ACL{{Perms: zhandle.PermAll, ID: zhandle.ID{Scheme: "digest", ID: "nobody:AAAAAAAAAAAAAAAAAAAAAAAAAAA="}}}
	if _, err := h.Create(ctx, "/secret", nil, nobody, zhandle.Persistent); err != nil {
		t.Fatalf("Create /secret: %v", err)
	}
	if _, _, err := h.Get(ctx, "/secret", false); !errors.Is(err, zhandle.ErrNoAuth) {
		t.Errorf("Get without auth: %v, want %v", err, zhandle.ErrNoAuth)
	}
	if err := h.AddAuth(ctx, "digest", []byte(SuperAuth)); err != nil {
		t.Fatalf("AddAuth %s: %v", SuperAuth, err)
	}
	if _, _, err := h.Get(ctx, "/secret", false); err != nil {
		t.Errorf("Get as super: %v, want success", err)
	}

	noTTL := NewServer(t, WithSystemProperty("zookeeper.extendedTypesEnabled", "false"))
	h = connect(t, noTTL.Addr())
	if _, _, err := h.CreateTTL(ctx, "/ttl", nil, zhandle.OpenACLUnsafe, zhandle.PersistentWithTTL, time.Minute); err == nil {
		t.Error("CreateTTL succeeded with zookeeper.extendedTypesEnabled=false")
	}
}

// TestRestartKeepsSessions checks that Kill, Start and Restart keep the
// port, the data and the sessions: a handle reconnects to its session, and
// its ephemeral node is still there.
func TestRestartKeepsSessions(t *testing.T) {
	srv := NewServer(t)
	addr := srv.Addr()
	h := connect(t, srv.Addr())
	ctx := testContext(t)
	if _, err := h.Create(ctx, "/kept", nil, zhandle.OpenACLUnsafe, zhandle.Ephemeral); err != nil {
		t.Fatalf("Create: %v", err)
	}
	session := h.ClientID().SessionID

	for _, restart := range []struct {
		name string
		do   func()
	}{
		{"Kill and Start", func() {
			srv.Kill()
			if srv.Running() {
				t.Fatal("Running() after Kill")
			}
			srv.Kill() // a no-op on a stopped server
			srv.Start()
		}},
		{"Restart", srv.Restart},
	} {
		restart.do()
		if srv.Addr() != addr {
			t.Errorf("%s: Addr() = %s, want %s", restart.name, srv.Addr(), addr)
		}
		// The handle may send before it has noticed the old connection is
		// dead: a connection loss is retried, as any caller retries it.
		stat, err := h.Exists(ctx, "/kept", false)
		for errors.Is(err, zhandle.ErrConnectionLoss) && ctx.Err() == nil {
			stat, err = h.Exists(ctx, "/kept", false)
		}
		if err != nil {
			t.Fatalf("%s: Exists /kept: %v", restart.name, err)
		}
		if stat.EphemeralOwner != session || h.ClientID().SessionID != session {
			t.Errorf("%s: /kept owned by %#x, handle's session %#x; want %#x", restart.name, stat.EphemeralOwner, h.ClientID().SessionID, session)
		}
	}
}

// Servers' ports come from below the kernel's ephemeral range, where no
// outgoing connection can take one before its server binds it.
func TestFreePortBelowEphemeralRange(t *testing.T) {
	low := ephemeralLow()
	if low <= minPort {
		t.Skipf("the ephemeral range starts at %d, not above %d: the kernel picks the ports", low, minPort)
	}
	for range 50 {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		if port < minPort || port >= low {
			t.Errorf("freePort() = %d, want one in [%d, %d)", port, minPort, low)
		}
	}
}

// TestStartRetriesTakenPort gives the first server a port that is in use,
// as when another process binds it between freePort and the server's bind.
func TestStartRetriesTakenPort(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server twice")
	}
	taken := takePort(t, 1)
	srv := NewServer(t)
	if srv.Addr() == taken {
		t.Errorf("server got the taken address %s", srv.Addr())
	}
	if mode, err := srv.Mode(); err != nil || mode != "standalone" {
		t.Errorf("Mode() = %q, %v", mode, err)
	}
}

// takePort makes the nth port pickPort hands out one that a listener of
// the test holds, as when another process binds a port between freePort
// and the server's bind, and returns the listener's address.
func takePort(t *testing.T, nth int) string {
	t.Helper()
	taken, err := net.Listen("tcp", loopback+":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { taken.Close() })
	picks := 0
	pickPort = func() (int, error) {
		if picks++; picks == nth {
			return taken.Addr().(*net.TCPAddr).Port, nil
		}
		return freePort()
	}
	t.Cleanup(func() { pickPort = freePort })
	return taken.Addr().String()
}

// TestParallelServers starts servers from tests running in parallel: each
// gets ports of its own.
func TestParallelServers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four servers")
	}
	Require(t)
	var mu sync.Mutex
	addrs := map[string]bool{}
	t.Run("group", func(t *testing.T) {
		for i := range 4 {
			t.Run(strconv.Itoa(i), func(t *testing.T) {
				t.Parallel()
				srv := NewServer(t)
				mu.Lock()
				addrs[srv.Addr()] = true
				mu.Unlock()
				if mode, err := srv.Mode(); err != nil || mode != "standalone" {
					t.Errorf("Mode() = %q, %v", mode, err)
				}
			})
		}
	})
	if len(addrs) != 4 {
		t.Errorf("four servers on %d addresses: %v", len(addrs), addrs)
	}
}
