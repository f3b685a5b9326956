package web

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/qualitymon/qualitymon/internal/engine"
	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/internal/reporting"
	"github.com/qualitymon/qualitymon/internal/web/shell"
)

// Row is one evaluation (target × region) as the pages show it.
type Row struct {
	*evaluate.Evaluation
	T     *plan.Target
	Href  string
	Spark *Chart
}

// Counts are a plan's evaluations by status.
type Counts struct {
	By        map[evaluate.Status]int
	Total     int // evaluations (target × region)
	Untracked int // commitments listed but not judged
	Stale     int // evaluations whose figures are overdue
	// Overdue counts the figures the plan (or all plans) needs that are
	// overdue: the one count of overdue (reporting.Overdue), which the
	// completeness listing and qualitymon_overdue_figures show too.
	Overdue int
	Settled int
}

// List is the statuses with their counts, in the scorecard's order.
func (c Counts) List() []StatusCount {
	out := make([]StatusCount, 0, len(evaluate.Statuses))
	for _, s := range evaluate.Statuses {
		out = append(out, StatusCount{s, c.By[s]})
	}
	return out
}

// StatusCount is one status and how many evaluations have it.
type StatusCount struct {
	Status evaluate.Status
	N      int
}

// Achieved is the share achieved, as text.
func (c Counts) Achieved() string { return shell.Pct(c.By[evaluate.Achieved], c.Total) }

func count(evals []evaluate.Evaluation, untracked int) Counts {
	c := Counts{By: map[evaluate.Status]int{}, Total: len(evals), Untracked: untracked}
	for i := range evals {
		c.By[evals[i].Status]++
		if evals[i].Stale {
			c.Stale++
		}
		if evals[i].Settled {
			c.Settled++
		}
	}
	return c
}

// overdue is the one count of overdue figures at the moment m
// (reporting.Grid.OverdueAt over the figures held now).
func (s *Site) overdue(ctx context.Context, m Moment) (reporting.Overdue, error) {
	if s.OverdueLatest != nil && m.AtParam == "" && m.KnownParam == "" {
		if od, ok := s.OverdueLatest(); ok {
			return od, nil
		}
	}
	if s.Store == nil { // pages of evaluations alone (tests)
		return reporting.Overdue{}, nil
	}
	return s.Grid.OverdueAt(ctx, m.At)
}

// evaluation is what one request evaluates.
type evaluation struct {
	evals []evaluate.Evaluation
	data  *evaluate.Data
	m     Moment
	// x arranges evals for the pages (built once per evaluation).
	x *index
}

// load evaluates the plans as of the request's moment: the engine's latest
// evaluation (every plan) when the request asks for no particular moment
// and serve has one, else afresh from the store (the plan with the key,
// every plan when it is empty). Pages pick their rows through e.x.
func (s *Site) load(ctx context.Context, planKey string, m Moment) (*evaluation, error) {
	if s.Latest != nil && m.AtParam == "" && m.KnownParam == "" {
		if evals, data, at := s.Latest(); evals != nil {
			m.At = at
			return &evaluation{evals: evals, data: data, m: m, x: s.indexOf(evals, true)}, nil
		}
	}
	var evals []evaluate.Evaluation
	var data *evaluate.Data
	var err error
	if s.Moments != nil {
		evals, data, err = s.Moments.Load(ctx, planKey, m.At, m.KnownAt)
	} else {
		evals, data, err = engine.Load(ctx, s.Store, s.Evaluator, planKey, m.At, m.KnownAt)
	}
	if err != nil {
		return nil, err
	}
	return &evaluation{evals: evals, data: data, m: m, x: s.indexOf(evals, false)}, nil
}

// indexes keeps the indexes of the last few evaluations the pages showed
// (the engine's latest, cached moments), each built once.
type indexes struct {
	mu   sync.Mutex
	list []*indexEntry // newest first
}

type indexEntry struct {
	first *evaluate.Evaluation // the evaluation's identity: its first element and length
	n     int
	// latest: the engine's latest evaluation (not a moment's); only the
	// newest such is kept.
	latest bool
	once   sync.Once
	x      *index
}

// keptIndexes is how many indexes the site keeps: the latest evaluation's
// and those of a couple of moments (each holds its evaluation).
const keptIndexes = 3

// indexOf is the index of evals, built on first use (concurrent requests
// wait for the one build). latest says evals is the engine's latest
// evaluation: the index of the latest before it is dropped then (each
// upload publishes a new one: at 300,000 targets the evaluations the
// older ones held were 158 MB each, kept for nothing).
func (s *Site) indexOf(evals []evaluate.Evaluation, latest bool) *index {
	if len(evals) == 0 {
		return newIndex(evals, s.Evaluator.Set.Regions, s.shown)
	}
	c := &s.indexes
	c.mu.Lock()
	var e *indexEntry
	for i, x := range c.list {
		if x.first == &evals[0] && x.n == len(evals) {
			e = x
			copy(c.list[1:i+1], c.list[:i])
			c.list[0] = e
			break
		}
	}
	if e == nil {
		e = &indexEntry{first: &evals[0], n: len(evals), latest: latest}
		if latest {
			c.list = slices.DeleteFunc(c.list, func(x *indexEntry) bool { return x.latest })
		}
		c.list = append([]*indexEntry{e}, c.list[:min(len(c.list), keptIndexes-1)]...)
	}
	c.mu.Unlock()
	e.once.Do(func() { e.x = newIndex(evals, s.Evaluator.Set.Regions, s.shown) })
	return e.x
}

