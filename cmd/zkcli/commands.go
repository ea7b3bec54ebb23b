package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"slices"
	"strconv"

	"github.com/zkloop/zkloop/zhandle"
)

// command is one shell command: zkCli.sh's name, options and usage, or
// cli_mt's.
type command struct {
	name    string
	usage   string  // after the name, as zkCli.sh's usage prints it
	about   string  // one line for help
	from    string  // "zkCli.sh", "cli_mt", "both" or "zkcli"
	spec    optSpec // options
	minArgs int     // positional arguments after the name
	maxArgs int     // -1: any number
	local   bool    // runs without a session
	run     func(ctx context.Context, s *shell, h *zhandle.Handle, o opts) error
}

func (c *command) usageLine() string {
	if c.usage == "" {
		return c.name
	}
	return c.name + " " + c.usage
}

// commands is filled in init, since help refers to it.
var commands []*command

func init() {
	commands = []*command{
		{
			name:    "addauth",
			usage:   "scheme auth",
			about:   "add an identity to the session, e.g. addauth digest user:password",
			from:    "both",
			minArgs: 1,
			maxArgs: 2,
			run:     cmdAddAuth,
		},
		{
			name:    "addWatch",
			usage:   "[-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE",
			about:   "set a watch that stays after it fires (PERSISTENT_RECURSIVE: on the whole subtree)",
			from:    "zkCli.sh",
			spec:    optSpec{"m:"},
			minArgs: 1,
			maxArgs: 1,
			run:     cmdAddWatch,
		},
		{
			name:    "close",
			about:   "close the session",
			from:    "zkCli.sh",
			local:   true,
			maxArgs: 0,
			run:     cmdClose,
		},
		{
			name:    "config",
			usage:   "[-c] [-w] [-s]",
			about:   "print the ensemble configuration (-c: as a connect string)",
			from:    "both",
			spec:    optSpec{"c", "w", "s"},
			maxArgs: 0,
			run:     cmdConfig,
		},
		{
			name:    "connect",
			usage:   "host:port",
			about:   "close the session and open one on other servers",
			from:    "zkCli.sh",
			local:   true,
			maxArgs: 1,
			run:     cmdConnect,
		},
		{
			name:    "create",
			usage:   "[-s] [-e] [-c] [-t ttl] [-b|-x] path [data] [acl]",
			about:   "create a node (also cli_mt's create [+[e|s|c|t=ttl]] path)",
			from:    "both",
			spec:    createSpec,
			minArgs: 1,
			maxArgs: 3,
			run:     cmdCreate,
		},
		{
			name:    "create2",
			usage:   "[-s] [-e] [-c] [-t ttl] [-b|-x] path [data] [acl]",
			about:   "create a node and print its stat",
			from:    "cli_mt",
			spec:    createSpec,
			minArgs: 1,
			maxArgs: 3,
			run:     cmdCreate,
		},
		{
			name:    "delete",
			usage:   "[-v version] path",
			about:   "delete a node",
			from:    "both",
			spec:    optSpec{"v:"},
			minArgs: 1,
			maxArgs: 1,
			run:     cmdDelete,
		},
		{
			name:    "deleteall",
			usage:   "path [-b batch size]",
			about:   "delete a node and everything under it",
			from:    "zkCli.sh",
			spec:    optSpec{"b:"},
			minArgs: 1,
			maxArgs: 1,
			run:     cmdDeleteAll,
		},
		{
			name:    "delquota",
			usage:   "[-n|-b|-N|-B] path",
			about:   "delete a quota, or one of its limits",
			from:    "zkCli.sh",
			spec:    optSpec{"n", "b", "N", "B"},
			minArgs: 1,
			maxArgs: 1,
			run:     cmdDelQuota,
		},
		{
			name:    "exists",
			usage:   "path",
			about:   "print a node's stat and watch it with the default watcher",
			from:    "cli_mt",
			minArgs: 1,
			maxArgs: 1,
			run:     cmdExists,
		},
		{
			name:    "exit",
			about:   "leave the shell",
			from:    "zkCli.sh",
			local:   true,
			maxArgs: -1,
			run:     cmdQuit,
		},
		{
			name:    "get",
			usage:   "[-s] [-w] [-b] [-x] path",
			about:   "print a node's data (-b base64, -x hex dump)",
			from:    "both",
			spec:    optSpec{"s", "w", "b", "x"},
			minArgs: 1,
			maxArgs: 1,
			run:     cmdGet,
		},
		{
			name:    "getAcl",
			usage:   "[-s] path",
			about:   "print a node's ACL",
			from:    "zkCli.sh",
			spec:    optSpec{"s"},
			minArgs: 1,
			maxArgs: 1,
			run:     cmdGetACL,
		},
		{
			name:    "getAllChildrenNumber",
			usage:   "path",
			about:   "count the nodes under a node",
			from:    "zkCli.sh",
			minArgs: 1,
			maxArgs: 1,
			run:     cmdGetAllChildrenNumber,
		},
		{
			name:    "getEphemerals",
			usage:   "[path]",
			about:   "list the session's ephemeral nodes (under path: those whose path starts with it)",
			from:    "zkCli.sh",
			maxArgs: 1,
			run:     cmdGetEphemerals,
		},
		{
			name:    "help",
			usage:   "[command]",
			about:   "list the commands, or describe one",
			from:    "both",
			local:   true,
			maxArgs: 1,
			run:     cmdHelp,
		},
		{
			name:    "history",
			about:   "list the last commands",
			from:    "zkCli.sh",
			local:   true,
			maxArgs: 0,
			run:     cmdHistory,
		},
		{
			name:    "leader",
			usage:   "path id",
			about:   "join the election at path that Curator's LeaderLatch takes part in, and print its changes until interrupted",
			from:    "zkcli",
			minArgs: 2,
			maxArgs: 2,
			run:     cmdLeader,
		},
		{
			name:    "listquota",
			usage:   "path",
			about:   "print a quota and the usage it limits",
			from:    "zkCli.sh",
			minArgs: 1,
			maxArgs: 1,
			run:     cmdListQuota,
		},
		{
			name:    "lock",
			usage:   "path [-- command [args...]]",
			about:   "hold a lock on path that Curator's InterProcessMutex respects while command runs, or until interrupted",
			from:    "zkcli",
			minArgs: 1,
			maxArgs: -1,
			run:     cmdLock,
		},
		{
			name:    "ls",
			usage:   "[-s] [-w] [-R] path",
			about:   "list a node's children (-R: the whole subtree)",
			from:    "both",
			spec:    optSpec{"s", "w", "R"},
			minArgs: 1,
			maxArgs: 1,
			run:     cmdLs,
		},
		{
			name:    "ls2",
			usage:   "path",
			about:   "list a node's children and print its stat",
			from:    "cli_mt",
			minArgs: 1,
			maxArgs: 1,
			run:     cmdLs2,
		},
		{
			name:    "myid",
			about:   "print the session id",
			from:    "cli_mt",
			maxArgs: 0,
			run:     cmdMyID,
		},
		{
			name:    "printwatches",
			usage:   "on|off",
			about:   "turn the printing of watch events on or off",
			from:    "zkCli.sh",
			local:   true,
			maxArgs: 1,
			run:     cmdPrintWatches,
		},
		{
			name:    "quit",
			about:   "leave the shell",
			from:    "both",
			local:   true,
			maxArgs: -1,
			run:     cmdQuit,
		},
		{
			name:    "reconfig",
			usage:   "[-s] [-v version] [[-file path] | [-members serverID=host:port1:port2;port3[,...]*]] | [-add serverId=host:port1:port2;port3[,...]]* [-remove serverId[,...]*]",
			about:   "change the ensemble membership",
			from:    "both",
			spec:    optSpec{"s", "v:", "version:", "file:", "members:", "add:", "remove:"},
			maxArgs: 0,
			run:     cmdReconfig,
		},
		{
			name:    "redo",
			usage:   "cmdno",
			about:   "run a command of the history again",
			from:    "zkCli.sh",
			local:   true,
			minArgs: 1,
			maxArgs: 1,
			run:     cmdRedo,
		},
		{
			name:    "reinit",
			about:   "close the session and open a new one",
			from:    "cli_mt",
			local:   true,
			maxArgs: 0,
			run:     cmdReinit,
		},
		{
			name:    "removewatches",
			usage:   "path [-c|-d|-a|-p|-r] [-l]",
			about:   "remove the watches on a node (-l: locally)",
			from:    "zkCli.sh",
			spec:    optSpec{"c", "d", "a", "p", "r", "l"},
			minArgs: 1,
			maxArgs: 1,
			run:     cmdRemoveWatches,
		},
		{
			name:    "services",
			usage:   "basePath",
			about:   "list the Curator service registry (curator-x-discovery) under basePath, the instances' JSON pretty-printed",
			from:    "zkcli",
			minArgs: 1,
			maxArgs: 1,
			run:     cmdServices,
		},
		{
			name:    "set",
			usage:   "[-s] [-v version] [-b|-x] path data",
			about:   "set a node's data (-b base64, -x hex)",
			from:    "both",
			spec:    optSpec{"s", "v:", "b", "x"},
			minArgs: 2,
			maxArgs: 2,
			run:     cmdSet,
		},
		{
			name:    "setAcl",
			usage:   "[-s] [-v version] [-R] path acl",
			about:   "set a node's ACL (-R: the whole subtree)",
			from:    "zkCli.sh",
			spec:    optSpec{"s", "v:", "R"},
			minArgs: 2,
			maxArgs: 2,
			run:     cmdSetACL,
		},
		{
			name:    "setquota",
			usage:   "-n|-b|-N|-B val path",
			about:   "set a limit on the nodes (-n, -N hard) or bytes (-b, -B hard) under a node",
			from:    "zkCli.sh",
			spec:    optSpec{"n:", "b:", "N:", "B:"},
			minArgs: 1,
			maxArgs: 1,
			run:     cmdSetQuota,
		},
		{
			name:    "stat",
			usage:   "[-w] path",
			about:   "print a node's stat",
			from:    "zkCli.sh",
			spec:    optSpec{"w"},
			minArgs: 1,
			maxArgs: 1,
			run:     cmdStat,
		},
		{
			name:    "stats",
			about:   "print the session's counters: requests, bytes, reconnects, ping round trip, queues",
			from:    "zkcli",
			maxArgs: 0,
			run:     cmdStats,
		},
		{
			name:    "sync",
			usage:   "path",
			about:   "make the server catch up with the leader",
			from:    "both",
			minArgs: 1,
			maxArgs: 1,
			run:     cmdSync,
		},
		{
			name:    "verbose",
			about:   "toggle debug logging",
			from:    "cli_mt",
			local:   true,
			maxArgs: 0,
			run:     cmdVerbose,
		},
		{
			name:    "version",
			about:   "print the version of zkcli",
			from:    "zkCli.sh",
			local:   true,
			maxArgs: 0,
			run:     cmdVersion,
		},
		{
			name:    "wexists",
			usage:   "path",
			about:   "print a node's stat and watch it with a watcher of its own",
			from:    "cli_mt",
			minArgs: 1,
			maxArgs: 1,
			run:     cmdWExists,
		},
		{
			name:    "whoami",
			about:   "print the session's identities",
			from:    "zkCli.sh",
			maxArgs: 0,
			run:     cmdWhoAmI,
		},
	}
}

