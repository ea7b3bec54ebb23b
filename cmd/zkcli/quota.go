package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/zkloop/zkloop/zhandle"
)

// The quota commands setquota, listquota and delquota, in the layout of
// ZooKeeper 3.8 (Quotas, StatsTrack and the Set/List/DelQuotaCommand of
// zkCli.sh). The quota of /a/b lives in /zookeeper/quota/a/b: its
// zookeeper_limits node holds the limits, its zookeeper_stats node the
// number of nodes and bytes of data under /a/b, which the server keeps up
// to date. A server started with -Dzookeeper.enforceQuota=true refuses the
// writes that would pass a hard limit; a soft limit only makes it log a
// warning.

// Where quotas live.
const (
	quotaRoot  = "/zookeeper/quota"
	limitsNode = "zookeeper_limits"
	statsNode  = "zookeeper_stats"
)

// The keys of a quota string.
const (
	quotaCount     = "count"          // setquota -n: soft limit on the number of nodes
	quotaBytes     = "bytes"          // -b: soft limit on the bytes of data
	quotaCountHard = "countHardLimit" // -N
	quotaBytesHard = "byteHardLimit"  // -B
)

// quotaOption is one of the options of setquota and delquota.
type quotaOption struct {
	letter   string
	key      string
	bits     int    // of the value: Integer.parseInt for counts, Long.parseLong for bytes
	min      int64  // the smallest value allowed
	tooSmall string // the refusal of a smaller one
}

// quotaOptions are the options of setquota and delquota, at most one of
// which may be given (an OptionGroup in zkCli.sh).
var quotaOptions = []quotaOption{
	{"n", quotaCount, 32, 1, "the num quota must be greater than zero"},
	{"b", quotaBytes, 64, 0, "the bytes quota must be greater than or equal to zero"},
	{"N", quotaCountHard, 32, 1, "the num quota must be greater than zero"},
	{"B", quotaBytesHard, 64, 0, "the bytes quota must be greater than or equal to zero"},
}

// chosenQuotaOption returns the quota option of o, nil for none; more
// than one is an error.
func chosenQuotaOption(o opts) (*quotaOption, error) {
	var chosen *quotaOption
	for i := range quotaOptions {
		if !o.has(quotaOptions[i].letter) {
			continue
		}
		if chosen != nil {
			return nil, fmt.Errorf("-%s and -%s cannot be combined: give one of -n, -b, -N, -B", chosen.letter, quotaOptions[i].letter)
		}
		chosen = &quotaOptions[i]
	}
	return chosen, nil
}

// quotaValues are the values of a quota string (StatsTrack), by key.
type quotaValues map[string]int64

// parseQuota reads a quota string: key=value pairs separated by commas or
// semicolons, "count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=2". What
// follows a second "=" is ignored, an empty value is -1.
func parseQuota(data []byte) (quotaValues, error) {
	q := quotaValues{}
	separator := func(r rune) bool { return r == ',' || r == ';' }
	for _, pair := range strings.FieldsFunc(string(data), separator) {
		key, value, _ := strings.Cut(pair, "=")
		value, _, _ = strings.Cut(value, "=")
		if value == "" {
			q[key] = -1
			continue
		}
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("malformed quota %q: %s is not a number", data, value)
		}
		q[key] = n
	}
	return q, nil
}

// get returns the value of key, -1 when absent.
func (q quotaValues) get(key string) int64 {
	if v, ok := q[key]; ok {
		return v
	}
	return -1
}

// String writes the quota string as StatsTrack.toString does, readable by
// the parsers of ZooKeeper 3.4: count and bytes first, and any other key
// after an "=" that old parsers skip, sorted, each after a semicolon.
func (q quotaValues) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s=%d,%s=%d", quotaCount, q.get(quotaCount), quotaBytes, q.get(quotaBytes))
	rest := slices.DeleteFunc(slices.Sorted(maps.Keys(q)), func(k string) bool { return k == quotaCount || k == quotaBytes })
	if len(rest) > 0 {
		b.WriteByte('=')
		for _, k := range rest {
			fmt.Fprintf(&b, ";%s=%d", k, q[k])
		}
	}
	return b.String()
}

// quotaDir is the node under which the quota of path lives.
func quotaDir(path string) string { return quotaRoot + path }

// readQuota reads and parses one of the quota nodes.
func readQuota(ctx context.Context, h *zhandle.Handle, path string) (quotaValues, error) {
	data, _, err := h.Get(ctx, path, false)
	if err != nil {
		return nil, err
	}
	return parseQuota(data)
}

