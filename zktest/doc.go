// Package zktest runs real ZooKeeper servers for Go tests, on loopback, and
// puts faults between them and their clients: servers and ensembles that
// stop, crash and come back, a proxy that cuts, stalls or refuses
// connections, deterministic session expiry, and a check that no handle
// outlives its test. It is to ZooKeeper what net/http/httptest is to HTTP,
// and plays the part of Curator's curator-test (TestingServer,
// TestingCluster, KillSession) for Go:
//
//	func TestAgent(t *testing.T) {
//		zktest.VerifyNoLeaks(t)
//		srv := zktest.NewServer(t)              // stopped in t.Cleanup
//		p := zktest.NewProxy(t, srv.Addr())     // closed in t.Cleanup
//		h, err := zhandle.Init(p.Addr(), nil, 4*time.Second)
//		...
//		p.Cut()                                 // the connection drops
//		p.Stall()                               // the server seems hung
//		p.Resume()
//		zktest.ExpireSession(t, h)              // the session expires now
//		srv.Kill()                              // crash; data kept
//		srv.Start()                             // same port, same data, same sessions
//	}
//
//	ens := zktest.NewEnsemble(t, 3)             // quorum reached on return
//	h, err := zhandle.Init(ens.Addr(), nil, 4*time.Second)
//	ens.Member(ens.Leader()).Kill()
//	err = ens.WaitQuorum(ctx)                   // the other two elect a leader
//
// # Finding ZooKeeper
//
// Each server is a JVM running org.apache.zookeeper.server.quorum.QuorumPeerMain,
// with java from JAVA_HOME or PATH, and the server from, in order:
// ZOOKEEPER_JAR (a server jar, with the jars beside it), ZOOKEEPER_HOME (an
// unpacked release tarball: lib/*.jar), or Debian's packages zookeeper and
// libzookeeper-java (/usr/share/java/zookeeper.jar). Without java or a
// server, NewServer and NewEnsemble skip the test with a message that
// names what is missing and how to install it; when the environment
// variable CI is set they fail it instead, so that CI cannot pass by
// skipping.
//
// A server lives in a t.TempDir with its zoo.cfg, data/ and zookeeper.log,
// and listens only on 127.0.0.1, on ports picked free at start (tests that
// run in parallel never share one; a port taken by another process in the
// meantime makes the start try again elsewhere). A start returns once the
// four-letter command srvr answers with the server's version and mode,
// half a second after launch: the JVM maps a class-data sharing archive of
// the server's classes (made by the first start on a machine, kept in the
// user's cache directory) and runs with the C1 compiler only, the serial
// collector and a small heap.
//
// Every server is killed in t.Cleanup, and its log is printed there if the
// test failed. The JVM runs in its own process group, killed as a whole,
// and gets SIGKILL if the test binary dies first (Pdeathsig), so no server
// outlives the tests; KillAll is a last guard for TestMain.
//
// # Configuration
//
// The configuration suits tests: tickTime 500 ms (WithTickTime), so that
// session timeouts from 1 s to 60 s are granted; TTL nodes enabled
// (zookeeper.extendedTypesEnabled); all four-letter commands; no
// AdminServer, no local sessions, no connection limit, no fsync; and a
// super user (SuperAuth, for AddAuth with the scheme "digest").
// WithSystemProperty sets any Java system property (zookeeper.enforceQuota,
// ...), WithConfig any line of zoo.cfg and WithJVMFlags anything else.
// WithReadOnlyMode, WithReconfig, WithSASLDigest and WithSASLRequired, and
// WithTLS or WithServerTLS enable the features of those names.
//
// # Faults
//
// NewProxy puts a TCP proxy on loopback between clients and a server
// address. A test cuts its connections (Cut), stalls them (Stall, Resume),
// refuses new ones (Refuse), delays them (Delay), cuts a server→client
// frame in the middle (CutMidFrame) or splits writes into 1-byte segments
// (SplitWrites), and waits on its counters (Connections, Accepted,
// BytesIn, BytesOut) with WaitFor instead of sleeping. ExpireSession ends
// a handle's session on the server at once, as a session timeout would
// after a partition. A Server stops (Stop), crashes (Kill), starts again
// (Start, Restart); an Ensemble loses and regains members and its quorum.
package zktest
