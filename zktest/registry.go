package zktest

import "sync"

// registry holds the servers and proxies of this test binary that are
// alive, by address, so that ExpireSession can find the server behind the
// address a handle is connected to.
var registry = &addresses{servers: map[string]*Server{}, proxies: map[string]*Proxy{}}

type addresses struct {
	mu      sync.Mutex
	servers map[string]*Server // by client address and secure address
	proxies map[string]*Proxy  // by listening address
}

func (r *addresses) add(s *Server) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.servers[s.Addr()] = s
	if addr := s.SecureAddr(); addr != "" {
		r.servers[addr] = s
	}
}

func (r *addresses) remove(s *Server) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, addr := range []string{s.Addr(), s.SecureAddr()} {
		if r.servers[addr] == s {
			delete(r.servers, addr)
		}
	}
}

func (r *addresses) addProxy(p *Proxy) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.proxies[p.Addr()] = p
}

func (r *addresses) removeProxy(p *Proxy) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.proxies[p.Addr()] == p {
		delete(r.proxies, p.Addr())
	}
}

// resolve follows addr through the proxies of this binary to the address
// they forward to, and returns the server listening there, or nil when it
// is none of this binary's (an outside server, or one that has ended),
// with the address reached.
func (r *addresses) resolve(addr string) (*Server, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for range len(r.proxies) + 1 { // a proxy chain cannot be longer; a loop is cut
		p := r.proxies[addr]
		if p == nil {
			break
		}
		addr = p.Target()
	}
	return r.servers[addr], addr
}