// lookup returns the command called name, or nil.
func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func cmdHelp(_ context.Context, s *shell, _ *zhandle.Handle, o opts) error {
	if len(o.args) == 2 {
		c := lookup(o.args[1])
		if c == nil {
			return fmt.Errorf("Command not found: %s", o.args[1])
		}
		fmt.Fprintf(s.out, "%s\n\t%s (%s)\n", c.usageLine(), c.about, c.from)
		return nil
	}
	writeUsage(s.out)
	return nil
}

// writeUsage prints the invocation and every command, as zkCli.sh's usage
// does.
func writeUsage(w io.Writer) {
	fmt.Fprintln(w, "zkcli [-server host:port,...[/chroot]] [-timeout ms|duration] [-r] [-clientid file] [-waitforconnection] [-d] [-trace]\n"+
		"      [-tls] [-tls-ca file] [-tls-cert file -tls-key file] [-tls-server-name name]\n"+
		"      [-sasl-user name [-sasl-password-file file | -sasl-password password]] [-c cmd | cmd args]")
	for _, c := range commands {
		fmt.Fprintln(w, "\t"+c.usageLine())
	}
}

func cmdQuit(context.Context, *shell, *zhandle.Handle, opts) error { return errQuit }

func cmdClose(_ context.Context, s *shell, _ *zhandle.Handle, _ opts) error {
	if s.handle() == nil {
		return nil
	}
	s.closeHandle()
	if s.interactive {
		s.printEvent(zhandle.Event{Type: zhandle.EventSession, State: zhandle.StateClosed})
	}
	return nil
}

