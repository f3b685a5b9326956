package store

import (
	"context"
	"sync"
	"time"

	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
)

// Lookups of current values (CurrentValues) share queries: the callers
// that arrive while maxLookupQueries queries run wait, and the next query
// that starts takes up to maxLookupCallers of them at once (their keys read
// together, as a group write's lookup reads its batches' keys).
// Under load (fifty bureaus uploading at once, each upload's plausibility
// check asking for the previous periods) InfluxDB then answers a few
// queries a round trip instead of one per upload.
const (
	maxLookupQueries = 2
	maxLookupCallers = 64
)

// lookupTimeout bounds one shared query (its callers' contexts are not
// its own: each caller stops waiting when its context ends).
const lookupTimeout = time.Minute

// valueLookup is one caller's keys and, once done is closed, its answer.
type valueLookup struct {
	keys []observation.Key
	done chan struct{}
	out  map[observation.Key]float64
	err  error
}

// lookups is the queue of CurrentValues callers.
type lookups struct {
	mu      sync.Mutex
	running int
	waiting []*valueLookup
}

// CurrentValues returns the current value of each of keys that has one:
// the previous periods an upload's plausibility check compares with
// (ingest.History). Concurrent callers share queries (see lookups).
func (s *Store) CurrentValues(ctx context.Context, keys []observation.Key) (map[observation.Key]float64, error) {
	if len(keys) == 0 {
		return map[observation.Key]float64{}, nil
	}
	l := &valueLookup{keys: keys, done: make(chan struct{})}
	q := &s.lookups
	q.mu.Lock()
	q.waiting = append(q.waiting, l)
	if q.running < maxLookupQueries {
		q.running++
		go s.runLookups()
	}
	q.mu.Unlock()
	select {
	case <-l.done:
		return l.out, l.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// runLookups answers waiting callers, up to maxLookupCallers a query,
// until none waits.
func (s *Store) runLookups() {
	q := &s.lookups
	for {
		q.mu.Lock()
		n := min(len(q.waiting), maxLookupCallers)
		if n == 0 {
			q.running--
			q.mu.Unlock()
			return
		}
		batch := q.waiting[:n:n]
		q.waiting = q.waiting[n:]
		q.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
		got, err := s.lookupValues(ctx, batch)
		cancel()
		for _, l := range batch {
			l.err = err
			if err == nil {
				l.out = make(map[observation.Key]float64, len(l.keys))
				for _, k := range l.keys {
					if v, ok := got[k]; ok {
						l.out[k] = v
					}
				}
			}
			close(l.done)
		}
	}
}

// lookupValues reads the current values of every caller's keys together,
// by the queries of a group write's lookup (lookupFilters), but only the
// value field, read as the storage streams it (EachValue: no pivot, no
// group), which is what the plausibility check needs.
func (s *Store) lookupValues(ctx context.Context, batch []*valueLookup) (map[observation.Key]float64, error) {
	want := map[observation.Key]bool{}
	var keys []observation.Key
	for _, l := range batch {
		for _, k := range l.keys {
			if !want[k] {
				want[k] = true
				keys = append(keys, k)
			}
		}
	}
	out := make(map[observation.Key]float64, len(keys))
	for _, f := range lookupFilters(keys) {
		err := s.EachValue(ctx, f, func(indicator, region string, p period.Period, v float64) {
			if k := (observation.Key{Indicator: indicator, Region: region, Period: p}); want[k] {
				out[k] = v
			}
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
