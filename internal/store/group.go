package store

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
)

// Batch is one accepted batch of a group write.
type Batch struct {
	Obs        []observation.Observation
	ReportedAt time.Time
}

// BatchResult is what a group write did with one batch: its summary, or a
// *PartialWriteError when InfluxDB refused some or all of its rows.
type BatchResult struct {
	Summary observation.Summary
	Err     error
}

// PartialWriteError is InfluxDB refusing rows of a batch as invalid (HTTP
// 400 "partial write", a field-type conflict, a point it cannot parse):
// permanent, no retry will change it. What was stored was read back from
// InfluxDB after the refusal, so Stored and Refused say exactly what
// happened to every row.
type PartialWriteError struct {
	// Stored counts the rows InfluxDB holds as written (Accepted is their
	// number; New, Revised and Unchanged how they were classified).
	Stored observation.Summary
	// Refused lists the rows InfluxDB did not store, in batch order.
	Refused []observation.Observation
	// SetAside is where the spool set the refused rows aside (set by the spool).
	SetAside string
	// Err is InfluxDB's answer.
	Err error
}

func (e *PartialWriteError) Error() string {
	what := "refused the batch"
	if e.Stored.Accepted > 0 {
		what = fmt.Sprintf("stored %d rows and refused %d", e.Stored.Accepted, len(e.Refused))
	}
	return fmt.Sprintf("InfluxDB %s: %v", what, e.Err)
}

func (e *PartialWriteError) Unwrap() error { return e.Err }

// Write writes a sequence of batches, in order, with the one classifier
// (Classify): the spool's flusher, qualitymon import and every one-shot
// writer go through it. Consecutive batches are written together, in groups
// of about BatchSize rows (the spool hands it its pending batches, import
// its file in chunks), each group as writeGroup says; it returns each
// batch's result, in order. The error is set when a group's write failed
// and may be retried whole (InfluxDB down, 5xx): the batches of the groups
// before it are written (their results are returned), the others are not
// known to be; writing them again is harmless.
func (s *Store) Write(ctx context.Context, batches iter.Seq[Batch]) ([]BatchResult, error) {
	var out []BatchResult
	var group []Batch
	rows := 0
	flush := func() error {
		res, err := s.writeGroup(ctx, group)
		if err != nil {
			return err
		}
		out = append(out, res...)
		group, rows = group[:0], 0
		return nil
	}
	for b := range batches {
		group = append(group, b)
		if rows += len(b.Obs); rows >= BatchSize {
			if err := flush(); err != nil {
				return out, err
			}
		}
	}
	if len(group) > 0 {
		if err := flush(); err != nil {
			return out, err
		}
	}
	return out, nil
}

