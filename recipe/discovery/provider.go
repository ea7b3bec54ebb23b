package discovery

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/zkloop/zkloop/recipe"
	"github.com/zkloop/zkloop/zhandle"
)

// ErrNoInstances is returned by Provider.Instance when the service has no
// enabled instance.
var ErrNoInstances = errors.New("discovery: no instance of the service")

// A Strategy picks the instance a Provider hands out (Curator's
// ProviderStrategy).
type Strategy interface {
	// Pick returns the index of the instance to use in instances, which
	// is not empty and must not be modified. It may be called from many
	// goroutines at once.
	Pick(instances []ServiceInstance) int
}

// RoundRobin returns a strategy that hands out the instances in turn, in
// the order of their node names (Curator's RoundRobinStrategy).
func RoundRobin() Strategy { return &roundRobin{} }

type roundRobin struct{ next atomic.Uint64 }

func (r *roundRobin) Pick(instances []ServiceInstance) int {
	return int((r.next.Add(1) - 1) % uint64(len(instances)))
}

// Random returns a strategy that picks an instance at random (Curator's
// RandomStrategy).
func Random() Strategy { return random{} }

type random struct{}

func (random) Pick(instances []ServiceInstance) int { return rand.IntN(len(instances)) }

// A Provider hands out the instances of one service, which it keeps in
// memory and up to date by watches, never by polling: Curator's
// ServiceProvider over a ServiceCache. It sets one watch on the service's
// children (or on the service's node while it does not exist) and one on
// each instance node, and reads an instance again only when it changes;
// after a reconnection it reads everything again. It creates nothing.
//
// Instances whose nodes cannot be read are left out (and logged to
// WithLogger's logger), as are disabled ones, as in Curator.
type Provider struct {
	d        *ServiceDiscovery
	dir      string
	strategy Strategy
	changes  recipe.Broadcast[[]ServiceInstance]

	mu      sync.Mutex
	h       *zhandle.Handle
	tracker *recipe.Tracker
	gen     uint64             // moves on at every rebind: replies of an older one are dropped
	nodes   map[string]*cached // the service's children, by node name
	enabled []ServiceInstance  // what is handed out: read, enabled, in node name order; never modified
	loading int                // reads of this generation outstanding
	listed  bool               // this generation's children are known
	ready   chan struct{}      // closed once the first load is done, or failed
	loaded  bool               // ready is closed
	failure error              // why the first load failed
	closed  bool
}

// cached is one instance node as last read.
type cached struct {
	inst  ServiceInstance
	ok    bool  // inst was read
	mzxid int64 // of the data read
}

// NewProvider returns a provider of the instances of the service name,
// handed out by strategy (RoundRobin when nil). It returns once it has
// read them all, or when ctx ends. Closing the ServiceDiscovery closes
// its providers; Reattach moves them to the new handle.
func (d *ServiceDiscovery) NewProvider(ctx context.Context, name string, strategy Strategy) (*Provider, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if name == "" || strings.Contains(name, "/") {
		return nil, errors.New("discovery: service name " + name + " is not a node name")
	}
	if strategy == nil {
		strategy = RoundRobin()
	}
	p := &Provider{d: d, dir: d.servicePath(name), strategy: strategy, nodes: make(map[string]*cached), ready: make(chan struct{})}
	d.mu.Lock()
	h, closed := d.h, d.closed
	if !closed && h != nil {
		d.providers[p] = struct{}{}
	}
	d.mu.Unlock()
	switch {
	case closed:
		return nil, ErrClosed
	case h == nil:
		return nil, errNoHandle
	}
	p.rebind(h)
	select {
	case <-p.ready:
	case <-ctx.Done():
		p.Close()
		return nil, ctx.Err()
	}
	if p.failure != nil {
		p.Close()
		return nil, p.failure
	}
	return p, nil
}

