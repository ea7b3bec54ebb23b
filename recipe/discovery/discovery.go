package discovery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/zkloop/zkloop/recipe"
	"github.com/zkloop/zkloop/zhandle"
)

// maxRegisterAttempts is how often Register creates an instance's node
// that keeps existing: Curator's MAX_TRIES of a create, then a delete on
// NodeExists.
const maxRegisterAttempts = 2

// Errors of the registry.
var (
	// ErrNotRegistered is returned by Update for an instance that this
	// ServiceDiscovery has not registered.
	ErrNotRegistered = errors.New("discovery: instance not registered here")
	// ErrClosed is returned by the calls on a closed ServiceDiscovery or
	// Provider.
	ErrClosed = errors.New("discovery: closed")
	// errNoHandle is what a ServiceDiscovery made with a nil handle returns.
	errNoHandle = errors.New("discovery: nil *zhandle.Handle")
)

// A ServiceDiscovery is a registry of services under a base path, on
// curator-x-discovery's znodes: Curator's ServiceDiscovery. It registers
// this process's instances, keeps them registered across reconnections,
// reads anyone's, and makes watching Providers. Its methods are safe for
// concurrent use.
type ServiceDiscovery struct {
	base string
	cfg  config

	// ops is held by every write (Register, Update, Unregister, the
	// re-registration, Reattach), one at a time.
	ops sync.Mutex

	mu        sync.Mutex
	h         *zhandle.Handle
	tracker   *recipe.Tracker
	services  map[serviceKey]*registration // what this registry registered
	providers map[*Provider]struct{}
	closed    bool
	// The re-registration after a reconnection: at most one goroutine,
	// told to go round again when another reconnection comes meanwhile.
	reregistering, again bool
	stop                 context.Context // ends with Close
	cancel               context.CancelFunc
	wg                   sync.WaitGroup
}

type serviceKey struct{ name, id string }

// registration is an instance this registry registered.
type registration struct {
	inst ServiceInstance
	data []byte // its JSON
	path string // its node, once made: the id with a suffix for DYNAMIC_SEQUENTIAL
}

// New returns a registry of the services under basePath ("/services"),
// on h. It starts following h's connection, to register its instances
// again after a reconnection as Curator does; it sends nothing until
// asked.
func New(h *zhandle.Handle, basePath string, opts ...Option) *ServiceDiscovery {
	d := &ServiceDiscovery{
		base:      basePath,
		cfg:       newConfig(opts),
		h:         h,
		services:  make(map[serviceKey]*registration),
		providers: make(map[*Provider]struct{}),
	}
	d.stop, d.cancel = context.WithCancel(context.Background())
	if h != nil {
		d.tracker = recipe.NewTracker(h, d.connectionChanged)
	}
	return d
}

// handle returns the handle the registry works on, or an error once it is
// closed.
func (d *ServiceDiscovery) handle() (*zhandle.Handle, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.closed:
		return nil, ErrClosed
	case d.h == nil:
		return nil, errNoHandle
	}
	return d.h, nil
}

func (d *ServiceDiscovery) servicePath(name string) string { return recipe.Join(d.base, name) }

func (d *ServiceDiscovery) instancePath(name, id string) string {
	return recipe.Join(d.servicePath(name), id)
}

