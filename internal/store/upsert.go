package store

import (
	"context"
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
	if len(batch) == 0 {
		return observation.Summary{}, nil
	}
	res, err := s.UpsertGroup(ctx, []Batch{{Obs: batch, ReportedAt: reportedAt}})
	if err != nil {
		return observation.Summary{}, err
	}
	return res[0].Summary, res[0].Err
}

// existing loads the current values of the batch's keys, one query over the
// batch's indicators, regions and period range (one period start at a time
// when a field-type conflict across shards hid values from that query).
func (s *Store) existing(ctx context.Context, batch []observation.Observation) (map[observation.Key]observation.Stored, error) {
	m, incomplete, err := s.existingRaw(ctx, batch)
	if err == nil && incomplete {
		return s.readBackEach(ctx, batch)
	}
	return m, err
}

// existingRaw also says whether InfluxDB left out a value (a field-type
// conflict across the shards queried).
func (s *Store) existingRaw(ctx context.Context, batch []observation.Observation) (map[observation.Key]observation.Stored, bool, error) {
	cur, incomplete, err := s.currentRaw(ctx, keyFilter(batch))
	if err != nil {
		return nil, false, err
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
	return out, incomplete, nil
}

// keyFilter selects the batch's indicators, regions and period range (up
// to the second after its last period start).
func keyFilter(batch []observation.Observation) Filter {
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
	return Filter{Indicators: keys(inds, FilterLimit), Regions: keys(regs, FilterLimit), From: from, To: to.Add(time.Second)}
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