// Instance returns an enabled instance of the service, chosen by the
// strategy, or ErrNoInstances. Its Payload and URISpec are shared with
// the provider: do not modify them.
func (p *Provider) Instance() (ServiceInstance, error) {
	p.mu.Lock()
	enabled, closed := p.enabled, p.closed
	p.mu.Unlock()
	switch {
	case closed:
		return ServiceInstance{}, ErrClosed
	case len(enabled) == 0:
		return ServiceInstance{}, ErrNoInstances
	}
	i := p.strategy.Pick(enabled)
	if i < 0 || i >= len(enabled) {
		return ServiceInstance{}, fmt.Errorf("discovery: the strategy picked instance %d of %d", i, len(enabled))
	}
	return enabled[i], nil
}

// Instances returns the enabled instances of the service, in the order of
// their node names (Curator's getAllInstances). Their Payload and URISpec
// are shared with the provider: do not modify them.
func (p *Provider) Instances() []ServiceInstance {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.enabled)
}

// Subscribe returns a channel that receives the enabled instances after
// every change (Curator's ServiceCacheListener), the latest list when the
// receiver falls behind, and a function that ends the subscription.
// Close closes the channel. The lists must not be modified.
func (p *Provider) Subscribe() (<-chan []ServiceInstance, func()) { return p.changes.Subscribe() }

// Close stops the provider: it removes its watches from the handle
// (locally: nothing is sent) and ends its subscriptions. Close is
// idempotent.
func (p *Provider) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.gen++
	h, tracker := p.h, p.tracker
	watched := make([]string, 0, len(p.nodes))
	for name := range p.nodes {
		watched = append(watched, recipe.Join(p.dir, name))
	}
	if !p.loaded {
		p.loaded, p.failure = true, ErrClosed
		close(p.ready)
	}
	p.mu.Unlock()
	if tracker != nil {
		tracker.Stop()
	}
	// The watches would fire once into nothing; removing them locally
	// keeps the handle from piling up the watchers of closed providers.
	// Errors: the watch fired already, or the handle is closed.
	if h != nil {
		_ = h.RemoveWatches(context.Background(), p.dir, zhandle.WatcherAny, (*childrenWatcher)(p), true)
		for _, path := range watched {
			_ = h.RemoveWatches(context.Background(), path, zhandle.WatcherData, (*instanceWatcher)(p), true)
		}
	}
	p.changes.Close()
	p.d.mu.Lock()
	delete(p.d.providers, p)
	p.d.mu.Unlock()
	return nil
}

// rebind makes the provider follow h, and reads everything on it.
func (p *Provider) rebind(h *zhandle.Handle) {
	tracker := recipe.NewTracker(h, p.connectionChanged)
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		tracker.Stop()
		return
	}
	old := p.tracker
	p.h, p.tracker = h, tracker
	p.gen++
	p.loading, p.listed = 0, false
	p.mu.Unlock()
	if old != nil {
		old.Stop()
	}
	p.refresh()
}

// connectionChanged is the Tracker's listener: after a reconnection,
// everything is read again, as Curator's caches do.
func (p *Provider) connectionChanged(s recipe.ConnectionState) {
	if s == recipe.Reconnected {
		p.refresh()
	}
}

// refresh lists the service and reads every instance again.
func (p *Provider) refresh() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for name := range p.nodes {
		p.readLocked(name)
	}
	p.listLocked()
}

// The watchers: types of their own, pointers to the provider, so that the
// handle keeps one registration per node however often they are set.
type (
	childrenWatcher Provider
	instanceWatcher Provider
)

func (w *childrenWatcher) Process(ev zhandle.Event) {
	if ev.Type == zhandle.EventSession || ev.Type == zhandle.EventNotWatching {
		return // the Tracker reports the connection
	}
	p := (*Provider)(w)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.listLocked()
}