// Register registers inst under basePath/name/id, the node kind given by
// its ServiceType (an ephemeral node for DYNAMIC), and returns it as
// registered: with a random UUID for an empty ID and the current time
// for a zero RegistrationTimeUTC, as Curator's builder fills them in.
// Missing parents are made as containers.
//
// As in Curator, a node already at that path is deleted and made again,
// so that watchers see the new registration; unless it is already this
// one: the same data, from this session for the dynamic kinds (a create
// whose reply was lost, or a second Register of the same instance).
// Registering an instance again with other data replaces it.
//
// The registry keeps what it registered, even when Register fails (as
// Curator does; Unregister drops it): after every reconnection it checks
// each instance's node and registers it again if it is missing or not as
// registered (Curator re-registers on every RECONNECTED), and Reattach
// registers them all on a new session.
func (d *ServiceDiscovery) Register(ctx context.Context, inst ServiceInstance) (ServiceInstance, error) {
	if inst.ID == "" {
		inst.ID = recipe.RandomUUID()
	}
	if inst.RegistrationTimeUTC == 0 {
		inst.RegistrationTimeUTC = time.Now().UnixMilli()
	}
	data, err := inst.encode(d.cfg.full)
	if err != nil {
		return ServiceInstance{}, err
	}
	err = d.write(ctx, func(h *zhandle.Handle) error {
		r := &registration{inst: inst, data: data}
		if old := d.keep(r); old != nil && old.path != "" {
			if old.inst.ServiceType == inst.ServiceType {
				r.path = old.path // a sequential node of ours is kept
			} else if err := remove(ctx, h, old.path); err != nil {
				return err
			}
		}
		return d.put(ctx, h, r)
	})
	if err != nil {
		return ServiceInstance{}, fmt.Errorf("discovery: registering %s/%s: %w", inst.Name, inst.ID, err)
	}
	return inst, nil
}

// keep records r as registered and returns the registration it replaces,
// if any.
func (d *ServiceDiscovery) keep(r *registration) *registration {
	key := serviceKey{r.inst.Name, r.inst.ID}
	d.mu.Lock()
	defer d.mu.Unlock()
	old := d.services[key]
	d.services[key] = r
	return old
}

// remove deletes the node at path; NoNode is done.
func remove(ctx context.Context, h *zhandle.Handle, path string) error {
	err := recipe.Retry(ctx, h, func() error { return h.Delete(ctx, path, -1) })
	if errors.Is(err, zhandle.ErrNoNode) {
		return nil
	}
	return err
}

// write runs op with the handle, as the one write under way (d.ops); a
// ctx already done runs nothing.
func (d *ServiceDiscovery) write(ctx context.Context, op func(*zhandle.Handle) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.ops.Lock()
	defer d.ops.Unlock()
	h, err := d.handle()
	if err != nil {
		return err
	}
	return op(h)
}

// registered returns the registration of key, or nil.
func (d *ServiceDiscovery) registered(key serviceKey) *registration {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.services[key]
}

// put makes r's node, or finds it already made.
func (d *ServiceDiscovery) put(ctx context.Context, h *zhandle.Handle, r *registration) error {
	if r.inst.ServiceType == DynamicSequential {
		return d.putSequential(ctx, h, r)
	}
	mode := r.inst.ServiceType.createMode()
	path := d.instancePath(r.inst.Name, r.inst.ID)
	r.path = path // whether or not the create is applied: Unregister deletes it
	for range maxRegisterAttempts {
		err := recipe.Retry(ctx, h, func() error {
			_, _, err := recipe.Create(ctx, h, path, r.data, d.cfg.acl, mode)
			return err
		})
		if !errors.Is(err, zhandle.ErrNodeExists) {
			return err
		}
		if ours, err := d.adopt(ctx, h, path, r); ours || err != nil {
			return err
		}
		if err := remove(ctx, h, path); err != nil {
			return err
		}
	}
	return zhandle.ErrNodeExists
}

// adopt reports whether the node at path is r's already: r's data and,
// for the ephemeral kinds, this session's. If so it becomes r's node.
func (d *ServiceDiscovery) adopt(ctx context.Context, h *zhandle.Handle, path string, r *registration) (bool, error) {
	var data []byte
	var stat zhandle.Stat
	err := recipe.Retry(ctx, h, func() (err error) {
		data, stat, err = h.Get(ctx, path, false)
		return err
	})
	switch {
	case errors.Is(err, zhandle.ErrNoNode):
		return false, nil
	case err != nil:
		return false, err
	}
	var owner int64
	if mode := r.inst.ServiceType.createMode(); mode == zhandle.Ephemeral || mode == zhandle.EphemeralSequential {
		owner = h.ClientID().SessionID
	}
	if stat.EphemeralOwner != owner || !bytes.Equal(data, r.data) {
		return false, nil
	}
	r.path = path
	return true, nil
}

