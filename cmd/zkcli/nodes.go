package main

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/zkloop/zkloop/zhandle"
)

// The znode commands: ls, get, set, create, delete, deleteall, stat, sync
// and cli_mt's ls2, create2, exists, wexists.

// fail turns a failed request on path into zkCli.sh's error line.
func fail(err error, path string) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	return errors.New(errorLine(err, path))
}

func cmdLs(ctx context.Context, s *shell, h *zhandle.Handle, o opts) error {
	path, watch := nodePath(o.args[1]), o.has("w")
	if o.has("R") {
		return walk(ctx, h, path, watch, func(p string) error {
			fmt.Fprintln(s.out, p)
			return nil
		})
	}
	children, stat, err := h.GetChildren2(ctx, path, watch)
	if err != nil {
		return fail(err, path)
	}
	slices.Sort(children)
	writeChildren(s.out, children)
	if o.has("s") {
		writeStat(s.out, &stat, s.loc)
	}
	return nil
}

// cmdLs2 is cli_mt's ls2: the children and the node's stat, in zkCli.sh's
// format (ls -s).
func cmdLs2(ctx context.Context, s *shell, h *zhandle.Handle, o opts) error {
	o.set["s"] = ""
	return cmdLs(ctx, s, h, o)
}

// walk visits path and the nodes under it as ZKUtil.visitSubTreeDFS does:
// a node, then its children in order, then each child's subtree. With
// watch it leaves a data watch on path and a child watch on every node.
// Nodes deleted during the walk are skipped.
func walk(ctx context.Context, h *zhandle.Handle, path string, watch bool, visit func(string) error) error {
	var err error
	if watch {
		_, _, err = h.Get(ctx, path, true)
	} else {
		_, err = h.Exists(ctx, path, false)
	}
	if err != nil {
		return fail(err, path)
	}
	if err := visit(path); err != nil {
		return err
	}
	return walkChildren(ctx, h, path, watch, visit)
}

func walkChildren(ctx context.Context, h *zhandle.Handle, path string, watch bool, visit func(string) error) error {
	children, err := h.GetChildren(ctx, path, watch)
	switch {
	case errors.Is(err, zhandle.ErrNoNode):
		return nil
	case err != nil:
		return fail(err, path)
	}
	slices.Sort(children)
	for i, c := range children {
		children[i] = childPath(path, c)
		if err := visit(children[i]); err != nil {
			return err
		}
	}
	for _, c := range children {
		if err := walkChildren(ctx, h, c, watch, visit); err != nil {
			return err
		}
	}
	return nil
}

// nodePath drops the slash that ends a path tab completion left before a
// node's children ("/a/" for /a), except for the root.
func nodePath(p string) string {
	if len(p) > 1 && strings.HasSuffix(p, "/") {
		return p[:len(p)-1]
	}
	return p
}

func childPath(parent, name string) string {
	if parent == "/" {
		return "/" + name
	}
	return parent + "/" + name
}

func cmdGet(ctx context.Context, s *shell, h *zhandle.Handle, o opts) error {
	path := nodePath(o.args[1])
	data, stat, err := h.Get(ctx, path, o.has("w"))
	if err != nil {
		return fail(err, path)
	}
	format := dataText
	if o.has("b") {
		format = dataBase64
	}
	if o.has("x") {
		format = dataHex
	}
	fmt.Fprintln(s.out, formatData(data, format))
	if o.has("s") {
		writeStat(s.out, &stat, s.loc)
	}
	return nil
}

