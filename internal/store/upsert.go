package store

import (
	"context"
	"strings"
	"time"

	"github.com/qualitymon/qualitymon/internal/observation"
)

// BatchSize is how many points go into one write request.
const BatchSize = 20000

// Upsert writes observations as of reportedAt. A key not yet held is new; a
// key held with a different value or source is a revision: the old value is
// kept in observation_revision and the new one becomes current; a key held
// with the same value is unchanged and not written again. Writing the same
// batch twice is therefore harmless (replays are idempotent).
func (s *Store) Upsert(ctx context.Context, batch []observation.Observation, reportedAt time.Time) (observation.Summary, error) {
	var sum observation.Summary
	if len(batch) == 0 {
		return sum, nil
	}
	existing, err := s.existing(ctx, batch)
	if err != nil {
		return sum, err
	}
	lines := make([]string, 0, min(len(batch), BatchSize)+8)
	var b strings.Builder
	flush := func() error {
		err := s.WriteLines(ctx, lines)
		lines = lines[:0]
		return err
	}
	for i := range batch {
		o := &batch[i]
		sum.Accepted++
		rev := 0
		if old, ok := existing[o.Key()]; ok {
			if old.Value == o.Value && old.Source == o.Source {
				sum.Unchanged++
				continue
			}
			sum.Revised++
			rev = old.Revision + 1
			b.Reset()
			revisionLine(&b, &old)
			lines = append(lines, b.String())
			// A later row of the same batch for this key revises this one.
			existing[o.Key()] = observation.Stored{Observation: *o, Revision: rev, ReportedAt: reportedAt}
		} else {
			sum.New++
			existing[o.Key()] = observation.Stored{Observation: *o, Revision: 0, ReportedAt: reportedAt}
		}
		b.Reset()
		ObservationLine(&b, o, rev, reportedAt)
		lines = append(lines, b.String())
		if len(lines) >= BatchSize {
			if err := flush(); err != nil {
				return sum, err
			}
		}
	}
	return sum, flush()
}

// existing loads the current values of the batch's keys, one query over the
// batch's indicators, regions and period range.
func (s *Store) existing(ctx context.Context, batch []observation.Observation) (map[observation.Key]observation.Stored, error) {
	inds, regs := map[string]bool{}, map[string]bool{}
	from, to := batch[0].Period.Start(), batch[0].Period.Start()
	for i := range batch {
		o := &batch[i]
		inds[o.Indicator] = true
		regs[o.Region] = true
		if st := o.Period.Start(); st.Before(from) {
			from = st
		} else if st.After(to) {
			to = st
		}
	}
	f := Filter{Indicators: keys(inds, FilterLimit), Regions: keys(regs, FilterLimit), From: from, To: to.Add(time.Second)}
	cur, err := s.Current(ctx, f)
	if err != nil {
		return nil, err
	}
	want := make(map[observation.Key]bool, len(batch))
	for i := range batch {
		want[batch[i].Key()] = true
	}
	out := make(map[observation.Key]observation.Stored, len(cur))
	for _, st := range cur {
		if want[st.Key()] {
			out[st.Key()] = st
		}
	}
	return out, nil
}

// keys lists a set's members, or nothing (no filter) when there are more
// than limit: a long chain of comparisons is slower than filtering in Go.
func keys(m map[string]bool, limit int) []string {
	if len(m) > limit {
		return nil
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Direct is the sink of one-shot tools: it writes straight to the store,
// with no spool.
type Direct struct {
	Store *Store
	// After, when set, runs after each successful write (re-evaluation).
	After func()
}

// Accept implements observation.Sink.
func (d *Direct) Accept(ctx context.Context, batch []observation.Observation, meta observation.Meta) (observation.Result, error) {
	at := meta.ReportedAt
	if at.IsZero() {
		at = time.Now()
	}
	sum, err := d.Store.Upsert(ctx, batch, at)
	if err != nil {
		return observation.Result{}, err
	}
	if d.After != nil {
		d.After()
	}
	return observation.Result{Summary: sum}, nil
}