// putSequential makes the node of a DYNAMIC_SEQUENTIAL instance: the id
// with the server's suffix. A node of ours that is still there is kept;
// after a lost reply, the node made is found among the service's
// children by its id, session and data.
func (d *ServiceDiscovery) putSequential(ctx context.Context, h *zhandle.Handle, r *registration) error {
	if r.path != "" {
		if ours, err := d.adopt(ctx, h, r.path, r); ours || err != nil {
			return err
		}
		recipe.DeleteGuaranteed(h, r.path, nil) // another session's, gone with it, or changed
		r.path = ""
	}
	prefix := d.instancePath(r.inst.Name, r.inst.ID)
	for {
		path, _, err := recipe.Create(ctx, h, prefix, r.data, d.cfg.acl, zhandle.EphemeralSequential)
		if err == nil {
			r.path = path
			return nil
		}
		if !recipe.Retryable(err) {
			return err
		}
		if err := h.WaitConnected(ctx); err != nil {
			return err
		}
		if found, err := d.findSequential(ctx, h, r); found || err != nil {
			return err
		}
	}
}

// findSequential looks for r's sequential node after a lost reply.
func (d *ServiceDiscovery) findSequential(ctx context.Context, h *zhandle.Handle, r *registration) (bool, error) {
	dir := d.servicePath(r.inst.Name)
	names, err := children(ctx, h, dir)
	for _, name := range names {
		if !isSequenceOf(name, r.inst.ID) {
			continue
		}
		ours, err := d.adopt(ctx, h, recipe.Join(dir, name), r)
		if ours || err != nil {
			return ours, err
		}
	}
	return false, err
}

// isSequenceOf reports whether name is id with a sequence suffix: ten
// digits, or a minus and ten digits after the counter wrapped.
func isSequenceOf(name, id string) bool {
	suffix, ok := strings.CutPrefix(name, id)
	suffix = strings.TrimPrefix(suffix, "-")
	return ok && len(suffix) == 10 && strings.Trim(suffix, "0123456789") == ""
}

