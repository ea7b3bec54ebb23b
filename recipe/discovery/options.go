package discovery

import (
	"log/slog"

	"github.com/zkloop/zkloop/zhandle"
)

// An Option changes how a ServiceDiscovery writes instances and reports
// trouble.
type Option func(*config)

type config struct {
	acl    []zhandle.ACL
	full   bool
	logger *slog.Logger
}

func newConfig(opts []Option) config {
	c := config{acl: zhandle.OpenACLUnsafe, logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// WithACL sets the ACL of the instance nodes; the default is
// zhandle.OpenACLUnsafe. Missing parents (the base path, a service's
// node) are made as containers with zhandle.OpenACLUnsafe, as Curator's
// default ACL provider makes them.
func WithACL(acl []zhandle.ACL) Option {
	return func(c *config) { c.acl = acl }
}

// WithFullJSON writes "enabled" in every instance, as Curator's
// JsonInstanceSerializer(payloadClass, false) does. The default writes
// what Curator's default serializer writes (see ServiceInstance's
// MarshalJSON); readers of Curator 5 read both.
func WithFullJSON() Option {
	return func(c *config) { c.full = true }
}

// WithLogger sends to l what the recipe cannot tell a caller: instance
// nodes that could not be read (left out of lists, as Curator's
// ServiceCache leaves them), and failed re-registrations after a
// reconnection. The default discards everything.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}
