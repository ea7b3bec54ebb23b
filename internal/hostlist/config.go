package hostlist

import (
	"bufio"
	"bytes"
	"net"
	"strings"
)

// ConfigClientHosts extracts the client addresses from a dynamic
// configuration, the data of /zookeeper/config
// ("server.N=host:quorum:election[:role];[clientHost:]clientPort" lines),
// as a comma-separated host list. A wildcard or missing client host means
// the server's quorum host. It returns "" when no server lists a client
// address (a standalone server).
func ConfigClientHosts(data []byte) string {
	var hosts []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		key, spec, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || !strings.HasPrefix(key, "server.") {
			continue
		}
		quorum, client, ok := strings.Cut(spec, ";")
		if !ok {
			continue
		}
		quorumHost, _, _ := strings.Cut(quorum, ":")
		if end := strings.IndexByte(quorum, ']'); strings.HasPrefix(quorum, "[") && end > 0 {
			quorumHost = quorum[1:end] // [v6]:quorum:election
		}
		host, port, err := net.SplitHostPort(strings.TrimSpace(client))
		if err != nil {
			host, port = "", strings.TrimSpace(client) // only a port
		}
		switch host {
		case "", "0.0.0.0", "::":
			host = quorumHost
		}
		hosts = append(hosts, net.JoinHostPort(host, port))
	}
	return strings.Join(hosts, ",")
}