// Prepare builds the index of the latest evaluation ahead of the first
// page that needs it (serve: after each evaluation, in the background).
func (s *Site) Prepare() {
	if s.Latest != nil {
		if evals, _, _ := s.Latest(); evals != nil {
			s.indexOf(evals, true)
		}
	}
}

// rows are the evaluations kept (all when keep is nil) with their targets,
// without their sparklines (see sparks).
func (s *Site) rows(e *evaluation, keep func(*evaluate.Evaluation) bool) []Row {
	var out []Row
	for i := range e.evals {
		ev := &e.evals[i]
		if keep != nil && !keep(ev) {
			continue
		}
		t := s.targets[ev.Plan+"/"+ev.Target]
		if t == nil {
			continue
		}
		out = append(out, Row{Evaluation: ev, T: t, Href: targetHref(e.m, ev)})
	}
	return out
}

// rowsAt are the evaluations at the index's positions, with their targets
// and sparklines: one page of a scorecard.
func (s *Site) rowsAt(e *evaluation, pos []int32, l shell.Lang) []Row {
	out := make([]Row, 0, len(pos))
	for _, p := range pos {
		ev := &e.evals[p]
		out = append(out, Row{Evaluation: ev, T: s.targets[ev.Plan+"/"+ev.Target], Href: targetHref(e.m, ev)})
	}
	e.sparks(out, l)
	return out
}

// sparks draws the sparklines of the rows a page shows, in l.
func (e *evaluation) sparks(rows []Row, l shell.Lang) {
	for i := range rows {
		r := &rows[i]
		r.Spark = sparkline(r.Evaluation, r.T, figuresOf(r.Evaluation, r.T, e.data, e.m.At)).in(l)
	}
}

func targetHref(m Moment, ev *evaluate.Evaluation) string {
	return m.Link("/plans/"+ev.Plan+"/targets/"+ev.Target, "region", ev.Region)
}

// figuresOf is the series a target is judged on, one point per year: the
// reported figures (for an average, the yearly means; for additions, their
// running sum from the plan's first year).
func figuresOf(ev *evaluate.Evaluation, t *plan.Target, d *evaluate.Data, at time.Time) []xy {
	var pts []xy
	switch {
	case len(t.AverageOf) > 0:
		for _, c := range ev.Coverage {
			if c.Value != nil && c.Used {
				pts = append(pts, xy{float64(c.Year), *c.Value, strconv.Itoa(c.Year) + "年平均 " + shell.WithUnit(c.Value, ev.Unit)})
			}
		}
	default:
		for _, p := range d.Yearly(t.Indicator, ev.Region) {
			if p.Year > at.Year() {
				continue
			}
			v := p.Value
			pts = append(pts, xy{float64(p.Year), v, strconv.Itoa(p.Year) + "年 " + shell.WithUnit(&v, ev.Unit)})
		}
	}
	if t.Modality == plan.New {
		var cum []xy
		sum := 0.0
		for _, p := range pts {
			if int(p.X) < t.Plan.Start {
				continue
			}
			sum += p.Y
			s := sum
			cum = append(cum, xy{p.X, s, strconv.Itoa(int(p.X)) + "年累计 " + shell.WithUnit(&s, ev.Unit)})
		}
		pts = cum
	}
	return pts
}

func sparkline(ev *evaluate.Evaluation, t *plan.Target, pts []xy) *Chart {
	c := newLineChart(110, 26, "")
	c.axes = false
	c.class = "spark"
	c.line(pts, "actual "+statusClass(ev.Status), "")
	if len(pts) > 0 {
		c.points(pts[len(pts)-1:], "actual "+statusClass(ev.Status))
	}
	if ev.TargetValue != nil && t.Modality != plan.Quota {
		c.hrule(*ev.TargetValue, "", "target")
	}
	return c.build("")
}

// rowOrder compares evaluations by a scorecard sort key: status (worst
// first), gap, progress, deadline, region, wording; any other key keeps
// the plan's own order.
func rowOrder(key string) func(a, b *evaluate.Evaluation) int {
	switch key {
	case "status":
		return func(a, b *evaluate.Evaluation) int { return cmp.Compare(a.Status.Severity(), b.Status.Severity()) }
	case "gap":
		return func(a, b *evaluate.Evaluation) int { return cmpPtr(a.Gap, b.Gap) }
	case "progress":
		return func(a, b *evaluate.Evaluation) int { return cmpPtr(a.Progress, b.Progress) }
	case "deadline":
		return func(a, b *evaluate.Evaluation) int { return cmpPtr(intPtr(a.Deadline), intPtr(b.Deadline)) }
	case "region":
		return func(a, b *evaluate.Evaluation) int { return cmp.Compare(a.Region, b.Region) }
	case "name":
		return func(a, b *evaluate.Evaluation) int { return cmp.Compare(a.Wording, b.Wording) }
	}
	return func(a, b *evaluate.Evaluation) int { return 0 }
}

// cmpPtr orders nil last.
func cmpPtr(a, b *float64) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	return cmp.Compare(*a, *b)
}

func intPtr(p *int) *float64 {
	if p == nil {
		return nil
	}
	f := float64(*p)
	return &f
}
