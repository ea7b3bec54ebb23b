// Package curator runs Apache Curator 5.4 (Debian's
// libcurator-recipes-java and libcurator-discovery-java) in a JVM beside
// zkloop's tests, so that tests of the recipes can meet the real Curator on
// the same znodes. The driver hosts named CuratorFramework clients and
// recipe instances and runs commands on them, each a thin wrapper of
// Curator's API, over a line protocol on its stdin and stdout; recipes
// report what happens to them as events:
//
//	cur := curator.Start(t)                        // skips without javac or the jars
//	cur.NewClient("j1", srv.Addr(), 5*time.Second)
//	_, err := cur.Do(ctx, "latch.start", "l1", "j1", "/election", "java-1")
//	e, err := cur.WaitEvent(ctx, "l1", "isLeader")
//	_, err = cur.Do(ctx, "client.expire", "j1")     // the server ends j1's session
//
// The driver, CuratorDriver.java, lists the commands in its header. It is
// compiled with javac once per test binary, into the user's cache
// directory, where later runs find it.
package curator
