package leader

import (
	"context"
	"errors"

	"github.com/zkloop/zkloop/recipe"
	"github.com/zkloop/zkloop/zhandle"
)

// Marker of the nodes of each election, which they sort by.
const (
	latchMarker    = "latch-" // LeaderLatch
	selectorMarker = "lock-"  // LeaderSelector: an InterProcessMutex
)

// A Participant is one member of an election, as Curator's Participant
// describes it.
type Participant struct {
	// ID is the participant's id: its node's data as text. A LeaderLatch
	// writes its id, empty by default; a LeaderSelector its id, or
	// without one Curator's default data, the host's IP address as text
	// ("127.0.0.1"). Any bytes are accepted.
	ID string
	// IsLeader is true for the first participant of the queue, the one
	// that leads or is about to.
	IsLeader bool
	// Node is the path of the participant's node.
	Node string
}

// An election is where participants meet and what their nodes are
// called; Latch and Selector embed it, so that both can observe their
// election without joining it.
type election struct {
	h      *zhandle.Handle
	dir    string
	marker string
}

// Participants lists the members of the election, leader first, with
// their ids, as Curator's getParticipants does: the nodes in queue order
// with their data, leaving out nodes gone since the listing. It works
// without joining: on a Latch or Selector never started. A missing
// election path has none. It costs two requests, a listing and one
// multiRead of the nodes' data. A ctx already done sends nothing.
func (e *election) Participants(ctx context.Context) ([]Participant, error) {
	children, err := e.queue(ctx)
	if err != nil || len(children) == 0 {
		return nil, err
	}
	ops := make([]zhandle.ReadOp, len(children))
	for i, child := range children {
		ops[i] = zhandle.GetDataOp{Path: recipe.Join(e.dir, child)}
	}
	var results []zhandle.ReadResult
	err = recipe.Retry(ctx, e.h, func() (err error) {
		results, err = e.h.MultiRead(ctx, ops...)
		return err
	})
	if err != nil {
		return nil, err
	}
	all := make([]Participant, 0, len(results))
	for i, r := range results {
		switch {
		case errors.Is(r.Err, zhandle.ErrNoNode): // left since the listing
			continue
		case r.Err != nil:
			return nil, r.Err
		}
		all = append(all, Participant{ID: string(r.Data), IsLeader: len(all) == 0, Node: recipe.Join(e.dir, children[i])})
	}
	return all, nil
}

// Leader returns the leader of the election, the first participant
// whose node exists, as Curator's getLeader does, or with no participant
// the zero Participant (Curator's dummy: id "", not leader). It reads the
// nodes in order until one exists: usually two requests. It works
// without joining. A ctx already done sends nothing.
func (e *election) Leader(ctx context.Context) (Participant, error) {
	children, err := e.queue(ctx)
	if err != nil {
		return Participant{}, err
	}
	for _, child := range children {
		node := recipe.Join(e.dir, child)
		var data []byte
		err := recipe.Retry(ctx, e.h, func() (err error) {
			data, _, err = e.h.Get(ctx, node, false)
			return err
		})
		switch {
		case err == nil:
			return Participant{ID: string(data), IsLeader: true, Node: node}, nil
		case !errors.Is(err, zhandle.ErrNoNode):
			return Participant{}, err
		}
	}
	return Participant{}, nil
}

// queue returns the children of the election's directory in its order,
// none when the directory does not exist. Connection losses are retried.
func (e *election) queue(ctx context.Context) ([]string, error) {
	if e.h == nil {
		return nil, errNoHandle
	}
	var children []string
	err := recipe.Retry(ctx, e.h, func() (err error) {
		children, err = e.h.GetChildren(ctx, e.dir, false)
		return err
	})
	switch {
	case errors.Is(err, zhandle.ErrNoNode):
		return nil, nil
	case err != nil:
		return nil, err
	}
	recipe.SortSequential(children, e.marker)
	return children, nil
}
