package zhandle

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/zkloop/zkloop/internal/hostlist"
)

// Following the ensemble's configuration (WithConfigTracking): the handle
// reads /zookeeper/config with a watch whenever a session is established
// and whenever the node changes, and gives the client addresses it lists
// to the host list, which rebalances as ZOOKEEPER-1355 says. Neither the C
// nor the Java client does this by itself; both leave it to the
// application.

// configTracker is the watcher of /zookeeper/config. It is a pointer, so
// the watch tables keep it once however often it is registered. Its
// methods run on the completion goroutine, which must never wait for a
// resolver: host names are resolved on a goroutine of their own.
type configTracker struct {
	h       *Handle
	applied atomic.Uint64 // the number of the newest configuration read; older resolutions are dropped
	install sync.Mutex    // one configuration installed at a time, so none overtakes a newer one
}

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

// apply installs the client addresses of a configuration: at once when
// they are IP literals, after resolution on a goroutine when they name
// hosts.
func (t *configTracker) apply(err error, data []byte, _ *Stat) {
	if err != nil {
		t.h.log.Info("reading the ensemble configuration failed", "err", err)
		return
	}
	hosts := hostlist.ConfigClientHosts(data)
	if hosts == "" {
		return // standalone, or no client addresses: keep the list given
	}
	if t.h.closed.Err() != nil {
		return // Close waits for no goroutine started after it began
	}
	seq := t.applied.Add(1)
	if !hostlist.HasNames(hosts) {
		t.use(context.Background(), seq, hosts)
		return
	}
	t.h.background.Add(1)
	go func() {
		defer t.h.background.Done()
		ctx, cancel := context.WithTimeout(t.h.closed, resolveCallTimeout)
		defer cancel()
		t.use(ctx, seq, hosts)
	}()
}

// use resolves hosts and makes them the server list, unless a newer
// configuration has been read meanwhile.
func (t *configTracker) use(ctx context.Context, seq uint64, hosts string) {
	addrs, err := t.h.resolve(ctx, hosts)
	if err != nil {
		t.h.log.Warn("the ensemble configuration lists no usable server", "hosts", hosts, "err", err)
		return
	}
	t.install.Lock()
	defer t.install.Unlock()
	if t.applied.Load() != seq {
		return
	}
	t.h.useServers(hosts, addrs)
	t.h.log.Info("server list follows the ensemble configuration", "hosts", hosts)
}
