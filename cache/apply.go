package cache

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/zkloop/zkloop/zhandle"
)

// The applier is the cache's goroutine: it takes the inputs in the order
// the handle delivered them, keeps the tree, sends the reads, and hands
// the events to the dispatcher. See the package documentation for the
// design; this file holds the ordering of changes (slots), session.go
// the connection's life, sweep.go the reads.

type inputKind uint8

const (
	inEvent    inputKind = iota // a watch or session event
	inReads                     // the reply to a MultiRead
	inWatchSet                  // the reply to AddWatch
	inSynced                    // the reply to a barrier's Sync
	inBarrier                   // Sync was called
	inRebuild                   // Rebuild was called, or a renewal succeeded
)

// An input is one thing for the applier to handle. The callbacks of the
// handle push them from its completion goroutine, so inputs from a
// handle come in the order the server sent them.
type input struct {
	kind    inputKind
	gen     uint64 // the attachment an input from a handle came through
	epoch   uint64 // the epoch a request was sent in
	event   zhandle.Event
	counted bool // a session event the watcher counted as a loss (Cache.lost)
	reads   *readBatch
	results []zhandle.ReadResult
	err     error
	barrier *barrier
	handle  *zhandle.Handle
}

type slotKind uint8

const (
	slotCreated  slotKind = iota // a NodeCreated event
	slotChanged                  // a NodeDataChanged event
	slotDeleted                  // a NodeDeleted event
	slotObserved                 // a reply no event explains
	slotSweep                    // the observations of a sweep, at the start of its epoch
	slotBarrier                  // a Sync's reply
)

// A slot is one change in the order the server made it. Events and
// replies come in the server's order, but a reply shows a node as it was
// when the read was served, which may be after later events: so a
// creation or change waits in its slot until a reply fills it, and the
// slots are applied strictly in order, which is zxid order.
type slot struct {
	kind     slotKind
	path     string
	seq      uint64 // input position
	prev     *slot  // the previous slot of the same path, while not applied
	kept     bool   // the node is kept; false: it only counts for its parent's Stat
	resolved bool   // filled, or merged into a later slot of the path
	filled   bool   // obs holds the node's state after this change
	applied  bool
	obs      obs
	barrier  *barrier
}

// An obs is a node's state as a reply showed it.
type obs struct {
	v   *view // nil: the node did not exist
	seq uint64
}

// A slotQueue is the FIFO of slots not yet applied.
type slotQueue struct {
	items []*slot
	head  int
}

func (q *slotQueue) push(s *slot) { q.items = append(q.items, s) }
func (q *slotQueue) len() int     { return len(q.items) - q.head }
func (q *slotQueue) front() *slot { return q.items[q.head] }

func (q *slotQueue) pop() {
	q.items[q.head] = nil
	q.head++
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	} else if q.head > 1024 && 2*q.head > len(q.items) {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
}

// take empties the queue and returns what it held.
func (q *slotQueue) take() []*slot {
	out := slices.Clone(q.items[q.head:])
	clear(q.items)
	q.items, q.head = q.items[:0], 0
	return out
}

type applier struct {
	c    *Cache
	cfg  *config
	root string
	t    *tree
	log  *slog.Logger
	seq  uint64 // position of the input being handled

	// The handle and the session.
	h          *zhandle.Handle
	gen        uint64
	w          *watcher
	unwatch    func()
	connected  bool // an epoch is under way: watch events arrive
	readOnly   bool
	epoch      uint64 // advances at every connection and loss; replies of past epochs are ignored
	lossesSeen uint64 // the counted session events handled (Cache.lost)

	// The order of changes.
	queue   slotQueue
	latest  map[string]*slot // per path, its last slot not yet applied
	group   map[string]obs   // the pending sweep's observations; nil: none pending
	carried map[string]bool  // paths the next sweep must read: their events were cut short

	sw       sweeper
	evReads  []readOp // reads the events of this batch call for
	evAsked  map[string]bool
	limit    int              // operations per MultiRead
	sizes    sizeMean         // of the data read, for estimating replies
	suspects map[readKey]bool // reads whose reply may be too large to batch
	requests int64

	barriers []*barrier // to sync when connected
	syncing  []*barrier // synced in this epoch, reply pending
	released []*barrier // to release once the batch is published

	started     time.Time
	initialized bool // the first priming is applied
	announced   bool // WaitInitialized released
	stale       bool // changes may have been missed since knownAt
	knownAt     time.Time
	dead        bool // the handle can no longer serve: expired, refused or closed
	events      []Event
	stats       Stats

	renewCtx    context.Context
	renewCancel context.CancelFunc
	renewing    sync.WaitGroup
}

