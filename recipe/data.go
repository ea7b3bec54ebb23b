package recipe

import (
	"context"
	"net"
	"os"
	"strconv"
	"sync"
	"time"
)

// resolveTimeout bounds the one look-up of the local host's address.
const resolveTimeout = 2 * time.Second

// DefaultData returns the data Curator writes where a recipe is given none
// (CuratorFrameworkFactory's default data): the address the local host
// name resolves to, as text, for example "127.0.0.1" (Java's
// InetAddress.getLocalHost().getHostAddress(), IPv4 first), or empty when
// the name does not resolve. It is looked up once. The slice is shared:
// callers must not modify it.
func DefaultData() []byte { return defaultData() }

var defaultData = sync.OnceValue(func() []byte {
	host, err := os.Hostname()
	if err != nil {
		return []byte{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil || len(addrs) == 0 {
		return []byte{}
	}
	for _, a := range addrs {
		if ip4 := a.IP.To4(); ip4 != nil {
			return []byte(ip4.String())
		}
	}
	return javaIPv6(addrs[0])
})

// javaIPv6 formats an IPv6 address as Java's Inet6Address.getHostAddress
// does: eight groups of hex digits without leading zeros and without "::"
// compression, then "%" and the zone, if any ("fd00:0:0:0:0:0:0:2%eth0").
func javaIPv6(a net.IPAddr) []byte {
	ip := a.IP.To16()
	if ip == nil {
		return []byte{}
	}
	var text []byte
	for i := 0; i < net.IPv6len; i += 2 {
		if i > 0 {
			text = append(text, ':')
		}
		text = strconv.AppendUint(text, uint64(ip[i])<<8|uint64(ip[i+1]), 16)
	}
	if a.Zone != "" {
		text = append(append(text, '%'), a.Zone...)
	}
	return text
}
