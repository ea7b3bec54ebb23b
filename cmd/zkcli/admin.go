package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/zkloop/zkloop/zhandle"
)

// The ACL, auth, configuration and watch commands.

func cmdGetACL(ctx context.Context, s *shell, h *zhandle.Handle, o opts) error {
	path := nodePath(o.args[1])
	acl, stat, err := h.GetACL(ctx, path)
	if err != nil {
		return fail(err, path)
	}
	writeACL(s.out, acl)
	if o.has("s") {
		writeStat(s.out, &stat, s.loc)
	}
	return nil
}

// cmdSetACL sets an ACL on a node or, with -R, on every node of a subtree
// (reporting each failure and going on, as zkCli.sh does). SetACL does not
// return the Stat as Java's setACL does, so -s reads it afterwards.
func cmdSetACL(ctx context.Context, s *shell, h *zhandle.Handle, o opts) error {
	path := nodePath(o.args[1])
	acl, err := parseACL(o.args[2])
	if err != nil {
		return err
	}
	version, err := intValue(o, "v", -1)
	if err != nil {
		return err
	}
	if o.has("R") {
		failed := false
		err := walk(ctx, h, path, false, func(p string) error {
			if err := h.SetACL(ctx, p, version, acl); err != nil {
				if errors.Is(err, context.Canceled) {
					return err
				}
				s.report(fail(err, p))
				failed = true
			}
			return nil
		})
		if err == nil && failed {
			err = fmt.Errorf("setAcl -R: some nodes under %s kept their ACL", path)
		}
		return err
	}
	if err := h.SetACL(ctx, path, version, acl); err != nil {
		return fail(err, path)
	}
	if o.has("s") {
		stat, err := h.Exists(ctx, path, false)
		if err != nil {
			return fail(err, path)
		}
		writeStat(s.out, &stat, s.loc)
	}
	return nil
}

func cmdAddAuth(ctx context.Context, _ *shell, h *zhandle.Handle, o opts) error {
	var cert []byte
	if len(o.args) > 2 {
		cert = []byte(o.args[2])
	}
	if err := h.AddAuth(ctx, o.args[1], cert); err != nil {
		return fail(err, "")
	}
	return nil
}

// cmdWhoAmI prints the identities the server knows the session by, as
// zkCli.sh does: a heading, then "scheme: user" a line ("ip: 127.0.0.1").
func cmdWhoAmI(ctx context.Context, s *shell, h *zhandle.Handle, _ opts) error {
	ids, err := h.WhoAmI(ctx)
	if err != nil {
		return fail(err, "")
	}
	fmt.Fprintln(s.out, "Auth scheme: User")
	for _, id := range ids {
		fmt.Fprintf(s.out, "%s: %s\n", id.AuthScheme, id.User)
	}
	return nil
}

func cmdConfig(ctx context.Context, s *shell, h *zhandle.Handle, o opts) error {
	data, stat, err := h.GetConfig(ctx, o.has("w"))
	if err != nil {
		return fail(err, "/zookeeper/config")
	}
	text := "null"
	if data != nil {
		text = string(data)
	}
	if o.has("c") {
		text = clientConfig(text)
	}
	fmt.Fprintln(s.out, text)
	if o.has("s") {
		writeStat(s.out, &stat, s.loc)
	}
	return nil
}

// clientConfig is ConfigUtils.getClientConfigStr: the config version, a
// space, and the client addresses of the servers, by server id.
func clientConfig(config string) string {
	type server struct {
		id   int
		addr string
	}
	var version string
	var servers []server
	for _, line := range strings.Split(config, "\n") {
		key, value, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok {
			continue
		}
		if key == "version" {
			version = value
		}
		idText, isServer := strings.CutPrefix(key, "server.")
		if !isServer {
			continue
		}
		id, _ := strconv.Atoi(idText) // a malformed id sorts first
		_, client, hasClient := strings.Cut(value, ";")
		if !hasClient {
			continue
		}
		if !strings.Contains(client, ":") {
			client = "0.0.0.0:" + client
		}
		servers = append(servers, server{id, client})
	}
	sort.Slice(servers, func(i, j int) bool { return servers[i].id < servers[j].id })
	addrs := make([]string, len(servers))
	for i, sv := range servers {
		addrs[i] = sv.addr
	}
	return version + " " + strings.Join(addrs, ",")
}

