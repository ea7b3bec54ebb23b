package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/zkloop/zkloop/recipe/leader"
	"github.com/zkloop/zkloop/zhandle"
)

// cmdLeader is "leader path id": it joins the election at path as a
// participant that Curator's LeaderLatch recognises (recipe/leader), with
// id as its id, and prints what changes until interrupted: the
// participants, and this one becoming the leader or losing the
// leadership. Then it leaves the election.
func cmdLeader(ctx context.Context, s *shell, h *zhandle.Handle, o opts) error {
	path, id := o.args[1], o.args[2]
	l := leader.NewLatch(h, path, id)
	if err := l.Start(ctx); err != nil {
		return err
	}
	defer l.Close() // idempotent; always nil
	fmt.Fprintf(s.out, "Joined election %s as %q (node %s); interrupt to leave\n", path, id, l.Node())
	changes, stop := leadership(ctx, l)
	defer stop()
	childrenChanged := make(wake, 1)
	childrenChanged <- struct{}{} // list them at once
	shown := ""
	// leave ends the command: interrupted, it leaves the election;
	// otherwise err says why the command failed.
	leave := func(err error) error {
		if ctx.Err() == nil {
			return err
		}
		_ = l.Close() // always nil
		fmt.Fprintf(s.out, "Left election %s\n", path)
		return nil
	}
	for {
		select {
		case <-childrenChanged:
			// Watch first, then read: no change falls in between.
			_, err := h.WGetChildren(ctx, path, childrenChanged)
			if errors.Is(err, zhandle.ErrNoNode) { // removed while we make a new node: watch for it
				_, err = h.WExists(ctx, path, childrenChanged)
			}
			if err != nil && !errors.Is(err, zhandle.ErrNoNode) {
				return leave(err)
			}
			ps, err := l.Participants(ctx)
			if err != nil {
				return leave(err)
			}
			if line := participantsLine(ps, l.Node()); line != shown {
				fmt.Fprintln(s.out, line)
				shown = line
			}
		case leading, ok := <-changes:
			switch {
			case !ok:
				_, err := l.Await(ctx) // why it left
				return leave(fmt.Errorf("left the election %s: %w", path, err))
			case leading:
				fmt.Fprintln(s.out, "Became leader")
			default:
				fmt.Fprintln(s.out, "Lost leadership")
			}
		case <-ctx.Done():
			return leave(nil)
		}
	}
}

// leadership sends true on changes when l begins to lead and false when
// that leadership ends, until ctx ends or l leaves the election, which
// closes changes. stop ends it and waits for its goroutine.
func leadership(ctx context.Context, l *leader.Latch) (changes <-chan bool, stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	ch := make(chan bool)
	done := make(chan struct{})
	send := func(leading bool) bool {
		select {
		case ch <- leading:
			return true
		case <-ctx.Done():
			return false
		}
	}
	go func() {
		defer close(done)
		defer close(ch)
		for {
			term, err := l.Await(ctx)
			if err != nil || !send(true) {
				return
			}
			select {
			case <-term:
			case <-ctx.Done():
				return
			}
			if !send(false) {
				return
			}
		}
	}()
	return ch, func() {
		cancel()
		<-done
	}
}

// participantsLine describes the participants in their order, the leader
// and the node ours marked: Participants: "java-1" (leader), "go-7" (us).
func participantsLine(ps []leader.Participant, ours string) string {
	var b strings.Builder
	b.WriteString("Participants:")
	if len(ps) == 0 {
		b.WriteString(" none")
	}
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte(' ')
		b.WriteString(strconv.Quote(p.ID))
		switch {
		case p.IsLeader && p.Node == ours:
			b.WriteString(" (leader, us)")
		case p.IsLeader:
			b.WriteString(" (leader)")
		case p.Node == ours:
			b.WriteString(" (us)")
		}
	}
	return b.String()
}

// wake is a watcher that never blocks the completion goroutine: one
// pending wake-up is enough, since the reader reads everything again.
type wake chan struct{}

func (w wake) Process(zhandle.Event) {
	select {
	case w <- struct{}{}:
	default:
	}
}
