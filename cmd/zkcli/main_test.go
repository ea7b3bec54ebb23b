package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/zkloop/zkloop/zhandle"
	"github.com/zkloop/zkloop/zktest"
)

// mainEnv makes the test binary run zkcli's main instead of the tests, so
// that tests can spawn "zkcli" without building it.
const mainEnv = "ZKCLI_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) == "1" {
		main()
		return
	}
	code := m.Run()
	zktest.KillAll()
	os.Exit(code)
}

// result is what one zkcli invocation did.
type result struct {
	stdout, stderr string
	code           int
}

// zkcli runs zkcli in-process with stdin as its (non-terminal) input,
// interrupted after 30 s.
func zkcli(t testing.TB, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	env := map[string]string{}
	code := run(ctx, func() {}, args, func(k string) string { return env[k] }, strings.NewReader(stdin), &out, &errOut)
	return result{out.String(), errOut.String(), code}
}

// spawn runs zkcli as a process (this test binary) with stdin as input and
// extra environment.
func spawn(t testing.TB, stdin string, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), append([]string{mainEnv + "=1"}, env...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := cmd.ProcessState.ExitCode()
	if err != nil && code < 0 {
		t.Fatalf("zkcli %v: %v", args, err)
	}
	return result{out.String(), errOut.String(), code}
}

var (
	datePattern    = regexp.MustCompile(`(?m)^([cm]time) = .*$`)
	zxidPattern    = regexp.MustCompile(`(?m)^([cmp]Zxid) = 0x[0-9a-f]+$`)
	ownerPattern   = regexp.MustCompile(`(?m)^ephemeralOwner = 0x[1-9a-f][0-9a-f]*$`)
	sessionPattern = regexp.MustCompile(`session Id = [0-9a-f]+`)
)

// normalize replaces what changes from run to run: dates, zxids and
// session ids.
func normalize(s string) string {
	s = datePattern.ReplaceAllString(s, "$1 = <date>")
	s = zxidPattern.ReplaceAllString(s, "$1 = <zxid>")
	s = ownerPattern.ReplaceAllString(s, "ephemeralOwner = <session>")
	return sessionPattern.ReplaceAllString(s, "session Id = <session>")
}

// statLines is a normalized stat block.
func statLines(cversion, dataVersion, aclVersion int, ephemeral bool, dataLength, numChildren int) string {
	owner := "0x0"
	if ephemeral {
		owner = "<session>"
	}
	return fmt.Sprintf("cZxid = <zxid>\nctime = <date>\nmZxid = <zxid>\nmtime = <date>\npZxid = <zxid>\n"+
		"cversion = %d\ndataVersion = %d\naclVersion = %d\nephemeralOwner = %s\ndataLength = %d\nnumChildren = %d\n",
		cversion, dataVersion, aclVersion, owner, dataLength, numChildren)
}

// client opens a session of the test's own on srv.
func client(t testing.TB, srv *zktest.Server) *zhandle.Handle {
	t.Helper()
	h, err := zhandle.Init(srv.Addr(), nil, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	return h
}
