package zhandle

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zkloop/zkloop/zktest"
)

// TestReconfig changes the membership of a real 3-server ensemble:
// incrementally (a remove, an add: the strings not given travel as null,
// or the server would make a non-incremental reconfig of them), then
// wholesale with members, each from the version the previous one
// returned; a stale version is refused. A handle that follows the
// configuration (WithConfigTracking) knows the members after each change.
func TestReconfig(t *testing.T) {
	ens := startEnsemble(t, zktest.WithReconfig())
	// The admin handle talks to the leader, which stays a member all
	// along; the server that comes and goes is a follower, and the
	// tracking handle starts on the other follower, knowing no other
	// server.
	leader, followers := ens.Roles()
	moved, third := followers[0], followers[1]
	stay := []*zktest.Server{leader, third}
	admin := dial(t, leader, leader.Addr())
	if err := admin.AddAuth(testContext(t), "digest", []byte(zktest.SuperAuth)); err != nil {
		t.Fatalf("AddAuth(super): %v", err)
	}
	tracking := dial(t, third, third.Addr(), WithConfigTracking())

	data, _, err := admin.GetConfig(testContext(t), false)
	if err != nil {
		t.Fatalf("GetConfig: %v", err)
	}
	initial := parseConfig(t, data)
	if diff := cmp.Diff(zktest.Members(ens.Servers()...), initial.Servers); diff != "" {
		t.Errorf("initial configuration members (-want +got):\n%s", diff)
	}
	waitTracked(t, tracking, ens.Servers()...)

	version := initial.Version
	for _, step := range []struct {
		name                      string
		joining, leaving, members string
		want                      []*zktest.Server
	}{
		{name: "remove", leaving: strconv.Itoa(moved.ID()), want: stay},
		{name: "add", joining: moved.ServerSpec(), want: ens.Servers()},
		{name: "members", members: strings.Join(zktest.Members(stay...), ","), want: stay},
		{name: "members-newlines", members: strings.Join(zktest.Members(ens.Servers()...), "\n"), want: ens.Servers()},
	} {
		data, stat, err := admin.Reconfig(testContext(t), step.joining, step.leaving, step.members, version)
		if err != nil {
			t.Fatalf("%s: Reconfig(%q, %q, %q, %#x): %v", step.name, step.joining, step.leaving, step.members, version, err)
		}
		got := parseConfig(t, data)
		if diff := cmp.Diff(zktest.Members(step.want...), got.Servers); diff != "" {
			t.Errorf("%s: configuration members (-want +got):\n%s", step.name, diff)
		}
		if got.Version <= version {
			t.Errorf("%s: version %#x after %#x", step.name, got.Version, version)
		}
		node, nodeStat, err := admin.GetConfig(testContext(t), false)
		if err != nil || string(node) != string(data) {
			t.Errorf("%s: GetConfig = %q, %v; want the configuration Reconfig returned, %q", step.name, node, err, data)
		}
		if diff := cmp.Diff(nodeStat, stat); diff != "" {
			t.Errorf("%s: Reconfig's Stat is not the node's (-GetConfig +Reconfig):\n%s", step.name, diff)
		}
		waitTracked(t, tracking, step.want...)
		version = got.Version
	}

	t.Run("stale-version", func(t *testing.T) {
		got := await(t, func(done func(reply)) error {
			return admin.AReconfig("", strconv.Itoa(moved.ID()), "", initial.Version, replyFunc(done).data())
		})
		if !errors.Is(got.Err, ErrBadVersion) {
			t.Errorf("AReconfig from the first version %#x, now at %#x: %v; want ErrBadVersion", initial.Version, version, got.Err)
		}
		data, _, err := admin.GetConfig(testContext(t), false)
		if err != nil {
			t.Fatalf("GetConfig: %v", err)
		}
		if now := parseConfig(t, data); now.Version != version {
			t.Errorf("the refused reconfig changed the version: %#x, want %#x", now.Version, version)
		}
	})
	if _, err := tracking.Exists(testContext(t), "/", false); err != nil {
		t.Errorf("the tracking handle after the changes: Exists: %v", err)
	}
}

// parseConfig reads a dynamic configuration or fails the test.
func parseConfig(t *testing.T, data []byte) zktest.Config {
	t.Helper()
	c, err := zktest.ParseConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// waitTracked waits until a handle made WithConfigTracking lists exactly
// the client addresses of servers.
func waitTracked(t *testing.T, c *realClient, servers ...*zktest.Server) {
	t.Helper()
	want := make([]string, len(servers))
	for i, s := range servers {
		want[i] = s.Addr()
	}
	slices.Sort(want)
	known := func() []string {
		c.mu.Lock()
		defer c.mu.Unlock()
		hosts := c.hosts.Addrs()
		addrs := make([]string, len(hosts))
		for i, a := range hosts {
			addrs[i] = a.String()
		}
		slices.Sort(addrs)
		return addrs
	}
	poll(t, func() (bool, string) {
		got := known()
		return slices.Equal(got, want), fmt.Sprintf("the tracking handle knows %v, want %v", got, want)
	})
}
