package main

import (
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/zkloop/zkloop/zktest"
)

// TestRealServer runs zkcli against one real ZooKeeper: every command in
// batch mode, scripts, the terminal, and session resumption.
func TestRealServer(t *testing.T) {
	srv := zktest.NewServer(t, zktest.WithSystemProperty("zookeeper.enforceQuota", "true"))
	t.Run("batch", func(t *testing.T) { testBatch(t, srv) })
	t.Run("script", func(t *testing.T) { testScript(t, srv) })
	t.Run("invocation", func(t *testing.T) { testInvocation(t, srv) })
	t.Run("clientid", func(t *testing.T) { testClientID(t, srv) })
	t.Run("terminal", func(t *testing.T) { testTerminal(t, srv) })
	t.Run("cache", func(t *testing.T) { testCache(t, srv) })
	t.Run("lock", func(t *testing.T) { testLock(t, srv) })
	t.Run("leader", func(t *testing.T) { testLeader(t, srv) })
	t.Run("services", func(t *testing.T) { testServices(t, srv) })
	t.Run("observe", func(t *testing.T) { testObserve(t, srv) })
}

// batchCase is one zkcli run: the setup script first (which must succeed
// silently), then the command, as words after the options, or as stdin.
// In every string $R stands for the case's own node and $S for the
// server's address; output is compared after normalize.
type batchCase struct {
	name      string
	setup     string
	args      []string
	stdin     string
	out, err  string
	events    []string // "type path" of the watch events printed, in any order
	code      int
	anyStderr bool // debug logging: stderr not compared
}

// digest is the id of the digest scheme for user:password.
func digest(userPassword string) string {
	sum := sha1.Sum([]byte(userPassword))
	user, _, _ := strings.Cut(userPassword, ":")
	return user + ":" + base64.StdEncoding.EncodeToString(sum[:])
}

