package completion

// List is an intrusive FIFO of entries with push-front
// (queue_completion_nolock in zookeeper.c). The zero List is empty. A List
// is not safe for concurrent use; its owner locks.
type List struct {
	head, tail *Entry
	n          int
}

// Len returns the number of entries.
func (l *List) Len() int { return l.n }

// Front returns the first entry without removing it, or nil.
func (l *List) Front() *Entry { return l.head }

// PushBack appends e.
func (l *List) PushBack(e *Entry) {
	e.next = nil
	if l.tail == nil {
		l.head = e
	} else {
		l.tail.next = e
	}
	l.tail = e
	l.n++
}

// PushFront prepends e.
func (l *List) PushFront(e *Entry) {
	e.next = l.head
	l.head = e
	if l.tail == nil {
		l.tail = e
	}
	l.n++
}

// PopFront removes and returns the first entry, or nil.
func (l *List) PopFront() *Entry {
	e := l.head
	if e == nil {
		return nil
	}
	l.head = e.next
	if l.head == nil {
		l.tail = nil
	}
	e.next = nil
	l.n--
	return e
}

// TakeAll moves every entry into a new List and leaves l empty.
func (l *List) TakeAll() List {
	all := *l
	*l = List{}
	return all
}
