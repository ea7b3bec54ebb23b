package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zkloop/zkloop/zktest"
)

// TestReconfig runs zkcli's reconfig against a real 3-server ensemble, as
// the super user: -remove and -add (incremental: what is not given travels
// as null), -members and -file (wholesale), -v with the current and with a
// stale version, and an empty membership. Each case starts from the
// configuration the one before committed; the output is zkCli.sh's, with
// the configuration the ensemble holds afterwards.
func TestReconfig(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-server ensemble")
	}
	ens := zktest.NewEnsemble(t, 3, zktest.WithReconfig())
	// zkcli talks to the leader, a member all along; the server that
	// comes and goes is a follower.
	leader, followers := ens.Roles()
	moved := followers[0]
	stay := []*zktest.Server{leader, followers[1]}
	h := client(t, leader)
	dir := t.TempDir()
	all := writeFile(t, dir, "all.cfg", "# the ensemble\n"+strings.Join(zktest.Members(ens.Servers()...), "\n")+"\n")
	none := writeFile(t, dir, "none.cfg", "# no server\nversion=1\n")

	// committed reads the configuration node: its text, parsed, and its
	// Stat as zkcli prints it.
	committed := func(t *testing.T) (string, zktest.Config, string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		data, stat, err := h.GetConfig(ctx, false)
		if err != nil {
			t.Fatalf("GetConfig: %v", err)
		}
		c, err := zktest.ParseConfig(data)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		writeStat(&b, &stat, time.Local)
		return string(data), c, b.String()
	}
	_, initial, _ := committed(t)

	const emptyMembership = "A new membership needs at least one server (-members or -file)\n"
	for _, tc := range []struct {
		name    string
		command string           // the reconfig line; $V is the current version
		want    []*zktest.Server // the members committed; nil: refused, nothing committed
		stat    bool             // -s: the Stat follows the configuration
		err     string
	}{
		{name: "remove", command: "reconfig -remove " + strconv.Itoa(moved.ID()), want: stay},
		{name: "add", command: "reconfig -add " + moved.ServerSpec(), want: ens.Servers()},
		{name: "members", command: "reconfig -members " + strings.Join(zktest.Members(stay...), ","), want: stay},
		{name: "file", command: "reconfig -s -v $V -file " + all, want: ens.Servers(), stat: true},
		{name: "stale-version", command: fmt.Sprintf("reconfig -v %x -remove %d", initial.Version, moved.ID()), err: "version No is not valid : \n"},
		{name: "empty-members", command: "reconfig -members ''", err: emptyMembership},
		{name: "file-without-servers", command: "reconfig -file " + none, err: emptyMembership},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, before, _ := committed(t)
			line := strings.ReplaceAll(tc.command, "$V", strconv.FormatInt(before.Version, 16))
			got := zkcli(t, "addauth digest "+zktest.SuperAuth+"\n"+line+"\n", "-server", leader.Addr())
			got.stdout = normalize(got.stdout)
			text, after, stat := committed(t)
			want := result{stderr: tc.err, code: 1}
			if tc.want != nil {
				want = result{stdout: normalize("Committed new configuration:\n" + text + "\n")}
				if tc.stat {
					want.stdout += normalize(stat)
				}
				if diff := cmp.Diff(zktest.Members(tc.want...), after.Servers); diff != "" {
					t.Errorf("members of the committed configuration (-want +got):\n%s", diff)
				}
				if after.Version == before.Version {
					t.Errorf("the configuration version is still %x", after.Version)
				}
			} else if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("a refused reconfig changed the configuration (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(result{})); diff != "" {
				t.Errorf("zkcli <<< %q (-want +got):\n%s", line, diff)
			}
		})
	}
}