func batchCases() []batchCase {
	stat0 := statLines(0, 0, 0, false, 0, 0)
	hello := "hello world\n" + statLines(0, 0, 0, false, 11, 0)
	const hexHello = "         +-------------------------------------------------+\n" +
		"         |  0  1  2  3  4  5  6  7  8  9  a  b  c  d  e  f |\n" +
		"+--------+-------------------------------------------------+----------------+\n" +
		"|00000000| 68 65 6c 6c 6f 20 77 6f 72 6c 64                |hello world     |\n" +
		"+--------+-------------------------------------------------+----------------+\n"
	return []batchCase{
		// create and cli_mt's create2
		{name: "create", args: []string{"create", "$R", "hello world"}, out: "Created $R\n"},
		{name: "create-null", setup: "create $R", args: []string{"get", "$R"}, out: "null\n"},
		{name: "create-exists", setup: "create $R", args: []string{"create", "$R"}, err: "Node already exists: $R\n", code: 1},
		{name: "create-no-parent", args: []string{"create", "$R/a/b"}, err: "Node does not exist: $R/a/b\n", code: 1},
		{name: "create-sequential", setup: "create $R", args: []string{"create", "-s", "$R/q-", "x"}, out: "Created $R/q-0000000000\n"},
		{name: "create-ephemeral", setup: "create $R", args: []string{"create", "-e", "$R/e"}, out: "Created $R/e\n"},
		{name: "create-ephemeral-sequential", setup: "create $R", args: []string{"create", "-es", "$R/e-"}, out: "Created $R/e-0000000000\n"},
		{name: "create-container", args: []string{"create", "-c", "$R"}, out: "Created $R\n"},
		{name: "create-ttl", args: []string{"create", "-t", "60000", "$R", "x"}, out: "Created $R\n"},
		{name: "create-ttl-duration", setup: "create $R", args: []string{"create", "-s", "-t", "1m", "$R/t-"}, out: "Created $R/t-0000000000\n"},
		{name: "create-cli-mt", setup: "create $R", stdin: "create +s $R/s-\ncreate +e $R/e\ncreate +t=60000 $R/t\ncreate +es $R/es-\n",
			out: "Created $R/s-0000000000\nCreated $R/e\nCreated $R/t\nCreated $R/es-0000000003\n"},
		{name: "create-acl", setup: "create $R x world:anyone:cdr", args: []string{"getAcl", "$R"}, out: "'world,'anyone\n: cdr\n"},
		{name: "create-hex", setup: "create -x $R 00ff41", args: []string{"get", "$R"}, out: `"\x00\xffA"` + "\n"},
		{name: "create-base64", setup: "create -b $R aGk=", args: []string{"get", "$R"}, out: "hi\n"},
		{name: "create-container-ephemeral", args: []string{"create", "-c", "-e", "$R"}, err: "-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.\n", code: 1},
		{name: "create-ttl-ephemeral", args: []string{"create", "-e", "-t", "100", "$R"}, err: "TTLs cannot be used with Ephemeral znodes\n", code: 1},
		{name: "create-bad-acl", args: []string{"create", "$R", "x", "world:anyone"}, err: "world:anyone does not have the form scheme:id:perm\n", code: 1},
		{name: "create-bad-perm", args: []string{"create", "$R", "x", "world:anyone:rq"}, err: "Unknown perm type: q\n", code: 1},
		{name: "create-bad-path", args: []string{"create", "relative"}, err: "bad arguments: invalid path \"relative\": not absolute\n", code: 1},
		{name: "create-usage", args: []string{"create"}, err: "create [-s] [-e] [-c] [-t ttl] [-b|-x] path [data] [acl]\n", code: 1},
		{name: "create2", args: []string{"create2", "$R", "abc"}, out: "Created $R\n" + statLines(0, 0, 0, false, 3, 0)},
		{name: "create2-cli-mt", setup: "create $R", args: []string{"create2", "+e", "$R/e"}, out: "Created $R/e\n" + statLines(0, 0, 0, true, 0, 0)},

		// get, set
		{name: "get", setup: "create $R 'hello world'", args: []string{"get", "$R"}, out: "hello world\n"},
		{name: "get-s", setup: "create $R 'hello world'", args: []string{"get", "-s", "$R"}, out: hello},
		{name: "get-b", setup: "create $R 'hello world'", args: []string{"get", "-b", "$R"}, out: "aGVsbG8gd29ybGQ=\n"},
		{name: "get-x", setup: "create $R 'hello world'", args: []string{"get", "-x", "$R"}, out: hexHello},
		{name: "get-empty", setup: `create $R ""`, args: []string{"get", "$R"}, out: "\n"},
		{name: "get-missing", args: []string{"get", "$R"}, err: "Node does not exist: $R\n", code: 1},
		{name: "get-bad-option", args: []string{"get", "-q", "$R"}, err: "Unrecognized option: -q; usage: get [-s] [-w] [-b] [-x] path\n", code: 1},
		{name: "get-control", setup: "create -x $R 1b5b324a0a", args: []string{"get", "$R"}, out: `"\x1b[2J\n"` + "\n"},
		{name: "set", setup: "create $R a", stdin: "set $R b\nget $R\n", out: "b\n"},
		{name: "set-s", setup: "create $R a", args: []string{"set", "-s", "$R", "bc"}, out: statLines(0, 1, 0, false, 2, 0)},
		{name: "set-options-after", setup: "create $R a", args: []string{"set", "$R", "bc", "-s", "-v", "0"}, out: statLines(0, 1, 0, false, 2, 0)},
		{name: "set-version", setup: "create $R a", args: []string{"set", "-v", "5", "$R", "b"}, err: "version No is not valid : $R\n", code: 1},
		{name: "set-base64", setup: "create $R a", stdin: "set -b $R aGk=\nget $R\n", out: "hi\n"},
		{name: "set-hex", setup: "create $R a", stdin: "set -x $R '68 69'\nget -x $R\n",
			out: "         +-------------------------------------------------+\n" +
				"         |  0  1  2  3  4  5  6  7  8  9  a  b  c  d  e  f |\n" +
				"+--------+-------------------------------------------------+----------------+\n" +
				"|00000000| 68 69                                           |hi              |\n" +
				"+--------+-------------------------------------------------+----------------+\n"},
		{name: "set-json", setup: "create $R a", stdin: "set $R {\"k\":\"v\"}\nget $R\nset $R '{\"k\": \"v w\"}'\nget $R\n", out: "{\"k\":\"v\"}\n{\"k\": \"v w\"}\n"},
		{name: "set-negative", setup: "create $R a", stdin: "set $R -1\nget $R\n", out: "-1\n"},
		{name: "set-missing", args: []string{"set", "$R", "x"}, err: "Node does not exist: $R\n", code: 1},
		{name: "set-usage", args: []string{"set", "$R"}, err: "set [-s] [-v version] [-b|-x] path data\n", code: 1},

		// delete, deleteall
		{name: "delete", setup: "create $R", stdin: "delete $R\nstat $R\n", err: "Node does not exist: $R\n", code: 1},
		{name: "delete-missing", args: []string{"delete", "$R"}, err: "Node does not exist: $R\n", code: 1},
		{name: "delete-not-empty", setup: "create $R\ncreate $R/a", args: []string{"delete", "$R"}, err: "Node not empty: $R\n", code: 1},
		{name: "delete-version", setup: "create $R", args: []string{"delete", "-v", "3", "$R"}, err: "version No is not valid : $R\n", code: 1},
		{name: "delete-version-ok", setup: "create $R", args: []string{"delete", "-v", "0", "$R"}},
		{name: "deleteall", setup: "create $R\ncreate $R/a\ncreate $R/a/b\ncreate $R/c", stdin: "deleteall $R\nls $R\n", err: "Node does not exist: $R\n", code: 1},
		{name: "deleteall-batches", setup: "create $R\ncreate $R/a\ncreate $R/a/b\ncreate $R/c\ncreate $R/c/d", stdin: "deleteall $R -b 1\nls $R\n", err: "Node does not exist: $R\n", code: 1},
		{name: "deleteall-one-by-one", setup: "create $R\ncreate $R/a", stdin: "deleteall -b 0 $R\nstat $R\n", err: "Node does not exist: $R\n", code: 1},
		{name: "deleteall-missing", args: []string{"deleteall", "$R"}, err: "Node does not exist: $R\n", code: 1},

		// lock (the lock itself: lock_test.go)
		{name: "lock-command", args: []string{"lock", "$R", "--", "sh", "-c", "echo held"}, stdin: "", out: "held\n"},
		{name: "lock-command-fails", args: []string{"lock", "$R", "--", "sh", "-c", "exit 3"}, err: "sh: exit status 3\n", code: 1},
		{name: "lock-script", stdin: "lock $R -- echo one\nlock $R -- echo two\nls $R\n", out: "one\ntwo\n[]\n"},
		{name: "lock-usage", args: []string{"lock"}, err: "lock path [-- command [args...]]\n", code: 1},
		{name: "lock-bad-path", args: []string{"lock", "relative", "--", "true"}, err: "bad arguments: \"relative/lock-\" is not the path of a node\n", code: 1},
		// leader (the election itself: leader_test.go)
		{name: "leader-usage", args: []string{"leader", "$R"}, err: "leader path id\n", code: 1},
		{name: "leader-bad-path", args: []string{"leader", "relative", "id"}, err: "bad arguments: \"relative/latch-\" is not the path of a node\n", code: 1},

		// services (a registry written by recipe/discovery: services_test.go)
		{name: "services", setup: "create $R\ncreate $R/db\ncreate $R/api\ncreate $R/api/bad {\n" +
			`create $R/api/a1 '{"name" : "api", "id" : "a1", "port" : 8080, "payload" : {"@class" : "x.Y", "w" : [ 1 ]}, "serviceType" : "STATIC"}'`,
			args: []string{"services", "$R"},
			out: "api:\n  a1:\n    {\n      \"name\": \"api\",\n      \"id\": \"a1\",\n      \"port\": 8080,\n" +
				"      \"payload\": {\n        \"@class\": \"x.Y\",\n        \"w\": [\n          1\n        ]\n      },\n" +
				"      \"serviceType\": \"STATIC\"\n    }\n" +
				"  bad: not an instance Curator can read (discovery: invalid service instance: unexpected end of JSON input)\n    {\n" +
				"db:\n"},
		{name: "services-missing", args: []string{"services", "$R"}},
		{name: "services-binary", setup: "create $R\ncreate $R/s\ncreate -x $R/s/i 00ff", args: []string{"services", "$R"},
			out: "s:\n  i: not an instance Curator can read (discovery: invalid service instance: invalid character '\\x00' looking for beginning of value)\n    \"\\x00\\xff\"\n"},
		{name: "services-usage", args: []string{"services"}, err: "services basePath\n", code: 1},

		// ls, ls2, stat, exists, wexists, sync
		{name: "ls", setup: "create $R\ncreate $R/b\ncreate $R/a", args: []string{"ls", "$R"}, out: "[a, b]\n"},
		{name: "ls-empty", setup: "create $R", args: []string{"ls", "$R"}, out: "[]\n"},
		{name: "ls-s", setup: "create $R\ncreate $R/a", args: []string{"ls", "-s", "$R"}, out: "[a]\n" + statLines(1, 0, 0, false, 0, 1)},
		{name: "ls-R", setup: "create $R\ncreate $R/b\ncreate $R/a\ncreate $R/a/y\ncreate $R/a/x\ncreate $R/b/z", args: []string{"ls", "-R", "$R"},
			out: "$R\n$R/a\n$R/b\n$R/a/x\n$R/a/y\n$R/b/z\n"},
		{name: "ls-trailing-slash", setup: "create $R\ncreate $R/a", args: []string{"ls", "$R/"}, out: "[a]\n"},
		{name: "ls-missing", args: []string{"ls", "$R"}, err: "Node does not exist: $R\n", code: 1},
		{name: "ls2", setup: "create $R\ncreate $R/a", args: []string{"ls2", "$R"}, out: "[a]\n" + statLines(1, 0, 0, false, 0, 1)},
		{name: "stat", setup: "create $R", args: []string{"stat", "$R"}, out: stat0},
		{name: "stat-missing", args: []string{"stat", "$R"}, err: "Node does not exist: $R\n", code: 1},
		{name: "stat-w", setup: "create $R", stdin: "stat -w $R\nset $R x\nsync $R\n", out: stat0 + "Sync is OK\n", events: []string{"NodeDataChanged $R"}},
		{name: "exists", setup: "create $R", args: []string{"exists", "$R"}, out: stat0},
		{name: "exists-watch", stdin: "exists $R\ncreate $R\nsync $R\n", out: "Created $R\nSync is OK\n", events: []string{"NodeCreated $R"}, err: "Node does not exist: $R\n", code: 1},
		{name: "wexists", setup: "create $R", stdin: "wexists $R\ndelete $R\nsync /\n", out: stat0 + "Sync is OK\n", events: []string{"NodeDeleted $R"}},
		{name: "sync", setup: "create $R", args: []string{"sync", "$R"}, out: "Sync is OK\n"},

		// ACLs and auth
		{name: "getAcl", setup: "create $R", args: []string{"getAcl", "$R"}, out: "'world,'anyone\n: cdrwa\n"},
		{name: "getAcl-s", setup: "create $R", args: []string{"getAcl", "-s", "$R"}, out: "'world,'anyone\n: cdrwa\n" + stat0},
		{name: "getAcl-missing", args: []string{"getAcl", "$R"}, err: "Node does not exist: $R\n", code: 1},
		{name: "setAcl", setup: "create $R", stdin: "setAcl $R world:anyone:r,ip:127.0.0.1:cdrwa\ngetAcl $R\n", out: "'world,'anyone\n: r\n'ip,'127.0.0.1\n: cdrwa\n"},
		{name: "setAcl-s", setup: "create $R", args: []string{"setAcl", "-s", "$R", "world:anyone:cdrwa"}, out: statLines(0, 0, 1, false, 0, 0)},
		{name: "setAcl-version", setup: "create $R", args: []string{"setAcl", "-v", "4", "$R", "world:anyone:r"}, err: "version No is not valid : $R\n", code: 1},
		{name: "setAcl-R", setup: "create $R\ncreate $R/a\ncreate $R/a/b", stdin: "setAcl -R $R world:anyone:rw\ngetAcl $R/a/b\n", out: "'world,'anyone\n: rw\n"},
		{name: "setAcl-noauth", setup: "create $R\nsetAcl $R world:anyone:r", args: []string{"set", "$R", "x"}, err: "Insufficient permission : $R\n", code: 1},
		{name: "addauth", stdin: "addauth digest u:p\ncreate $R x auth::cdrwa\ngetAcl $R\n", out: "Created $R\n'digest,'" + digest("u:p") + "\n: cdrwa\n"},

		// config, reconfig, watches
		{name: "config", args: []string{"config"}, out: "\n"},
		{name: "config-c", args: []string{"config", "-c"}, out: " \n"},
		{name: "config-s", args: []string{"config", "-s"}, out: "\n" + statLines(0, 0, -1, false, 0, 0)},
		{name: "reconfig", args: []string{"reconfig", "-add", "server.9=127.0.0.1:1:2;3"}, err: "KeeperErrorCode = Reconfig is disabled\n", code: 1},
		{name: "reconfig-usage", args: []string{"reconfig", "-v", "1"}, err: lookup("reconfig").usageLine() + "\n", code: 1},
		{name: "reconfig-mixed", args: []string{"reconfig", "-add", "a", "-members", "b"}, err: "Can't use -file or -members together with -add or -remove (mixing incremental and non-incremental modes is not allowed)\n", code: 1},
		{name: "removewatches", setup: "create $R x", stdin: "get -w $R\nremovewatches $R\n", out: "x\n", events: []string{"DataWatchRemoved $R"}},
		{name: "removewatches-c", setup: "create $R x", stdin: "ls -w $R\nremovewatches $R -c\n", out: "[]\n", events: []string{"ChildWatchRemoved $R"}},
		{name: "removewatches-none", setup: "create $R x", args: []string{"removewatches", "$R"}, err: "KeeperErrorCode = No such watcher for $R\n", code: 1},
		{name: "printwatches", setup: "create $R x", stdin: "printwatches off\nget -w $R\nset $R y\nsync $R\nprintwatches\n", out: "x\nSync is OK\nprintwatches is off\n"},

		// session and shell commands
		{name: "myid", args: []string{"myid"}, out: "session Id = <session>\n"},
		{name: "close", stdin: "close\nls /\n", err: "Not connected\n", code: 1},
		{name: "connect", stdin: "close\nconnect $S\nls $R\n", err: "Node does not exist: $R\n", code: 1},
		{name: "reinit", setup: "create $R", stdin: "create -e $R/e\nreinit\nls $R\n", out: "Created $R/e\n[]\n"},
		{name: "history-redo", stdin: "create $R a\nget $R\nredo 1\nhistory\nredo 9\nredo 4\n",
			out: "Created $R\na\na\n0 - create $R a\n1 - get $R\n2 - get $R\n3 - history\n", err: "Command index out of range\nNo redoing redos\n", code: 1},
		{name: "verbose", args: []string{"verbose"}, out: "logging level set to DEBUG\n", anyStderr: true},
		{name: "version", args: []string{"version"}, out: "ZooKeeper CLI version: zkloop zkcli " + version() + "\n"},
		{name: "help-cmd", args: []string{"help", "ls"}, out: "ls [-s] [-w] [-R] path\n\tlist a node's children (-R: the whole subtree) (both)\n"},
		{name: "help-quota", args: []string{"help", "listquota"}, out: "listquota path\n\tprint a quota and the usage it limits (zkCli.sh)\n"},
		{name: "quit", setup: "create $R", stdin: "ls $R\nquit\nls /nonexistent\n", out: "[]\n"},
		{name: "exit", args: []string{"exit"}},
		{name: "unknown", args: []string{"frobnicate", "/"}, err: "Command not found: frobnicate\n", code: 1},

		// persistent watches, getEphemerals, getAllChildrenNumber, whoami
		{name: "addWatch", setup: "create $R", stdin: "addWatch $R\ncreate $R/a\nset $R/a x\ndelete $R/a\nset $R y\nsync $R\n", out: "Created $R/a\nSync is OK\n",
			events: []string{"NodeCreated $R/a", "NodeDataChanged $R/a", "NodeDeleted $R/a", "NodeDataChanged $R"}},
		{name: "addWatch-persistent", setup: "create $R", stdin: "addWatch -m persistent $R\ncreate $R/a\ncreate $R/a/b\nset $R x\nset $R y\nsync $R\n",
			out: "Created $R/a\nCreated $R/a/b\nSync is OK\n", events: []string{"NodeChildrenChanged $R", "NodeDataChanged $R", "NodeDataChanged $R"}},
		{name: "addWatch-missing-node", stdin: "addWatch -m PERSISTENT $R\ncreate $R\nsync $R\n", out: "Created $R\nSync is OK\n", events: []string{"NodeCreated $R"}},
		{name: "addWatch-bad-mode", args: []string{"addWatch", "-m", "STANDARD", "$R"}, err: "Unknown mode: STANDARD; usage: " + lookup("addWatch").usageLine() + "\n", code: 1},
		{name: "addWatch-usage", args: []string{"addWatch"}, err: lookup("addWatch").usageLine() + "\n", code: 1},
		{name: "removewatches-p", setup: "create $R", stdin: "addWatch -m PERSISTENT $R\nremovewatches $R -p\nset $R x\nsync $R\n", out: "Sync is OK\n", events: []string{"PersistentWatchRemoved $R"}},
		{name: "removewatches-r", setup: "create $R", stdin: "addWatch $R\nremovewatches $R -r\ncreate $R/a\nsync $R\n", out: "Created $R/a\nSync is OK\n", events: []string{"PersistentWatchRemoved $R"}},
		{name: "removewatches-r-none", setup: "create $R", stdin: "addWatch -m PERSISTENT $R\nremovewatches $R -r\n", err: "KeeperErrorCode = No such watcher for $R\n", code: 1},
		{name: "getEphemerals", args: []string{"getEphemerals"}, out: "[]\n"},
		{name: "getEphemerals-prefix", setup: "create $R", stdin: "create -e $R/b\ncreate -e $R/a\ncreate -e $Rx\ncreate $R/p\ngetEphemerals $R/\ngetEphemerals $R\ngetEphemerals\ngetEphemerals /none\n",
			out: "Created $R/b\nCreated $R/a\nCreated $Rx\nCreated $R/p\n[$R/a, $R/b]\n[$R/a, $R/b, $Rx]\n[$R/a, $R/b, $Rx]\n[]\n"},
		{name: "getEphemerals-chroot", setup: "create $R", stdin: "connect $S$R\ncreate -e /e\ncreate /p\ncreate -e /p/q\ngetEphemerals\ngetEphemerals /p/\ngetAllChildrenNumber /\n",
			out: "Created /e\nCreated /p\nCreated /p/q\n[/e, /p/q]\n[/p/q]\n3\n"},
		{name: "getEphemerals-other-session", setup: "create $R\ncreate -e $R/e", args: []string{"getEphemerals", "$R"}, out: "[]\n"},
		{name: "getEphemerals-bad-path", args: []string{"getEphemerals", "relative"}, err: "bad arguments: invalid path \"relative\": not absolute\n", code: 1},
		{name: "getAllChildrenNumber", setup: "create $R\ncreate $R/a\ncreate $R/a/b\ncreate $R/a/b/c\ncreate $R/d", args: []string{"getAllChildrenNumber", "$R"}, out: "4\n"},
		{name: "getAllChildrenNumber-leaf", setup: "create $R", args: []string{"getAllChildrenNumber", "$R/"}, out: "0\n"},
		{name: "getAllChildrenNumber-missing", args: []string{"getAllChildrenNumber", "$R"}, err: "Node does not exist: $R\n", code: 1},
		{name: "getAllChildrenNumber-usage", args: []string{"getAllChildrenNumber"}, err: "getAllChildrenNumber path\n", code: 1},
		{name: "whoami", args: []string{"whoami"}, out: "Auth scheme: User\nip: 127.0.0.1\n"},
		{name: "whoami-digest", stdin: "addauth digest u:p\nwhoami\n", out: "Auth scheme: User\nip: 127.0.0.1\ndigest: u\n"},
		{name: "whoami-usage", args: []string{"whoami", "x"}, err: "whoami\n", code: 1},

		// quotas; the server enforces hard limits
		{name: "setquota", setup: "create $R", stdin: "setquota -n 5 $R\nlistquota $R\nget /zookeeper/quota$R/zookeeper_limits\nget /zookeeper/quota$R/zookeeper_stats\n",
			out: "Output quota for $R count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=-1\nOutput stat for $R count=1,bytes=0\n" +
				"count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=-1\ncount=1,bytes=0\n",
			err: "absolute path is /zookeeper/quota$R/zookeeper_limits\n"},
		{name: "setquota-update", setup: "create $R\nsetquota -n 5 $R", stdin: "setquota -b 100 $R\nsetquota -B 200 $R\nlistquota $R\n",
			out: "Output quota for $R count=5,bytes=100=;byteHardLimit=200;countHardLimit=-1\nOutput stat for $R count=1,bytes=0\n",
			err: "absolute path is /zookeeper/quota$R/zookeeper_limits\n"},
		{name: "setquota-hard-count", setup: "create $R\nsetquota -N 2 $R\ncreate $R/a", stdin: "create $R/b\ncreate $R/a/b\nlistquota $R\n",
			out: "Output quota for $R count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=2\nOutput stat for $R count=2,bytes=0\n",
			err: "Quota has exceeded : $R/b\nQuota has exceeded : $R/a/b\nabsolute path is /zookeeper/quota$R/zookeeper_limits\n", code: 1},
		{name: "setquota-hard-bytes", setup: "create $R\nsetquota -B 3 $R", stdin: "set $R abc\nset $R abcd\nget $R\n", out: "abc\n", err: "Quota has exceeded : $R\n", code: 1},
		{name: "setquota-soft", setup: "create $R\nsetquota -n 1 $R", args: []string{"create", "$R/a"}, out: "Created $R/a\n"},
		{name: "setquota-warn-count", setup: "create $R\ncreate $R/a\ncreate $R/b", args: []string{"setquota", "-N", "2", "$R"},
			out: "[Warning]: the count quota you create is less than the existing count:3\n"},
		{name: "setquota-warn-bytes", setup: "create $R abcd\nsetquota -n 1 $R", args: []string{"setquota", "-b", "2", "$R"},
			out: "[Warning]: the bytes quota you create is less than the existing bytes:4\n"},
		{name: "setquota-missing", args: []string{"setquota", "-n", "1", "$R"}, err: "$R does not exist.\n", code: 1},
		{name: "setquota-parent", setup: "create $R\ncreate $R/a\nsetquota -n 5 $R", args: []string{"setquota", "-n", "1", "$R/a"}, err: "$R/a has a parent $R which has a quota\n", code: 1},
		{name: "setquota-child", setup: "create $R\ncreate $R/a\ncreate $R/a/b\ncreate $R/c\nsetquota -n 5 $R/a/b\nsetquota -n 5 $R/c", args: []string{"setquota", "-n", "1", "$R"},
			err: "$R has a child $R/c which has a quota\n", code: 1},
		{name: "setquota-quota-root", args: []string{"setquota", "-n", "1", "/zookeeper/quota$R"}, err: "cannot set a quota under the path: /zookeeper/quota\n", code: 1},
		{name: "setquota-root", args: []string{"setquota", "-n", "1", "/"}, err: "bad arguments: invalid path \"/zookeeper/quota/\": trailing slash\n", code: 1},
		{name: "setquota-zero", setup: "create $R", args: []string{"setquota", "-n", "0", "$R"}, err: "the num quota must be greater than zero\n", code: 1},
		{name: "setquota-negative-bytes", setup: "create $R", args: []string{"setquota", "-B", "-1", "$R"}, err: "the bytes quota must be greater than or equal to zero\n", code: 1},
		{name: "setquota-not-a-number", setup: "create $R", args: []string{"setquota", "-n", "abc", "$R"}, err: "NumberFormatException happens when parsing the option value\n", code: 1},
		{name: "setquota-int-overflow", setup: "create $R", args: []string{"setquota", "-N", "3000000000", "$R"}, err: "NumberFormatException happens when parsing the option value\n", code: 1},
		{name: "setquota-no-option", setup: "create $R", args: []string{"setquota", "$R"},
			err: "Missing required option: [-n num soft quota, -b bytes soft quota, -N num hard quota, -B bytes hard quota]\n", code: 1},
		{name: "setquota-two-options", setup: "create $R", args: []string{"setquota", "-n", "1", "-b", "2", "$R"}, err: "-n and -b cannot be combined: give one of -n, -b, -N, -B\n", code: 1},
		{name: "setquota-usage", args: []string{"setquota", "-n", "1"}, err: "setquota -n|-b|-N|-B val path\n", code: 1},
		{name: "listquota-none", setup: "create $R", args: []string{"listquota", "$R"},
			err: "absolute path is /zookeeper/quota$R/zookeeper_limits\nquota for $R does not exist.\n", code: 1},
		{name: "delquota-limit", setup: "create $R\nsetquota -n 5 $R\nsetquota -N 1 $R", stdin: "delquota -N $R\ncreate $R/a\nlistquota $R\n",
			out: "Created $R/a\nOutput quota for $R count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=-1\nOutput stat for $R count=2,bytes=0\n",
			err: "absolute path is /zookeeper/quota$R/zookeeper_limits\n"},
		{name: "delquota", setup: "create $R\ncreate $R/a\nsetquota -n 5 $R/a", stdin: "delquota $R/a\nsetquota -n 5 $R\nls /zookeeper/quota$R\n",
			out: "[zookeeper_limits, zookeeper_stats]\n"},
		{name: "delquota-none", args: []string{"delquota", "$R"}, out: "Quota does not exist for $R\n"},
		{name: "delquota-two-options", args: []string{"delquota", "-N", "-B", "$R"}, err: "-N and -B cannot be combined: give one of -n, -b, -N, -B\n", code: 1},
	}
}