// cmdReconfig is zkCli.sh's reconfig (cli_mt's spelling -version is
// accepted too): incremental with -add/-remove, or wholesale with
// -members or -file.
func cmdReconfig(ctx context.Context, s *shell, h *zhandle.Handle, o opts) error {
	incremental := o.has("add") || o.has("remove")
	wholesale := o.has("members") || o.has("file")
	switch {
	case !incremental && !wholesale:
		return errors.New(lookup("reconfig").usageLine())
	case incremental && wholesale:
		return errors.New("Can't use -file or -members together with -add or -remove (mixing incremental and non-incremental modes is not allowed)")
	case o.has("members") && o.has("file"):
		return errors.New("Can't use -file and -members together (conflicting non-incremental modes)")
	}
	from := int64(-1)
	for _, name := range []string{"v", "version"} {
		if o.has(name) {
			v, err := strconv.ParseInt(o.value(name), 16, 64)
			if err != nil {
				return errors.New("-v must be followed by a long (configuration version)")
			}
			from = v
		}
	}
	joining, leaving, members := strings.ToLower(o.value("add")), strings.ToLower(o.value("remove")), strings.ToLower(o.value("members"))
	if o.has("file") {
		m, err := membersFromFile(o.value("file"))
		if err != nil {
			return err
		}
		members = m
	}
	if wholesale && members == "" {
		// An empty string goes out as null, which would make the reconfig
		// incremental, changing nothing. zkCli.sh sends an empty string,
		// which the server refuses (MarshallingError).
		return errors.New("A new membership needs at least one server (-members or -file)")
	}
	config, stat, err := h.Reconfig(ctx, joining, leaving, members, from)
	if err != nil {
		return fail(err, "")
	}
	fmt.Fprintf(s.out, "Committed new configuration:\n%s\n", config)
	if o.has("s") {
		writeStat(s.out, &stat, s.loc)
	}
	return nil
}

// membersFromFile reads the server lines of a dynamic configuration file.
func membersFromFile(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", fmt.Errorf("Error processing %s: %v", name, err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); strings.HasPrefix(line, "server.") {
			lines = append(lines, line)
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("Error processing %s: %v", name, err)
	}
	return strings.Join(lines, "\n"), nil
}

func cmdRemoveWatches(ctx context.Context, _ *shell, h *zhandle.Handle, o opts) error {
	path := nodePath(o.args[1])
	wt := zhandle.WatcherAny
	switch {
	case o.has("c"):
		wt = zhandle.WatcherChildren
	case o.has("d"):
		wt = zhandle.WatcherData
	case o.has("p"):
		wt = zhandle.WatcherPersistent
	case o.has("r"):
		wt = zhandle.WatcherPersistentRecursive
	}
	if err := h.RemoveAllWatches(ctx, path, wt, o.has("l")); err != nil {
		return fail(err, path)
	}
	return nil
}

// cmdAddWatch sets a persistent watch for the default watcher, so that its
// events print as those of get -w do. The mode is zkCli.sh's, in any case.
func cmdAddWatch(ctx context.Context, _ *shell, h *zhandle.Handle, o opts) error {
	path := nodePath(o.args[1])
	mode := zhandle.AddWatchPersistentRecursive
	if o.has("m") {
		switch strings.ToUpper(o.value("m")) {
		case "PERSISTENT":
			mode = zhandle.AddWatchPersistent
		case "PERSISTENT_RECURSIVE":
		default:
			return fmt.Errorf("Unknown mode: %s; usage: %s", o.value("m"), lookup("addWatch").usageLine())
		}
	}
	if err := h.AddWatch(ctx, path, mode, nil); err != nil {
		return fail(err, path)
	}
	return nil
}