// cmdSetQuota sets one limit of the quota of a node, creating the quota if
// it has none. The node must exist, and no node above or below it may have
// a quota. It warns when the limit is already passed.
func cmdSetQuota(ctx context.Context, s *shell, h *zhandle.Handle, o opts) error {
	path := nodePath(o.args[1])
	if strings.HasPrefix(path, quotaRoot) {
		return errors.New("cannot set a quota under the path: " + quotaRoot)
	}
	opt, err := chosenQuotaOption(o)
	if err != nil {
		return err
	}
	if opt == nil {
		return errors.New("Missing required option: [-n num soft quota, -b bytes soft quota, -N num hard quota, -B bytes hard quota]")
	}
	limit, err := strconv.ParseInt(o.value(opt.letter), 10, opt.bits)
	switch {
	case err != nil:
		return errors.New("NumberFormatException happens when parsing the option value")
	case limit < opt.min:
		return errors.New(opt.tooSmall)
	}
	switch _, err := h.Exists(ctx, path, false); {
	case errors.Is(err, zhandle.ErrNoNode):
		return errors.New(path + " does not exist.")
	case err != nil:
		return fail(err, path)
	}
	if err := checkNoQuotaBelow(ctx, h, path); err != nil {
		return err
	}
	if err := checkNoQuotaAbove(ctx, h, path); err != nil {
		return err
	}
	dir := quotaDir(path)
	if err := createParents(ctx, h, dir); err != nil {
		return err
	}
	limitsPath, statsPath := dir+"/"+limitsNode, dir+"/"+statsNode
	limits, err := readQuota(ctx, h, limitsPath)
	switch {
	case errors.Is(err, zhandle.ErrNoNode):
		// A new quota: every limit -1 but the one given.
		limits = quotaValues{quotaCount: -1, quotaBytes: -1, quotaCountHard: -1, quotaBytesHard: -1, opt.key: limit}
		if _, err := h.Create(ctx, limitsPath, []byte(limits.String()), zhandle.OpenACLUnsafe, zhandle.Persistent); err != nil {
			return fail(err, limitsPath)
		}
		// The server counts the nodes and bytes under path when the
		// stats node is created.
		zero := quotaValues{quotaCount: 0, quotaBytes: 0}
		if _, err := h.Create(ctx, statsPath, []byte(zero.String()), zhandle.OpenACLUnsafe, zhandle.Persistent); err != nil {
			return fail(err, statsPath)
		}
		return warnQuotaPassed(ctx, s, h, limits, statsPath)
	case err != nil:
		return fail(err, limitsPath)
	}
	limits[opt.key] = limit
	if err := warnQuotaPassed(ctx, s, h, limits, statsPath); err != nil {
		return err
	}
	if _, err := h.Set(ctx, limitsPath, []byte(limits.String()), -1); err != nil {
		return fail(err, limitsPath)
	}
	return nil
}

// checkNoQuotaBelow refuses a quota on path when a node under it has one,
// naming the first found in the order of ZKUtil.visitSubTreeDFS.
func checkNoQuotaBelow(ctx context.Context, h *zhandle.Handle, path string) error {
	return walkChildren(ctx, h, quotaDir(path), false, func(dir string) error {
		children, err := h.GetChildren(ctx, dir, false)
		switch {
		case errors.Is(err, zhandle.ErrNoNode):
			return nil // deleted meanwhile
		case err != nil:
			return fail(err, dir)
		case slices.Contains(children, limitsNode):
			return fmt.Errorf("%s has a child %s which has a quota", path, strings.TrimPrefix(dir, quotaRoot))
		}
		return nil
	})
}

// checkNoQuotaAbove refuses a quota on path when a node above it has one.
// Like zkCli.sh it stops at the first ancestor without a quota directory.
func checkNoQuotaAbove(ctx context.Context, h *zhandle.Handle, path string) error {
	for i := 1; i < len(path); i++ {
		if path[i] != '/' {
			continue
		}
		dir := quotaDir(path[:i])
		children, err := h.GetChildren(ctx, dir, false)
		switch {
		case errors.Is(err, zhandle.ErrNoNode) || err == nil && len(children) == 0:
			return nil
		case err != nil:
			return fail(err, dir)
		case slices.Contains(children, limitsNode):
			return fmt.Errorf("%s has a parent %s which has a quota", path, path[:i])
		}
	}
	return nil
}

