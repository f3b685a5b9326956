package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/influxdata/influxdb-client-go/v2/domain"

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
	var buf []byte // each line is rendered here, then copied
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
				buf = AppendSuperseded(buf[:0], old.Period.Kind, old.Indicator, old.Region, int64(old.Revision), old.Value, old.ReportedAt.Unix(), old.Source, old.Period.Start().Unix())
				lines = append(lines, string(buf))
			} else {
				sum.New++
			}
			final[o.Key()] = observation.Stored{Observation: *o, Revision: rev, ReportedAt: bt.ReportedAt.Truncate(time.Second).UTC()}
			buf = AppendObservation(buf[:0], o, int64(rev), bt.ReportedAt.Unix())
			lines = append(lines, string(buf))
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
	held, err := s.readBack(ctx, all)
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
// or looked up in memory, so that Upsert and UpsertGroup classify new,
// revised and unchanged rows without asking InfluxDB again. Keys not held
// are loaded lazily with one query over their indicators and regions from
// their earliest period start on (periods cannot start in the future, so
// extending the range forward costs little), and the index remembers that
// it knows everything in that box: a later key inside it that the index
// does not hold is new, with no query. Keys and boxes loaded more than
// maxAge ago are read again before use (default 1 minute): writes by other
// processes (qualitymon import) are seen within that time. The index stays
// in step with this store's own writes; a failed or refused write forgets
// the keys it touched and every box.
func (s *Store) EnableIndex(maxAge time.Duration) {
	if maxAge <= 0 {
		maxAge = time.Minute
	}
	s.ixMu.Lock()
	s.ix = &index{maxAge: maxAge, keys: map[observation.Key]ixEntry{}}
	s.ixMu.Unlock()
}

func (s *Store) index() *index {
	s.ixMu.Lock()
	defer s.ixMu.Unlock()
	return s.ix
}

// ixEntry is what the store holds for a key (ok false: nothing).
type ixEntry struct {
	loaded  time.Time // read from InfluxDB
	written time.Time // last written by this store
	st      observation.Stored
	ok      bool
}

// index holds the current values of keys.
type index struct {
	mu        sync.Mutex
	maxAge    time.Duration
	keys      map[observation.Key]ixEntry
	boxes     []box // loaded whole: a key inside one and not in keys is not stored
	lastSweep time.Time
}

// box is a range of keys whose every stored value was loaded at once.
type box struct {
	loaded     time.Time
	indicators map[string]bool // nil: every indicator
	regions    map[string]bool // nil: every region
	from       time.Time       // period starts from here on
}

func (b *box) holds(o *observation.Observation) bool {
	return (b.indicators == nil || b.indicators[o.Indicator]) && (b.regions == nil || b.regions[o.Region]) && !o.Period.Start().Before(b.from)
}

// known reports whether the index knows what is stored for o (held, or
// inside a box); call with mu held.
func (ix *index) known(o *observation.Observation, now time.Time) bool {
	if e, ok := ix.keys[o.Key()]; ok && now.Sub(e.loaded) <= ix.maxAge {
		return true
	}
	for i := range ix.boxes {
		if ix.boxes[i].holds(o) {
			return true
		}
	}
	return false
}

