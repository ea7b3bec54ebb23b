package leader

import (
	"github.com/zkloop/zkloop/recipe"
	"github.com/zkloop/zkloop/zhandle"
)

// An Option changes how a Latch or a Selector makes its node and when it
// counts its leadership lost.
type Option func(*config)

type config struct {
	acl         []zhandle.ACL
	policy      recipe.ErrorPolicy
	autoRequeue bool
}

func newConfig(opts []Option) config {
	c := config{acl: zhandle.OpenACLUnsafe, policy: recipe.StandardErrorPolicy}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// WithACL sets the ACL of the participant's node; the default is
// zhandle.OpenACLUnsafe. A missing election directory is created as a
// container with zhandle.OpenACLUnsafe, as Curator's default ACL provider
// makes it; create it beforehand for another ACL.
func WithACL(acl []zhandle.ACL) Option {
	return func(c *config) { c.acl = acl }
}

// WithErrorPolicy sets which connection states end a leadership. The
// default, recipe.StandardErrorPolicy (Curator's default), ends it as soon
// as the connection is lost (recipe.Suspended), since the session may be
// expiring and another participant about to lead; after the reconnection
// the participant checks its place again and leads again if it still may.
// recipe.SessionErrorPolicy keeps leading through a suspension and ends
// the leadership only when the session is, or may be, gone (recipe.Lost:
// at the latest when the server could expire it): fewer changes of leader
// on a flaky network, at the price of a leader that cannot reach
// ZooKeeper for up to a session timeout.
func WithErrorPolicy(p recipe.ErrorPolicy) Option {
	return func(c *config) { c.policy = p }
}

// WithAutoRequeue makes a Selector queue again for the leadership each
// time its lead function returns, whatever ended it (Curator's
// LeaderSelector.autoRequeue). Without it, a Selector leads once and then
// waits for Requeue. A Latch ignores it: it stays in the election until
// closed.
func WithAutoRequeue() Option {
	return func(c *config) { c.autoRequeue = true }
}