// createParents creates the quota directories from /zookeeper/quota down
// to dir that do not exist.
func createParents(ctx context.Context, h *zhandle.Handle, dir string) error {
	for i := len(quotaRoot); i <= len(dir); i++ {
		if i < len(dir) && dir[i] != '/' {
			continue
		}
		p := dir[:i]
		switch _, err := h.Exists(ctx, p, false); {
		case err == nil:
			continue
		case !errors.Is(err, zhandle.ErrNoNode):
			return fail(err, p)
		}
		if _, err := h.Create(ctx, p, nil, zhandle.OpenACLUnsafe, zhandle.Persistent); err != nil && !errors.Is(err, zhandle.ErrNodeExists) {
			return fail(err, p)
		}
	}
	return nil
}

// warnQuotaPassed prints zkCli.sh's warnings when a limit is below what the
// subtree already holds.
func warnQuotaPassed(ctx context.Context, s *shell, h *zhandle.Handle, limits quotaValues, statsPath string) error {
	stats, err := readQuota(ctx, h, statsPath)
	if err != nil {
		return fail(err, statsPath)
	}
	passed := func(limitKey, hardKey, usedKey string) bool {
		used := stats.get(usedKey)
		soft, hard := limits.get(limitKey), limits.get(hardKey)
		return soft > -1 && soft < used || hard > -1 && hard < used
	}
	if passed(quotaCount, quotaCountHard, quotaCount) {
		fmt.Fprintf(s.out, "[Warning]: the count quota you create is less than the existing count:%d\n", stats.get(quotaCount))
	}
	if passed(quotaBytes, quotaBytesHard, quotaBytes) {
		fmt.Fprintf(s.out, "[Warning]: the bytes quota you create is less than the existing bytes:%d\n", stats.get(quotaBytes))
	}
	return nil
}

// cmdListQuota prints the limits and the usage of a node's quota.
func cmdListQuota(ctx context.Context, s *shell, h *zhandle.Handle, o opts) error {
	path := nodePath(o.args[1])
	dir := quotaDir(path)
	fmt.Fprintf(s.errOut, "absolute path is %s/%s\n", dir, limitsNode)
	var values [2]quotaValues
	for i, name := range []string{limitsNode, statsNode} {
		v, err := readQuota(ctx, h, dir+"/"+name)
		switch {
		case errors.Is(err, zhandle.ErrNoNode):
			return fmt.Errorf("quota for %s does not exist.", path)
		case err != nil:
			return fail(err, dir+"/"+name)
		}
		values[i] = v
	}
	fmt.Fprintf(s.out, "Output quota for %s %s\n", path, values[0])
	fmt.Fprintf(s.out, "Output stat for %s %s\n", path, values[1])
	return nil
}

// cmdDelQuota deletes one limit of a node's quota (-n, -b, -N or -B: it
// becomes -1), or the whole quota, with the quota directories left empty.
func cmdDelQuota(ctx context.Context, s *shell, h *zhandle.Handle, o opts) error {
	path := nodePath(o.args[1])
	opt, err := chosenQuotaOption(o)
	if err != nil {
		return err
	}
	dir := quotaDir(path)
	limitsPath := dir + "/" + limitsNode
	limits, err := readQuota(ctx, h, limitsPath)
	switch {
	case errors.Is(err, zhandle.ErrNoNode):
		fmt.Fprintf(s.out, "Quota does not exist for %s\n", path)
		return nil
	case err != nil:
		return fail(err, limitsPath)
	case opt != nil:
		limits[opt.key] = -1
		if _, err := h.Set(ctx, limitsPath, []byte(limits.String()), -1); err != nil {
			return fail(err, limitsPath)
		}
		return nil
	}
	children, err := h.GetChildren(ctx, dir, false)
	if err != nil {
		return fail(err, dir)
	}
	for _, c := range children {
		if err := h.Delete(ctx, dir+"/"+c, -1); err != nil {
			return fail(err, dir+"/"+c)
		}
	}
	return trimQuotaDirs(ctx, h, dir)
}

// trimQuotaDirs deletes dir and its ancestors up to /zookeeper/quota while
// they have no children.
func trimQuotaDirs(ctx context.Context, h *zhandle.Handle, dir string) error {
	for dir != quotaRoot && strings.HasPrefix(dir, quotaRoot+"/") {
		children, err := h.GetChildren(ctx, dir, false)
		if err != nil {
			return fail(err, dir)
		}
		if len(children) > 0 {
			return nil
		}
		if err := h.Delete(ctx, dir, -1); err != nil {
			return fail(err, dir)
		}
		dir = dir[:strings.LastIndexByte(dir, '/')]
	}
	return nil
}
