package config

import (
	"fmt"
	"net/netip"
	"strings"

	"golang.org/x/crypto/bcrypt"
	"gopkg.in/yaml.v3"
)

// Web is the web: section: who may use what serve answers (internal/access).
// Without users every page and API is open to whoever reaches the listener;
// with users, every route but the probes (/healthz, /readyz), the static
// assets, the bureaus' workspace and the upload API (which check the bureau's
// token themselves) asks for HTTP basic authentication, /metrics too unless
// metrics_public says otherwise.
//
//	web:
//	  trusted_proxies: [127.0.0.1/32]   # X-Forwarded-For is believed only from these
//	  moments:                          # evaluations for ?at= / ?known_at= (internal/evalcache)
//	    concurrent: 4                   # at once; past it 503 with Retry-After
//	    cache_ttl: 30s                  # how late another process's writes may be seen
//	    cache_entries: 8                # results kept
//	  auth:
//	    metrics_public: false           # true: /metrics without a password
//	    users:
//	      - name: zhijianchu
//	        password_bcrypt: $2a$10$…   # qualitymon password hash
type Web struct {
	Auth WebAuth `yaml:"auth"`
	// TrustedProxies are the addresses (CIDR, or a single address) of the
	// reverse proxies in front of serve: only a connection from one of them
	// has its client address taken from X-Forwarded-For.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// Moments bounds the evaluations for a requested moment.
	Moments WebMoments `yaml:"moments"`
}

// WebMoments bounds what requests with ?at= or ?known_at= (the status API,
// pages, exports, reports) may cost serve; zero fields take
// internal/evalcache's defaults (4, 30s, 8).
type WebMoments struct {
	// Concurrent is how many such evaluations may run at once; past it a
	// request is answered 503 with Retry-After.
	Concurrent int `yaml:"concurrent"`
	// CacheTTL is how long an evaluation is reused: uploads to this serve
	// invalidate it at once, writes by other processes (qualitymon import,
	// another replica) are seen after at most this long.
	CacheTTL Duration `yaml:"cache_ttl"`
	// CacheEntries is how many evaluations are kept.
	CacheEntries int `yaml:"cache_entries"`
}

// WebAuth lists who may read the pages and APIs.
type WebAuth struct {
	Users []WebUser `yaml:"users"`
	// MetricsPublic leaves /metrics open without a password (for a
	// Prometheus that cannot send basic authentication).
	MetricsPublic bool `yaml:"metrics_public"`
}

// WebUser is one reader; only a bcrypt hash of the password is kept.
type WebUser struct {
	Name           string `yaml:"name"`
	PasswordBcrypt string `yaml:"password_bcrypt"`
	// PasswordSHA256 is the unsalted hash of earlier versions: refused at
	// load, with how to make a bcrypt hash instead.
	PasswordSHA256 string `yaml:"password_sha256"`
}

// MinBcryptCost is the least bcrypt cost a password hash may have.
const MinBcryptCost = bcrypt.DefaultCost

// errSHA256 tells an operator with an old config what to do.
const errSHA256 = "unsalted SHA-256 password hashes are refused (they are cracked in seconds): " +
	"make a bcrypt hash with `qualitymon password hash` (it reads the password from the terminal or standard input) " +
	"and write it as password_bcrypt instead of password_sha256"

// Proxies returns the trusted proxies as prefixes (validated at load).
func (w *Web) Proxies() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range w.TrustedProxies {
		if p, err := parseProxy(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// parseProxy reads a CIDR or a single address.
func parseProxy(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func (w *Web) validate(doc *yaml.Node) []error {
	var errs []error
	for _, f := range []struct {
		key string
		neg bool
	}{{"concurrent", w.Moments.Concurrent < 0}, {"cache_ttl", w.Moments.CacheTTL < 0}, {"cache_entries", w.Moments.CacheEntries < 0}} {
		if f.neg {
			key := "web.moments." + f.key
			errs = append(errs, at(doc, key, fmt.Errorf("%s: must not be negative (leave it out for the default)", key)))
		}
	}
	for i, s := range w.TrustedProxies {
		key := fmt.Sprintf("web.trusted_proxies[%d]", i)
		if _, err := parseProxy(s); err != nil {
			errs = append(errs, at(doc, key, fmt.Errorf("%s: %q is not an address or CIDR (want e.g. 10.0.0.0/8 or 127.0.0.1)", key, s)))
		}
	}
	seen := map[string]bool{}
	for i, u := range w.Auth.Users {
		key := fmt.Sprintf("web.auth.users[%d]", i)
		switch {
		case u.Name == "":
			errs = append(errs, at(doc, key, fmt.Errorf("%s.name: required", key)))
		case strings.Contains(u.Name, ":"):
			errs = append(errs, at(doc, key+".name", fmt.Errorf("%s.name: %q must not contain a colon (HTTP basic authentication)", key, u.Name)))
		case seen[u.Name]:
			errs = append(errs, at(doc, key+".name", fmt.Errorf("%s.name: %q is listed twice", key, u.Name)))
		}
		seen[u.Name] = true
		switch {
		case u.PasswordSHA256 != "":
			errs = append(errs, at(doc, key+".password_sha256", fmt.Errorf("%s.password_sha256: %s", key, errSHA256)))
		case u.PasswordBcrypt == "":
			errs = append(errs, at(doc, key, fmt.Errorf("%s.password_bcrypt: required (make it with `qualitymon password hash`)", key)))
		default:
			// The value is not quoted: a password pasted by mistake must not
			// reach a log.
			if cost, err := bcrypt.Cost([]byte(u.PasswordBcrypt)); err != nil {
				errs = append(errs, at(doc, key+".password_bcrypt", fmt.Errorf("%s.password_bcrypt: not a bcrypt hash ($2a$10$ and 53 more characters; make it with `qualitymon password hash`)", key)))
			} else if cost < MinBcryptCost {
				errs = append(errs, at(doc, key+".password_bcrypt", fmt.Errorf("%s.password_bcrypt: bcrypt cost %d is too cheap (at least %d; make a new hash with `qualitymon password hash`)", key, cost, MinBcryptCost)))
			}
		}
	}
	return errs
}
