package engine

import (
	"context"
	"maps"

	"github.com/qualitymon/qualitymon/internal/observation"
)

// recentValue is a figure this process stored that the data of the last
// run may not hold yet: its value and the number of the Stored call that
// brought it.
type recentValue struct {
	v   float64
	seq uint64
}

// Stored records figures this process has just written to InfluxDB (serve:
// the spool's OnStored, before the uploads that brought them are
// answered), so that CurrentValues answers with them at once. They are
// kept until a run's data holds them: Apply's, or that of a run whose read
// began after they were recorded. It never blocks for long.
func (e *Engine) Stored(obs []observation.Observation) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.recentSeq++
	if e.recent == nil {
		e.recent = make(map[observation.Key]recentValue, len(obs))
	}
	for i := range obs {
		e.recent[obs[i].Key()] = recentValue{obs[i].Value, e.recentSeq}
	}
}

// CurrentValues returns the current value of each of keys that has one
// (ingest.History: the previous periods an upload's plausibility check
// compares with), from what the engine holds in memory: the figures of
// its last run and those this process stored since (Stored). Figures other
// replicas (or `qualitymon import`) wrote reach it with the next scheduled
// run; the check is a warning, never a decision about the data. Before
// the first run, and for the keys the data does not hold (periods other
// than years, and days of indicators no rule rolls up), it asks the store
// (store.Store.CurrentValues).
func (e *Engine) CurrentValues(ctx context.Context, keys []observation.Key) (map[observation.Key]float64, error) {
	out := make(map[observation.Key]float64, len(keys))
	var rest []observation.Key
	// Under the lock, the data and the recent figures of keys, which must
	// be of the same moment, taken in min(len(keys), len(recent)) steps (a
	// large upload's keys do not hold up a run's publishing); the data,
	// which is never changed, is read after.
	e.mu.RLock()
	data := e.data
	recent := e.recent
	switch {
	case data == nil:
	case len(recent) == 0:
		recent = nil
	case len(keys) < len(recent):
		recent = make(map[observation.Key]recentValue)
		for _, k := range keys {
			if r, ok := e.recent[k]; ok {
				recent[k] = r
			}
		}
	default:
		recent = maps.Clone(recent) // fitRecent keeps its room to its size
	}
	e.mu.RUnlock()
	if data == nil {
		rest = keys
	} else {
		for _, k := range keys {
			if r, ok := recent[k]; ok {
				out[k] = r.v
			} else if v, ok, held := data.Reported(k); !held {
				rest = append(rest, k)
			} else if ok {
				out[k] = v
			}
		}
	}
	if len(rest) == 0 {
		return out, nil
	}
	got, err := e.Store.CurrentValues(ctx, rest)
	for k, v := range got {
		out[k] = v
	}
	return out, err
}

// settled forgets the recent figures the data just published holds: those
// recorded by Stored calls up to seq (a run whose read began after them),
// and those of applied whose value is the one the data took (Apply; a
// figure stored again since, with another value, stays). The caller holds
// e.mu.
func (e *Engine) settled(seq uint64, applied []observation.Observation) {
	if len(e.recent) == 0 {
		return
	}
	if seq > 0 {
		for k, r := range e.recent {
			if r.seq <= seq {
				delete(e.recent, k)
			}
		}
	}
	defer e.fitRecent()
	if len(applied) == 0 {
		return
	}
	took := make(map[observation.Key]float64, len(applied))
	for i := range applied {
		took[applied[i].Key()] = applied[i].Value // later rows win, as in Data.With
	}
	for k, v := range took {
		if r, ok := e.recent[k]; ok && r.v == v {
			delete(e.recent, k)
		}
	}
}

// fitRecent makes the map of recent figures again of the size of what it
// holds, after settled deleted from it: a map keeps the room of its largest
// size, and CurrentValues copies the whole room of a map smaller than an
// upload's keys (maps.Clone), which, with a map emptied after a burst, cost
// a fifth of serve's CPU under 50 uploading clients. The caller holds e.mu.
func (e *Engine) fitRecent() {
	if len(e.recent) == 0 {
		e.recent = nil
		return
	}
	fit := make(map[observation.Key]recentValue, len(e.recent))
	for k, r := range e.recent {
		fit[k] = r
	}
	e.recent = fit
}
