package leader

import "context"

// SetObserver has f called at every change of l's leadership, at the
// moment it changes (under the latch's lock), with the node it concerns:
// what lets a test order leaderships exactly. Call it before Start; f must
// not call l's methods.
func SetObserver(l *Latch, f func(leading bool, node string)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.observe = f
}

// StartAdopting starts l as Start does, but takes for its first node the
// one at path, as made by the session owner, instead of creating one: the
// state of a latch whose session was replaced while its node was listed
// (CURATOR.md P2).
func StartAdopting(ctx context.Context, l *Latch, path string, owner int64) error {
	return l.start(ctx, func(context.Context) error {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.path, l.owner = path, owner
		return nil
	})
}