// lookup returns the current values of obs's keys, loading those not known
// (or known too long).
func (ix *index) lookup(ctx context.Context, s *Store, obs []observation.Observation) (map[observation.Key]observation.Stored, error) {
	now := time.Now()
	ix.mu.Lock()
	if now.Sub(ix.lastSweep) > ix.maxAge/4 {
		for k, e := range ix.keys {
			if now.Sub(e.loaded) > ix.maxAge {
				delete(ix.keys, k)
			}
		}
		ix.lastSweep = now
	}
	ix.boxes = slices.DeleteFunc(ix.boxes, func(b box) bool { return now.Sub(b.loaded) > ix.maxAge })
	var missing []observation.Observation
	seen := map[observation.Key]bool{}
	for i := range obs {
		k := obs[i].Key()
		if !seen[k] && !ix.known(&obs[i], now) {
			seen[k] = true
			missing = append(missing, obs[i])
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
		if e := ix.keys[k]; e.ok {
			out[k] = e.st
		}
	}
	return out, nil
}

// load reads the keys of missing into the index: one query over their
// indicators and regions from their earliest period start on, remembered
// as a box; when a field-type conflict hides values in that range, the
// keys alone (one period at a time if need be), and no box.
func (ix *index) load(ctx context.Context, s *Store, missing []observation.Observation, now time.Time) error {
	inds, regs := map[string]bool{}, map[string]bool{}
	from := missing[0].Period.Start()
	for i := range missing {
		inds[missing[i].Indicator] = true
		regs[missing[i].Region] = true
		if st := missing[i].Period.Start(); st.Before(from) {
			from = st
		}
	}
	b := box{loaded: now, indicators: inds, regions: regs, from: from}
	f := Filter{Indicators: keys(inds, FilterLimit), Regions: keys(regs, FilterLimit), From: from}
	if f.Indicators == nil {
		b.indicators = nil
	}
	if f.Regions == nil {
		b.regions = nil
	}
	rows, incomplete, err := s.currentRaw(ctx, f)
	if err != nil {
		return err
	}
	if incomplete {
		held, incomplete, err := s.existingRaw(ctx, missing) // the keys' own range
		if err == nil && incomplete {
			held, err = s.readBack(ctx, missing) // one period at a time
		}
		if err != nil {
			return err
		}
		ix.mu.Lock()
		defer ix.mu.Unlock()
		for _, o := range missing {
			st, ok := held[o.Key()]
			ix.set(o.Key(), ixEntry{loaded: now, st: st, ok: ok}, now)
		}
		return nil
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for _, st := range rows {
		ix.set(st.Key(), ixEntry{loaded: now, st: st, ok: true}, now)
	}
	held := make(map[observation.Key]bool, len(rows))
	for _, st := range rows {
		held[st.Key()] = true
	}
	for _, o := range missing {
		if !held[o.Key()] {
			ix.set(o.Key(), ixEntry{loaded: now, ok: false}, now)
		}
	}
	ix.boxes = append(ix.boxes, b)
	return nil
}

// set records what a query begun at qt read for k, unless this store has
// written k since (its entry is then newer than the query, and as fresh);
// call with mu held. A key inside a box is thus never held for a shorter
// time than the box.
func (ix *index) set(k observation.Key, e ixEntry, qt time.Time) {
	if old, ok := ix.keys[k]; ok && old.written.After(qt) {
		old.loaded = maxTime(old.loaded, qt)
		ix.keys[k] = old
		return
	}
	ix.keys[k] = e
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// update records what a successful write made current.
func (ix *index) update(obs []observation.Observation, final map[observation.Key]observation.Stored) {
	now := time.Now()
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for i := range obs {
		k := obs[i].Key()
		e, ok := ix.keys[k]
		if !ok {
			e.loaded = now
		}
		e.st, e.ok, e.written = final[k], true, now
		ix.keys[k] = e
	}
}

// forget drops the keys of obs and every box (read again at next use).
func (ix *index) forget(obs []observation.Observation) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.boxes = nil
	for i := range obs {
		delete(ix.keys, obs[i].Key())
	}
}

// readBack reads the current values of obs's keys one period start at a
// time: a field-type conflict in one shard (the usual cause of a refusal)
// makes InfluxDB 1.8's Flux drop the field from a query spanning shards of
// both types.
func (s *Store) readBack(ctx context.Context, obs []observation.Observation) (map[observation.Key]observation.Stored, error) {
	byStart := map[time.Time][]observation.Observation{}
	for _, o := range obs {
		st := o.Period.Start()
		byStart[st] = append(byStart[st], o)
	}
	if len(byStart) > 200 {
		return s.existing(ctx, obs)
	}
	out := map[observation.Key]observation.Stored{}
	for _, part := range byStart {
		m, err := s.existing(ctx, part)
		if err != nil {
			return nil, err
		}
		maps.Copy(out, m)
	}
	return out, nil
}

// currentRaw returns the current value, revision, reported_at and source
// of every observation matching f, read as plain CSV without pivoting
// (store.ExistingFlux). Unlike Current it also reads points of a shard
// where a field's type conflicts with another series' (InfluxDB 1.8 then
// answers a pivoted value column with nulls). The flag says whether
// InfluxDB left out the value of a point (such points are not returned).
func (s *Store) currentRaw(ctx context.Context, f Filter) ([]observation.Stored, bool, error) {
	header := true
	raw, err := s.queryAPI().QueryRaw(ctx, ExistingFlux(s.cfg.Bucket, f), &domain.Dialect{Header: &header, Annotations: &[]domain.DialectAnnotations{}})
	if err != nil {
		return nil, false, classify(fmt.Errorf("querying %s: %w", s.cfg.Bucket, err))
	}
	type key struct{ ind, reg, freq, t string }
	at := map[key]int{}
	var out []observation.Stored
	var hasValue []bool // a point whose value InfluxDB did not answer is left out
	err = ReadFluxCSV(strings.NewReader(raw), func(r FluxRow) error {
		k := key{r.Get("indicator"), r.Get("region"), r.Get("freq"), r.Get("_time")}
		i, ok := at[k]
		if !ok {
			kind, err := period.ParseKind(k.freq)
			if err != nil {
				return fmt.Errorf("stored point with bad freq tag: %w", err)
			}
			t, err := time.Parse(time.RFC3339Nano, k.t)
			if err != nil {
				return fmt.Errorf("query result: bad _time %q", k.t)
			}
			i = len(out)
			at[k] = i
			out = append(out, observation.Stored{Observation: observation.Observation{Indicator: strings.Clone(k.ind), Region: strings.Clone(k.reg), Period: period.FromStart(kind, t)}})
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
		}
		return nil
	})
	if err != nil {
		var re *RetryableError
		if errors.As(err, &re) {
			return nil, false, re.Err
		}
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
