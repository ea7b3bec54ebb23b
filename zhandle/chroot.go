package zhandle

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// defaultPort is used for a host given without a port, as the Java client
// does.
const defaultPort = 2181

// address is one resolved server address (an entry of addrvec_t).
type address struct {
	addr netip.AddrPort
	host string // as the host list names it, for TLS verification
}

func (a address) String() string { return a.addr.String() }

// sameServer reports whether b is the socket address of a, whatever the
// names they were resolved from.
func (a address) sameServer(b address) bool { return a.addr == b.addr }

// sockaddr converts the address for connect(2).
func (a address) sockaddr() (unix.Sockaddr, int) {
	ip := a.addr.Addr()
	if ip.Is4() || ip.Is4In6() {
		return &unix.SockaddrInet4{Port: int(a.addr.Port()), Addr: ip.Unmap().As4()}, unix.AF_INET
	}
	sa := &unix.SockaddrInet6{Port: int(a.addr.Port()), Addr: ip.As16()}
	if zone := ip.Zone(); zone != "" {
		if ifi, err := net.InterfaceByName(zone); err == nil {
			sa.ZoneId = uint32(ifi.Index)
		}
	}
	return sa, unix.AF_INET6
}

// splitChroot separates "host:port,.../chroot" into the host list and the
// chroot ("" when absent or "/"), validating the chroot as a path.
func splitChroot(connect string) (hosts, chroot string, err error) {
	hosts, chroot, found := strings.Cut(connect, "/")
	if !found {
		return connect, "", nil
	}
	chroot = "/" + chroot
	if err := validatePath(chroot, false); err != nil {
		return "", "", fmt.Errorf("chroot: %w", err)
	}
	if chroot == "/" {
		chroot = ""
	}
	return hosts, chroot, nil
}

// resolveHosts is getaddrs of zookeeper.c: it parses a comma-separated
// host list (host:port, [v6]:port, host without a port meaning 2181),
// resolves every name to all its IPv4 and IPv6 addresses, skips names that
// do not resolve and fails only when nothing resolves. Duplicates are
// dropped. The order is the list's, each name's addresses in resolver
// order.
func resolveHosts(ctx context.Context, hosts string) ([]address, error) {
	var out []address
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
			if !seen[a.addr] {
				seen[a.addr] = true
				out = append(out, a)
			}
		}
	}
	if len(out) == 0 {
		if firstErr == nil {
			firstErr = fmt.Errorf("no hosts in %q", hosts)
		}
		return nil, fmt.Errorf("%w: %w", ErrBadArguments, firstErr)
	}
	return out, nil
}

func resolveOne(ctx context.Context, hostport string) ([]address, error) {
	host, portStr, err := net.SplitHostPort(hostport)
	if err != nil {
		// No port: "host", "::1" or "[::1]".
		host, portStr = strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]"), strconv.Itoa(defaultPort)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil || port == 0 {
		return nil, fmt.Errorf("bad port in %q", hostport)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return []address{{addr: netip.AddrPortFrom(ip, uint16(port)), host: host}}, nil
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, fmt.Errorf("resolve %q: %w", host, err)
	}
	out := make([]address, 0, len(ips))
	for _, ip := range ips {
		// LookupNetIP gives IPv4 addresses in their IPv6-mapped form
		// (golang/go#53554): unmap them, or "localhost:2181" would not
		// equal "127.0.0.1:2181" for duplicates and SetServers.
		out = append(out, address{addr: netip.AddrPortFrom(ip.Unmap(), uint16(port)), host: host})
	}
	return out, nil
}

// namesHosts reports whether a host list names any host by name rather
// than by IP literal: only then can re-resolution change it.
func namesHosts(hosts string) bool {
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

// shuffle randomises the order of the addresses (as zookeeper_init does
// unless ZOO_NO_SHUFFLE... is asked for) so that clients spread over the
// ensemble.
func shuffle(addrs []address) {
	rand.Shuffle(len(addrs), func(i, j int) { addrs[i], addrs[j] = addrs[j], addrs[i] })
}
