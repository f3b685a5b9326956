package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/qualitymon/qualitymon/internal/observation"
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

// UpsertGroup writes batches, in order, as one sequence of write requests
// (the spool's flusher hands it every pending batch at once). Each batch is
// classified as Upsert does, against the store's current values and the
// batches before it; each gets its own summary. The error is set when the
// write failed and may be retried whole (InfluxDB down, 5xx): nothing is
// known to be stored and the index is left as it was. When InfluxDB refuses
// rows as invalid, the write goes on with the other requests, the current
// values of every key are read back, and each batch with a row not stored
// as written gets a *PartialWriteError saying exactly what was stored.
func (s *Store) UpsertGroup(ctx context.Context, batches []Batch) ([]BatchResult, error) {
	out := make([]BatchResult, len(batches))
	var all []observation.Observation
	for _, b := range batches {
		all = append(all, b.Obs...)
	}
	if len(all) == 0 {
		return out, nil
	}
	var existing map[observation.Key]observation.Stored
	var err error
	if ix := s.index(); ix != nil {
		existing, err = ix.lookup(ctx, s, all)
	} else {
		existing, err = s.existing(ctx, all)
	}
	if err != nil {
		return nil, err
	}
	// final is the state of every key after the group, as written.
	final := existing
	class := make([][]int8, len(batches)) // per row: 0 new, 1 revised, 2 unchanged
	var lines []string
	var b strings.Builder
	for bi, bt := range batches {
		class[bi] = make([]int8, len(bt.Obs))
		sum := &out[bi].Summary
		for i := range bt.Obs {
			o := &bt.Obs[i]
			sum.Accepted++
			rev := 0
			if old, ok := final[o.Key()]; ok {
				if old.Value == o.Value && old.Source == o.Source {
					sum.Unchanged++
					class[bi][i] = 2
					continue
				}
				sum.Revised++
				class[bi][i] = 1
				rev = old.Revision + 1
				b.Reset()
				revisionLine(&b, &old)
				lines = append(lines, b.String())
			} else {
				sum.New++
			}
			final[o.Key()] = observation.Stored{Observation: *o, Revision: rev, ReportedAt: bt.ReportedAt.Truncate(time.Second).UTC()}
			b.Reset()
			ObservationLine(&b, o, rev, bt.ReportedAt)
			lines = append(lines, b.String())
		}
	}
	var refused error
	for i := 0; i < len(lines); i += BatchSize {
		err := s.WriteLines(ctx, lines[i:min(i+BatchSize, len(lines))])
		if err == nil {
			continue
		}
		if !Permanent(err) {
			if ix := s.index(); ix != nil {
				ix.forget(all) // what the failed request stored is unknown
			}
			return nil, err
		}
		refused = errors.Join(refused, err)
	}
	if refused == nil {
		if ix := s.index(); ix != nil {
			ix.update(all, final)
		}
		return out, nil
	}
	// InfluxDB refused rows: read back what it holds.
	if ix := s.index(); ix != nil {
		ix.forget(all)
	}
	held, err := s.existing(ctx, all)
	if err != nil {
		return nil, fmt.Errorf("InfluxDB refused rows (%v); reading back what it stored: %w", refused, err)
	}
	stored := func(k observation.Key) bool {
		want, h := final[k], held[k]
		return h.Value == want.Value && h.Source == want.Source && h.Revision == want.Revision
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
			pe.Stored.Accepted++
			switch class[bi][i] {
			case 0:
				pe.Stored.New++
			case 1:
				pe.Stored.Revised++
			default:
				pe.Stored.Unchanged++
			}
		}
		if len(pe.Refused) > 0 {
			out[bi] = BatchResult{Summary: pe.Stored, Err: pe}
		}
	}
	return out, nil
}

