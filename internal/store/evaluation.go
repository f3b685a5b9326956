package store

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/qualitymon/qualitymon/internal/evaluate"
)

// WriteEvaluations writes evals as the evaluation history at the moment at
// (measurement evaluation), BatchSize points per request.
func (s *Store) WriteEvaluations(ctx context.Context, evals []evaluate.Evaluation, at time.Time) error {
	lines := make([]string, 0, min(len(evals), BatchSize))
	var b strings.Builder
	fields := map[string]float64{}
	for i := range evals {
		ev := &evals[i]
		clear(fields)
		for _, f := range [...]struct {
			name string
			v    *float64
		}{{"target_value", ev.TargetValue}, {"actual", ev.Actual}, {"gap", ev.Gap}, {"progress", ev.Progress}, {"projected", ev.Projected}} {
			if f.v != nil {
				fields[f.name] = *f.v
			}
		}
		b.Reset()
		evaluationLine(&b, [4]string{ev.Plan, ev.Target, ev.Indicator, ev.Region}, string(ev.Status), ev.Status.Code(), fields, ev.Stale, ev.Settled, ev.Basis.Code, ev.Period, at)
		lines = append(lines, b.String())
		if len(lines) == BatchSize {
			if err := s.writeLines(ctx, lines); err != nil {
				return err
			}
			lines = lines[:0]
		}
	}
	return s.writeLines(ctx, lines)
}

// evaluationLine renders one evaluation point (WriteEvaluations).
func evaluationLine(b *strings.Builder, tags [4]string, status string, code int, fields map[string]float64, stale, settled bool, basis, per string, at time.Time) {
	l := append([]byte(measEvaluation), ",indicator="...)
	l = appendTag(l, tags[2])
	l = append(l, ",plan="...)
	l = appendTag(l, tags[0])
	l = append(l, ",region="...)
	l = appendTag(l, tags[3])
	l = append(l, ",target="...)
	l = appendTag(l, tags[1])
	l = append(l, " status="...)
	l = appendString(l, status)
	l = append(l, ",status_code="...)
	l = strconv.AppendInt(l, int64(code), 10)
	l = append(l, "i,stale="...)
	l = strconv.AppendBool(l, stale)
	l = append(l, ",settled="...)
	l = strconv.AppendBool(l, settled)
	if basis != "" {
		l = append(l, ",basis="...)
		l = appendString(l, basis)
	}
	if per != "" {
		l = append(l, ",period="...)
		l = appendString(l, per)
	}
	for _, k := range []string{"actual", "target_value", "gap", "progress", "projected"} {
		if v, ok := fields[k]; ok {
			l = append(l, ',')
			l = append(l, k...)
			l = append(l, '=')
			l = appendFloat(l, v)
		}
	}
	l = append(l, ' ')
	l = strconv.AppendInt(l, at.Unix(), 10)
	b.Write(l)
}