// batchResult is a run's output with the watch events taken out: they are
// printed when they arrive, between or after the commands' output.
type batchResult struct {
	Stdout, Stderr string
	Events         []string
	Code           int
}

var eventPattern = regexp.MustCompile(`\nWATCHER::\n\n(WatchedEvent [^\n]*)\n`)

// splitEvents takes zkCli.sh's watch event blocks out of out.
func splitEvents(out string) (string, []string) {
	var events []string
	for _, m := range eventPattern.FindAllStringSubmatch(out, -1) {
		events = append(events, m[1])
	}
	return eventPattern.ReplaceAllString(out, ""), events
}

func testBatch(t *testing.T, srv *zktest.Server) {
	for _, tc := range batchCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			expand := strings.NewReplacer("$R", "/batch-"+tc.name, "$S", srv.Addr()).Replace
			if tc.setup != "" {
				if r := zkcli(t, expand(tc.setup), "-server", srv.Addr()); r.code != 0 || r.stderr != "" {
					t.Fatalf("setup: exit %d, stderr %q", r.code, r.stderr)
				}
			}
			args := []string{"-server", srv.Addr()}
			for _, a := range tc.args {
				args = append(args, expand(a))
			}
			r := zkcli(t, expand(tc.stdin), args...)
			got := batchResult{Stderr: r.stderr, Code: r.code}
			got.Stdout, got.Events = splitEvents(normalize(r.stdout))
			want := batchResult{Stdout: expand(tc.out), Stderr: expand(tc.err), Code: tc.code}
			for _, ev := range tc.events {
				typ, path, _ := strings.Cut(expand(ev), " ")
				want.Events = append(want.Events, "WatchedEvent state:SyncConnected type:"+typ+" path:"+path)
			}
			if tc.anyStderr {
				got.Stderr = want.Stderr
			}
			if diff := cmp.Diff(want, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
				t.Errorf("zkcli %q <<< %q (-want +got):\n%s", args, expand(tc.stdin), diff)
			}
		})
	}
}

