// Package zktest runs ZooKeeper for tests: real servers and ensembles on
// loopback, and a scripted fake server for the client's unit tests. It plays
// the part of tests/zkServer.sh and the ZKMocks of the C client's test suite.
//
// # Real servers
//
//	srv := zktest.Standalone(t)            // skips without java (fails under CI=1)
//	h, err := zhandle.Init(srv.Addr(), w, 5*time.Second)
//	...
//	srv.Kill()                             // crash; data kept
//	srv.Start()                            // same port, same data
//
//	ens := zktest.StartEnsemble(t, 3)      // quorum reached on return
//	ens.Servers[ens.Leader()].Kill()
//	err = ens.WaitQuorum(ctx)              // the other two elect a leader
//
// An ensemble can be reconfigured (reconfigEnabled=true,
// standaloneEnabled=false, a dynamic configuration file) by the super
// user; Members gives the lines of Reconfig's members argument and
// ParseConfig reads the configuration it returns.
//
// Each server is a JVM running org.apache.zookeeper.server.quorum.QuorumPeerMain
// from ZooKeeperJar (the Debian packages zookeeper and libzookeeper-java;
// ClasspathEnv overrides), with java from JAVA_HOME or PATH. It lives in a
// t.TempDir with its zoo.cfg, data/ and zookeeper.log, and listens only on
// 127.0.0.1, on ports picked free at start. A start returns once the
// four-letter command srvr reports a mode, about a second after launch.
//
// The configuration suits tests: tickTime 500 ms (WithTickTime), session
// timeouts from 2·tickTime to 60 s, TTL nodes enabled
// (zookeeper.extendedTypesEnabled), all four-letter commands, no AdminServer,
// no local sessions, no connection limit, no fsync, and a super user
// (SuperAuth, "super:test", for AddAuth with scheme "digest").
// WithReadOnlyMode enables read-only mode; WithSASLDigest (users for SASL
// DIGEST-MD5, in a JAAS file in the server's directory) and WithSASLRequired
// enable SASL; WithTLS adds a TLS client port (SecureAddr) with
// certificates made by NewCA, and client certificates as x509 ids;
// WithConfig and WithJVMFlags change anything else.
//
// Every server is killed in t.Cleanup, and its log is printed there if the
// test failed. The JVM runs in its own process group, killed as a whole, and
// gets SIGKILL if the test binary dies first (Pdeathsig), so no server
// outlives the tests; KillAll is a last guard for TestMain.
//
// # Fault proxy
//
// NewProxy puts a TCP proxy on loopback between clients and a server
// address; a test stalls it (Blackhole, Resume), delays it, resets its
// connections, cuts a server→client frame in the middle, splits its
// writes into 1-byte segments or refuses new connections, and waits on its
// counters with WaitFor instead of sleeping:
//
//	p := zktest.NewProxy(t, srv.Addr())  // closed in t.Cleanup
//	h, err := zhandle.Init(p.Addr(), w, 3*time.Second)
//	p.Blackhole()                        // the server seems hung
//	<-p.CutMidFrame()                    // the next reply arrives in part
//
// # Curator
//
// StartCurator starts a JVM running Apache Curator 5.4 (Debian's
// libcurator-recipes-java and libcurator-discovery-java), so that tests of
// the recipes can meet the real Curator on the same znodes. It hosts named
// CuratorFramework clients and recipe instances and runs commands on them,
// each a thin wrapper of Curator's API, over a line protocol on its stdin and
// stdout; recipes report what happens to them as events:
//
//	cur := zktest.StartCurator(t)                  // skips without javac or the jars
//	cur.NewClient("j1", srv.Addr(), 5*time.Second)
//	_, err := cur.Do(ctx, "latch.start", "l1", "j1", "/election", "java-1")
//	e, err := cur.WaitEvent(ctx, "l1", "isLeader")
//	_, err = cur.Do(ctx, "client.expire", "j1")     // the server ends j1's session
//
// The driver, curator/CuratorDriver.java, lists the commands in its header.
// It is compiled with javac once per test binary, into the user's cache
// directory, where later runs find it.
//
// # Fake server
//
// NewFakeServer listens on 127.0.0.1 and runs a script per accepted
// connection: read frames or requests, answer, write raw or garbage bytes,
// close. Every read of a FakeConn method has a deadline, so a script never
// hangs a test; NeverAnswer, which waits for the client, ends with Close.
package zktest
