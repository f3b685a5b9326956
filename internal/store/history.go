package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/qualitymon/qualitymon/internal/observation"
)

// StatusPoint is one entry of a target's status history: the status its
// evaluations had from At on.
type StatusPoint struct {
	At      time.Time
	Status  string
	Basis   string
	Settled bool
}

// StatusHistory returns how the status of one target in one region changed
// over the evaluations stored in the evaluation measurement, oldest first:
// one point per change (and the first), each with the status, basis and
// settled flag from then on, its moment to the second. Empty when nothing
// was evaluated.
//
// It reads the series of the plan and region (see WriteEvaluations) and
// keeps the target's points; points of the schema before it, a series per
// target with the target as a tag, are read too (every point of that one
// target: the not-exists test keeps the new series and drops the old
// series of other targets before the pivot).
func (s *Store) StatusHistory(ctx context.Context, plan, target, region string) ([]StatusPoint, error) {
	q := `from(bucket: ` + FluxString(s.cfg.Bucket) + `)
  |> range(start: 0, stop: 2200-01-01T00:00:00Z)
  |> filter(fn: (r) => r._measurement == ` + FluxString(measEvaluation) + ` and r.plan == ` + FluxString(plan) +
		` and r.region == ` + FluxString(region) + `)
  |> filter(fn: (r) => not exists r.target or r.target == ` + FluxString(target) + `)
  |> filter(fn: (r) => r._field == "target" or r._field == "status" or r._field == "basis" or r._field == "settled")
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> filter(fn: (r) => r.target == ` + FluxString(target) + `)
  |> keep(columns: ["_time", "status", "basis", "settled"])
  |> group()
  |> sort(columns: ["_time"])
`
	rows, err := s.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("querying the status history of %s/%s in %s: %w", plan, target, region, err)
	}
	return statusChanges(rows), nil
}

// statusChanges keeps the first row and every row whose status, basis or
// settled flag differs from the one before.
func statusChanges(rows []map[string]any) []StatusPoint {
	var out []StatusPoint
	for _, r := range rows {
		p := StatusPoint{}
		p.At, _ = r["_time"].(time.Time)
		p.At = p.At.Truncate(time.Second)
		p.Status, _ = r["status"].(string)
		p.Basis, _ = r["basis"].(string)
		p.Settled, _ = r["settled"].(bool)
		if p.Status == "" {
			continue
		}
		if n := len(out); n > 0 {
			l := out[n-1]
			if l.Status == p.Status && l.Basis == p.Basis && l.Settled == p.Settled {
				continue
			}
		}
		out = append(out, p)
	}
	return out
}

// SeriesHistory returns every value the observations of one indicator in
// the given regions have had, current and superseded, ordered by region,
// period and revision: the figures and revisions a target page lists and
// charts (two queries however many periods).
func (s *Store) SeriesHistory(ctx context.Context, indicator string, regions []string) ([]observation.Stored, error) {
	all, err := s.everyValue(ctx, Filter{Indicators: []string{indicator}, Regions: regions}, "")
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(all, func(a, b observation.Stored) int {
		if c := strings.Compare(a.Region, b.Region); c != 0 {
			return c
		}
		if c := a.Period.Start().Compare(b.Period.Start()); c != 0 {
			return c
		}
		return byReport(a, b)
	})
	return all, nil
}

// What changed between two moments (the 变化 page, qualitymon changes):
// the status changes of the evaluation history and the reports that
// arrived in between, each beside what it replaced.

// StatusChange is one change of a target's status in one region: from
// Before (the status in force until then) to the status of the point.
type StatusChange struct {
	Plan, Target, Indicator, Region string
	Before                          StatusPoint
	StatusPoint
}

