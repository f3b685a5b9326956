package collectors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"github.com/qualitymon/qualitymon/internal/config"
	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/observation"
)

// Runner schedules every configured collector with robfig/cron, bounds each
// run by the collector's timeout, recovers from panics, skips a run while the
// previous one still runs, derives the catalogue's derived indicators, hands
// each batch to the sink, calls the batch's Ack, and is the one place that
// times, counts and logs collector runs.
type Runner struct {
	jobs    map[string]*job
	order   []string
	cron    *cron.Cron
	pipe    *ingest.Pipeline
	metrics *metrics
	log     *slog.Logger
	now     func() time.Time
}

type job struct {
	cfg       Config
	collector Collector
	schedule  cron.Schedule
	mu        sync.Mutex // one run at a time, scheduled or RunOnce
}

// NewRunner schedules the collectors built by Build and registers the
// metrics with reg (nil: not exported). deps.Validator is required; its
// catalogue's derived indicators are applied to every batch. log and now
// default to slog.Default and time.Now. The runner does nothing until Start.
func NewRunner(cols []Configured, deps Deps, s observation.Sink, reg prometheus.Registerer, log *slog.Logger, now func() time.Time) (*Runner, error) {
	if deps.Validator == nil {
		return nil, errors.New("collectors: no validator")
	}
	if s == nil {
		return nil, errors.New("collectors: no sink")
	}
	if log == nil {
		log = slog.Default()
	}
	if now == nil {
		now = time.Now
	}
	pipe, err := ingest.NewPipeline(deps.Validator, s)
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("registering collector metrics: %w", err)
	}
	r := &Runner{jobs: map[string]*job{}, pipe: pipe, metrics: m, log: log, now: now}
	for _, c := range cols {
		sched, err := config.Parser.Parse(c.Schedule) // checked by config.Load
		if err != nil {
			return nil, fmt.Errorf("collector %q: schedule: %q: %w", c.Name, c.Schedule, err)
		}
		if c.Timeout <= 0 {
			c.Timeout = config.Duration(DefaultTimeout)
		}
		r.jobs[c.Name] = &job{cfg: c.Config, collector: c.Collector, schedule: sched}
		r.order = append(r.order, c.Name)
		m.init(c.Name)
	}
	cl := config.CronLogger(log)
	r.cron = cron.New(
		cron.WithParser(config.Parser),
		cron.WithLogger(cl),
		cron.WithChain(cron.Recover(cl), cron.SkipIfStillRunning(cl)),
	)
	for _, name := range r.order {
		j := r.jobs[name]
		r.cron.Schedule(j.schedule, cron.FuncJob(func() {
			r.run(context.Background(), j)
			r.metrics.nextRun.WithLabelValues(j.cfg.Name).Set(unix(j.schedule.Next(r.now())))
		}))
	}
	return r, nil
}

// Names lists the configured collectors in configuration order.
func (r *Runner) Names() []string { return slices.Clone(r.order) }

// Start starts the scheduler in its own goroutine.
func (r *Runner) Start() {
	now := r.now()
	for _, name := range r.order {
		r.metrics.nextRun.WithLabelValues(name).Set(unix(r.jobs[name].schedule.Next(now)))
	}
	r.cron.Start()
}

// Stop stops scheduling; the returned context is done when the runs in
// progress have finished.
func (r *Runner) Stop() context.Context { return r.cron.Stop() }

// RunOnce runs one collector now, as the schedule would, and returns what
// went wrong (nil when every batch was accepted).
func (r *Runner) RunOnce(ctx context.Context, name string) error {
	j, ok := r.jobs[name]
	if !ok {
		return fmt.Errorf("no collector %q", name)
	}
	return r.run(ctx, j)
}

// run performs one run of j: collect, derive, hand to the sink, ack; it
// records the metrics and logs each failure once.
func (r *Runner) run(parent context.Context, j *job) (err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	name := j.cfg.Name
	start := r.now()
	r.metrics.lastRun.WithLabelValues(name).Set(unix(start))
	ctx, cancel := context.WithTimeout(parent, time.Duration(j.cfg.Timeout))
	defer cancel()
	var failed []error
	defer func() {
		if p := recover(); p != nil {
			failed = append(failed, fmt.Errorf("panic: %v", p))
			r.metrics.errors.WithLabelValues(name).Inc()
			r.log.Error("collector panicked", "collector", name, "panic", fmt.Sprint(p))
		}
		end := r.now()
		r.metrics.duration.WithLabelValues(name).Set(end.Sub(start).Seconds())
		if len(failed) == 0 {
			r.metrics.lastSuccess.WithLabelValues(name).Set(unix(end))
		}
		err = errors.Join(failed...)
	}()

	batches, cerr := j.collector.Collect(ctx)
	if cerr != nil {
		failed = append(failed, cerr)
		r.metrics.errors.WithLabelValues(name).Inc()
		r.log.Error("collector run failed", "collector", name, "error", cerr)
	}
	for i := range batches {
		if berr := r.deliver(ctx, name, &batches[i]); berr != nil {
			failed = append(failed, berr)
		}
	}
	return nil
}

// deliver runs one batch through the ingest pipeline (validate, derive,
// sink) and acks it.
func (r *Runner) deliver(ctx context.Context, name string, b *Batch) error {
	err := b.Err
	if err == nil && len(b.Samples) > 0 {
		var out ingest.Outcome
		out, err = r.pipe.Ingest(ctx, ingest.Input{Name: b.Name, Observations: b.Samples,
			Meta: observation.Meta{Origin: "collector:" + name, Who: name, File: b.Name, ReportedAt: r.now()}})
		if err == nil {
			r.metrics.samples.WithLabelValues(name).Add(float64(out.Rows))
		} else {
			var errs ingest.Errors
			if !errors.As(err, &errs) {
				err = fmt.Errorf("sink refused %d samples: %w", len(b.Samples), err)
			}
		}
	}
	if err != nil {
		r.metrics.errors.WithLabelValues(name).Inc()
		r.log.Error("collector batch rejected", "collector", name, "batch", b.Name, "err", err)
	}
	if b.Ack != nil {
		if aerr := b.Ack(err); aerr != nil {
			r.metrics.errors.WithLabelValues(name).Inc()
			r.log.Error("collector ack failed", "collector", name, "batch", b.Name, "error", aerr)
			err = errors.Join(err, aerr)
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", b.Name, err)
	}
	return nil
}

func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
