// Package jvm starts the Java processes of zkloop's tests: the ZooKeeper
// servers of package zktest and the Curator driver of internal/curator.
// It finds java and javac, holds the flags that make a small JVM quick to
// start and names the class-data sharing archives that make it quicker,
// kept in the user's cache directory (CacheDir), runs each JVM in a process
// group of its own that dies with the test binary (Pdeathsig), and reads
// the tail of a JVM's log for a failed test's output.
package jvm