// writeGroup writes batches, in order, as one sequence of write requests.
// (the spool's flusher hands it every pending batch at once). Each batch is
// classified as Upsert does, against the current values read from InfluxDB
// for the group's keys (one query, never a cache: other replicas and
// qualitymon import write too) and the batches before it; each gets its own
// summary. A new or revised row of an indicator another write is active on
// (contested: racedIndicators, asked before writing) is first written to
// observation_report, then as the current value; a row of any other
// indicator is written as the current value alone, and as a report only
// if another write turns out to have been active on its indicator
// meanwhile (reconcileRaced, after the current values): see report.go.
// Afterwards reconcile makes the latest report current even when another
// process wrote the same keys meanwhile. The error is set when the write
// failed and may be retried whole (InfluxDB down, 5xx): nothing is known to
// be stored. When InfluxDB refuses
// rows as invalid, the write goes on with the other requests, the current
// values of every key are read back, and each batch with a row not stored
// as written gets a *PartialWriteError saying exactly what was stored.
func (s *Store) writeGroup(ctx context.Context, batches []Batch) ([]BatchResult, error) {
	out := make([]BatchResult, len(batches))
	var all []observation.Observation
	for _, b := range batches {
		all = append(all, b.Obs...)
	}
	if len(all) == 0 {
		return out, nil
	}
	// Mark the write's start before reading what its keys hold (see
	// activity.go), and its end once reconciled.
	id, inds := newWriteID(), indicatorsOf(all)
	defer s.beginOwn(id, all)()
	if err := s.markActivity(ctx, inds, "start", id); err != nil {
		return nil, err
	}
	existing, err := s.existing(ctx, all)
	if err != nil {
		return nil, err
	}
	contested, err := s.racedIndicators(ctx, inds, id)
	if err != nil {
		return nil, err
	}
	// final is the state of every key after the group, as written.
	final := existing
	class := make([][]Change, len(batches))
	var lines lineBuffer // the current values and superseded values
	var reports []string
	var late []lateReport              // the reports not written before their current value
	mine := map[observation.Key]mark{} // the last report written of each key
	var buf []byte                     // each line is rendered here, then copied
	for bi, bt := range batches {
		class[bi] = make([]Change, len(bt.Obs))
		sum := &out[bi].Summary
		for i := range bt.Obs {
			o := &bt.Obs[i]
			var cur *observation.Stored
			if old, ok := final[o.Key()]; ok {
				cur = &old
			}
			c, rev := Classify(cur, o.Value, o.Source)
			class[bi][i] = c
			c.countIn(sum)
			switch c {
			case Unchanged:
				continue
			case Revised:
				lines.body = appendSuperseded(lines.body, cur.Period.Kind, cur.Indicator, cur.Region, int64(cur.Revision), cur.Value, cur.ReportedAt.Unix(), cur.Source, cur.Note, cur.Period.Start().Unix())
				lines.end()
			}
			final[o.Key()] = observation.Stored{Observation: *o, Revision: rev, ReportedAt: bt.ReportedAt.Truncate(time.Second).UTC()}
			mine[o.Key()] = markOf(o, rev, bt.ReportedAt.Unix())
			if contested[o.Indicator] {
				buf = appendReport(buf[:0], o, int64(rev), bt.ReportedAt.Unix())
				reports = append(reports, string(buf))
			} else {
				late = append(late, lateReport{o, rev, bt.ReportedAt.Unix()})
			}
			lines.body = appendObservation(lines.body, o, int64(rev), bt.ReportedAt.Unix())
			lines.end()
		}
	}
	// The reports of contested indicators first: once a report is in
	// observation_report no other writer can overwrite it, whatever happens
	// to the current value.
	var refused error
	for i := 0; i < len(reports); i += BatchSize {
		err := s.writeReports(ctx, reports[i:min(i+BatchSize, len(reports))])
		if err == nil {
			continue
		}
		if !Permanent(err) {
			return nil, err
		}
		refused = errors.Join(refused, err)
	}
	refusals, err := s.writeBuffer(ctx, &lines)
	if err != nil {
		return nil, err
	}
	refused = errors.Join(append([]error{refused}, refusals...)...)
	if s.afterCurrent != nil {
		s.afterCurrent()
	}
	if refused == nil {
		if err := s.reconcileRaced(ctx, mine, late, inds, id); err != nil {
			return nil, err
		}
		return out, nil
	}
	// InfluxDB refused rows: read back what it holds, then reconcile the
	// keys it holds as written (another writer may have raced them).
	held, err := s.readBack(ctx, all)
	if err != nil {
		return nil, fmt.Errorf("InfluxDB refused rows (%v); reading back what it stored: %w", refused, err)
	}
	stored := func(k observation.Key) bool {
		want, h := final[k], held[k]
		return h.Value == want.Value && h.Source == want.Source && h.Revision == want.Revision
	}
	// InfluxDB 1.x answers a write spanning shard groups as soon as one
	// shard refuses its points, while the other shards' writes may still
	// be running: a row not read back yet is read again a few times
	// before it counts as refused.
	for _, wait := range readBackWaits {
		var missing []observation.Observation
		for _, o := range all {
			if !stored(o.Key()) {
				missing = append(missing, o)
			}
		}
		if len(missing) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		again, err := s.readBack(ctx, missing)
		if err != nil {
			return nil, fmt.Errorf("InfluxDB refused rows (%v); reading back what it stored: %w", refused, err)
		}
		if held == nil {
			held = again
		} else {
			maps.Copy(held, again)
		}
	}
	maps.DeleteFunc(mine, func(k observation.Key, _ mark) bool { return !stored(k) })
	if err := s.reconcileRaced(ctx, mine, late, inds, id); err != nil {
		return nil, err
	}
	var cause error = refused
	var he interface{ Unwrap() []error }
	if errors.As(refused, &he) && len(he.Unwrap()) == 1 {
		cause = he.Unwrap()[0]
	}
	for bi, bt := range batches {
		pe := &PartialWriteError{Err: cause}
		for i := range bt.Obs {
			o := &bt.Obs[i]
			if !stored(o.Key()) {
				pe.Refused = append(pe.Refused, *o)
				continue
			}
			class[bi][i].countIn(&pe.Stored)
		}
		if len(pe.Refused) > 0 {
			out[bi] = BatchResult{Summary: pe.Stored, Err: pe}
		}
	}
	return out, nil
}

// lateReport is a row written as the current value without its report
// first (its indicator was not contested when the write began).
type lateReport struct {
	o          *observation.Observation
	revision   int
	reportedAt int64
}

// reconcileRaced reconciles the keys of mine (written by the write id) whose
// indicator another write was active on meanwhile (racedIndicators), then
// marks the write's end. The rows of those indicators written without their
// report (late, stored: in mine) get it now, before reconcile reads the
// reports. A failure to mark the end is not the write's: it only keeps
// others careful for activityWindow.
func (s *Store) reconcileRaced(ctx context.Context, mine map[observation.Key]mark, late []lateReport, inds []string, id string) error {
	if len(mine) > 0 {
		raced, err := s.racedIndicators(ctx, inds, id)
		if err != nil {
			return fmt.Errorf("reconciling: %w", err)
		}
		var reports []string
		var buf []byte
		for _, r := range late {
			if _, ok := mine[r.o.Key()]; ok && raced[r.o.Indicator] {
				buf = appendReport(buf[:0], r.o, int64(r.revision), r.reportedAt)
				reports = append(reports, string(buf))
			}
		}
		for i := 0; i < len(reports); i += BatchSize {
			if err := s.writeReports(ctx, reports[i:min(i+BatchSize, len(reports))]); err != nil {
				return fmt.Errorf("reconciling: %w", err)
			}
		}
		maps.DeleteFunc(mine, func(k observation.Key, _ mark) bool { return !raced[k.Indicator] })
		if err := s.reconcile(ctx, mine); err != nil {
			return err
		}
	}
	_ = s.markActivity(ctx, inds, "done", id)
	return nil
}