func newApplier(c *Cache, cfg *config) *applier {
	a := &applier{
		c:        c,
		cfg:      cfg,
		root:     c.root,
		t:        newTree(cfg.keepData, cfg.maxBytes),
		log:      cfg.log.With("cache", c.root),
		latest:   map[string]*slot{},
		carried:  map[string]bool{},
		evAsked:  map[string]bool{},
		suspects: map[readKey]bool{},
		limit:    initialLimit,
		started:  time.Now(),
		stale:    true,
	}
	a.knownAt = a.started
	a.renewCtx, a.renewCancel = context.WithCancel(context.Background())
	return a
}

func (a *applier) run(h *zhandle.Handle) {
	defer close(a.c.applied)
	a.attach(h)
	a.finish()
	var batch []input
	for {
		var ok bool
		if batch, ok = a.c.in.take(batch[:0]); !ok {
			a.shutdown()
			return
		}
		for i := range batch {
			a.seq++
			a.handle(&batch[i])
		}
		clear(batch)
		a.finish()
	}
}

func (a *applier) handle(in *input) {
	if in.counted {
		a.lossesSeen++
	}
	if in.gen != 0 && in.gen != a.gen {
		return // from a handle the cache no longer uses
	}
	switch in.kind {
	case inEvent:
		if in.event.Type == zhandle.EventSession {
			a.session(in.event.State)
		} else {
			a.watchEvent(in.event)
		}
	case inReads:
		a.readReply(in)
	case inWatchSet:
		if in.err != nil && !sessionProblem(in.err) {
			a.fatal(in.err)
		}
	case inSynced:
		a.synced(in)
	case inBarrier:
		a.barrier(in.barrier)
	case inRebuild:
		a.rebuild(in.handle)
	}
	a.drain()
}

// finish ends a batch of inputs: it sends the reads the batch calls for,
// publishes the tree, then tells whoever waits for it.
func (a *applier) finish() {
	a.sendReads()
	a.t.publish()
	a.publishStats()
	if len(a.events) > 0 {
		if len(a.cfg.listeners) > 0 {
			a.c.out.push(a.events...)
		}
		clear(a.events)
		a.events = a.events[:0]
	}
	for _, b := range a.released {
		close(b.done)
	}
	clear(a.released)
	a.released = a.released[:0]
	if a.initialized && !a.announced {
		a.announced = true
		close(a.c.initialized)
	}
	if a.connected && !a.readOnly && !a.stale {
		a.c.freshMark.Store(int64(a.lossesSeen))
	} else {
		a.c.freshMark.Store(-1)
	}
}

func (a *applier) publishStats() {
	a.stats.Nodes = a.t.idx.len()
	a.stats.DataBytes = a.t.dataBytes
	a.stats.Dataless = a.t.dataless
	a.stats.Requests = a.requests
	a.c.statsMu.Lock()
	a.c.stats = a.stats
	a.c.statsMu.Unlock()
}

func (a *applier) emit(ev Event) {
	if len(a.cfg.listeners) > 0 {
		a.events = append(a.events, ev)
	}
}

// watchEvent puts an event of the persistent recursive watch in its slot.
func (a *applier) watchEvent(ev zhandle.Event) {
	var kind slotKind
	switch ev.Type {
	case zhandle.EventCreated:
		kind = slotCreated
	case zhandle.EventChanged:
		kind = slotChanged
	case zhandle.EventDeleted:
		kind = slotDeleted
	default:
		return
	}
	if !a.connected {
		return
	}
	p := ev.Path
	// A child's creation or deletion counts in its parent's Stat, even
	// if the cache does not keep the child. The parent's Pzxid is the
	// child's Czxid after a creation, but ZooKeeper does not say when a
	// deletion happened, nor the Czxid of a child the cache does not
	// read: reading the parent tells.
	parentKept := kind != slotChanged && p != a.root && depthBelow(a.root, p) > 0 && a.cfg.keeps(a.root, parentOf(p))
	kept := a.cfg.keeps(a.root, p)
	if parentKept && (kind == slotDeleted || !kept) {
		a.readEvent(parentOf(p))
	}
	if !kept {
		if parentKept {
			a.queue.push(&slot{kind: kind, path: p, seq: a.seq, resolved: true})
		}
		return
	}
	s := &slot{kind: kind, path: p, seq: a.seq, kept: true, prev: a.latest[p]}
	a.latest[p] = s
	a.queue.push(s)
	if kind == slotDeleted {
		s.resolved, s.filled = true, true // the state after it: absent
		merge(s.prev)
		return
	}
	a.readEvent(p)
}