// decodeData reads a data argument: as it is, or base64 (-b) or hex (-x,
// blanks and a 0x prefix allowed) for arbitrary bytes.
func decodeData(o opts, arg string) ([]byte, error) {
	switch {
	case o.has("b") && o.has("x"):
		return nil, errors.New("-b and -x cannot be combined")
	case o.has("b"):
		data, err := base64.StdEncoding.DecodeString(arg)
		if err != nil {
			return nil, fmt.Errorf("data is not valid base64: %v", err)
		}
		return data, nil
	case o.has("x"):
		clean := strings.Map(func(r rune) rune {
			if r == ' ' || r == ':' || r == '\t' {
				return -1
			}
			return r
		}, strings.TrimPrefix(arg, "0x"))
		data, err := hex.DecodeString(clean)
		if err != nil {
			return nil, fmt.Errorf("data is not valid hex: %v", err)
		}
		return data, nil
	}
	return []byte(arg), nil
}

func cmdSet(ctx context.Context, s *shell, h *zhandle.Handle, o opts) error {
	path := nodePath(o.args[1])
	data, err := decodeData(o, o.args[2])
	if err != nil {
		return err
	}
	version, err := intValue(o, "v", -1)
	if err != nil {
		return err
	}
	stat, err := h.Set(ctx, path, data, version)
	if err != nil {
		return fail(err, path)
	}
	if o.has("s") {
		writeStat(s.out, &stat, s.loc)
	}
	return nil
}

var createSpec = optSpec{"s", "e", "c", "t:", "b", "x"}

// createFlags are the node kinds asked for, by zkCli.sh's -s -e -c -t or
// cli_mt's +[e|s|c|t=ttl].
type createFlags struct {
	sequential, ephemeral, container bool
	ttl                              time.Duration // 0: none
}

// mode is the create mode of CreateCommand, with its checks.
func (f createFlags) mode() (zhandle.CreateMode, error) {
	switch {
	case f.container && (f.ephemeral || f.sequential):
		return 0, errors.New("-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.")
	case f.ttl != 0 && f.ephemeral:
		return 0, errors.New("TTLs cannot be used with Ephemeral znodes")
	case f.ttl != 0 && f.container:
		return 0, errors.New("TTLs cannot be used with Container znodes")
	case f.ttl < 0 || f.ttl.Milliseconds() > maxTTL || f.ttl > 0 && f.ttl < time.Millisecond:
		return 0, fmt.Errorf("ttl must be positive and cannot be larger than: %d", maxTTL)
	case f.ephemeral && f.sequential:
		return zhandle.EphemeralSequential, nil
	case f.ephemeral:
		return zhandle.Ephemeral, nil
	case f.sequential && f.ttl != 0:
		return zhandle.PersistentSequentialWithTTL, nil
	case f.sequential:
		return zhandle.PersistentSequential, nil
	case f.container:
		return zhandle.Container, nil
	case f.ttl != 0:
		return zhandle.PersistentWithTTL, nil
	}
	return zhandle.Persistent, nil
}

// maxTTL is the largest TTL in milliseconds (EphemeralType.TTL).
const maxTTL = 0xFFFFFFFFFF

// parseTTL reads a TTL: milliseconds, as zkCli.sh's -t, or a Go duration
// such as 10m.
func parseTTL(s string) (time.Duration, error) {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		if ms <= 0 {
			return 0, fmt.Errorf("ttl must be positive and cannot be larger than: %d", maxTTL)
		}
		return time.Duration(ms) * time.Millisecond, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New("-t argument must be a long value")
	}
	return d, nil
}

// cliMtFlags parses cli_mt's "+esc" and "+t=ttl" create flags.
func cliMtFlags(word string, f *createFlags) error {
	for rest := word[1:]; rest != ""; {
		c := rest[0]
		rest = rest[1:]
		switch c {
		case 'e':
			f.ephemeral = true
		case 's':
			f.sequential = true
		case 'c':
			f.container = true
		case 't':
			v, ok := strings.CutPrefix(rest, "=")
			if !ok {
				return errors.New("Missing ttl value after +t")
			}
			end := strings.IndexFunc(v, func(r rune) bool { return r < '0' || r > '9' })
			if end < 0 {
				end = len(v)
			}
			ttl, err := parseTTL(v[:end])
			if err != nil {
				return errors.New("ttl value must be a positive integer")
			}
			f.ttl, rest = ttl, v[end:]
		default:
			return fmt.Errorf("Unknown option: %c", c)
		}
	}
	return nil
}

