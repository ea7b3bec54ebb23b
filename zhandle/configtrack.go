package zhandle

import (
	"bufio"
	"bytes"
	"net"
	"strings"
)

// Following the ensemble's configuration (WithConfigTracking): the handle
// reads /zookeeper/config with a watch whenever a session is established
// and whenever the node changes, and gives the client addresses it lists
// to SetServers, which rebalances as ZOOKEEPER-1355 says. Neither the C
// nor the Java client does this by itself; both leave it to the
// application.

// configTracker is the watcher of /zookeeper/config. It is a pointer, so
// the watch tables keep it once however often it is registered.
type configTracker struct{ h *Handle }

// Process re-reads the configuration when it changes.
func (t *configTracker) Process(ev Event) {
	if ev.Type == EventChanged || ev.Type == EventCreated {
		t.read()
	}
}

// read asks for the configuration with the tracker as watcher.
func (t *configTracker) read() {
	if err := t.h.AGetConfigW(t, t.apply); err != nil {
		t.h.log.Debug("not following the configuration", "err", err)
	}
}

// apply installs the client addresses of a configuration.
func (t *configTracker) apply(err error, data []byte, _ *Stat) {
	if err != nil {
		t.h.log.Info("reading the ensemble configuration failed", "err", err)
		return
	}
	hosts := configClientHosts(data)
	if hosts == "" {
		return // standalone, or no client addresses: keep the list given
	}
	if err := t.h.SetServers(hosts); err != nil {
		t.h.log.Warn("the ensemble configuration lists no usable server", "hosts", hosts, "err", err)
		return
	}
	t.h.log.Info("server list follows the ensemble configuration", "hosts", hosts)
}

// configClientHosts extracts the client addresses from a dynamic
// configuration ("server.N=host:quorum:election[:role];[clientHost:]clientPort"),
// comma-separated. A wildcard or missing client host means the server's
// quorum host.
func configClientHosts(data []byte) string {
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
