// Package server runs `qualitymon serve`: it evaluates every target on a cron
// schedule and after each import, keeps the result for /metrics and the JSON
// API, writes evaluation history to InfluxDB, and serves /healthz and /readyz.
package server

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/exporter"
	"github.com/qualitymon/qualitymon/internal/store"
)

// Engine evaluates targets from the store and publishes the result.
type Engine struct {
	Store     *store.Store
	Evaluator *evaluate.Evaluator
	Exporter  *exporter.Exporter
	Logger    *slog.Logger
	Now       func() time.Time

	mu   sync.RWMutex
	last []evaluate.Evaluation
	at   time.Time
	run  sync.Mutex
}

// Load evaluates every target as of at from what the store holds.
func Load(ctx context.Context, st *store.Store, ev *evaluate.Evaluator, planKey string, at time.Time) ([]evaluate.Evaluation, *evaluate.Data, error) {
	inds := map[string]bool{}
	for _, t := range ev.Set.Targets(planKey) {
		inds[t.Indicator] = true
	}
	var f store.Filter
	if planKey != "" {
		for id := range inds {
			f.Indicators = append(f.Indicators, id)
		}
	}
	rows, err := st.Values(ctx, f)
	if err != nil {
		return nil, nil, err
	}
	data := evaluate.NewData(rows)
	return ev.Evaluate(data, planKey, at), data, nil
}

// Run evaluates now, publishes the metrics and writes the history. Runs do
// not overlap.
func (e *Engine) Run(ctx context.Context) error {
	e.run.Lock()
	defer e.run.Unlock()
	start := e.Now()
	evals, data, err := Load(ctx, e.Store, e.Evaluator, "", start)
	took := e.Now().Sub(start)
	if err != nil {
		e.Exporter.Failed(start, took)
		return fmt.Errorf("evaluating: %w", err)
	}
	e.Exporter.Update(evals, data, start, took)
	e.mu.Lock()
	e.last, e.at = evals, start
	e.mu.Unlock()
	if err := e.writeHistory(ctx, evals, start); err != nil {
		return fmt.Errorf("writing evaluation history: %w", err)
	}
	return nil
}

// Last returns the latest evaluation and when it ran.
func (e *Engine) Last() ([]evaluate.Evaluation, time.Time) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.last, e.at
}

func (e *Engine) writeHistory(ctx context.Context, evals []evaluate.Evaluation, at time.Time) error {
	lines := make([]string, 0, min(len(evals), store.BatchSize))
	var b strings.Builder
	for i := range evals {
		ev := &evals[i]
		fields := map[string]float64{"target_value": ev.TargetValue}
		for k, p := range map[string]*float64{"actual": ev.Actual, "gap": ev.Gap, "progress": ev.Progress, "projected": ev.Projected} {
			if p != nil {
				fields[k] = *p
			}
		}
		b.Reset()
		store.EvaluationLine(&b, [4]string{ev.Plan, ev.Target, ev.Indicator, ev.Region}, string(ev.Status), ev.Status.Code(), fields, ev.Stale, ev.Period, at)
		lines = append(lines, b.String())
		if len(lines) == store.BatchSize {
			if err := e.Store.WriteLines(ctx, lines); err != nil {
				return err
			}
			lines = lines[:0]
		}
	}
	return e.Store.WriteLines(ctx, lines)
}
