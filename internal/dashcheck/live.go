package dashcheck

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/qualitymon/qualitymon/internal/store"
)

// Live runs every query of a set against real servers.
type Live struct {
	PrometheusURL string
	// Influx is the store the Flux queries run against; its Bucket and Org
	// replace v.defaultBucket and v.organization.
	Influx store.Config
	// Now is the dashboards' "now" (time.Now when nil).
	Now func() time.Time
	// Timeout bounds each query (30 s when zero).
	Timeout time.Duration
	// PanelWidth is the width in pixels of a full-width (24-column) panel,
	// from which a panel's data points and so $__interval follow, as in a
	// browser (1600 when zero).
	PanelWidth int
}

// Result is the outcome of one query.
type Result struct {
	File      string
	Dashboard string // uid
	// Panel is the panel's title; for a variable's query it is "$name".
	Panel   string
	PanelID int
	RefID   string
	Lang    string // "promql" or "flux"
	// Query is the query as sent, after every substitution.
	Query string
	// Series counts the series (PromQL) or rows (Flux) returned.
	Series int
	Err    error
	// Took is how long the query ran.
	Took time.Duration
}

// Where names the query for a person.
func (r Result) Where() string {
	if r.PanelID == 0 {
		return fmt.Sprintf("%s: variable %s", r.File, r.Panel)
	}
	return fmt.Sprintf("%s: panel %d %q query %s", r.File, r.PanelID, r.Panel, r.RefID)
}

// Run resolves each dashboard's variables (running their queries and
// taking the saved selection when it is among the answers, else the first
// answer) and runs every panel query with them. It returns one result per
// query, failed or not; it never stops at the first failure.
func (l *Live) Run(ctx context.Context, s *Set) []Result {
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	cfg := l.Influx
	cfg.Timeout = l.timeout()
	st := store.Open(cfg)
	defer st.Close()
	r := &runner{Live: l, set: s, prom: &promClient{base: strings.TrimRight(l.PrometheusURL, "/")}, flux: st, now: now().UTC()}
	var out []Result
	for _, d := range s.Dashboards {
		out = append(out, r.dashboard(ctx, d)...)
	}
	return out
}

func (l *Live) timeout() time.Duration {
	if l.Timeout > 0 {
		return l.Timeout
	}
	return 30 * time.Second
}

type runner struct {
	*Live
	set  *Set
	prom *promClient
	flux *store.Store
	now  time.Time
}

func (r *runner) dashboard(ctx context.Context, d *Dashboard) []Result {
	var out []Result
	from, err1 := ParseTime(d.Time.From, r.now)
	to, err2 := ParseTime(d.Time.To, r.now)
	if err := errors.Join(err1, err2); err != nil {
		return []Result{{File: d.File, Dashboard: d.UID, Panel: "time", Err: err}}
	}
	vars := map[string]Value{}
	for i := range d.Templating.List {
		v := &d.Templating.List[i]
		val, res := r.variable(ctx, d, v, &Scope{From: from, To: to, Interval: CalcInterval(from, to, r.width(24), 0), Vars: vars})
		vars[v.Name] = val
		if res != nil {
			out = append(out, *res)
		}
	}
	for _, p := range d.AllPanels() {
		if noQueryPanels[p.Type] {
			continue
		}
		pfrom, pto := panelRange(p, from, to, r.now)
		for j := range p.Targets {
			t := &p.Targets[j]
			res := Result{File: d.File, Dashboard: d.UID, Panel: p.Title, PanelID: p.ID, RefID: t.RefID}
			ds := r.set.DatasourceIn(d, QueryDatasource(p, t))
			if ds == nil {
				res.Err = errors.New("datasource not provisioned")
				out = append(out, res)
				continue
			}
			sc := &Scope{From: pfrom, To: pto, Vars: vars}
			sc.Scrape = r.minInterval(ds, p, t)
			maxPoints := p.MaxDataPoints
			if maxPoints <= 0 {
				maxPoints = r.width(p.GridPos.W)
			}
			sc.Interval = CalcInterval(pfrom, pto, maxPoints, sc.Scrape)
			start := time.Now()
			res.Series, res.Query, res.Err = r.query(ctx, ds, QueryText(ds, t), sc, t.Instant || !t.Range)
			res.Took = time.Since(start)
			res.Lang = lang(ds)
			out = append(out, res)
		}
	}
	return out
}

// panelRange applies a panel's relative time override (timeFrom) and time
// shift, as Grafana does.
func panelRange(p *Panel, from, to, now time.Time) (time.Time, time.Time) {
	if p.TimeFrom != "" {
		if d, err := ParseDuration(strings.TrimPrefix(p.TimeFrom, "now-")); err == nil {
			from, to = now.Add(-d), now
		}
	}
	if p.TimeShift != "" {
		if d, err := ParseDuration(p.TimeShift); err == nil {
			from, to = from.Add(-d), to.Add(-d)
		}
	}
	return from, to
}

func lang(ds *Datasource) string {
	if ds.Type == TypeInflux {
		return "flux"
	}
	return "promql"
}

// width is the pixel width of a panel gridW columns wide.
func (r *runner) width(gridW int) int {
	full := r.PanelWidth
	if full <= 0 {
		full = 1600
	}
	if gridW <= 0 {
		gridW = 24
	}
	return full * gridW / 24
}

// minInterval is the lower bound of $__interval: the query's interval, else
// the panel's, else the datasource's timeInterval.
func (r *runner) minInterval(ds *Datasource, p *Panel, t *Target) time.Duration {
	for _, s := range []string{t.Interval, p.Interval, ds.jsonString("timeInterval")} {
		if s != "" {
			if d, err := ParseDuration(s); err == nil {
				return d
			}
		}
	}
	return 0
}

// query substitutes and runs one query; it returns the series or rows
// count and the query as sent.
func (r *runner) query(ctx context.Context, ds *Datasource, text string, sc *Scope, instant bool) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout())
	defer cancel()
	q := sc.Interpolate(text)
	if ds.Type == TypeInflux {
		q = FluxMacros(q, sc, r.Influx.Bucket, r.Influx.Org)
		rows, err := r.fluxRows(ctx, q)
		return len(rows), q, err
	}
	if instant {
		n, err := r.prom.instant(ctx, q, sc.To)
		return n, q, err
	}
	step := max(sc.Interval, time.Second)
	n, err := r.prom.rangeQuery(ctx, q, sc.From, sc.To, step)
	return n, q, err
}

// fluxRows runs a Flux query and returns every row's _value (as text).
func (r *runner) fluxRows(ctx context.Context, q string) ([]string, error) {
	rows, err := r.flux.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(rows))
	for i, row := range rows {
		out[i] = fmt.Sprint(row["_value"])
	}
	return out, nil
}

func isNaN(s string) bool {
	var f float64
	_, err := fmt.Sscan(s, &f)
	return err == nil && math.IsNaN(f)
}
