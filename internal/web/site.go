package web

import (
	"cmp"
	"embed"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/qualitymon/qualitymon/internal/access"
	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/changes"
	"github.com/qualitymon/qualitymon/internal/evalcache"
	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/param"
	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/internal/reporting"
	"github.com/qualitymon/qualitymon/internal/store"
	"github.com/qualitymon/qualitymon/internal/web/shell"
)

//go:embed templates
var files embed.FS

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
	// Moments, when set (serve: the server's), evaluates pages and exports
	// with at or known_at: cached, once for concurrent requests, a bounded
	// number at once (past it a 503 page with Retry-After). Without it
	// (qualitymon report) each is evaluated afresh.
	Moments *evalcache.Cache

	// Changes reads what changed between two moments (/changes); its
	// Receipts, when set (serve), name the bureau of each upload.
	Changes *changes.Source
	// Grid counts the overdue figures (reporting.Overdue); serve's has the
	// review queue, so that a figure held for review is not overdue.
	Grid *reporting.Grid
	// OverdueLatest, when set (serve: the overdue collector's), gives the
	// count of the last refresh after an evaluation, so that a page without
	// a moment reads nothing more from the store (false: not yet counted).
	OverdueLatest func() (reporting.Overdue, bool)

	tmpl *shell.Templates

	// targets are the Evaluator's targets by Target.Key (its Set is never
	// replaced); shown the same keys, the evaluations the pages show.
	targets map[string]*plan.Target
	shown   map[string]bool
	indexes indexes
	// untracked counts each plan's commitments that are not judged;
	// indicators are the indicators each plan judges, by id.
	untracked  map[string]int
	indicators map[string][]*catalog.Indicator
}

// New builds the site. Who may see it is decided in front of it (serve's
// access guard, internal/access).
func New(st *store.Store, ev *evaluate.Evaluator, now func() time.Time, logger *slog.Logger) (*Site, error) {
	s := &Site{Store: st, Evaluator: ev, Now: now, Logger: logger, targets: map[string]*plan.Target{}, shown: map[string]bool{},
		Changes: &changes.Source{Store: st, Set: ev.Set}, Grid: &reporting.Grid{Set: ev.Set, Store: st}}
	for _, t := range ev.Set.Targets("") {
		if _, dup := s.targets[t.Key()]; !dup {
			s.targets[t.Key()] = t
			s.shown[t.Key()] = true
		}
	}
	s.untracked, s.indicators = map[string]int{}, map[string][]*catalog.Indicator{}
	for _, p := range ev.Set.Plans {
		seen := map[string]bool{}
		for _, t := range p.Targets {
			switch {
			case !t.IsTracked():
				s.untracked[p.Key]++
			case t.Ind != nil && !seen[t.Indicator]:
				seen[t.Indicator] = true
				s.indicators[p.Key] = append(s.indicators[p.Key], t.Ind)
			}
		}
		slices.SortFunc(s.indicators[p.Key], func(a, b *catalog.Indicator) int { return cmp.Compare(a.ID, b.ID) })
	}
	t, err := shell.ParseLangs(files, funcs, logger, "templates/*.html")
	if err != nil {
		return nil, err
	}
	s.tmpl = t
	return s, nil
}

// Register adds the pages to mux as protected routes (web.auth). The static
// assets they use are shell's (shell.Register).
func (s *Site) Register(mux access.Router) {
	h := s.tmpl.Handler
	mux.Handle("GET /{$}", h(s.overview))
	mux.Handle("GET /plans/{plan}", h(s.plan))
	mux.Handle("GET /plans/{plan}/targets/{target}", h(s.target))
	mux.Handle("GET /indicators/{indicator}", h(s.indicator))
	mux.Handle("GET /export/status.csv", h(s.exportCSV))
	mux.Handle("GET /export/status.xlsx", h(s.exportXLSX))
	mux.Handle("GET /export/figures.csv", h(s.exportFigures))
	mux.Handle("GET /report/{plan}", h(s.report))
	mux.Handle("GET /changes", h(s.changesPage))
}

// render executes a page template in the request's language
// (shell.Templates.RenderLang).
func (s *Site) render(w http.ResponseWriter, r *http.Request, name string, data any) error {
	return s.tmpl.RenderLang(w, shell.LangOf(r), name, data)
}

// Moment is the evaluation date and vintage a page shows: ?at= (default
// now, or known_at) and ?known_at= (only figures reported by then).
type Moment struct {
	At, KnownAt time.Time
	// AtParam and KnownParam are the parameters as given (empty: default).
	AtParam, KnownParam string
	// LangParam is ?lang= as given (zh, en or empty), which links keep
	// like the moment.
	LangParam string
	// Lang is the language the request asks for (shell.LangOf; "" is Chinese).
	Lang shell.Lang
}

// moment reads ?at= and ?known_at= (a *param.Error when either is not a
// date or timestamp).
func (s *Site) moment(r *http.Request) (Moment, error) {
	q := r.URL.Query()
	m := Moment{AtParam: q.Get("at"), KnownParam: q.Get("known_at"), Lang: shell.LangOf(r)}
	var err error
	if m.At, m.KnownAt, err = param.Moments(m.AtParam, m.KnownParam, s.Now()); err != nil {
		return Moment{}, err
	}
	if m.LangParam, err = param.OneOf("lang", q.Get("lang"), []string{string(shell.Zh), string(shell.En)}); err != nil {
		return Moment{}, err
	}
	return m, nil
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
	if m.LangParam != "" {
		v.Set("lang", m.LangParam)
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
