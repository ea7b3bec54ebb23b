package recipe

import "sync"

// A Broadcast hands every value published to every subscriber without
// ever blocking the publisher, which is often the handle's completion
// goroutine: a recipe's listeners (Curator's SharedCountListener,
// ServiceCacheListener) as channels. Each subscriber's channel holds one
// value, and a value not yet received is replaced by the next one, so a
// subscriber that falls behind skips to the latest.
//
// The zero value is ready to use. A Broadcast must not be copied after
// first use.
type Broadcast[T any] struct {
	mu     sync.Mutex
	subs   map[chan T]struct{}
	closed bool
}

// Subscribe returns a channel that receives the values published from
// now on (the latest one when the receiver falls behind), and a function
// that ends the subscription and closes the channel. The function is
// idempotent. After Close, Subscribe returns a closed channel.
func (b *Broadcast[T]) Subscribe() (<-chan T, func()) {
	ch := make(chan T, 1)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		close(ch)
		return ch, func() {}
	}
	if b.subs == nil {
		b.subs = make(map[chan T]struct{})
	}
	b.subs[ch] = struct{}{}
	return ch, func() { b.unsubscribe(ch) }
}

func (b *Broadcast[T]) unsubscribe(ch chan T) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.subs[ch]; ok {
		delete(b.subs, ch)
		close(ch)
	}
}

// Publish hands v to every subscriber, replacing a value a subscriber has
// not received yet. It never blocks; after Close it does nothing.
func (b *Broadcast[T]) Publish(v T) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case <-ch: // superseded
		default:
		}
		ch <- v // room for one, and only Publish sends, under b.mu
	}
}

// Close ends every subscription, closing the channels after the value
// each still holds, if any. It is idempotent.
func (b *Broadcast[T]) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for ch := range b.subs {
		close(ch)
	}
	b.subs = nil
}
