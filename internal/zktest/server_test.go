package zktest

import (
	"errors"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/zkloop/zkloop/serialize"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) {
	code := m.Run()
	KillAll()
	os.Exit(code)
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
		{"follower", "Mode: follower\n", "follower", nil},
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
	if _, err := parseMode("garbage"); err == nil {
		t.Error("parseMode(garbage) succeeded")
	}
}

func TestStandalone(t *testing.T) {
	var pid int
	t.Run("run", func(t *testing.T) {
		srv := Standalone(t)
		pid = srv.proc.cmd.Process.Pid
		if got, err := srv.FourLetter("ruok"); err != nil || got != "imok" {
			t.Fatalf("ruok = %q, %v; want imok", got, err)
		}
		if got, err := srv.Mode(); err != nil || got != "standalone" {
			t.Errorf("Mode() = %q, %v; want standalone", got, err)
		}
		if !strings.HasPrefix(srv.Addr(), "127.0.0.1:") {
			t.Errorf("Addr() = %q, want a loopback address", srv.Addr())
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
// are enabled and the super user may read what the ACL denies to others.
func TestServerFeatures(t *testing.T) {
	srv := Standalone(t)
	c := dialRaw(t, srv.Addr())
	c.connect()

	code, _ := c.call(0, serialize.OpCreateTTL, createBody("/ttl", nil, openACL, serialize.PersistentWithTTL, 60000))
	if code != serialize.Ok {
		t.Errorf("create TTL node: %v, want Ok (extendedTypesEnabled)", code)
	}

	nobody := []acl{{perms: 0x1f, scheme: "digest", id: "nobody:AAAAAAAAAAAAAAAAAAAAAAAAAAA="}}
	if code := c.create("/secret", nobody); code != serialize.Ok {
		t.Fatalf("create /secret: %v", code)
	}
	if code := c.getData("/secret"); code != serialize.ErrNoAuth {
		t.Errorf("getData without auth: %v, want %v", code, serialize.ErrNoAuth)
	}
	auth := serialize.AppendInt32(nil, 0) // AuthPacket: type, scheme, auth
	auth = serialize.AppendString(auth, "digest")
	auth = serialize.AppendBuffer(auth, []byte(SuperAuth))
	if code, _ := c.call(serialize.XidAuth, serialize.OpSetAuth, auth); code != serialize.Ok {
		t.Fatalf("setAuth %s: %v", SuperAuth, code)
	}
	if code := c.getData("/secret"); code != serialize.Ok {
		t.Errorf("getData as super: %v, want Ok", code)
	}
}

func TestKillRestartKeepsData(t *testing.T) {
	srv := Standalone(t)
	addr := srv.Addr()
	c := dialRaw(t, addr)
	c.connect()
	if code := c.create("/kept", openACL); code != serialize.Ok {
		t.Fatalf("create: %v", code)
	}

	srv.Kill()
	if srv.Running() {
		t.Fatal("Running() after Kill")
	}
	srv.Kill() // a no-op on a stopped server
	srv.Start()

	if srv.Addr() != addr {
		t.Errorf("Addr() after restart = %s, want %s", srv.Addr(), addr)
	}
	c = dialRaw(t, srv.Addr())
	c.connect()
	if code := c.getData("/kept"); code != serialize.Ok {
		t.Errorf("getData /kept after kill and restart: %v, want Ok", code)
	}
}

// TestStartRetriesTakenPort gives the first server a port that is in use,
// as when another process binds it between freePort and the server's bind.
func TestStartRetriesTakenPort(t *testing.T) {
	taken, err := net.Listen("tcp", loopback+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	first := true
	pickPort = func() (int, error) {
		if first {
			first = false
			return taken.Addr().(*net.TCPAddr).Port, nil
		}
		return freePort()
	}
	defer func() { pickPort = freePort }()

	srv := Standalone(t)
	if srv.Addr() == taken.Addr().String() {
		t.Errorf("server got the taken address %s", srv.Addr())
	}
	if mode, err := srv.Mode(); err != nil || mode != "standalone" {
		t.Errorf("Mode() = %q, %v", mode, err)
	}
}
