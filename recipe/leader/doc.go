// Package leader is leader election on ZooKeeper that interoperates with
// Apache Curator 5.4: Latch is LeaderLatch and Selector is
// LeaderSelector, node for node, so Go and Java processes can elect one
// leader among them.
//
//	l := leader.NewLatch(h, "/services/indexer/leader", "go-agent-7")
//	if err := l.Start(ctx); err != nil { ... }
//	defer l.Close()
//	for {
//		term, err := l.Await(ctx) // until we lead
//		if err != nil { ... }
//		lead(term) // stop when term is closed: another may lead from then on
//	}
//
// A Selector runs a function while it leads instead, with a context that
// ends with the leadership:
//
//	s := leader.NewSelector(h, "/jobs/leader", "go-agent-7", func(ctx context.Context) {
//		runJobs(ctx)
//	}, leader.WithAutoRequeue())
//	if err := s.Start(); err != nil { ... }
//	defer s.Close()
//
// # Znodes (CURATOR.md §3)
//
// A Latch creates a protected EPHEMERAL_SEQUENTIAL node in the election's
// directory, "_c_<uuid>-latch-NNNNNNNNNN", holding its id as UTF-8 (empty
// by default, as Curator's). A Selector holds a lock.Mutex on the
// directory: "_c_<uuid>-lock-NNNNNNNNNN" nodes holding its id, or without
// one the local IP address as text, as Curator's LeaderSelector. Missing
// directories are created as containers. Participants are ordered by the
// text after the marker, as Curator orders them
// (recipe.SortSequential); the first leads, and every other one watches
// only its predecessor. Participants and Leader read the ids back, from
// Go and Java members alike, and work without joining: a Latch or
// Selector that is never started observes the election, as Curator's do.
//
// # Losing the leadership
//
// A leadership lasts only as long as the session whose node made it, and
// a process cannot always know whether its session still lives. The
// holder is told, by events and never by polling (Await's channel, the
// lead function's context), when:
//
//   - the connection is lost (recipe.Suspended), by default: Curator's
//     StandardConnectionStateErrorPolicy, since another participant may
//     lead as soon as the server expires the session; WithErrorPolicy
//     (recipe.SessionErrorPolicy) keeps leading through a suspension;
//   - at the latest, when the connection has been down until the handle's
//     SessionAliveUntil, before the server can expire the session and
//     elect another leader (recipe.Lost); or the session expires;
//   - someone deletes the participant's node;
//   - the Latch or Selector is closed, or the Selector interrupted.
//
// So two participants never both believe they lead past the moment the
// server could expire the old leader's session. After a reconnection a
// Latch checks its place again, as Curator does on RECONNECTED, and leads
// again if its node is still first. Before it leads, it reads its node
// again and checks that the node belongs to its current session (the
// double-leader bug of Curator before 5.7, CURATOR.md P2).
//
// Closing the handle under a Latch or Selector ends its leadership as a
// lost session does. After the session expires the handle is finished,
// and so are the recipes on it: make a new handle and new participants.
//
// # Where this differs from Curator
//
// Close ends a Latch's leadership before it deletes the node, where
// Curator's LeaderLatch deletes first and notifies after, so a Go leader
// has stopped before the next one can be chosen. The leadership is lost
// at SessionAliveUntil at the latest, where Curator waits a full session
// timeout after SUSPENDED. A Latch also watches its own node while it
// leads, so that an outside delete ends its leadership at once. A Java
// LeaderSelector on a session that expires makes a new node with its new
// session; a Selector here ends with its handle.
package leader