// testScript runs a script with comments, blank lines and failures on
// stdin: every command runs, errors go to stderr, the status says that one
// failed.
func testScript(t *testing.T, srv *zktest.Server) {
	const script = `# a zkcli script
create /script "two words"

get /script
  # indented comment
get /script/missing
set /script 'it is "quoted"'
get /script
create /script
deleteall /script
`
	want := result{
		stdout: "Created /script\ntwo words\nit is \"quoted\"\n",
		stderr: "Node does not exist: /script/missing\nNode already exists: /script\n",
		code:   1,
	}
	for _, run := range []struct {
		name string
		do   func() result
	}{
		{"in-process", func() result { return zkcli(t, script, "-server", srv.Addr()) }},
		{"process", func() result { return spawn(t, script, nil, "-server", srv.Addr()) }},
	} {
		if diff := cmp.Diff(want, run.do(), cmp.AllowUnexported(result{})); diff != "" {
			t.Errorf("%s (-want +got):\n%s", run.name, diff)
		}
	}
}

// testInvocation checks the command-line forms: -c, cli_mt's spellings,
// ZOOKEEPER_SERVERS, unreachable servers and invalid options.
func testInvocation(t *testing.T, srv *zktest.Server) {
	addr := srv.Addr()
	tests := []struct {
		name string
		env  []string
		args []string
		want result
	}{
		{"c", nil, []string{"-server", addr, "-c", "create /inv-c 'a b'", "-c", "get /inv-c"}, result{"Created /inv-c\na b\n", "", 0}},
		{"cli_mt", nil, []string{"--host", addr, "--cmd", "ls /zookeeper", "-r", "-d"}, result{"[config, quota]\n", "", 0}},
		{"cli_mt-short", nil, []string{"-h" + addr, "-c", "ls /zookeeper"}, result{"[config, quota]\n", "", 0}},
		{"env", []string{"ZOOKEEPER_SERVERS=" + addr}, []string{"ls", "/zookeeper"}, result{"[config, quota]\n", "", 0}},
		{"wait", nil, []string{"-server", addr, "-waitforconnection", "-timeout", "5s", "ls", "/zookeeper"}, result{"[config, quota]\n", "", 0}},
		{"unreachable", nil, []string{"-server", "127.0.0.1:1", "-timeout", "500", "ls", "/"}, result{"", noSession + "127.0.0.1:1 within 500ms: KeeperErrorCode = ConnectionLoss\n", 1}},
		{"unreachable-wait", nil, []string{"-server", "127.0.0.1:1/app", "-timeout", "1s", "-waitforconnection", "ls", "/"}, result{"", noSession + "127.0.0.1:1 within 1s: KeeperErrorCode = ConnectionLoss\n", 1}},
		{"help", nil, []string{"-help"}, result{usageText(), "", 0}},
		{"bad-option", nil, []string{"-frob"}, result{"", "Unknown option: -frob\n" + usageText(), 2}},
		{"bad-timeout", nil, []string{"-timeout", "soon"}, result{"", "-timeout \"soon\": want milliseconds or a duration such as 30s\n" + usageText(), 2}},
		{"missing-value", nil, []string{"-server"}, result{"", "Error: no argument found for option -server\n" + usageText(), 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := spawn(t, "", tt.env, tt.args...)
			if tt.name == "cli_mt" {
				// -d logs at debug level on stderr.
				got.stderr = regexp.MustCompile(`(?m)^time=.*\n`).ReplaceAllString(got.stderr, "")
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(result{})); diff != "" {
				t.Errorf("zkcli %q (-want +got):\n%s", tt.args, diff)
			}
		})
	}
}

