package access

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Proxies are the trusted reverse proxies (web.trusted_proxies).
type Proxies []netip.Prefix

func (p Proxies) trusted(a netip.Addr) bool {
	for _, pr := range p {
		if pr.Contains(a) {
			return true
		}
	}
	return false
}

// Client is the address of the client that made r: the connecting address,
// unless the connection comes from a trusted proxy; then X-Forwarded-For is
// read from its right end (what the nearest proxy wrote) leftwards, past
// every trusted proxy, and the first address that is not one is the
// client. A client can put anything in X-Forwarded-For: what an untrusted
// connection sends in it is never believed, and a trusted proxy appends the
// address it saw to whatever the client sent.
func (p Proxies) Client(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	a = a.Unmap()
	if !p.trusted(a) {
		return a.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h := strings.TrimSpace(hops[i])
		if h == "" {
			continue
		}
		next, err := netip.ParseAddr(h)
		if err != nil {
			break // garbage: the last address a trusted proxy vouched for stands
		}
		a = next.Unmap()
		if !p.trusted(a) {
			break
		}
	}
	return a.String()
}
