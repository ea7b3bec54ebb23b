// Zkcli is a ZooKeeper shell: the commands and output formats of Java's
// zkCli.sh (ZooKeeperMain) and the extra commands and options of the C
// client's cli_mt (cli.c), on the zkloop client. It starts at once, runs
// scripts with an exit status that says whether every command succeeded,
// and edits lines with history and tab completion on a terminal.
//
//	zkcli [-server host:port,...[/chroot]] [-timeout ms|duration] [-r]
//	      [-clientid file] [-waitforconnection] [-d] [-trace]
//	      [-tls] [-tls-ca file] [-tls-cert file -tls-key file] [-tls-server-name name]
//	      [-sasl-user name [-sasl-password-file file | -sasl-password password]]
//	      [-c cmd | cmd args...]
//
// cli_mt's spellings are accepted too: -h/--host, -m/--myid, -c/--cmd,
// -r/--readonly, -d/--debug, -s/--ssl. Without -server, ZOOKEEPER_SERVERS or
// 127.0.0.1:2181.
//
// # Modes
//
// A command after the options, or one or more -c, runs and exits. Without
// one, when standard input is not a terminal, each of its lines is a
// command (blank lines and lines starting with # are skipped). Either way
// the first command that needs the session waits for it, trying the
// servers in turn until -timeout: a server that has just started refuses,
// drops or leaves unanswered the first connections. When no server serves
// in time zkcli names the servers it tried, runs no further command and
// exits with 1. Output goes to stdout without prompts, each failed command
// prints one line on stderr in zkCli.sh's words ("Node does not exist:
// /a"), and the exit status is 0 only when every command succeeded (1
// otherwise, 2 for a bad invocation, 130 after SIGINT). Otherwise the
// shell is interactive: the prompt "[zk: server(STATE) n] ", line editing, history kept in
// ~/.zkcli_history ($ZKCLI_HISTORY overrides), tab completion of commands
// and znode paths, Ctrl-C to drop the line or cancel the running command,
// Ctrl-D to leave, and watch and session events printed above the line
// being typed as zkCli.sh prints them ("WATCHER::", "WatchedEvent
// state:SyncConnected type:NodeDataChanged path:/a").
//
// # Data
//
// Words are split as zkCli.sh splits them: a word in double or single
// quotes may hold blanks, and a quote inside a word is kept ({"k":"v"} is
// one word). There are no escapes: for arbitrary bytes create and set take
// -b (the data is base64, as zkCli.sh's set -b) or -x (hex). get prints
// text as it is and anything else (control characters, invalid UTF-8) as a
// Go-quoted string; get -b prints base64 and get -x zkCli.sh's hex dump.
//
// # TLS and SASL
//
// Any -tls flag makes every connection TLS, to the servers' secure client
// port (secureClientPort). The servers' certificates are checked against
// the system's roots, or the PEM certificates of -tls-ca, and against the
// host as the connect string names it (a DNS name or an IP address), or
// -tls-server-name. -tls-cert and -tls-key give a client certificate and
// its unencrypted key (PEM) for servers that ask for one; cli_mt's
// -s/--ssl ca,cert,key sets the three at once (its fourth field, the key's
// password, is not supported). -sasl-user authenticates with SASL
// DIGEST-MD5; the password comes from -sasl-password-file (its first line),
// $ZKCLI_SASL_PASSWORD, or -sasl-password, which other users can see in
// ps. The files are read before connecting: a bad one is a bad invocation.
// A server that fails verification, refuses the client's certificate or
// the SASL credentials ends the session; the commands then fail with the
// reason ("authentication failed: TLS with 127.0.0.1:2281: tls: failed to
// verify certificate: x509: certificate signed by unknown authority").
// connect and reinit keep these settings.
//
// # Locks and elections
//
// lock path [-- command [args...]] takes a lock on path that Apache
// Curator's InterProcessMutex respects (package recipe/lock): it waits its
// turn, runs the command with an empty standard input while holding the
// lock, and releases it when the command exits; without a command it holds
// the lock until interrupted. If the lock is lost meanwhile (the session
// expired or may have, or the lock's node was deleted), the command gets
// SIGTERM (SIGKILL 5 s later) and lock fails.
//
// leader path id joins the leader election at path as a participant that
// Apache Curator's LeaderLatch recognises (package recipe/leader), with id
// as its id, and prints what changes until interrupted: the participants
// in their order (the leader first), "Became leader" and "Lost
// leadership". Interrupted, it leaves the election.
//
// # Quotas
//
// setquota, listquota and delquota keep quotas where ZooKeeper 3.8 does,
// under /zookeeper/quota, in its formats ("count=5,bytes=-1=;
// byteHardLimit=-1;countHardLimit=2"), with zkCli.sh's checks and
// messages; listquota, as zkCli.sh, names the node it reads on stderr
// ("absolute path is ..."). The server counts the nodes and bytes under a
// quota; it refuses writes past a hard limit (-N, -B) only when started
// with -Dzookeeper.enforceQuota=true ("Quota has exceeded : /a/b"), and
// only logs a warning past a soft one (-n, -b).
//
// # Observing the client
//
// stats prints the session's counters (zhandle.Stats): requests and replies,
// bytes each way, reconnects, the last ping's round trip, pending and
// outstanding requests, the server. -trace prints a line on stderr for each
// request as it ends: "trace: getData /app 0.214 ms ok", or the error's
// name (NoNode, ConnectionLoss, ...) for "ok".
//
// # Sessions
//
// -clientid file keeps the session id and password in file, in the layout
// of cli_mt's myid file: zkcli resumes that session and, on exit, leaves
// it open for the next zkcli to resume (close ends it). A saved session
// that has expired is replaced by a new one.
package main
