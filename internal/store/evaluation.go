package store

import (
	"context"
	"strconv"
	"time"

	"github.com/qualitymon/qualitymon/internal/evaluate"
)

// WriteEvaluations writes evals as the evaluation history at the moment at
// (measurement evaluation), BatchSize points per request.
func (s *Store) WriteEvaluations(ctx context.Context, evals []evaluate.Evaluation, at time.Time) error {
	lines := make([]string, 0, min(len(evals), BatchSize))
	var buf []byte // each line is rendered here, then copied
	for i := range evals {
		buf = appendEvaluation(buf[:0], &evals[i], at.Unix())
		lines = append(lines, string(buf))
		if len(lines) == BatchSize {
			if err := s.writeLines(ctx, lines); err != nil {
				return err
			}
			lines = lines[:0]
		}
	}
	return s.writeLines(ctx, lines)
}

// appendEvaluation appends the evaluation point of ev at the moment at (no
// newline); its figures that are set are written in a fixed order.
func appendEvaluation(l []byte, ev *evaluate.Evaluation, at int64) []byte {
	l = append(l, measEvaluation+",indicator="...)
	l = appendTag(l, ev.Indicator)
	l = append(l, ",plan="...)
	l = appendTag(l, ev.Plan)
	l = append(l, ",region="...)
	l = appendTag(l, ev.Region)
	l = append(l, ",target="...)
	l = appendTag(l, ev.Target)
	l = append(l, " status="...)
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
