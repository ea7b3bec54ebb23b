package leader_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/zkloop/zkloop/internal/recipetest"
	"github.com/zkloop/zkloop/recipe"
	"github.com/zkloop/zkloop/recipe/leader"
	"github.com/zkloop/zkloop/zhandle"
)

// turn is one run of a lead function: whose, its context, and how to end
// it.
type turn struct {
	who     string
	ctx     context.Context
	release chan struct{}
	ended   chan struct{} // closed when the function returns
}

// leads hands out the turns of lead functions and counts how many run at
// once; each turn lasts until released or its context ends.
type leads struct {
	turns         chan turn
	running, most atomic.Int32
}

func newLeads() *leads { return &leads{turns: make(chan turn, 16)} }

func (ls *leads) fn(who string) func(context.Context) {
	return func(ctx context.Context) {
		n := ls.running.Add(1)
		for m := ls.most.Load(); n > m && !ls.most.CompareAndSwap(m, n); m = ls.most.Load() {
		}
		tn := turn{who: who, ctx: ctx, release: make(chan struct{}), ended: make(chan struct{})}
		defer close(tn.ended)
		defer ls.running.Add(-1)
		ls.turns <- tn
		select {
		case <-tn.release:
		case <-ctx.Done():
		}
	}
}

// next waits for the next turn, which must be who's.
func (ls *leads) next(t *testing.T, who string) turn {
	t.Helper()
	tn := recipetest.Receive(t, ls.turns, who+"'s turn")
	if tn.who != who {
		t.Fatalf("%s leads, want %s", tn.who, who)
	}
	return tn
}

// startSelector starts a Selector, closed when the test ends.
func startSelector(t *testing.T, sel *leader.Selector) *leader.Selector {
	t.Helper()
	if err := sel.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sel.Close() })
	return sel
}

// Two requeueing selectors take turns, never together: a lead function
// that returns, or is interrupted, hands the leadership over.
func testSelectorTurns(t *testing.T, s *recipetest.Site) {
	h := s.Connect(t)
	ls := newLeads()
	a := startSelector(t, leader.NewSelector(s.Connect(t), dir, "a", ls.fn("a"), leader.WithAutoRequeue()))
	first := ls.next(t, "a")
	b := startSelector(t, leader.NewSelector(s.Connect(t), dir, "b", ls.fn("b"), leader.WithAutoRequeue()))
	recipetest.WaitChildren(t, h, dir, 2)
	if !a.IsLeader() || b.IsLeader() {
		t.Errorf("IsLeader: a %v, b %v; want a only", a.IsLeader(), b.IsLeader())
	}
	close(first.release)
	second := ls.next(t, "b")
	recipetest.WaitChildren(t, h, dir, 2) // a queued again
	b.Interrupt()
	third := ls.next(t, "a")
	if err := second.ctx.Err(); !errors.Is(err, context.Canceled) {
		t.Errorf("interrupted lead function's context: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if !isClosed(third.ended) {
		t.Error("Close returned before the lead function")
	}
	ls.next(t, "b")
	if most := ls.most.Load(); most != 1 {
		t.Errorf("%d lead functions at once", most)
	}
}

// Without WithAutoRequeue a Selector leads once; Requeue queues it again.
func testSelectorRequeue(t *testing.T, s *recipetest.Site) {
	h := s.Connect(t)
	ls := newLeads()
	sel := leader.NewSelector(h, dir, "once", ls.fn("once"))
	if sel.Requeue() {
		t.Error("Requeue before Start queued the selector")
	}
	startSelector(t, sel)
	tn := ls.next(t, "once")
	if sel.Requeue() {
		t.Error("Requeue while leading queued the selector again")
	}
	close(tn.release)
	recipetest.WaitChildren(t, h, dir, 0)
	<-tn.ended
	if sel.IsLeader() {
		t.Error("IsLeader after the lead function returned")
	}
	if !sel.Requeue() {
		t.Fatal("Requeue after the lead function returned did not queue the selector")
	}
	close(ls.next(t, "once").release)
	recipetest.WaitChildren(t, h, dir, 0)
	if err := sel.Close(); err != nil {
		t.Fatal(err)
	}
	if sel.Requeue() {
		t.Error("Requeue after Close queued the selector")
	}
}

// The lead function's context ends with the leadership: on a connection
// loss under StandardErrorPolicy (not under SessionErrorPolicy), and when
// someone deletes the lock's node.
func testSelectorCancel(t *testing.T, s *recipetest.Site) {
	for _, policy := range []recipe.ErrorPolicy{recipe.StandardErrorPolicy, recipe.SessionErrorPolicy} {
		t.Run(policy.String(), func(t *testing.T) {
			h, p := s.Proxied(t, recipetest.SessionTimeout)
			ls := newLeads()
			startSelector(t, leader.NewSelector(h, dir+"-"+policy.String(), "a", ls.fn("a"),
				leader.WithErrorPolicy(policy), leader.WithAutoRequeue()))
			tn := ls.next(t, "a")
			events := sessionEvents(t, h)
			p.Cut()
			waitState(t, events, zhandle.StateConnected) // the lock's RECONNECTED was delivered before
			if cancelled := tn.ctx.Err() != nil; cancelled != (policy == recipe.StandardErrorPolicy) {
				t.Errorf("context cancelled by a connection loss: %v", cancelled)
			}
			if policy == recipe.StandardErrorPolicy {
				ls.next(t, "a") // requeued
			}
		})
	}
	t.Run("outside delete", func(t *testing.T) {
		h := s.Connect(t)
		ls := newLeads()
		sel := startSelector(t, leader.NewSelector(s.Connect(t), dir, "a", ls.fn("a")))
		tn := ls.next(t, "a")
		ldr, err := sel.Leader(recipetest.Context(t))
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Delete(recipetest.Context(t), ldr.Node, -1); err != nil {
			t.Fatal(err)
		}
		recipetest.Receive(t, tn.ctx.Done(), "the end of the lead function's context")
	})
}

// Participants reads the ids of a Selector's election; a Selector without
// an id writes the local IP address, as Curator's does.
func testSelectorParticipants(t *testing.T, s *recipetest.Site) {
	h := s.Connect(t)
	ls := newLeads()
	startSelector(t, leader.NewSelector(s.Connect(t), dir, "sel-a", ls.fn("sel-a")))
	ls.next(t, "sel-a")
	startSelector(t, leader.NewSelector(s.Connect(t), dir, "", ls.fn("")))
	nodes := recipetest.WaitChildren(t, h, dir, 2)
	recipe.SortSequential(nodes, "lock-")
	want := []leader.Participant{
		{ID: "sel-a", IsLeader: true, Node: dir + "/" + nodes[0]},
		{ID: string(recipe.DefaultData()), Node: dir + "/" + nodes[1]},
	}
	checkViews(t, leader.NewSelector(h, dir, "observer", ls.fn("observer")), want)
}
