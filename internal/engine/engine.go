// Package engine evaluates every target from what the store holds (Load,
// used by `qualitymon status` and the JSON API, as known now or at a past
// moment) and, for `qualitymon serve`, runs evaluations one at a time,
// publishes them to the exporter and writes the evaluation history.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/exporter"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/internal/store"
)

// Engine evaluates targets from the store and publishes the result.
type Engine struct {
	Store     *store.Store
	Evaluator *evaluate.Evaluator
	Exporter  *exporter.Exporter
	Logger    *slog.Logger
	Now       func() time.Time
	// FullRead is how often a scheduled run reads every figure (config
	// evaluation.full_read); the runs between re-read only the indicators
	// written since the previous read. 0: every run reads everything.
	FullRead time.Duration
	// SnapshotPath, when set (and FullRead is not 0), is the file of the
	// last full read's figures (snapshot.go): written after each full read,
	// and read by the first run, which then re-reads only the indicators
	// written since.
	SnapshotPath string
	// Published, when set, is called after each run's metrics are
	// published (serve: qualitymon_report_overdue is recomputed then, in
	// the background, not on the scrape path). It must not block.
	Published func()

	mu   sync.RWMutex
	last []evaluate.Evaluation
	at   time.Time
	data *evaluate.Data // what last was judged from
	run  sync.Mutex
	// took: reading, judging and publishing; history: writing the
	// evaluation points; phases: took split into its parts (full runs).
	took, history time.Duration
	phases        Phases
	// written: the history holds every evaluation of last (the previous
	// write succeeded), so the next run writes only the changes.
	written bool
	// marks: the last read's (store.ReadMarks; ReadAt zero: none kept).
	// Used under run.
	marks     store.ReadMarks
	snapTried bool // the first run has looked for the snapshot
	// applyIdx: the tracked targets by indicator, for Apply (under run;
	// built again when the evaluator's plan set is another).
	applyIdx *applyIndex
	// recent: figures this process stored that data may not hold yet
	// (Stored, CurrentValues; under mu); recentSeq numbers the Stored calls.
	recent    map[observation.Key]recentValue
	recentSeq uint64
}

// Load evaluates every target as of at from what the store holds; with a
// non-zero knownAt, from the figures and revisions reported by then only
// (the scorecard as it was known at that moment).
func Load(ctx context.Context, st *store.Store, ev *evaluate.Evaluator, planKey string, at, knownAt time.Time) ([]evaluate.Evaluation, *evaluate.Data, error) {
	var data *evaluate.Data
	if knownAt.IsZero() {
		var err error
		if data, err = read(ctx, st, ev, ev.Set.Tracked(planKey), planKey == ""); err != nil {
			return nil, nil, err
		}
	} else {
		rows, err := st.KnownAt(ctx, store.Filter{Indicators: indicatorsOf(ev, ev.Set.Tracked(planKey))}, knownAt)
		if err != nil {
			return nil, nil, err
		}
		data = ev.NewData(rows) // derived figures from the members as known then
	}
	return ev.Evaluate(data, planKey, at), data, nil
}

// indicatorsOf lists, sorted, the indicators the targets read: their own,
// for averages the indicator the average is reported under, and those the
// derived ones among them are computed from (derived figures are computed
// as the Data is built, never read).
func indicatorsOf(ev *evaluate.Evaluator, targets []*plan.Target) []string {
	seen := map[string]bool{}
	var inds []string
	add := func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			inds = append(inds, id)
		}
	}
	for _, t := range targets {
		add(t.Indicator)
		if t.Average != nil {
			add(t.Average.Reported)
		}
	}
	inds = ev.Indicators(inds)
	sort.Strings(inds)
	return inds
}

// read reads the observations of the targets' indicators (every indicator
// when all is set, so that freshness covers indicators without targets)
// into a Data.
func read(ctx context.Context, st *store.Store, ev *evaluate.Evaluator, targets []*plan.Target, all bool) (*evaluate.Data, error) {
	inds := indicatorsOf(ev, targets)
	var extra []store.Filter
	if all {
		// One more page for indicators no target uses (daily AQI and the like).
		extra = append(extra, store.Filter{ExcludeIndicators: inds})
	}
	b, err := readPages(ctx, st, ev, inds, extra...)
	if err != nil {
		return nil, err
	}
	return b.Data(), nil
}