// StatusChanges returns the status changes (status, basis or settled flag,
// as StatusHistory counts them) of every target and region after from up
// to to, ordered by plan, target, region and time. A series first
// evaluated after from has no change until its status changes (its first
// evaluation is not one). Two queries: the status in force at from, the
// points after it (the history holds a point per change, see
// WriteEvaluations; points of the schema before, a series per target,
// are read too: their target is a tag rather than a field).
func (s *Store) StatusChanges(ctx context.Context, from, to time.Time) ([]StatusChange, error) {
	filter := `  |> filter(fn: (r) => r._measurement == ` + FluxString(measEvaluation) + `)
  |> filter(fn: (r) => r._field == "target" or r._field == "indicator" or r._field == "status" or r._field == "basis" or r._field == "settled")
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
`
	// InfluxDB 1.8 returns a point at range's stop too: the stops are
	// filtered again on _time.
	until := func(t time.Time) string {
		stop := FluxTime(t.Add(time.Second))
		return ", stop: " + stop + ")\n  |> filter(fn: (r) => r._time < " + stop + ")\n"
	}
	before := `from(bucket: ` + FluxString(s.cfg.Bucket) + `)
  |> range(start: 0` + until(from) + filter + `  |> group(columns: ["plan", "region", "target"])
  |> last(column: "status")
  |> group()
`
	after := `from(bucket: ` + FluxString(s.cfg.Bucket) + `)
  |> range(start: ` + FluxTime(from.Add(time.Second)) + until(to) + filter + `  |> group()
`
	var rows []map[string]any
	for _, q := range []string{before, after} {
		r, err := s.Query(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("querying the status changes from %s to %s: %w", from.Format(time.RFC3339), to.Format(time.RFC3339), err)
		}
		rows = append(rows, r...)
	}
	key := func(r map[string]any) string {
		return fmt.Sprint(r["plan"], "\x00", r["target"], "\x00", r["region"])
	}
	slices.SortStableFunc(rows, func(a, b map[string]any) int {
		if c := strings.Compare(key(a), key(b)); c != 0 {
			return c
		}
		ta, _ := a["_time"].(time.Time)
		tb, _ := b["_time"].(time.Time)
		return ta.Compare(tb)
	})
	var out []StatusChange
	for i := 0; i < len(rows); {
		j := i
		for j < len(rows) && key(rows[j]) == key(rows[i]) {
			j++
		}
		pts := statusChanges(rows[i:j])
		r := rows[i]
		for k := 1; k < len(pts); k++ {
			c := StatusChange{Before: pts[k-1], StatusPoint: pts[k]}
			c.Plan, _ = r["plan"].(string)
			c.Target, _ = r["target"].(string)
			c.Indicator, _ = r["indicator"].(string)
			c.Region, _ = r["region"].(string)
			out = append(out, c)
		}
		i = j
	}
	return out, nil
}

// Report is a report (a new figure or a revision) beside the value it
// replaced (Previous nil: the key's first report).
type Report struct {
	observation.Stored
	Previous *observation.Stored
}

// ReportedBetween returns every report of the observations matching f
// reported after from up to to (reported_at, whole seconds), each with
// the value it replaced, ordered by report time, indicator, region and
// period.
func (s *Store) ReportedBetween(ctx context.Context, f Filter, from, to time.Time) ([]Report, error) {
	where := `  |> filter(fn: (r) => r.reported_at > ` + fluxInt(from.Unix()) + ` and r.reported_at <= ` + fluxInt(to.Unix()) + `)
`
	in, err := s.everyValue(ctx, f, where)
	if err != nil {
		return nil, fmt.Errorf("reading the reports from %s to %s: %w", from.Format(time.RFC3339), to.Format(time.RFC3339), err)
	}
	if len(in) == 0 {
		return nil, nil
	}
	var span KeySpan
	for i := range in {
		span.Add(in[i].Key())
	}
	hf := span.Filter()
	hf.Freq = f.Freq
	all, err := s.everyValue(ctx, hf, "")
	if err != nil {
		return nil, fmt.Errorf("reading the values the reports replaced: %w", err)
	}
	hist := map[observation.Key][]observation.Stored{}
	for _, h := range all {
		hist[h.Key()] = append(hist[h.Key()], h)
	}
	for _, h := range hist {
		slices.SortStableFunc(h, byReport)
	}
	out := make([]Report, 0, len(in))
	for _, r := range in {
		rep := Report{Stored: r}
		h := hist[r.Key()]
		if i := slices.IndexFunc(h, func(x observation.Stored) bool { return sameReport(&x, &r) }); i > 0 {
			prev := h[i-1]
			rep.Previous = &prev
		}
		out = append(out, rep)
	}
	slices.SortStableFunc(out, func(a, b Report) int {
		if c := a.ReportedAt.Compare(b.ReportedAt); c != 0 {
			return c
		}
		if c := strings.Compare(a.Indicator, b.Indicator); c != 0 {
			return c
		}
		if c := strings.Compare(a.Region, b.Region); c != 0 {
			return c
		}
		return a.Period.Start().Compare(b.Period.Start())
	})
	return out, nil
}

// reportsWhere reads the reports matching f whose pivoted rows pass where
// (Flux lines; "" keeps all), one row per report: reports with a filter.
func (s *Store) reportsWhere(ctx context.Context, f Filter, where string) ([]observation.Stored, error) {
	if where == "" {
		return s.reports(ctx, f)
	}
	return s.readStored(ctx, f.flux(s.cfg.Bucket, measReport)+`  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
`+where+`  |> group()
`)
}
