package access

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/qualitymon/qualitymon/internal/config"
)

// Class says who may use a route.
type Class uint8

// Route classes.
const (
	// Protected routes need a web.auth user when any is configured: the
	// default for every route.
	Protected Class = iota
	// Public routes are open to anyone: the probes and the static assets
	// (and /metrics with web.auth.metrics_public).
	Public
	// OwnAuth routes check a bureau's upload token themselves (the
	// bureaus' workspace, the upload API); web.auth does not apply.
	OwnAuth
)

func (c Class) String() string {
	switch c {
	case Public:
		return "public"
	case OwnAuth:
		return "own-auth"
	}
	return "protected"
}

// Guard is serve's access control.
type Guard struct {
	Users    *Users
	Proxies  Proxies
	Throttle *Throttle
	// MetricsPublic is web.auth.metrics_public.
	MetricsPublic bool
	Logger        *slog.Logger
}

// New builds the guard of a web: section.
func New(cfg config.Web, now func() time.Time, logger *slog.Logger) (*Guard, error) {
	users, err := NewUsers(cfg.Auth.Users, now)
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Guard{Users: users, Proxies: cfg.Proxies(), Throttle: NewThrottle(now), MetricsPublic: cfg.Auth.MetricsPublic, Logger: logger}, nil
}

// Client is r's client address (Proxies.Client).
func (g *Guard) Client(r *http.Request) string { return g.Proxies.Client(r) }

// Wrap lets a request through to next when its route's class (classify)
// allows it: a protected route, with users configured, needs a user's name
// and password (HTTP basic authentication), else 401 — or 429 while the
// name is locked out for the client's address.
func (g *Guard) Wrap(classify func(*http.Request) Class, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.Users.Any() || classify(r) != Protected {
			next.ServeHTTP(w, r)
			return
		}
		name, pass, ok := r.BasicAuth()
		if !ok {
			challenge(w, "需要登录 (sign in required)", http.StatusUnauthorized)
			return
		}
		addr := g.Client(r)
		if d := g.Throttle.Wait(name, addr); d > 0 {
			w.Header().Set("Retry-After", RetryAfter(d))
			challenge(w, fmt.Sprintf("尝试次数过多:请 %s后再试 (too many failed sign-ins)", WaitText(d)), http.StatusTooManyRequests)
			return
		}
		if !g.Users.Check(name, pass) {
			d := g.Throttle.Fail(name, addr)
			g.Logger.Warn("web sign-in failed", "user", name, "addr", addr, "lockout", d)
			challenge(w, "用户名或密码不正确 (sign in required)", http.StatusUnauthorized)
			return
		}
		g.Throttle.OK(name, addr)
		next.ServeHTTP(w, r)
	})
}

func challenge(w http.ResponseWriter, msg string, code int) {
	h := w.Header()
	h.Set("WWW-Authenticate", `Basic realm="qualitymon", charset="UTF-8"`)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	http.Error(w, msg, code)
}

// RetryAfter is a Retry-After header's value for a wait (whole seconds,
// rounded up).
func RetryAfter(d time.Duration) string { return fmt.Sprint(int(d.Seconds() + 0.999)) }

// WaitText is a wait in Chinese (" 8 秒", " 3 分钟").
func WaitText(d time.Duration) string {
	s := int(d.Seconds() + 0.999)
	if s < 60 {
		return fmt.Sprintf(" %d 秒", s)
	}
	return fmt.Sprintf(" %d 分钟", (s+59)/60)
}

// Router is what a package registers its routes on: serve's Mux (which
// knows each route's class) or a plain *http.ServeMux (tests).
type Router interface {
	Handle(pattern string, h http.Handler)
}

// As is the Router that registers routes of class c on r: r.As(c) when r
// knows classes (serve's Mux); else r itself.
func As(r Router, c Class) Router {
	if cr, ok := r.(interface{ As(Class) Router }); ok {
		return cr.As(c)
	}
	return r
}