// readPages reads the observations of inds, and those extra filters
// select, page by page (store.IndicatorPages), at most
// store.ReadConcurrency queries at a time, each answer streamed into a
// builder: no slice of every observation is held.
func readPages(ctx context.Context, st *store.Store, ev *evaluate.Evaluator, inds []string, extra ...store.Filter) (*evaluate.DataBuilder, error) {
	var filters []store.Filter
	for _, page := range store.IndicatorPages(inds) {
		filters = append(filters, store.Filter{Indicators: page})
	}
	filters = append(filters, extra...)
	builders := make([]*evaluate.DataBuilder, len(filters))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(store.ReadConcurrency)
	for i, f := range filters {
		g.Go(func() error {
			b := ev.NewDataBuilder()
			builders[i] = b
			return st.EachValue(gctx, f, b.Add)
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out := ev.NewDataBuilder()
	for _, b := range builders {
		out.Merge(b)
	}
	return out, nil
}

// Run evaluates now, publishes the metrics and writes the history. Runs do
// not overlap.
func (e *Engine) Run(ctx context.Context) error {
	e.run.Lock()
	defer e.run.Unlock()
	return e.runLocked(ctx)
}

// Apply updates the evaluation after obs were written to InfluxDB, without
// reading the store: obs are applied to the data of the last run, only the
// targets reading their indicators are judged again (as of now), the
// metrics are published and the history of those targets written. Without
// a previous run it runs in full. Runs do not overlap.
func (e *Engine) Apply(ctx context.Context, obs []observation.Observation) error {
	e.run.Lock()
	defer e.run.Unlock()
	e.mu.RLock()
	base, last := e.data, e.last
	e.mu.RUnlock()
	if base == nil {
		return e.runLocked(ctx)
	}
	start, t0 := e.Now(), time.Now()
	data := base.With(obs)
	changed := map[string]bool{}
	for i := range obs {
		changed[obs[i].Indicator] = true
	}
	for _, id := range e.Evaluator.Dependents(changed) {
		changed[id] = true
	}
	targets, pos := e.applyIndexLocked().judge(changed)
	fresh := e.Evaluator.EvaluateTargets(data, targets, start)
	// The indices whose metrics are encoded again: those whose judgement
	// changed, not every target of the uploaded indicators (at national
	// scale a figure's indicator has targets in every plan, so in every
	// block of the metrics page).
	replaced := []int{} // (nil: everything)
	// prevJudged: the last evaluation of each of fresh, for the history.
	prevJudged := make([]evaluate.Evaluation, 0, len(fresh))
	if !samePositions(last, fresh, pos) {
		// last is not a full evaluation of this plan set: found by key.
		pos = positionsByKey(last, fresh)
	}
	for j, i := range pos {
		if i < 0 {
			continue // (a target last lacks: cannot be after a full run)
		}
		prevJudged = append(prevJudged, last[i])
		if !sameEvaluation(&last[i], &fresh[j]) {
			replaced = append(replaced, i)
		}
	}
	// last is published and never changed: the new evaluation is a copy
	// with the changed judgements in place (one bulk copy), or last itself
	// when no judgement changed.
	evals := last
	if len(replaced) > 0 {
		evals = make([]evaluate.Evaluation, len(last))
		copy(evals, last)
		for j, i := range pos {
			if i >= 0 {
				evals[i] = fresh[j]
			}
		}
	}
	judged := time.Now()
	err := e.publishJudged(ctx, evals, fresh, prevJudged, replaced, data, start, 0, obs)
	if e.Logger != nil {
		e.mu.RLock()
		pub := e.phases.Publish
		e.mu.RUnlock()
		e.Logger.Info("applied", "rows", len(obs), "judged", len(fresh), "encoded", len(replaced),
			"judge_s", judged.Sub(t0).Seconds(), "publish_s", pub.Seconds(), "history_s", time.Since(judged).Seconds()-pub.Seconds())
	}
	return err
}

// Phases is what the last scheduled run did and how long its parts took:
// reading the figures from InfluxDB (the query and the parse of its
// answer, streamed together), judging every target, and publishing (the
// metrics page). Full is set when it read every figure; otherwise it
// re-read only Indicators, those written since the previous read.
type Phases struct {
	Read, Judge, Publish time.Duration
	Full                 bool
	Indicators           []string
	// Snapshot: the run judged from the snapshot of a full read before the
	// start (and the Indicators re-read since).
	Snapshot bool
}

func (e *Engine) runLocked(ctx context.Context) error {
	start := e.Now()
	e.mu.RLock()
	seq := e.recentSeq // the figures stored by then are in what InfluxDB answers
	e.mu.RUnlock()
	t0 := time.Now()
	data, ph, err := e.readLatest(ctx)
	if err != nil {
		e.Exporter.Failed(start, e.Now().Sub(start))
		return fmt.Errorf("evaluating: %w", err)
	}
	t1 := time.Now()
	evals := e.Evaluator.Evaluate(data, "", start)
	ph.Read, ph.Judge = t1.Sub(t0), time.Since(t1)
	e.mu.Lock()
	e.phases = ph
	e.mu.Unlock()
	e.mu.RLock()
	prev := e.last
	e.mu.RUnlock()
	err = e.publish(ctx, evals, evals, changedIndices(prev, evals), data, start, seq, nil)
	if ph.Full && e.SnapshotPath != "" && e.FullRead > 0 && !e.marks.ReadAt.IsZero() {
		if serr := e.saveSnapshot(data, e.marks); serr != nil {
			e.Logger.Warn("writing the snapshot of the figures failed: the next start reads every figure", "err", serr, "path", e.SnapshotPath)
		}
	}
	return err
}

// readLatest reads what the store holds now: every figure when no read
// was kept, when the last full read is FullRead old (or FullRead is 0),
// or when InfluxDB's time or its writer marks cannot be read; otherwise
// only the indicators written since the last read (store.ChangedSince),
// their figures replacing those in the data of the last run. The first
// run starts from the snapshot of the last full read, when there is a
// usable one. Before reading it takes InfluxDB's time, which the next run
// asks the marks after. The caller holds e.run.
func (e *Engine) readLatest(ctx context.Context) (*evaluate.Data, Phases, error) {
	e.mu.RLock()
	base := e.data
	e.mu.RUnlock()
	var ph Phases
	if base == nil && !e.snapTried && e.SnapshotPath != "" && e.FullRead > 0 {
		e.snapTried = true
		data, hdr, err := e.loadSnapshot()
		switch {
		case err == nil:
			base, e.marks, ph.Snapshot = data, store.ReadMarks{ReadAt: hdr.ReadAt, FullAt: hdr.FullAt}, true
		case errors.Is(err, errNoSnapshot):
		default:
			e.Logger.Warn("the snapshot of the figures is not used: this evaluation reads every figure", "err", err)
		}
	}
	// The run from the snapshot is never a full read (however old its full
	// read): a start must not wait for one; the next scheduled run is.
	incremental := base != nil && e.FullRead > 0 && (ph.Snapshot || !e.marks.FullDue(e.FullRead))
	changed, full, at, why := e.marks.Next(ctx, e.Store, incremental)
	if why != nil {
		e.Logger.Warn("this evaluation reads every figure", "err", why)
	}
	if !full {
		data := base
		if len(changed) > 0 {
			b, err := readPages(ctx, e.Store, e.Evaluator, changed)
			if err != nil {
				return nil, ph, err
			}
			data = base.Replace(b, changed)
		}
		e.marks.ReadAt = at
		ph.Indicators = changed
		return data, ph, nil
	}
	fullAt := time.Now()
	data, err := read(ctx, e.Store, e.Evaluator, e.Evaluator.Set.Tracked(""), true)
	if err != nil {
		return nil, Phases{}, err
	}
	e.marks = store.ReadMarks{ReadAt: at, FullAt: fullAt}
	return data, Phases{Full: true}, nil
}

// LastPhases is what the last scheduled run did and how long it took.
func (e *Engine) LastPhases() Phases {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.phases
}

// publish serves evals (every target) as the latest evaluation and writes
// the history of judged (the targets this run judged afresh): all of them
// on the first run and after a failed write, else those that changed.
// replaced, when not nil, lists the only indices at which evals differs
// from the last published (Exporter.UpdateChanged). The recent figures
// data holds (seq, applied: settled) are forgotten as data is published.
func (e *Engine) publish(ctx context.Context, evals, judged []evaluate.Evaluation, replaced []int, data *evaluate.Data, start time.Time, seq uint64, applied []observation.Observation) error {
	return e.publishJudged(ctx, evals, judged, nil, replaced, data, start, seq, applied)
}

// publishJudged is publish with prevJudged, when not nil, the last
// published evaluation of each of judged, in the same order (Apply: the
// history's changes are then found without an index of every target).
func (e *Engine) publishJudged(ctx context.Context, evals, judged, prevJudged []evaluate.Evaluation, replaced []int, data *evaluate.Data, start time.Time, seq uint64, applied []observation.Observation) error {
	p0 := time.Now()
	e.Exporter.UpdateChanged(evals, replaced, data, start, e.Now().Sub(start))
	e.mu.Lock()
	prev := e.last
	e.last, e.at, e.data = evals, start, data
	e.settled(seq, applied)
	e.took = e.Now().Sub(start)
	e.phases.Publish = time.Since(p0)
	e.mu.Unlock()
	if e.Published != nil {
		e.Published()
	}
	h := time.Now()
	write := judged
	if e.written {
		if prevJudged != nil {
			prev = prevJudged
		}
		write = historyChanges(prev, judged)
	}
	err := e.Store.WriteEvaluations(ctx, write, start)
	e.mu.Lock()
	e.history = time.Since(h)
	// After a failed write the next run writes every target again.
	e.written = err == nil
	e.mu.Unlock()
	if err != nil {
		return fmt.Errorf("writing evaluation history: %w", err)
	}
	return nil
}

// historyChanges returns the evaluations of next whose history fields
// (status, basis, settled, stale, period and figures) differ from those of
// the same target and region in prev, or that prev lacks: the evaluation
// history holds a point per change, not per run (at 300,000 targets a run
// every few minutes would write 300,000 points each time). prev and next
// are usually in the same order (the evaluator's), which is checked first.
func historyChanges(prev, next []evaluate.Evaluation) []evaluate.Evaluation {
	type key struct{ plan, target, region string }
	var index map[key]int
	var out []evaluate.Evaluation
	for i := range next {
		n := &next[i]
		var p *evaluate.Evaluation
		if i < len(prev) && prev[i].Plan == n.Plan && prev[i].Target == n.Target && prev[i].Region == n.Region {
			p = &prev[i]
		} else {
			if index == nil {
				index = make(map[key]int, len(prev))
				for j := range prev {
					index[key{prev[j].Plan, prev[j].Target, prev[j].Region}] = j
				}
			}
			if j, ok := index[key{n.Plan, n.Target, n.Region}]; ok {
				p = &prev[j]
			}
		}
		if p == nil || !sameHistory(p, n) {
			out = append(out, *n)
		}
	}
	return out
}

// sameHistory reports whether a and b write the same history fields.
func sameHistory(a, b *evaluate.Evaluation) bool {
	eq := func(x, y *float64) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return a.Status == b.Status && a.Basis.Code == b.Basis.Code && a.Settled == b.Settled && a.Stale == b.Stale &&
		a.Period == b.Period && a.Indicator == b.Indicator && eq(a.Actual, b.Actual) && eq(a.TargetValue, b.TargetValue) &&
		eq(a.Gap, b.Gap) && eq(a.Progress, b.Progress) && eq(a.Projected, b.Projected)
}

// Timings of the last successful run: until the metrics were published, and
// the history write after it.
func (e *Engine) Timings() (took, history time.Duration) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.took, e.history
}

// Last returns the latest evaluation and when it ran.
func (e *Engine) Last() ([]evaluate.Evaluation, time.Time) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.last, e.at
}

// Snapshot returns the latest evaluation with the figures it judged and
// when it ran (nil before the first run). Neither may be changed.
func (e *Engine) Snapshot() ([]evaluate.Evaluation, *evaluate.Data, time.Time) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.last, e.data, e.at
}
