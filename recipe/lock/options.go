package lock

import (
	"github.com/zkloop/zkloop/recipe"
	"github.com/zkloop/zkloop/zhandle"
)

// An Option changes how a lock makes its nodes and when it counts itself
// lost.
type Option func(*config)

type config struct {
	data    []byte
	dataSet bool // else recipe.DefaultData, looked up at the first create
	acl     []zhandle.ACL
	policy  recipe.ErrorPolicy
}

func newConfig(opts []Option) config {
	c := config{acl: zhandle.OpenACLUnsafe, policy: recipe.SessionErrorPolicy}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// nodeData returns the data of the lock's nodes.
func (c *config) nodeData() []byte {
	if c.dataSet {
		return c.data
	}
	return recipe.DefaultData()
}

// WithData sets the data of the lock's nodes (a semaphore's lease
// nodes). The default is recipe.DefaultData, the local IP address as
// text, which is what Curator writes. The slice is used as it is: do not
// modify it afterwards.
func WithData(data []byte) Option {
	return func(c *config) { c.data, c.dataSet = data, true }
}

// WithACL sets the ACL of the lock's nodes; the default is
// zhandle.OpenACLUnsafe. Missing parent directories are created as
// containers with zhandle.OpenACLUnsafe, as Curator's default ACL provider
// makes them; create them beforehand for another ACL.
func WithACL(acl []zhandle.ACL) Option {
	return func(c *config) { c.acl = acl }
}

// WithErrorPolicy sets which connection states end a holding and close
// its Lost channel. The default, recipe.SessionErrorPolicy, ends it only
// when the session is, or may be, gone (recipe.Lost);
// recipe.StandardErrorPolicy also ends it as soon as the connection is
// lost (recipe.Suspended), the safe choice when the critical section must
// never overlap another holder's, at the price of giving up the lock at
// every connection loss.
func WithErrorPolicy(p recipe.ErrorPolicy) Option {
	return func(c *config) { c.policy = p }
}