// cmdCreate is create and cli_mt's create2, which also prints the stat.
func cmdCreate(ctx context.Context, s *shell, h *zhandle.Handle, o opts) error {
	f := createFlags{sequential: o.has("s"), ephemeral: o.has("e"), container: o.has("c")}
	args := o.args[1:]
	if strings.HasPrefix(args[0], "+") {
		if err := cliMtFlags(args[0], &f); err != nil {
			return err
		}
		if args = args[1:]; len(args) == 0 {
			return errors.New(lookup(o.args[0]).usageLine())
		}
	}
	if o.has("t") {
		ttl, err := parseTTL(o.value("t"))
		if err != nil {
			return err
		}
		f.ttl = ttl
	}
	mode, err := f.mode()
	if err != nil {
		return err
	}
	path := args[0]
	var data []byte // null data without an argument, as zkCli.sh
	if len(args) > 1 {
		if data, err = decodeData(o, args[1]); err != nil {
			return err
		}
	}
	acl := zhandle.OpenACLUnsafe
	if len(args) > 2 {
		if acl, err = parseACL(args[2]); err != nil {
			return err
		}
	}
	var created string
	var stat zhandle.Stat
	switch {
	case f.ttl != 0:
		created, stat, err = h.CreateTTL(ctx, path, data, acl, mode, f.ttl)
	case o.args[0] == "create2":
		created, stat, err = h.Create2(ctx, path, data, acl, mode)
	default:
		created, err = h.Create(ctx, path, data, acl, mode)
	}
	if err != nil {
		return fail(err, path)
	}
	fmt.Fprintf(s.out, "Created %s\n", created)
	if o.args[0] == "create2" {
		writeStat(s.out, &stat, s.loc)
	}
	return nil
}

func cmdDelete(ctx context.Context, _ *shell, h *zhandle.Handle, o opts) error {
	path := nodePath(o.args[1])
	version, err := intValue(o, "v", -1)
	if err != nil {
		return err
	}
	if err := h.Delete(ctx, path, version); err != nil {
		return fail(err, path)
	}
	return nil
}

// cmdDeleteAll deletes a subtree as ZKUtil.deleteRecursive does: list it
// breadth first, then delete it leaves first in multi transactions of the
// batch size (1000 by default), at most ten in flight; batch 0 deletes node
// by node.
func cmdDeleteAll(ctx context.Context, _ *shell, h *zhandle.Handle, o opts) error {
	path := nodePath(o.args[1])
	batch, err := intValue(o, "b", 1000)
	if err != nil {
		return err
	}
	tree, err := listBFS(ctx, h, path)
	if err != nil {
		return err
	}
	slices.Reverse(tree) // leaves first
	if batch <= 0 {
		for _, p := range tree {
			if err := h.Delete(ctx, p, -1); err != nil {
				return fail(err, p)
			}
		}
		return nil
	}
	return deleteInBatches(ctx, h, tree, int(batch))
}

func deleteInBatches(ctx context.Context, h *zhandle.Handle, tree []string, batch int) error {
	const inFlight = 10
	var (
		slots = make(chan struct{}, inFlight)
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error // the first failure: fail fast
	)
	failed := func() error {
		mu.Lock()
		defer mu.Unlock()
		return first
	}
	for start := 0; start < len(tree) && failed() == nil; start += batch {
		paths := tree[start:min(len(tree), start+batch)]
		ops := make([]zhandle.Op, len(paths))
		for i, p := range paths {
			ops[i] = zhandle.DeleteOp{Path: p, Version: -1}
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return ctx.Err()
		}
		wg.Add(1)
		err := h.AMulti(ops, func(err error, results []zhandle.OpResult) {
			defer wg.Done()
			defer func() { <-slots }()
			if err == nil {
				return
			}
			cause := errorLine(err, "")
			for i, r := range results {
				if r.Err != nil && !errors.Is(r.Err, zhandle.ErrRuntimeInconsistency) {
					cause = errorLine(r.Err, paths[i])
					break
				}
			}
			mu.Lock()
			if first == nil {
				first = errors.New("Failed to delete some node(s) in the subtree! " + cause)
			}
			mu.Unlock()
		})
		if err != nil {
			wg.Done()
			<-slots
			mu.Lock()
			if first == nil {
				first = fail(err, paths[0])
			}
			mu.Unlock()
		}
	}
	wg.Wait()
	return failed()
}