func (w *instanceWatcher) Process(ev zhandle.Event) {
	p := (*Provider)(w)
	name, ok := strings.CutPrefix(ev.Path, p.dir+"/")
	if !ok {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev.Type {
	case zhandle.EventChanged, zhandle.EventCreated:
		if p.nodes[name] != nil {
			p.readLocked(name)
		}
	case zhandle.EventDeleted:
		if p.nodes[name] != nil {
			delete(p.nodes, name)
			p.publishLocked()
		}
	}
}

// listLocked asks for the service's children, with a watch. Replies and
// events come on the handle's completion goroutine.
func (p *Provider) listLocked() {
	if p.closed {
		return
	}
	gen := p.gen
	err := p.h.AWGetChildren(p.dir, (*childrenWatcher)(p), func(err error, children []string) {
		p.takeChildren(gen, err, children)
	})
	if err != nil {
		p.failLocked(err)
	}
}

// takeChildren takes in the service's children: instances gone are dropped,
// new ones read.
func (p *Provider) takeChildren(gen uint64, err error, children []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if gen != p.gen {
		return
	}
	switch {
	case errors.Is(err, zhandle.ErrNoNode):
		children = nil // no service (yet): watch for its node
		err = p.h.AWExists(p.dir, (*childrenWatcher)(p), func(err error, _ *zhandle.Stat) {
			if err == nil { // made meanwhile
				p.mu.Lock()
				defer p.mu.Unlock()
				if gen == p.gen {
					p.listLocked()
				}
			}
		})
		if err != nil {
			p.failLocked(err)
			return
		}
	case recipe.Retryable(err):
		return // the reconnection lists again
	case err != nil:
		p.failLocked(err)
		return
	}
	listed := make(map[string]bool, len(children))
	for _, name := range children {
		listed[name] = true
	}
	changed := false
	for name := range p.nodes {
		if !listed[name] {
			delete(p.nodes, name)
			changed = true
		}
	}
	for _, name := range children {
		if p.nodes[name] == nil {
			p.nodes[name] = &cached{}
			p.readLocked(name)
		}
	}
	p.listed = true
	if changed {
		p.publishLocked()
	}
	p.checkLoadedLocked()
}

// readLocked asks for an instance node's data, with a watch.
func (p *Provider) readLocked(name string) {
	if p.closed {
		return
	}
	gen := p.gen
	path := recipe.Join(p.dir, name)
	p.loading++
	err := p.h.AWGet(path, (*instanceWatcher)(p), func(err error, data []byte, stat *zhandle.Stat) {
		p.takeData(gen, name, err, data, stat)
	})
	if err != nil {
		p.loading--
		p.failLocked(err)
	}
}

// takeData takes in an instance node's data. data is valid only during the
// call: everything kept is decoded from it.
func (p *Provider) takeData(gen uint64, name string, err error, data []byte, stat *zhandle.Stat) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if gen != p.gen {
		return
	}
	p.loading--
	defer p.checkLoadedLocked()
	c := p.nodes[name]
	switch {
	case c == nil: // no longer listed
	case errors.Is(err, zhandle.ErrNoNode):
		delete(p.nodes, name)
		p.publishLocked()
	case recipe.Retryable(err): // the reconnection reads it again
	case err != nil:
		p.failLocked(err)
	case c.mzxid == stat.Mzxid: // read again, unchanged
	default:
		c.mzxid = stat.Mzxid
		c.inst, err = readInstance(data, nil)
		if c.ok = err == nil; !c.ok {
			p.d.cfg.logger.Warn("service instance left out", "path", recipe.Join(p.dir, name), "err", err)
		}
		p.publishLocked()
	}
}

// publishLocked makes the list handed out again and tells the
// subscribers.
func (p *Provider) publishLocked() {
	names := make([]string, 0, len(p.nodes))
	for name, c := range p.nodes {
		if c.ok && !c.inst.Disabled {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	enabled := make([]ServiceInstance, len(names))
	for i, name := range names {
		enabled[i] = p.nodes[name].inst
	}
	p.enabled = enabled
	p.changes.Publish(enabled)
}

// checkLoadedLocked ends NewProvider's wait once the children are listed
// and every instance read.
func (p *Provider) checkLoadedLocked() {
	if !p.loaded && p.listed && p.loading == 0 {
		p.loaded = true
		close(p.ready)
	}
}

// failLocked takes in an error that retrying will not cure, such as the
// end of the session: the provider keeps what it has; a NewProvider still
// waiting returns the error.
func (p *Provider) failLocked(err error) {
	if !p.loaded {
		p.loaded, p.failure = true, err
		close(p.ready)
		return
	}
	p.d.cfg.logger.Warn("service provider stopped following", "path", p.dir, "err", err)
}
