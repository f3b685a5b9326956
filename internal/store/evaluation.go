package store

import (
	"context"
	"strconv"
	"time"

	"github.com/qualitymon/qualitymon/internal/evaluate"
)

// WriteEvaluations writes evals as the evaluation history at the moment at
// (measurement evaluation), BatchSize points per request.
//
// The schema stays inside InfluxDB's default limits at any number of
// targets (max-values-per-tag 100,000, max-series-per-database 1,000,000):
// the tags are plan and region only, so a tag has as many values as there
// are plans or regions, and the measurement one series per plan and region
// it judges. The target and indicator are fields. The points of the targets
// of one plan and region at one moment are told apart by their time: the
// moment to the millisecond plus a slot of nanoseconds, 0, 1, 2, … in the
// order of evals. Points written before this schema (tag target, one series
// per target) are still read by StatusHistory.
func (s *Store) WriteEvaluations(ctx context.Context, evals []evaluate.Evaluation, at time.Time) error {
	lines := make([]string, 0, min(len(evals), BatchSize))
	var buf []byte // each line is rendered here, then copied
	base := at.Truncate(time.Millisecond).UnixNano()
	slots := map[[2]string]int64{}
	for i := range evals {
		ev := &evals[i]
		k := [2]string{ev.Plan, ev.Region}
		slot := slots[k]
		slots[k] = slot + 1
		buf = appendEvaluation(buf[:0], ev, base+slot)
		lines = append(lines, string(buf))
		if len(lines) == BatchSize {
			if err := s.writeNs(ctx, "evaluations", lines); err != nil {
				return err
			}
			lines = lines[:0]
		}
	}
	return s.writeNs(ctx, "evaluations", lines)
}

// appendEvaluation appends the evaluation point of ev at the time at in
// nanoseconds (no newline); its figures that are set are written in a
// fixed order.
func appendEvaluation(l []byte, ev *evaluate.Evaluation, at int64) []byte {
	l = append(l, measEvaluation+",plan="...)
	l = appendTag(l, ev.Plan)
	l = append(l, ",region="...)
	l = appendTag(l, ev.Region)
	l = append(l, " target="...)
	l = appendString(l, ev.Target)
	l = append(l, ",indicator="...)
	l = appendString(l, ev.Indicator)
	l = append(l, ",status="...)
	l = appendString(l, string(ev.Status))
	l = append(l, ",status_code="...)
	l = strconv.AppendInt(l, int64(ev.Status.Code()), 10)
	l = append(l, "i,stale="...)
	l = strconv.AppendBool(l, ev.Stale)
	l = append(l, ",settled="...)
	l = strconv.AppendBool(l, ev.Settled)
	if ev.Basis.Code != "" {
		l = append(l, ",basis="...)
		l = appendString(l, ev.Basis.Code)
	}
	if ev.Period != "" {
		l = append(l, ",period="...)
		l = appendString(l, ev.Period)
	}
	for _, f := range [...]struct {
		name string
		v    *float64
	}{{"actual", ev.Actual}, {"target_value", ev.TargetValue}, {"gap", ev.Gap}, {"progress", ev.Progress}, {"projected", ev.Projected}} {
		if f.v != nil {
			l = append(l, ',')
			l = append(l, f.name...)
			l = append(l, '=')
			l = appendFloat(l, *f.v)
		}
	}
	l = append(l, ' ')
	return strconv.AppendInt(l, at, 10)
}
