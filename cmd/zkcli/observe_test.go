package main

import (
	"regexp"
	"strconv"
	"testing"

	"github.com/zkloop/zkloop/zktest"
)

// stats prints the session's counters after the commands before it; -trace
// prints one line per request with its latency and outcome.
func testObserve(t *testing.T, srv *zktest.Server) {
	root := "/observe"
	got := zkcli(t, "create "+root+" x\nget "+root+"\nget "+root+"/missing\nstats\n", "-trace", "-server", srv.Addr())
	if got.code != 1 { // the get of a missing node fails
		t.Fatalf("exit %d, stderr:\n%s", got.code, got.stderr)
	}
	counters := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^(\w+) = (.*)$`).FindAllStringSubmatch(got.stdout, -1) {
		counters[m[1]] = m[2]
	}
	for _, name := range []string{"requestsSent", "repliesReceived", "bytesSent", "bytesReceived"} {
		if n, err := strconv.Atoi(counters[name]); err != nil || n < 3 {
			t.Errorf("%s = %q, want at least 3 (stdout:\n%s)", name, counters[name], got.stdout)
		}
	}
	if counters["server"] != srv.Addr() || counters["pending"] != "0" || counters["outstanding"] != "0" {
		t.Errorf("server %q pending %q outstanding %q; want %s, 0, 0", counters["server"], counters["pending"], counters["outstanding"], srv.Addr())
	}
	for _, want := range []string{
		`(?m)^trace: create /observe [0-9.]+ ms ok$`,
		`(?m)^trace: getData /observe [0-9.]+ ms ok$`,
		`(?m)^trace: getData /observe/missing [0-9.]+ ms NoNode$`,
	} {
		if !regexp.MustCompile(want).MatchString(got.stderr) {
			t.Errorf("stderr does not match %s:\n%s", want, got.stderr)
		}
	}
}
