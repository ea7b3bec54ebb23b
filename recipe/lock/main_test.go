package lock_test

import (
	"testing"
	"time"

	"github.com/zkloop/zkloop/internal/recipetest"
	"github.com/zkloop/zkloop/zhandle"
	"github.com/zkloop/zkloop/zktest"
)

func TestMain(m *testing.M) { recipetest.Main(m) }

// TestRealServer runs the package's real-server tests on one server.
func TestRealServer(t *testing.T) {
	srv := recipetest.Start(t)
	for _, tt := range []struct {
		name string
		test func(*testing.T, *site)
	}{
		{"MutualExclusion", testMutualExclusion},
		{"Fairness", testFairness},
		{"OnlyThePredecessorIsWatched", testOnlyPredecessorWatched},
		{"Reentrancy", testReentrancy},
		{"TryLock", testTryLock},
		{"CancelLeavesNoNode", testCancelLeavesNoNode},
		{"DoneContextSendsNothing", testDoneContext},
		{"LostCreateReply", testLostCreateReply},
		{"LostBeforeServerExpiry", testLostBeforeServerExpiry},
		{"LostOnOutsideDelete", testLostOnOutsideDelete},
		{"ErrorPolicies", testErrorPolicies},
		{"ConcurrentLockSameValue", testConcurrentLockSameValue},
		{"NodeData", testNodeData},
		{"RequestsPerCycle", testRequestsPerCycle},
		{"RWReadersShare", testRWReadersShare},
		{"RWWriterExcludes", testRWWriterExcludes},
		{"RWReaderQueuesBehindWriter", testRWReaderQueuesBehindWriter},
		{"RWDowngrade", testRWDowngrade},
		{"RWForeignDowngradeNode", testRWForeignDowngradeNode},
		{"RWMutualExclusion", testRWMutualExclusion},
		{"SemaphoreBound", testSemaphoreBound},
		{"SemaphoreLease", testSemaphoreLease},
		{"SemaphoreOnlyHeadWatchesLeases", testSemaphoreOnlyHeadWatchesLeases},
		{"SemaphoreTryAcquire", testSemaphoreTryAcquire},
		{"NothingLeftAfterClose", testNothingLeftAfterClose},
	} {
		t.Run(tt.name, func(t *testing.T) { tt.test(t, newSite(t, srv)) })
	}
}

// site is one test's corner of the server: a chroot of its own.
type site struct {
	t     *testing.T
	srv   *zktest.Server
	hosts string // the chroot's connect string
	root  string // the chroot
}

func newSite(t *testing.T, srv *zktest.Server) *site {
	root := recipetest.Chroot(t, srv.Addr())
	return &site{t: t, srv: srv, hosts: srv.Addr() + root, root: root}
}

// connect opens a session on the chroot.
func (s *site) connect(opts ...zhandle.Option) *zhandle.Handle {
	s.t.Helper()
	return recipetest.Connect(s.t, s.hosts, opts...)
}

// proxied opens a session on the chroot through a fault proxy of its own.
func (s *site) proxied(timeout time.Duration) (*zhandle.Handle, *zktest.Proxy) {
	s.t.Helper()
	p := zktest.NewProxy(s.t, s.srv.Addr())
	return recipetest.ConnectTimeout(s.t, p.Addr()+s.root, timeout), p
}
