package zktest

import (
	"bufio"
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Dynamic reconfiguration. Every Ensemble can be reconfigured: its servers
// run with reconfigEnabled=true and standaloneEnabled=false, their
// membership in a dynamic configuration file (on first start the server
// moves the server lines of zoo.cfg to zoo.cfg.dynamic.<version>), and the
// super user (SuperAuth) passes the ACL of /zookeeper/config. These
// helpers build Reconfig's arguments and read its answer.

// Members returns the ServerSpec lines of servers, sorted as in a Config.
// Joined with commas (or newlines) they are the members argument of a
// non-incremental Reconfig (zkCli's -members).
func Members(servers ...*Server) []string {
	specs := make([]string, len(servers))
	for i, s := range servers {
		specs[i] = s.ServerSpec()
	}
	slices.Sort(specs)
	return specs
}

// Config is a dynamic configuration as /zookeeper/config holds it and
// Reconfig returns it.
type Config struct {
	Servers []string // the "server.<id>=..." lines, sorted
	Version int64    // the "version=<hex>" line: Reconfig's fromConfig
}

// ParseConfig reads a dynamic configuration: server lines and one version
// line. Anything else is an error, so a test sees what it did not expect.
func ParseConfig(data []byte) (Config, error) {
	var c Config
	hasVersion := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		key, value, ok := strings.Cut(line, "=")
		switch {
		case line == "":
		case ok && strings.HasPrefix(key, "server."):
			c.Servers = append(c.Servers, line)
		case ok && key == "version" && !hasVersion:
			v, err := strconv.ParseInt(value, 16, 64)
			if err != nil {
				return Config{}, fmt.Errorf("zktest: configuration version %q: %w", value, err)
			}
			c.Version, hasVersion = v, true
		default:
			return Config{}, fmt.Errorf("zktest: unexpected configuration line %q", line)
		}
	}
	if err := sc.Err(); err != nil {
		return Config{}, fmt.Errorf("zktest: configuration: %w", err)
	}
	if !hasVersion {
		return Config{}, fmt.Errorf("zktest: configuration without a version line: %q", data)
	}
	slices.Sort(c.Servers)
	return c, nil
}
