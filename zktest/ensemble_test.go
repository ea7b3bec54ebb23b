package zktest

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zkloop/zkloop/zhandle"
)

func TestEnsembleSurvivesLeaderLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an ensemble")
	}
	ens := NewEnsemble(t, 3)

	if got := strings.Count(ens.Addr(), ",") + 1; got != 3 {
		t.Errorf("Addr() = %q, want 3 addresses", ens.Addr())
	}
	old := ens.Leader()
	if old < 0 {
		t.Fatal("no leader after NewEnsemble")
	}
	if leader, followers := ens.Roles(); leader != ens.Member(old) || len(followers) != 2 {
		t.Errorf("Roles() = %v, %v; want %v and the two others", leader, followers, ens.Member(old))
	}
	for i, s := range ens.Servers() {
		if s != ens.Member(i) || s.ID() != i+1 || !strings.Contains(s.ServerSpec(), s.Addr()) {
			t.Errorf("server %d: Member(%d) = %v, ID() = %d, ServerSpec() = %q", i, i, ens.Member(i), s.ID(), s.ServerSpec())
		}
	}
	ctx := testContext(t)
	h := connect(t, ens.Member(old).Addr())
	if _, err := h.Create(ctx, "/committed", nil, zhandle.OpenACLUnsafe, zhandle.Persistent); err != nil {
		t.Fatalf("Create: %v", err)
	}

	ens.Member(old).Kill()
	if err := ens.WaitQuorum(ctx); err != nil {
		t.Fatalf("WaitQuorum after killing the leader: %v", err)
	}
	leader := ens.Leader()
	if leader < 0 || leader == old {
		t.Fatalf("Leader() = %d after killing leader %d", leader, old)
	}
	if _, err := connect(t, ens.Member(leader).Addr()).Exists(ctx, "/committed", false); err != nil {
		t.Errorf("Exists on the new leader: %v", err)
	}

	ens.Member(old).Start()
	if mode, err := ens.Member(old).Mode(); err != nil || mode != "follower" {
		t.Errorf("old leader after restart: Mode() = %q, %v; want follower", mode, err)
	}
	if err := ens.WaitQuorum(ctx); err != nil {
		t.Errorf("WaitQuorum with all three: %v", err)
	}

	ens.StopAll()
	for i, s := range ens.Servers() {
		if s.Running() {
			t.Errorf("server %d Running() after StopAll", i)
		}
	}
	ens.StartAll()
	if _, err := connect(t, ens.Addr()).Exists(ctx, "/committed", false); err != nil {
		t.Errorf("Exists after StopAll and StartAll: %v", err)
	}
}

// TestReconfig checks WithReconfig on a server of its own, a one-member
// ensemble whose configuration the super user reads and rewrites.
func TestReconfig(t *testing.T) {
	if testing.Short() {
		t.Skip("reconfigures a server")
	}
	srv := NewServer(t, WithReconfig())
	if mode, err := srv.Mode(); err != nil || mode != "leader" {
		t.Errorf("Mode() = %q, %v; want leader", mode, err)
	}
	h := connect(t, srv.Addr())
	ctx := testContext(t)
	if err := h.AddAuth(ctx, "digest", []byte(SuperAuth)); err != nil {
		t.Fatal(err)
	}
	data, _, err := h.GetConfig(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	before, err := ParseConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Members(srv), before.Servers); diff != "" {
		t.Errorf("configuration (-want +got):\n%s", diff)
	}
	data, _, err = h.Reconfig(ctx, "", "", strings.Join(Members(srv), ","), before.Version)
	if err != nil {
		t.Fatalf("Reconfig: %v", err)
	}
	after, err := ParseConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	if after.Version <= before.Version {
		t.Errorf("version %#x after Reconfig, want more than %#x", after.Version, before.Version)
	}
}
