package completion

import (
	"context"
	"sync"
	"time"

	"github.com/zkloop/zkloop/hashtable"
	"github.com/zkloop/zkloop/serialize"
)

// maxPooledReply is the largest reply buffer an Entry keeps when it goes
// back to the pool; larger ones are left to the garbage collector so that
// one big reply does not pin memory forever.
const maxPooledReply = 64 << 10

// Entry is one pending request or one notification (completion_list_t).
//
// The loop fills Rc and either the result fields (a synchronous call, under
// Claim/Deliver) or Reply (an asynchronous one, decoded later on the
// completion goroutine). An Entry belongs to exactly one party at a time:
// the caller while it queues the request, then the handle's lists, then
// whoever completes it, which recycles it with Put.
type Entry struct {
	Xid   int32
	Op    serialize.OpCode
	Watch hashtable.Registration // activated when the reply succeeds
	Rc    serialize.Error        // the reply's error code, or a local failure

	// Callback is the typed user callback of an asynchronous request; nil
	// for a synchronous one. The handle knows the types.
	Callback any
	// Reply is the body of an asynchronous reply, after the ReplyHeader. It
	// is owned by the entry and reused across pool round trips.
	Reply []byte

	// Results of a synchronous call, or decoded from Reply for a callback.
	Stat     serialize.Stat
	Data     []byte
	Path     string
	Children []string
	Value    any // results of rarer requests (multi, whoAmI, ...)

	// A notification: the event's type and session state (its path is
	// Path), and the watchers to call, collected by the loop when the
	// event arrived.
	EventType serialize.EventType
	State     serialize.State
	Watchers  []hashtable.Watcher

	// With a tracer (zhandle.WithTracer): a request's path and when it
	// was queued, or when a notification arrived; zero without one.
	TracePath  string
	TraceStart time.Time

	ctx    context.Context // a synchronous caller's; nil for an asynchronous entry
	mu     sync.Mutex
	cond   sync.Cond
	state  waitState
	next   *Entry
	pooled bool
}

type waitState uint8

const (
	waiting   waitState = iota
	delivered           // the result is in the entry; the waiter owns it
	abandoned           // the waiter left; whoever completes the entry recycles it
)

var pool = sync.Pool{New: func() any {
	e := new(Entry)
	e.cond.L = &e.mu
	return e
}}

// Get returns a cleared entry from the pool, for an asynchronous request
// or a notification.
func Get() *Entry {
	e := pool.Get().(*Entry)
	e.pooled = false
	e.state = waiting
	return e
}

// GetSync returns a cleared entry for a synchronous request whose caller
// waits with ctx (Wait).
func GetSync(ctx context.Context) *Entry {
	e := Get()
	e.ctx = ctx
	return e
}

// Put clears e and returns it to the pool. Slices the entry owns keep their
// capacity; references to user memory and callbacks are dropped.
func Put(e *Entry) {
	if e.pooled {
		panic("completion: entry recycled twice") // an internal bug, never input
	}
	if cap(e.Reply) > maxPooledReply {
		e.Reply = nil
	}
	clear(e.Watchers)
	clear(e.Children)
	e.Xid, e.Op, e.Watch, e.Rc, e.Callback = 0, 0, hashtable.Registration{}, serialize.Ok, nil
	e.Reply, e.Watchers, e.Children = e.Reply[:0], e.Watchers[:0], e.Children[:0]
	e.Stat, e.Data, e.Path, e.Value = serialize.Stat{}, nil, "", nil
	e.EventType, e.State = 0, 0
	e.TracePath, e.TraceStart = "", time.Time{}
	e.ctx, e.next, e.pooled = nil, nil, true
	pool.Put(e)
}

// Synchronous reports whether a caller waits on e.
func (e *Entry) Synchronous() bool { return e.ctx != nil }

// ContextErr returns the error of a synchronous caller's context once it
// is done, and nil otherwise or for an asynchronous entry. A request whose
// caller gave up before it was queued must not be sent.
func (e *Entry) ContextErr() error {
	if e.ctx == nil {
		return nil
	}
	return e.ctx.Err()
}

// Claim locks a synchronous entry so that its completer can fill the
// result. It returns false, with the entry unlocked, when the waiter has
// gone (its context ended): the completer must then recycle the entry
// without touching the result fields, which may alias the caller's memory.
func (e *Entry) Claim() bool {
	e.mu.Lock()
	if e.state == abandoned {
		e.mu.Unlock()
		return false
	}
	return true
}

// Deliver ends a Claim: it marks the result ready and wakes the waiter,
// which from then on owns the entry.
func (e *Entry) Deliver() {
	e.state = delivered
	e.cond.Signal()
	e.mu.Unlock()
}

// Wait blocks until the result is delivered or the context given to
// GetSync ends (the wait of zoo_get and friends on sync_completion, made
// cancellable). On nil the caller owns e and must Put it after reading the
// result. On the context's error the entry is abandoned and the completer
// recycles it; the caller must not touch it again.
func (e *Entry) Wait() error {
	ctx := e.ctx
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, e.wake)
		defer stop()
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for e.state == waiting {
		if err := ctx.Err(); err != nil {
			e.state = abandoned
			return err
		}
		e.cond.Wait()
	}
	return nil
}

// wake is run by context.AfterFunc; waiters recheck their condition, so a
// late wake of a recycled entry is harmless.
func (e *Entry) wake() {
	e.mu.Lock()
	e.cond.Broadcast()
	e.mu.Unlock()
}