// EnableIndex keeps the current value of every key the store has written
// or looked up in memory, loaded lazily per indicator and region, so that
// Upsert and UpsertGroup classify new, revised and unchanged rows without
// asking InfluxDB each time. An indicator and region loaded more than
// maxAge ago is read again before use (default 1 minute): writes by other
// processes (qualitymon import) are seen within that time. The index stays
// in step with this store's own writes; a failed or refused write forgets
// the keys it touched.
func (s *Store) EnableIndex(maxAge time.Duration) {
	if maxAge <= 0 {
		maxAge = time.Minute
	}
	s.ixMu.Lock()
	s.ix = &index{maxAge: maxAge, pairs: map[pairKey]*pairEntry{}}
	s.ixMu.Unlock()
}

func (s *Store) index() *index {
	s.ixMu.Lock()
	defer s.ixMu.Unlock()
	return s.ix
}

type pairKey struct{ indicator, region string }

type pairEntry struct {
	loaded time.Time
	cur    map[observation.Key]observation.Stored
}

// index holds the current values of indicator × region pairs.
type index struct {
	mu        sync.Mutex
	maxAge    time.Duration
	pairs     map[pairKey]*pairEntry
	lastSweep time.Time
}

// lookup returns the current values of obs's keys, loading the pairs not
// held (or held too long) with one query per 50 indicators × 50 regions.
func (ix *index) lookup(ctx context.Context, s *Store, obs []observation.Observation) (map[observation.Key]observation.Stored, error) {
	now := time.Now()
	ix.mu.Lock()
	if now.Sub(ix.lastSweep) > ix.maxAge {
		for k, e := range ix.pairs {
			if now.Sub(e.loaded) > ix.maxAge {
				delete(ix.pairs, k)
			}
		}
		ix.lastSweep = now
	}
	missing := map[pairKey]bool{}
	for i := range obs {
		k := pairKey{obs[i].Indicator, obs[i].Region}
		if e := ix.pairs[k]; e == nil || now.Sub(e.loaded) > ix.maxAge {
			missing[k] = true
		}
	}
	ix.mu.Unlock()
	if len(missing) > 0 {
		if err := ix.load(ctx, s, missing, now); err != nil {
			return nil, err
		}
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	out := make(map[observation.Key]observation.Stored, len(obs))
	for i := range obs {
		k := obs[i].Key()
		if e := ix.pairs[pairKey{k.Indicator, k.Region}]; e != nil {
			if st, ok := e.cur[k]; ok {
				out[k] = st
			}
		}
	}
	return out, nil
}

func (ix *index) load(ctx context.Context, s *Store, missing map[pairKey]bool, now time.Time) error {
	byInd := map[string][]string{}
	for k := range missing {
		byInd[k.indicator] = append(byInd[k.indicator], k.region)
	}
	inds := make([]string, 0, len(byInd))
	for ind := range byInd {
		inds = append(inds, ind)
	}
	sort.Strings(inds)
	for _, ind := range inds {
		regs := byInd[ind]
		sort.Strings(regs)
		for i := 0; i < len(regs); i += FilterLimit {
			chunk := regs[i:min(i+FilterLimit, len(regs))]
			rows, err := s.Current(ctx, Filter{Indicators: []string{ind}, Regions: chunk})
			if err != nil {
				return err
			}
			fresh := make(map[pairKey]*pairEntry, len(chunk))
			for _, r := range chunk {
				fresh[pairKey{ind, r}] = &pairEntry{loaded: now, cur: map[observation.Key]observation.Stored{}}
			}
			for _, st := range rows {
				if e := fresh[pairKey{st.Indicator, st.Region}]; e != nil {
					e.cur[st.Key()] = st
				}
			}
			ix.mu.Lock()
			for k, e := range fresh {
				ix.pairs[k] = e
			}
			ix.mu.Unlock()
		}
	}
	return nil
}

// update records what a successful write made current.
func (ix *index) update(obs []observation.Observation, final map[observation.Key]observation.Stored) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for i := range obs {
		k := obs[i].Key()
		if e := ix.pairs[pairKey{k.Indicator, k.Region}]; e != nil {
			e.cur[k] = final[k]
		}
	}
}

// forget drops the pairs of obs (read again at next use).
func (ix *index) forget(obs []observation.Observation) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for i := range obs {
		delete(ix.pairs, pairKey{obs[i].Indicator, obs[i].Region})
	}
}