func cmdConnect(ctx context.Context, s *shell, _ *zhandle.Handle, o opts) error {
	s.mu.Lock()
	host := s.host
	s.mu.Unlock()
	if len(o.args) == 2 {
		host = o.args[1]
	}
	return s.connect(ctx, host, zhandle.ClientID{})
}

// cmdReinit is cli_mt's reinit: a new session on the same servers.
func cmdReinit(ctx context.Context, s *shell, h *zhandle.Handle, o opts) error {
	return cmdConnect(ctx, s, h, opts{args: o.args[:1]})
}

// cmdMyID prints the session id as cli_mt does.
func cmdMyID(_ context.Context, s *shell, h *zhandle.Handle, _ opts) error {
	fmt.Fprintf(s.out, "session Id = %x\n", uint64(h.ClientID().SessionID))
	return nil
}

func cmdHistory(_ context.Context, s *shell, _ *zhandle.Handle, _ opts) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := max(0, s.count-10); i <= s.count; i++ {
		if line, ok := s.history[i]; ok {
			fmt.Fprintf(s.out, "%d - %s\n", i, line)
		}
	}
	return nil
}

func cmdRedo(ctx context.Context, s *shell, _ *zhandle.Handle, o opts) error {
	n, err := strconv.Atoi(o.args[1])
	s.mu.Lock()
	line, ok := s.history[n]
	current := s.count
	s.mu.Unlock()
	if err != nil || n < 0 || n >= current || !ok {
		return errors.New("Command index out of range")
	}
	words, err := splitLine(line)
	if err != nil {
		return err
	}
	if words[0] == "redo" {
		return errors.New("No redoing redos")
	}
	s.mu.Lock()
	s.history[current] = line
	s.mu.Unlock()
	return s.Run(ctx, words)
}

