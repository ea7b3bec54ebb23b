package zktest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/zkloop/zkloop/serialize"
)

func TestEnsembleSurvivesLeaderLoss(t *testing.T) {
	ens := StartEnsemble(t, 3)

	if got := strings.Count(ens.ConnectString(), ",") + 1; got != 3 {
		t.Errorf("ConnectString() = %q, want 3 addresses", ens.ConnectString())
	}
	old := ens.Leader()
	if old < 0 {
		t.Fatal("no leader after StartEnsemble")
	}
	if leader, followers := ens.Roles(); leader != ens.Servers[old] || len(followers) != 2 {
		t.Errorf("Roles() = %v, %v; want %v and the two others", leader, followers, ens.Servers[old])
	}
	for i, s := range ens.Servers {
		if s.ID() != i+1 || !strings.Contains(s.ServerSpec(), s.Addr()) {
			t.Errorf("server %d: ID() = %d, ServerSpec() = %q", i, s.ID(), s.ServerSpec())
		}
	}
	c := dialRaw(t, ens.Servers[old].Addr())
	c.connect()
	if code := c.create("/committed", openACL); code != serialize.Ok {
		t.Fatalf("create: %v", code)
	}

	ens.Servers[old].Kill()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := ens.WaitQuorum(ctx); err != nil {
		t.Fatalf("WaitQuorum after killing the leader: %v", err)
	}
	leader := ens.Leader()
	if leader < 0 || leader == old {
		t.Fatalf("Leader() = %d after killing leader %d", leader, old)
	}
	c = dialRaw(t, ens.Servers[leader].Addr())
	c.connect()
	if code := c.getData("/committed"); code != serialize.Ok {
		t.Errorf("getData on the new leader: %v, want Ok", code)
	}

	ens.Servers[old].Start()
	if mode, err := ens.Servers[old].Mode(); err != nil || mode != "follower" {
		t.Errorf("old leader after restart: Mode() = %q, %v; want follower", mode, err)
	}
	if err := ens.WaitQuorum(ctx); err != nil {
		t.Errorf("WaitQuorum with all three: %v", err)
	}

	ens.StopAll()
	for i, s := range ens.Servers {
		if s.Running() {
			t.Errorf("server %d Running() after StopAll", i)
		}
	}
	ens.StartAll()
	c = dialRaw(t, ens.Servers[0].Addr())
	c.connect()
	if code := c.getData("/committed"); code != serialize.Ok {
		t.Errorf("getData after StopAll and StartAll: %v, want Ok", code)
	}
}