// Update writes inst over the instance registered with its name and id
// (Curator's updateService, a setData). A zero RegistrationTimeUTC keeps
// the registered one. If the node has gone meanwhile, Update makes it
// again. The service type cannot change: Unregister, then Register. As
// with Register, the registry keeps the new instance even when the write
// fails.
func (d *ServiceDiscovery) Update(ctx context.Context, inst ServiceInstance) error {
	err := d.write(ctx, func(h *zhandle.Handle) error {
		old := d.registered(serviceKey{inst.Name, inst.ID})
		switch {
		case old == nil:
			return ErrNotRegistered
		case old.inst.ServiceType != inst.ServiceType:
			return fmt.Errorf("%w: Update cannot change the service type from %v to %v", ErrInvalidInstance, old.inst.ServiceType, inst.ServiceType)
		}
		if inst.RegistrationTimeUTC == 0 {
			inst.RegistrationTimeUTC = old.inst.RegistrationTimeUTC
		}
		data, err := inst.encode(d.cfg.full)
		if err != nil {
			return err
		}
		r := &registration{inst: inst, data: data, path: old.path}
		d.keep(r)
		err = zhandle.ErrNoNode // a sequential node not made yet
		if r.path != "" {
			err = recipe.Retry(ctx, h, func() error {
				_, err := h.Set(ctx, r.path, r.data, -1)
				return err
			})
		}
		if errors.Is(err, zhandle.ErrNoNode) {
			err = d.put(ctx, h, r)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("discovery: updating %s/%s: %w", inst.Name, inst.ID, err)
	}
	return nil
}

// Unregister removes the instance with inst's name and id that this
// registry registered, and deletes its node (Curator's
// unregisterService); an instance not registered here is left alone, as
// in Curator. The registry forgets the instance even when the delete
// fails: the delete then goes on in the background, across reconnections
// (recipe.DeleteGuaranteed).
func (d *ServiceDiscovery) Unregister(ctx context.Context, inst ServiceInstance) error {
	return d.write(ctx, func(h *zhandle.Handle) error {
		key := serviceKey{inst.Name, inst.ID}
		d.mu.Lock()
		r := d.services[key]
		delete(d.services, key)
		d.mu.Unlock()
		if r == nil || r.path == "" {
			return nil
		}
		if err := remove(ctx, h, r.path); err != nil {
			recipe.DeleteGuaranteed(h, r.path, nil)
			return fmt.Errorf("discovery: unregistering %s/%s: %w", inst.Name, inst.ID, err)
		}
		return nil
	})
}

// QueryForNames returns the names of the services under the base path,
// sorted; none when the base path does not exist (where Curator's
// queryForNames throws NoNode, for example after the server removed the
// empty containers).
func (d *ServiceDiscovery) QueryForNames(ctx context.Context) ([]string, error) {
	h, err := d.handle()
	if err != nil {
		return nil, err
	}
	names, err := children(ctx, h, d.base)
	return names, err
}

// children returns the children of dir, sorted; none when dir does not
// exist. Connection losses are retried.
func children(ctx context.Context, h *zhandle.Handle, dir string) ([]string, error) {
	var names []string
	err := recipe.Retry(ctx, h, func() (err error) {
		names, err = h.GetChildren(ctx, dir, false)
		return err
	})
	if errors.Is(err, zhandle.ErrNoNode) {
		return nil, nil
	}
	slices.Sort(names)
	return names, err
}

// QueryForInstances returns the instances of the service name, in the
// order of their node names; none when the service does not exist. It
// costs two requests, a listing and one MultiRead of every instance.
//
// An instance node that cannot be read as an instance does not fail the
// list (CURATOR.md P9, where Curator's queryForInstances throws for the
// whole service): it is left out and logged to WithLogger's logger, as
// Curator's ServiceCache does. QueryForInstance on its id returns why.
func (d *ServiceDiscovery) QueryForInstances(ctx context.Context, name string) ([]ServiceInstance, error) {
	h, err := d.handle()
	if err != nil {
		return nil, err
	}
	dir := d.servicePath(name)
	ids, err := children(ctx, h, dir)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	ops := make([]zhandle.ReadOp, len(ids))
	for i, id := range ids {
		ops[i] = zhandle.GetDataOp{Path: recipe.Join(dir, id)}
	}
	var results []zhandle.ReadResult
	err = recipe.Retry(ctx, h, func() (err error) {
		results, err = h.MultiRead(ctx, ops...)
		return err
	})
	if err != nil {
		return nil, err
	}
	instances := make([]ServiceInstance, 0, len(results))
	for i, res := range results {
		if errors.Is(res.Err, zhandle.ErrNoNode) {
			continue // unregistered meanwhile
		}
		inst, err := readInstance(res.Data, res.Err)
		if err != nil {
			d.cfg.logger.Warn("service instance left out", "path", recipe.Join(dir, ids[i]), "err", err)
			continue
		}
		instances = append(instances, inst)
	}
	return instances, nil
}

// readInstance reads the data of an instance node, or returns the error
// of reading it.
func readInstance(data []byte, err error) (ServiceInstance, error) {
	var inst ServiceInstance
	if err == nil {
		err = inst.UnmarshalJSON(data)
	}
	return inst, err
}

// QueryForInstance returns the instance of the service name whose node is
// id. When there is none, the error wraps zhandle.ErrNoNode (where
// Curator returns null); when the node cannot be read as an instance, it
// wraps ErrInvalidInstance.
func (d *ServiceDiscovery) QueryForInstance(ctx context.Context, name, id string) (ServiceInstance, error) {
	h, err := d.handle()
	if err != nil {
		return ServiceInstance{}, err
	}
	path := d.instancePath(name, id)
	var data []byte
	err = recipe.Retry(ctx, h, func() (err error) {
		data, _, err = h.Get(ctx, path, false)
		return err
	})
	inst, err := readInstance(data, err)
	if err != nil {
		return ServiceInstance{}, fmt.Errorf("discovery: instance %s: %w", path, err)
	}
	return inst, nil
}

// connectionChanged is the Tracker's listener: on a reconnection, the
// instances are registered again, on a goroutine of their own.
func (d *ServiceDiscovery) connectionChanged(s recipe.ConnectionState) {
	if s != recipe.Connected && s != recipe.Reconnected {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.closed:
	case d.reregistering:
		d.again = true
	default:
		d.reregistering = true
		d.wg.Add(1)
		go d.reregister()
	}
}

// reregister puts every registered instance back, until no reconnection
// came meanwhile.
func (d *ServiceDiscovery) reregister() {
	defer d.wg.Done()
	for {
		d.ops.Lock()
		d.mu.Lock()
		h, regs := d.h, d.registrations()
		d.mu.Unlock()
		for _, r := range regs {
			if err := d.put(d.stop, h, r); err != nil && d.stop.Err() == nil {
				d.cfg.logger.Warn("service instance not registered again", "name", r.inst.Name, "id", r.inst.ID, "err", err)
			}
		}
		d.ops.Unlock()
		d.mu.Lock()
		if !d.again || d.closed {
			d.reregistering = false
			d.mu.Unlock()
			return
		}
		d.again = false
		d.mu.Unlock()
	}
}

// registrations returns the registrations, under d.mu.
func (d *ServiceDiscovery) registrations() []*registration {
	regs := make([]*registration, 0, len(d.services))
	for _, r := range d.services {
		regs = append(regs, r)
	}
	return regs
}

// Reattach moves the registry and its providers to h, a handle with a new
// session, after the session of the old one ended, and registers every
// instance again on it: what Curator does by itself after a session
// expiry, since its client makes a new ZooKeeper session where a
// zhandle.Handle ends with its session. It returns the errors of the
// instances it could not register; the registry keeps them all, and
// registers them again at the next reconnection.
func (d *ServiceDiscovery) Reattach(ctx context.Context, h *zhandle.Handle) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if h == nil {
		return errNoHandle
	}
	d.ops.Lock()
	defer d.ops.Unlock()
	tracker := recipe.NewTracker(h, d.connectionChanged)
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		tracker.Stop()
		return ErrClosed
	}
	old := d.tracker
	d.h, d.tracker = h, tracker
	regs := d.registrations()
	providers := d.providerList()
	d.mu.Unlock()
	if old != nil {
		old.Stop()
	}
	for _, p := range providers {
		p.rebind(h)
	}
	var errs []error
	for _, r := range regs {
		if err := d.put(ctx, h, r); err != nil {
			errs = append(errs, fmt.Errorf("discovery: registering %s/%s: %w", r.inst.Name, r.inst.ID, err))
		}
	}
	return errors.Join(errs...)
}

// providerList returns the providers, under d.mu.
func (d *ServiceDiscovery) providerList() []*Provider {
	providers := make([]*Provider, 0, len(d.providers))
	for p := range d.providers {
		providers = append(providers, p)
	}
	return providers
}

// Close closes the registry's providers and unregisters its instances,
// as Curator's close does (the persistent kinds too): the deletes are
// sent before Close returns and retried across reconnections in the
// background (recipe.DeleteGuaranteed). It waits for a write in progress,
// and stops the re-registration. Close is idempotent.
func (d *ServiceDiscovery) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	providers := d.providerList()
	d.mu.Unlock()
	d.cancel()
	for _, p := range providers {
		p.Close()
	}
	d.wg.Wait()  // the re-registration, cancelled
	d.ops.Lock() // the writes in progress are done
	defer d.ops.Unlock()
	d.mu.Lock()
	tracker, regs := d.tracker, d.registrations()
	clear(d.services)
	d.mu.Unlock()
	if tracker != nil {
		tracker.Stop()
	}
	for _, r := range regs {
		if r.path != "" {
			recipe.DeleteGuaranteed(d.h, r.path, nil)
		}
	}
	return nil
}
