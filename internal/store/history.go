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