// listBFS lists path and every node under it, breadth first
// (ZKUtil.listSubTreeBFS).
func listBFS(ctx context.Context, h *zhandle.Handle, root string) ([]string, error) {
	tree := []string{root}
	for i := 0; i < len(tree); i++ {
		children, err := h.GetChildren(ctx, tree[i], false)
		if err != nil {
			return nil, fail(err, tree[i])
		}
		for _, c := range children {
			tree = append(tree, childPath(tree[i], c))
		}
	}
	return tree, nil
}

func cmdStat(ctx context.Context, s *shell, h *zhandle.Handle, o opts) error {
	path := nodePath(o.args[1])
	stat, err := h.Exists(ctx, path, o.has("w"))
	if err != nil {
		return fail(err, path)
	}
	writeStat(s.out, &stat, s.loc)
	return nil
}

// cmdExists is cli_mt's exists: the stat, and a watch for the default
// watcher even when the node does not exist yet.
func cmdExists(ctx context.Context, s *shell, h *zhandle.Handle, o opts) error {
	o.set["w"] = ""
	return cmdStat(ctx, s, h, o)
}

// cmdWExists is cli_mt's wexists: exists with a watcher of its own.
func cmdWExists(ctx context.Context, s *shell, h *zhandle.Handle, o opts) error {
	path := nodePath(o.args[1])
	stat, err := h.WExists(ctx, path, s.wexisted)
	if err != nil {
		return fail(err, path)
	}
	writeStat(s.out, &stat, s.loc)
	return nil
}

func cmdSync(ctx context.Context, s *shell, h *zhandle.Handle, o opts) error {
	path := nodePath(o.args[1])
	if _, err := h.Sync(ctx, path); err != nil {
		return fail(err, path)
	}
	fmt.Fprintln(s.out, "Sync is OK")
	return nil
}

// cmdGetEphemerals lists the session's ephemeral nodes whose paths start
// with the argument ("/", all of them, without one) as zkCli.sh prints a
// list, "[/a, /b/c]", sorted (the server's order is arbitrary). The prefix
// is a string, not a node: /a matches /a, /a/b and /ab. "/a/" (not a valid
// path, as tab completion leaves it) matches only what is under /a.
func cmdGetEphemerals(ctx context.Context, s *shell, h *zhandle.Handle, o opts) error {
	arg := "/"
	if len(o.args) > 1 {
		arg = o.args[1]
	}
	prefix := nodePath(arg)
	paths, err := h.GetEphemerals(ctx, prefix)
	if err != nil {
		return fail(err, prefix)
	}
	paths = slices.DeleteFunc(paths, func(p string) bool { return !strings.HasPrefix(p, arg) })
	slices.Sort(paths)
	writeChildren(s.out, paths)
	return nil
}

// cmdGetAllChildrenNumber prints the number of nodes under a node, at every
// depth, the node itself not counted.
func cmdGetAllChildrenNumber(ctx context.Context, s *shell, h *zhandle.Handle, o opts) error {
	path := nodePath(o.args[1])
	n, err := h.GetAllChildrenNumber(ctx, path)
	if err != nil {
		return fail(err, path)
	}
	fmt.Fprintln(s.out, n)
	return nil
}
