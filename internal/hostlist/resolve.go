package hostlist

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// DefaultPort is used for a host given without a port, as the Java client
// does.
const DefaultPort = 2181

// Address is one resolved server address (an entry of addrvec_t).
type Address struct {
	AddrPort netip.AddrPort
	Host     string // as the host list names it, for TLS verification
}

func (a Address) String() string { return a.AddrPort.String() }

// SameServer reports whether b is the socket address of a, whatever the
// names they were resolved from.
func (a Address) SameServer(b Address) bool { return a.AddrPort == b.AddrPort }

// ErrNoServer is the error of a host list of which nothing resolves.
var ErrNoServer = errors.New("no usable server")

// Resolve is getaddrs of zookeeper.c: it parses a comma-separated host list
// (host:port, [v6]:port, host without a port meaning DefaultPort),
// resolves every name to all its IPv4 and IPv6 addresses, skips names that
// do not resolve and fails, with an error wrapping ErrNoServer, only when
// nothing resolves. Duplicates are dropped. The order is the list's, each
// name's addresses in resolver order. IP literals need no resolver; names
// take as long as ctx allows.
func Resolve(ctx context.Context, hosts string) ([]Address, error) {
	var out []Address
	seen := make(map[netip.AddrPort]bool)
	var firstErr error
	for _, hp := range strings.Split(hosts, ",") {
		hp = strings.TrimSpace(hp)
		if hp == "" {
			continue
		}
		addrs, err := resolveOne(ctx, hp)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		for _, a := range addrs {
			if !seen[a.AddrPort] {
				seen[a.AddrPort] = true
				out = append(out, a)
			}
		}
	}
	if len(out) == 0 {
		if firstErr == nil {
			firstErr = fmt.Errorf("no hosts in %q", hosts)
		}
		return nil, fmt.Errorf("%w: %w", ErrNoServer, firstErr)
	}
	return out, nil
}

func resolveOne(ctx context.Context, hostport string) ([]Address, error) {
	host, portStr, err := net.SplitHostPort(hostport)
	if err != nil {
		// No port: "host", "::1" or "[::1]".
		host, portStr = strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]"), strconv.Itoa(DefaultPort)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil || port == 0 {
		return nil, fmt.Errorf("bad port in %q", hostport)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return []Address{{AddrPort: netip.AddrPortFrom(ip, uint16(port)), Host: host}}, nil
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, fmt.Errorf("resolve %q: %w", host, err)
	}
	out := make([]Address, 0, len(ips))
	for _, ip := range ips {
		// LookupNetIP gives IPv4 addresses in their IPv6-mapped form
		// (golang/go#53554): unmap them, or "localhost:2181" would not
		// equal "127.0.0.1:2181" for duplicates and SetServers.
		out = append(out, Address{AddrPort: netip.AddrPortFrom(ip.Unmap(), uint16(port)), Host: host})
	}
	return out, nil
}

// HasNames reports whether a host list names any host by name rather than
// by IP literal: only then can resolving it again change it, or take time.
func HasNames(hosts string) bool {
	for _, hp := range strings.Split(hosts, ",") {
		host, _, err := net.SplitHostPort(strings.TrimSpace(hp))
		if err != nil {
			host = strings.Trim(strings.TrimSpace(hp), "[]")
		}
		if _, err := netip.ParseAddr(host); err != nil && host != "" {
			return true
		}
	}
	return false
}

// Shuffle randomises the order of the addresses (as zookeeper_init does
// unless deterministic order is asked for) so that clients spread over
// the ensemble.
func Shuffle(addrs []Address) {
	rand.Shuffle(len(addrs), func(i, j int) { addrs[i], addrs[j] = addrs[j], addrs[i] })
}