func usageText() string {
	var b strings.Builder
	writeUsage(&b)
	return b.String()
}

// testClientID resumes a session with -clientid: an ephemeral node
// outlives the zkcli that created it, the next one owns it, and a closed
// session is replaced by a new one.
func testClientID(t *testing.T, srv *zktest.Server) {
	file := filepath.Join(t.TempDir(), "myid")
	addr := srv.Addr()
	r := spawn(t, "", nil, "-server", addr, "-clientid", file, "create", "-e", "/resumed", "x")
	if r.code != 0 || r.stdout != "Created /resumed\n" {
		t.Fatalf("create: %+v", r)
	}
	id, err := readClientID(file)
	if err != nil || id.SessionID == 0 {
		t.Fatalf("the session was not saved: %v, %+v", err, id)
	}
	r = spawn(t, "stat /resumed\nmyid\n", nil, "-server", addr, "-clientid", file)
	owner := fmt.Sprintf("ephemeralOwner = %s\n", javaHex(id.SessionID))
	if r.code != 0 || !strings.Contains(r.stdout, owner) || !strings.Contains(r.stdout, fmt.Sprintf("session Id = %x\n", id.SessionID)) {
		t.Fatalf("resumed session: want %q and the same session id, got %+v", owner, r)
	}
	// close ends the session: its ephemeral node goes, and the next zkcli
	// starts a new session.
	if r = spawn(t, "", nil, "-server", addr, "-clientid", file, "close"); r.code != 0 {
		t.Fatalf("close: %+v", r)
	}
	r = spawn(t, "", nil, "-server", addr, "-clientid", file, "stat", "/resumed")
	want := result{"", fmt.Sprintf("Session %s has expired; starting a new session\nNode does not exist: /resumed\n", javaHex(id.SessionID)), 1}
	if diff := cmp.Diff(want, r, cmp.AllowUnexported(result{})); diff != "" {
		t.Errorf("after close (-want +got):\n%s", diff)
	}
	if next, err := readClientID(file); err != nil || next.SessionID == id.SessionID || next.SessionID == 0 {
		t.Errorf("the new session was not saved: %v, %#x after %#x", err, next.SessionID, id.SessionID)
	}
}
