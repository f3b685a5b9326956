package store

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/qualitymon/qualitymon/internal/observation"
)

// BatchSize is how many points go into one write request.
const BatchSize = 20000

// Upsert writes one batch as of reportedAt through Write. A key not yet
// held is new; a key held with a different value or source is a revision:
// the old value is kept in observation_revision and the new one becomes
// current; a key held with the same value is unchanged and not written
// again (Classify). Writing the same batch twice is therefore harmless
// (replays are idempotent).
func (s *Store) Upsert(ctx context.Context, batch []observation.Observation, reportedAt time.Time) (observation.Summary, error) {
	if len(batch) == 0 {
		return observation.Summary{}, nil
	}
	res, err := s.Write(ctx, slices.Values([]Batch{{Obs: batch, ReportedAt: reportedAt}}))
	if err != nil {
		return observation.Summary{}, err
	}
	return res[0].Summary, res[0].Err
}

// existing loads the current values of the batch's keys, one query per
// piece of at most filterLimit of the batch's indicators (existingRaw), or
// one period start at a time when a field-type conflict across shards hid
// values from those queries.
func (s *Store) existing(ctx context.Context, batch []observation.Observation) (map[observation.Key]observation.Stored, error) {
	m, incomplete, err := s.existingRaw(ctx, batch)
	if err == nil && incomplete {
		return s.readBackEach(ctx, batch)
	}
	return m, err
}

// existingRaw also says whether InfluxDB left out a value (a field-type
// conflict across the shards queried). The keys are read in pieces of at
// most filterLimit indicators, each piece one query filtered on its
// indicators and its own period range: one query over more indicators
// would not filter on them and read every point of the range, such as the
// points of other indicators an import's previous chunk wrote in the same
// year.
func (s *Store) existingRaw(ctx context.Context, batch []observation.Observation) (map[observation.Key]observation.Stored, bool, error) {
	want := make(map[observation.Key]bool, len(batch))
	spans := map[string]*KeySpan{}
	for i := range batch {
		k := batch[i].Key()
		want[k] = true
		if spans[k.Indicator] == nil {
			spans[k.Indicator] = &KeySpan{}
		}
		spans[k.Indicator].Add(k)
	}
	out := make(map[observation.Key]observation.Stored, len(batch))
	var incomplete bool
	inds := slices.Sorted(maps.Keys(spans))
	for len(inds) > 0 {
		var piece KeySpan
		for _, ind := range inds[:min(filterLimit, len(inds))] {
			piece.merge(spans[ind])
		}
		inds = inds[min(filterLimit, len(inds)):]
		cur, inc, err := s.currentRaw(ctx, piece.Filter())
		if err != nil {
			return nil, false, err
		}
		incomplete = incomplete || inc
		for _, st := range cur {
			if want[st.Key()] {
				out[st.Key()] = st
			}
		}
	}
	return out, incomplete, nil
}

// keys lists a set's members in order, or nothing (no filter) when there
// are more than limit.
func keys(m map[string]bool, limit int) []string {
	if len(m) > limit {
		return nil
	}
	return slices.Sorted(maps.Keys(m))
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
