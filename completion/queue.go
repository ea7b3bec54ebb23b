package completion

import "sync"

// Queue is completions_to_process: the FIFO between the I/O loop and the
// completion goroutine, guarded by a mutex and a condition variable.
type Queue struct {
	mu     sync.Mutex
	cond   sync.Cond
	list   List
	closed bool
}

// NewQueue returns an empty, open Queue.
func NewQueue() *Queue {
	q := &Queue{}
	q.cond.L = &q.mu
	return q
}

// Push appends e and wakes the completion goroutine.
func (q *Queue) Push(e *Entry) {
	q.mu.Lock()
	q.list.PushBack(e)
	q.mu.Unlock()
	q.cond.Signal()
}

// PushList appends every entry of l, in order, with one lock and one wakeup.
func (q *Queue) PushList(l *List) {
	if l.Len() == 0 {
		return
	}
	q.mu.Lock()
	for e := l.PopFront(); e != nil; e = l.PopFront() {
		q.list.PushBack(e)
	}
	q.mu.Unlock()
	q.cond.Signal()
}

// Close makes Run return once everything pushed so far has been delivered.
func (q *Queue) Close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cond.Broadcast()
}

// Run is do_completion: it takes entries in order and calls deliver on each,
// outside the lock, until the queue is closed and empty. deliver owns the
// entry it is given.
func (q *Queue) Run(deliver func(*Entry)) {
	for {
		q.mu.Lock()
		for q.list.Len() == 0 && !q.closed {
			q.cond.Wait()
		}
		batch := q.list.TakeAll()
		closed := q.closed
		q.mu.Unlock()
		if batch.Len() == 0 && closed {
			return
		}
		for e := batch.PopFront(); e != nil; e = batch.PopFront() {
			deliver(e)
		}
	}
}