// merge marks the unresolved slots of a path from s back to its last
// deletion as merged into a later one: no reply can fill them any more.
func merge(s *slot) {
	for ; s != nil && !s.applied && s.kind != slotDeleted; s = s.prev {
		s.resolved = true
	}
}

// observe places a node's state, as a reply at the current input
// position showed it.
func (a *applier) observe(p string, o obs) {
	s := a.latest[p]
	switch {
	case s != nil:
		if a.group != nil {
			a.atWatch(p, s, o)
		}
		a.fill(s, o)
	case a.group != nil:
		a.group[p] = o
	default:
		// No event explains it (a read repeated after its slot was
		// applied): apply it in order; if it holds nothing new, nothing
		// happens.
		a.queue.push(&slot{kind: slotObserved, path: p, seq: a.seq, kept: true, resolved: true, filled: true, obs: o})
	}
}

// atWatch records in the sweep's observations what a node was when the
// watch was set, as far as o, its state after the events s and those
// before it since, tells. The events report the changes after that.
//   - Only data changes since: the node existed, as o's node. If the cache
//     holds another node there, or none, the sweep reports o's.
//   - A creation first: the node did not exist. If the cache holds one,
//     the sweep reports its deletion.
//   - A deletion first: the node existed; which one, o does not tell.
func (a *applier) atWatch(p string, s *slot, o obs) {
	onlyChanged := true
	for ; s.prev != nil && !s.prev.applied; s = s.prev {
		onlyChanged = onlyChanged && s.kind == slotChanged
	}
	cur, _ := a.t.get(p)
	switch {
	case onlyChanged && s.kind == slotChanged && o.v != nil && (cur == nil || cur.stat.Czxid != o.v.stat.Czxid):
		a.group[p] = o
	case s.kind == slotCreated && cur != nil:
		a.group[p] = obs{seq: o.seq}
	}
}

// fill places o, the state of a node after s, the last event of its path
// before the reply. A creation not yet filled takes it, so that the node
// appears at its creation; otherwise the last change does. The slots it
// covers are merged.
func (a *applier) fill(s *slot, o obs) {
	if o.v == nil {
		if s.kind != slotDeleted {
			// Gone, but no deletion came before the reply: never seen;
			// apply the deletion here.
			merge(s)
			d := &slot{kind: slotObserved, path: s.path, seq: a.seq, kept: true, prev: s, resolved: true, filled: true}
			a.latest[s.path] = d
			a.queue.push(d)
		}
		return
	}
	if s.kind == slotDeleted {
		a.log.Warn("cache: a node read after its deletion with no creation in between", "path", s.path)
		return
	}
	first := s
	for q := s.prev; q != nil && !q.applied && q.kind != slotDeleted; q = q.prev {
		first = q
	}
	target := s
	if first.kind == slotCreated && !first.resolved {
		target = first
	}
	if target.resolved {
		// Filled by an earlier reply, with no event of the node since:
		// the same data, but the Stat may count more children.
		if target.filled && target.obs.v != nil && target.obs.v.stat.Czxid == o.v.stat.Czxid && target.obs.v.stat.Mzxid == o.v.stat.Mzxid {
			target.obs = o
		}
		return
	}
	merge(s)
	target.filled, target.obs = true, o
}

// drain applies the resolved slots at the head of the queue.
func (a *applier) drain() {
	for a.queue.len() > 0 && a.queue.front().resolved {
		s := a.queue.front()
		a.queue.pop()
		a.apply(s)
	}
}

func (a *applier) apply(s *slot) {
	s.applied = true
	if s.kept && a.latest[s.path] == s {
		delete(a.latest, s.path)
	}
	switch s.kind {
	case slotSweep:
		a.applyGroup()
		return
	case slotBarrier:
		a.released = append(a.released, s.barrier)
		return
	case slotCreated, slotDeleted:
		a.countChild(s)
	}
	if s.kept && s.filled {
		a.applyState(s.path, s.obs)
	}
}