func cmdPrintWatches(_ context.Context, s *shell, _ *zhandle.Handle, o opts) error {
	if len(o.args) == 1 {
		state := "off"
		if s.printWatches.Load() {
			state = "on"
		}
		fmt.Fprintf(s.out, "printwatches is %s\n", state)
		return nil
	}
	s.printWatches.Store(o.args[1] == "on")
	return nil
}

// cmdVerbose toggles debug logging, as cli_mt's verbose does.
func cmdVerbose(_ context.Context, s *shell, _ *zhandle.Handle, _ opts) error {
	if s.logLevel.Level() == slog.LevelDebug {
		s.logLevel.Set(s.quietLevel())
		fmt.Fprintf(s.out, "logging level set to %v\n", s.quietLevel())
	} else {
		s.logLevel.Set(slog.LevelDebug)
		fmt.Fprintln(s.out, "logging level set to DEBUG")
	}
	return nil
}

func cmdVersion(_ context.Context, s *shell, _ *zhandle.Handle, _ opts) error {
	fmt.Fprintf(s.out, "ZooKeeper CLI version: zkloop zkcli %s\n", version())
	return nil
}

// version is the module version zkcli was built from.
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// commandNames returns the names of the commands, sorted, for completion.
func commandNames() []string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	slices.Sort(names)
	return names
}
