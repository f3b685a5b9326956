package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/qualitymon/qualitymon/internal/access"
	"github.com/qualitymon/qualitymon/internal/config"
	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/param"
	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/internal/store"
)

//go:embed templates static
var files embed.FS

// CSP is the Content-Security-Policy of every page: scripts, styles and
// images from qualitymon itself only, no inline script or style.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// Site serves the pages.
type Site struct {
	Store     *store.Store
	Evaluator *evaluate.Evaluator
	Now       func() time.Time
	Logger    *slog.Logger
	// Latest, when set (serve), gives the engine's latest evaluation: pages
	// without at or known_at show it instead of reading and judging every
	// figure again for each request.
	Latest func() ([]evaluate.Evaluation, *evaluate.Data, time.Time)

	// proxies are web.trusted_proxies: who may tell the client's address.
	proxies access.Proxies
	tmpl    *template.Template

	// targets are the Evaluator's targets by Target.Key (its Set is never
	// replaced).
	targets map[string]*plan.Target
}

// New builds the site. Who may see it is decided in front of it (serve's
// access guard, internal/access); cfg gives the trusted proxies, for the
// client address the workspace's sign-in throttle and audit use.
func New(st *store.Store, ev *evaluate.Evaluator, cfg config.Web, now func() time.Time, logger *slog.Logger) (*Site, error) {
	s := &Site{Store: st, Evaluator: ev, Now: now, Logger: logger, proxies: cfg.Proxies(), targets: map[string]*plan.Target{}}
	for _, t := range ev.Set.Targets("") {
		if _, dup := s.targets[t.Key()]; !dup {
			s.targets[t.Key()] = t
		}
	}
	t, err := template.New("").Funcs(funcs).Funcs(bureauFuncs).ParseFS(files, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("parsing the page templates: %w", err)
	}
	s.tmpl = t
	return s, nil
}

// Register adds the pages to mux: protected routes (web.auth), but for the
// static assets, which are public.
func (s *Site) Register(mux access.Router) {
	static, _ := fs.Sub(files, "static")
	h := func(f func(http.ResponseWriter, *http.Request) error) http.Handler {
		return s.secure(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := f(w, r); err != nil {
				s.fail(w, r, err)
			}
		}))
	}
	mux.Handle("GET /{$}", h(s.overview))
	mux.Handle("GET /plans/{plan}", h(s.plan))
	mux.Handle("GET /plans/{plan}/targets/{target}", h(s.target))
	mux.Handle("GET /indicators/{indicator}", h(s.indicator))
	mux.Handle("GET /export/status.csv", h(s.exportCSV))
	mux.Handle("GET /export/status.xlsx", h(s.exportXLSX))
	mux.Handle("GET /export/figures.csv", h(s.exportFigures))
	mux.Handle("GET /report/{plan}", h(s.report))
	// Static assets are public: the bureaus' workspace (its own sign-in)
	// uses them too.
	public := access.As(mux, access.Public)
	public.Handle("GET /favicon.ico", s.secure(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/svg+xml")
		http.ServeFileFS(w, r, files, "static/favicon.svg")
	})))
	public.Handle("GET /static/", s.secure(http.StripPrefix("/static/", cacheFor(time.Hour, http.FileServerFS(static)))))
}

func cacheFor(d time.Duration, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(d.Seconds())))
		h.ServeHTTP(w, r)
	})
}

// secure sets the security headers of every response.
func (s *Site) secure(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", CSP)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("X-Frame-Options", "DENY")
		h.ServeHTTP(w, r)
	})
}

// httpError is an error with the status a person should see.
type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

func notFound(format string, a ...any) error {
	return &httpError{http.StatusNotFound, fmt.Sprintf(format, a...)}
}

func badRequest(format string, a ...any) error {
	return &httpError{http.StatusBadRequest, fmt.Sprintf(format, a...)}
}

// fail answers an error page; store failures are logged once and shown as 503.
func (s *Site) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := http.StatusServiceUnavailable
	var he *httpError
	var pe *param.Error
	if errors.As(err, &he) {
		code = he.code
	} else if errors.As(err, &pe) {
		code = param.Status
	} else {
		s.Logger.Error("web page failed", "path", r.URL.Path, "err", err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	s.tmpl.ExecuteTemplate(w, "error.html", map[string]any{"Code": code, "Message": err.Error(), "Title": http.StatusText(code)})
}

// render executes a page template into a buffer first, so that a template
// error never leaves half a page.
func (s *Site) render(w http.ResponseWriter, name string, data any) error {
	return s.renderStatus(w, http.StatusOK, name, data)
}

// renderStatus is render answering with the status code.
func (s *Site) renderStatus(w http.ResponseWriter, code int, name string, data any) error {
	var b bytes.Buffer
	if err := s.tmpl.ExecuteTemplate(&b, name, data); err != nil {
		return fmt.Errorf("rendering %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, err := w.Write(b.Bytes())
	return err
}

// Moment is the evaluation date and vintage a page shows: ?at= (default
// now, or known_at) and ?known_at= (only figures reported by then).
type Moment struct {
	At, KnownAt time.Time
	// AtParam and KnownParam are the parameters as given (empty: default).
	AtParam, KnownParam string
}

// moment reads ?at= and ?known_at= (a *param.Error when either is not a
// date or timestamp).
func (s *Site) moment(r *http.Request) (Moment, error) {
	q := r.URL.Query()
	if _, _, err := param.Moments(q.Get("at"), q.Get("known_at"), s.Now()); err != nil {
		return Moment{}, err
	}
	return ParseMoment(q.Get("at"), q.Get("known_at"), s.Now())
}

// ParseMoment reads an evaluation date and a vintage (dates or RFC 3339
// timestamps, either may be empty): at defaults to knownAt, else now.
func ParseMoment(at, knownAt string, now time.Time) (Moment, error) {
	m := Moment{AtParam: at, KnownParam: knownAt}
	var err error
	m.At, m.KnownAt, err = evaluate.Moments(at, knownAt, now)
	return m, err
}

// Query is the at/known_at part of a link, so that following a link keeps
// the moment ("" or "?at=…&known_at=…").
func (m Moment) Query() string {
	v := m.values()
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

func (m Moment) values() url.Values {
	v := url.Values{}
	if m.AtParam != "" {
		v.Set("at", m.AtParam)
	}
	if m.KnownParam != "" {
		v.Set("known_at", m.KnownParam)
	}
	return v
}

// Link is path with the moment and extra parameters (pairs of name, value;
// empty values left out).
func (m Moment) Link(path string, kv ...string) string {
	v := m.values()
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			v.Set(kv[i], kv[i+1])
		}
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// AtDate and KnownDate are the dates for the date pickers.
func (m Moment) AtDate() string { return dateOf(m.AtParam) }

// KnownDate is the known_at date for its picker.
func (m Moment) KnownDate() string { return dateOf(m.KnownParam) }

func dateOf(p string) string {
	if p == "" {
		return ""
	}
	if t, err := evaluate.ParseMoment(p); err == nil {
		return t.Format("2006-01-02")
	}
	return ""
}