// countChild counts a child's creation or deletion in its parent's Stat,
// unless the parent's Stat was read after the event.
func (a *applier) countChild(s *slot) {
	if s.path == a.root {
		return
	}
	pp := parentOf(s.path)
	if v, seq := a.t.get(pp); v == nil || s.seq < seq {
		return
	}
	st := a.t.stat(pp)
	st.Cversion++
	if s.kind == slotDeleted {
		st.NumChildren--
		return
	}
	st.NumChildren++
	if s.filled && s.obs.v != nil && s.obs.v.stat.Czxid > st.Pzxid {
		st.Pzxid = s.obs.v.stat.Czxid
	}
}

// applyState brings the node at p to o, reporting the change. A state
// older than the cached one (an earlier Czxid, or the same Czxid and an
// earlier Mzxid) is ignored.
func (a *applier) applyState(p string, o obs) {
	cur, curSeq := a.t.get(p)
	nv := o.v
	switch {
	case nv == nil:
		if cur != nil {
			a.removeTree(p)
		}
		return
	case cur == nil:
		a.create(p, o)
		return
	case nv.stat.Czxid < cur.stat.Czxid:
		return
	case nv.stat.Czxid > cur.stat.Czxid:
		a.removeTree(p)
		a.create(p, o)
		return
	case nv.stat.Mzxid < cur.stat.Mzxid:
		return
	case nv.stat.Mzxid == cur.stat.Mzxid:
		// The same data; a Stat read later has newer children
		// counts or ACL version.
		if o.seq > curSeq {
			a.t.set(p, nv, o.seq, p == a.root)
		}
		return
	}
	old := Node{Data: cur.data, Stat: cur.stat}
	a.t.set(p, nv, o.seq, p == a.root)
	a.emit(Event{Type: EventChanged, Path: p, Old: old, New: Node{Data: nv.data, Stat: nv.stat}})
}

// create puts a node in the tree. A node whose parent is not cached is
// left out: the parent is gone, so the node is too.
func (a *applier) create(p string, o obs) {
	if p != a.root {
		if pv, _ := a.t.get(parentOf(p)); pv == nil {
			a.log.Debug("cache: a node without its parent left out", "path", p)
			return
		}
	}
	a.t.set(p, o.v, o.seq, p == a.root)
	a.emit(Event{Type: EventCreated, Path: p, New: Node{Data: o.v.data, Stat: o.v.stat}})
}

// removeTree takes the node at p and its cached descendants out of the
// tree, deepest first.
func (a *applier) removeTree(p string) {
	for _, q := range a.t.subtree(p) {
		v, _ := a.t.get(q)
		a.emit(Event{Type: EventDeleted, Path: q, Old: Node{Data: v.data, Stat: v.stat}})
		a.t.remove(q, q == a.root)
	}
}

// applyGroup applies a sweep's observations: the deletions first, deepest
// first, then creations and changes in zxid order (so parents come before
// their children), then EventInitialized or EventResynced.
func (a *applier) applyGroup() {
	type update struct {
		path string
		o    obs
		key  int64
	}
	var dels []string
	var ups []update
	for p, o := range a.group {
		cur, _ := a.t.get(p)
		recreated := cur != nil && o.v != nil && o.v.stat.Czxid > cur.stat.Czxid
		if cur != nil && o.v == nil || recreated {
			dels = append(dels, p)
		}
		if o.v != nil {
			key := o.v.stat.Mzxid
			if cur == nil || recreated {
				key = o.v.stat.Czxid
			}
			ups = append(ups, update{p, o, key})
		}
	}
	a.group = nil
	slices.SortFunc(dels, func(x, y string) int {
		return cmp.Or(cmp.Compare(strings.Count(y, "/"), strings.Count(x, "/")), strings.Compare(x, y))
	})
	for _, p := range dels {
		if v, _ := a.t.get(p); v != nil {
			a.removeTree(p)
		}
	}
	slices.SortFunc(ups, func(x, y update) int {
		return cmp.Or(cmp.Compare(x.key, y.key), strings.Compare(x.path, y.path))
	})
	for _, u := range ups {
		a.applyState(u.path, u.o)
	}
	now := time.Now()
	if !a.initialized {
		a.initialized = true
		a.stats.PrimeTime = now.Sub(a.started)
		a.emit(Event{Type: EventInitialized})
	} else {
		stale := now.Sub(a.knownAt)
		a.stats.Resyncs++
		a.stats.LastStale = stale
		a.log.Info("cache: re-read complete", "stale", stale)
		a.emit(Event{Type: EventResynced, Stale: stale})
	}
	a.stale = false
}
