package store

import (
	"context"
	"maps"
	"slices"
	"strings"
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
// conflict across the shards queried). The keys are read by clusters of
// nearby period starts (timeClusters), each in pieces of at most
// filterLimit indicators, each piece one query filtered on its indicators
// and its own period range: one query over more indicators would not
// filter on them and read every point of the range, such as the points of
// other indicators an import's previous chunk wrote in the same year.
func (s *Store) existingRaw(ctx context.Context, batch []observation.Observation) (map[observation.Key]observation.Stored, bool, error) {
	want := make(map[observation.Key]bool, len(batch))
	all := make([]observation.Key, 0, len(batch))
	for i := range batch {
		k := batch[i].Key()
		if !want[k] {
			want[k] = true
			all = append(all, k)
		}
	}
	out := make(map[observation.Key]observation.Stored, len(batch))
	var incomplete bool
	for _, f := range lookupFilters(all) {
		cur, inc, err := s.currentRaw(ctx, f, want)
		if err != nil {
			return nil, false, err
		}
		incomplete = incomplete || inc
		for _, st := range cur {
			out[st.Key()] = st
		}
	}
	return out, incomplete, nil
}

// clusterGap: keys whose period starts lie further apart than this (and
// than two of the earlier key's periods) are looked up in separate queries.
// One query over both would read every stored point between them: fifty
// bureaus uploading at once for periods years apart made the lookup of a
// group write read the whole history of their regions.
const clusterGap = 31 * 24 * time.Hour

// lookupFilters are the queries that read the current values of keys (in
// place sorted by period start): by clusters of nearby period starts
// (timeClusters), each in pieces of at most filterLimit indicators, each
// piece filtered on its indicators and its own period range. Indicators
// are put into pieces in the order of their own period ranges, so that a
// piece's range is no wider than its indicators need: a chunk of an import
// holding one year of some indicators and the year before of others reads
// no points of the year it does not write for them (points an earlier
// chunk wrote).
func lookupFilters(keys []observation.Key) []Filter {
	var out []Filter
	for _, cluster := range timeClusters(keys) {
		spans := map[string]*KeySpan{}
		for _, k := range cluster {
			if spans[k.Indicator] == nil {
				spans[k.Indicator] = &KeySpan{}
			}
			spans[k.Indicator].Add(k)
		}
		inds := slices.SortedFunc(maps.Keys(spans), func(a, b string) int {
			sa, sb := spans[a], spans[b]
			if c := sa.from.Compare(sb.from); c != 0 {
				return c
			}
			if c := sa.to.Compare(sb.to); c != 0 {
				return c
			}
			return strings.Compare(a, b)
		})
		for len(inds) > 0 {
			var piece KeySpan
			for _, ind := range inds[:min(filterLimit, len(inds))] {
				piece.merge(spans[ind])
			}
			inds = inds[min(filterLimit, len(inds)):]
			out = append(out, piece.Filter())
		}
	}
	return out
}

// timeClusters splits keys (sorted here by period start) where the gap
// between neighbours exceeds clusterGap and two of the earlier key's
// periods.
func timeClusters(keys []observation.Key) [][]observation.Key {
	slices.SortFunc(keys, func(a, b observation.Key) int { return a.Period.Start().Compare(b.Period.Start()) })
	var out [][]observation.Key
	start := 0
	for i := 1; i < len(keys); i++ {
		prev := keys[i-1].Period
		gap := keys[i].Period.Start().Sub(prev.Start())
		if gap > clusterGap && gap > 2*prev.End().Sub(prev.Start()) {
			out = append(out, keys[start:i])
			start = i
		}
	}
	if len(keys) > start {
		out = append(out, keys[start:])
	}
	return out
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