// indicatorsOf lists the indicators of obs, sorted.
func indicatorsOf(obs []observation.Observation) []string {
	set := map[string]bool{}
	for i := range obs {
		set[obs[i].Indicator] = true
	}
	return slices.Sorted(maps.Keys(set))
}

// readBackWaits are the pauses before reading again the rows of a refused
// write that were not read back as written (about 1.5 s in all).
var readBackWaits = []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond}

// readBack reads the current values of obs's keys after a refused write:
// one period start at a time (readBackEach) unless there are more than 200.
func (s *Store) readBack(ctx context.Context, obs []observation.Observation) (map[observation.Key]observation.Stored, error) {
	starts := map[time.Time]bool{}
	for _, o := range obs {
		starts[o.Period.Start()] = true
	}
	if len(starts) > 200 {
		return s.existing(ctx, obs)
	}
	return s.readBackEach(ctx, obs)
}

// readBackEach reads the current values of obs's keys one period start at a
// time: a field-type conflict in one shard (the usual cause of a refusal)
// makes InfluxDB 1.8's Flux drop the field from a query spanning shards of
// both types.
func (s *Store) readBackEach(ctx context.Context, obs []observation.Observation) (map[observation.Key]observation.Stored, error) {
	byStart := map[time.Time][]observation.Observation{}
	for _, o := range obs {
		st := o.Period.Start()
		byStart[st] = append(byStart[st], o)
	}
	out := map[observation.Key]observation.Stored{}
	for _, part := range byStart {
		m, _, err := s.existingRaw(ctx, part)
		if err != nil {
			return nil, err
		}
		maps.Copy(out, m)
	}
	return out, nil
}

// currentRaw returns the current value, revision, reported_at and source
// of every observation matching f, read as plain CSV without pivoting
// (store.existingFlux). Unlike Current it also reads points of a shard
// where a field's type conflicts with another series' (InfluxDB 1.8 then
// answers a pivoted value column with nulls). The flag says whether
// InfluxDB left out the value of a point (such points are not returned).
// Only the keys want holds are kept, as the answer streams in: a filter
// over more indicators or regions than filterLimit does not name them, and
// the answer then holds other keys' points (the 690,000-row workbook's
// lookups held 143 MB of them).
func (s *Store) currentRaw(ctx context.Context, f Filter, want map[observation.Key]bool) ([]observation.Stored, bool, error) {
	type key struct{ ind, reg, freq, t string }
	at := map[key]int{}
	var skip key // the last key not wanted: its other fields follow it
	var out []observation.Stored
	var hasValue []bool // a point whose value InfluxDB did not answer is left out
	ks := kinds{}
	err := s.queryStream(ctx, existingFlux(s.cfg.Bucket, f), func(r fluxRow) error {
		k := key{r.Get("indicator"), r.Get("region"), r.Get("freq"), r.Get("_time")}
		if k == skip {
			return nil
		}
		i, ok := at[k]
		if !ok {
			kind, err := ks.of(k.freq)
			if err != nil {
				return err
			}
			t, err := time.Parse(time.RFC3339Nano, k.t)
			if err != nil {
				return fmt.Errorf("query result: bad _time %q", k.t)
			}
			o := observation.Observation{Indicator: k.ind, Region: k.reg, Period: period.FromStart(kind, t)}
			if !want[o.Key()] {
				skip = k
				return nil
			}
			o.Indicator, o.Region = strings.Clone(k.ind), strings.Clone(k.reg)
			i = len(out)
			at[k] = i
			out = append(out, observation.Stored{Observation: o})
			hasValue = append(hasValue, false)
		}
		st := &out[i]
		v := r.Get("_value")
		switch r.Get("_field") {
		case "value":
			st.Value, _ = strconv.ParseFloat(v, 64)
			hasValue[i] = v != ""
		case "revision":
			n, _ := strconv.ParseFloat(v, 64)
			st.Revision = int(n)
		case "reported_at":
			n, _ := strconv.ParseFloat(v, 64)
			st.ReportedAt = time.Unix(int64(n), 0).UTC()
		case "source":
			st.Source = strings.Clone(v)
		case "note":
			st.Note = strings.Clone(v)
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	kept := out[:0]
	for i, st := range out {
		if hasValue[i] {
			kept = append(kept, st)
		}
	}
	return kept, len(kept) < len(out), nil
}
