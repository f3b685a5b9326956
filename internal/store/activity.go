package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/qualitymon/qualitymon/internal/observation"
)

// Writer activity: which writes may have raced. Before it reads the current
// values of its keys, every group write (writeGroup) marks its start in
// writer_activity, one point per indicator it writes, stamped by InfluxDB's
// own clock (no time in the line: the server's, in ns, so that the clocks
// of several machines never compare), with a write id no other write has;
// after its reconcile it marks its end the same way. A write of key k can
// only have raced another write of k if the other's start is visible when
// the first has written its current values and the other has not ended
// before the first started: a write that starts later reads the first's
// values (its current values are in InfluxDB before it checks), and a
// write that ended earlier left its keys reconciled. So a write reads the
// marks of its indicators (one small query) twice: before writing, to
// report first the rows of indicators another write is active on
// (contested), and after writing its current values, to report the rows of
// the other indicators another write was active on meanwhile and to
// reconcile only the keys of those indicators (report.go). A write that
// never marks its end (a crash, or a failure the caller retries as a new
// write) keeps its indicators contested for activityWindow; that is the
// longest a write may take from its start to its check for the guarantee
// to hold.

// Writes of one process: the group writes of one Store may run at once
// (an import writes a chunk while it looks up the next). Two of them with
// no key in common cannot race on any key, so neither counts the other as
// active on its indicators (racedIndicators): their rows need no report
// and no reconcile. Whether two share a key is decided from their keys, in
// memory, when the later one begins (beginOwn); writes of other processes,
// and writes of this one that share a key, count as always.

// ownWrites are a Store's group writes in progress, by write id.
type ownWrites struct {
	mu     sync.Mutex
	active map[string]*ownWrite
}

// ownWrite is one group write in progress.
type ownWrite struct {
	obs      []observation.Observation
	keys     map[observation.Key]struct{} // obs's keys, made when first compared
	disjoint map[string]bool              // the writes of this Store sharing no key with it
}

// keySet returns w's keys, made at first use (under ownWrites.mu).
func (w *ownWrite) keySet() map[observation.Key]struct{} {
	if w.keys == nil {
		w.keys = make(map[observation.Key]struct{}, len(w.obs))
		for i := range w.obs {
			w.keys[w.obs[i].Key()] = struct{}{}
		}
	}
	return w.keys
}

// sharesKey says whether w and x write a key in common.
func (w *ownWrite) sharesKey(x *ownWrite) bool {
	small, big := w, x
	if len(small.obs) > len(big.obs) {
		small, big = big, small
	}
	set := big.keySet()
	for i := range small.obs {
		if _, ok := set[small.obs[i].Key()]; ok {
			return true
		}
	}
	return false
}

// beginOwn registers the write id of obs before it marks its start; the
// returned end unregisters it after it marks its end. A write that ended
// before another began marked its end before the other's start, so the
// other never counts it (racedIndicators), registered or not.
func (s *Store) beginOwn(id string, obs []observation.Observation) (end func()) {
	w := &ownWrite{obs: obs, disjoint: map[string]bool{}}
	o := &s.own
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.active == nil {
		o.active = map[string]*ownWrite{}
	}
	for xid, x := range o.active {
		if !w.sharesKey(x) {
			w.disjoint[xid], x.disjoint[id] = true, true
		}
	}
	o.active[id] = w
	return func() {
		o.mu.Lock()
		delete(o.active, id)
		o.mu.Unlock()
	}
}

// disjointOwn lists the writes of this Store known to share no key with id.
func (s *Store) disjointOwn(id string) map[string]bool {
	o := &s.own
	o.mu.Lock()
	defer o.mu.Unlock()
	if w := o.active[id]; w != nil {
		return maps.Clone(w.disjoint)
	}
	return nil
}

// measActivity is the measurement of writer activity marks.
const measActivity = "writer_activity"

// activityWindow is how far back a write looks for others' marks.
const activityWindow = 24 * time.Hour

// newWriteID is a write's id in writer_activity.
func newWriteID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// markActivity writes one mark (field start or done, value the write id)
// per indicator, stamped by InfluxDB.
func (s *Store) markActivity(ctx context.Context, inds []string, field, id string) error {
	lines := make([]string, 0, len(inds))
	var buf []byte
	for _, ind := range inds {
		buf = append(buf[:0], measActivity+",indicator="...)
		buf = appendTag(buf, ind)
		buf = append(buf, ' ')
		buf = append(buf, field...)
		buf = append(buf, '=')
		buf = appendString(buf, id)
		lines = append(lines, string(buf))
	}
	return s.writeReports(ctx, lines)
}

// span is one write's marks: its earliest start, its latest end (zero: not
// marked) and the indicators it marked.
type span struct {
	start, done time.Time
	inds        []string
}

// activity reads the marks of the last activityWindow, of inds only when
// there are few (nil: every indicator), by write id.
func (s *Store) activity(ctx context.Context, inds []string) (map[string]*span, error) {
	if len(inds) > filterLimit {
		inds = nil
	}
	q := "from(bucket: " + FluxString(s.cfg.Bucket) + ")\n  |> range(start: -" + fmt.Sprint(int(activityWindow/time.Hour)) + "h)\n" +
		"  |> filter(fn: (r) => r._measurement == " + FluxString(measActivity) + ")\n"
	if len(inds) > 0 {
		q += "  |> filter(fn: (r) => " + fluxAnyOf("indicator", "==", "or", inds) + ")\n"
	}
	q += `  |> filter(fn: (r) => r._field == "start" or r._field == "done")
  |> group()
  |> keep(columns: ["_time", "_value", "_field", "indicator"])
`
	writes := map[string]*span{}
	err := s.queryCSV(ctx, q, func(r fluxRow) error {
		t, err := r.Time()
		if err != nil {
			return err
		}
		w := writes[r.Get("_value")]
		if w == nil {
			w = &span{}
			writes[strings.Clone(r.Get("_value"))] = w
		}
		switch r.Get("_field") {
		case "start":
			if w.start.IsZero() || t.Before(w.start) {
				w.start = t
			}
			w.inds = append(w.inds, strings.Clone(r.Get("indicator")))
		case "done":
			if t.After(w.done) {
				w.done = t
			}
			if w.start.IsZero() { // its start is beyond the look-back
				w.inds = append(w.inds, strings.Clone(r.Get("indicator")))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return writes, nil
}

// racedIndicators reads the activity marks of inds and returns those on
// which another write was active since this write (id) started: a write
// whose start is visible and whose end is not, or is not before id's start,
// unless it is a write of this Store sharing no key with id (beginOwn).
// When id's own start is not found every indicator is returned.
func (s *Store) racedIndicators(ctx context.Context, inds []string, id string) (map[string]bool, error) {
	writes, err := s.activity(ctx, inds)
	if err != nil {
		return nil, err
	}
	raced := map[string]bool{}
	mine, ok := writes[id]
	if !ok || mine.start.IsZero() {
		for _, ind := range inds {
			raced[ind] = true
		}
		return raced, nil
	}
	disjoint := s.disjointOwn(id)
	for wid, w := range writes {
		if wid == id || disjoint[wid] || w.start.IsZero() || (!w.done.IsZero() && w.done.Before(mine.start)) {
			continue
		}
		for _, ind := range w.inds {
			if slices.Contains(inds, ind) {
				raced[ind] = true
			}
		}
	}
	return raced, nil
}

// Changes since a read: a reader that keeps what it read (the engine)
// takes InfluxDB's time T (ServerTime, less ChangeSlack) before it reads,
// and later re-reads only the indicators ChangedSince(T) names. A write
// that ended (marked done) before T had stored its values before the read
// began, so the read saw them; any other write that may have stored a
// value since then has a start or done mark after T, or no done mark at all
// (still going, or crashed): its indicators are named. Marks are stamped by
// InfluxDB's clock, which T is read from, so the clocks of the machines
// that write never compare. A write that does not mark (outside Store.Write:
// a restore, another tool's line protocol) is not seen: the reader reads
// everything again from time to time.

// ChangeSlack is taken off ServerTime (whose Date header, in whole seconds,
// is already no later than the read that follows), against a clock that
// steps back a little; a mark a little older than the read only costs a
// re-read.
const ChangeSlack = time.Second

// ServerTime is InfluxDB's clock: the Date header of its /ping answer
// (through the client's HTTP service, as every other request).
func (s *Store) ServerTime(ctx context.Context) (time.Time, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(s.cfg.URL, "/")+"/ping", nil)
	if err != nil {
		return time.Time{}, err
	}
	resp, err := s.client.HTTPService().DoHTTPRequestWithResponse(req, nil)
	if err != nil {
		return time.Time{}, classify(fmt.Errorf("influxdb %s: %w", RedactURL(s.cfg.URL), err))
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	t, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		return time.Time{}, fmt.Errorf("influxdb %s: /ping answered %s without a Date header", RedactURL(s.cfg.URL), resp.Status)
	}
	return t, nil
}

// ChangedSince lists, sorted, the indicators a write may have changed since
// t (InfluxDB's clock, taken before a read): those of every write with a
// mark after t or without its done mark. now is InfluxDB's time as the
// caller read it (ServerTime) for the read this one precedes. ok is false
// when t is older than the marks' look-back (activityWindow, less an
// hour): the caller must read everything.
func (s *Store) ChangedSince(ctx context.Context, t, now time.Time) (inds []string, ok bool, err error) {
	if now.Sub(t) > activityWindow-time.Hour {
		return nil, false, nil
	}
	writes, err := s.activity(ctx, nil)
	if err != nil {
		return nil, false, err
	}
	seen := map[string]bool{}
	for _, w := range writes {
		if w.done.IsZero() || w.done.After(t) || w.start.After(t) {
			for _, ind := range w.inds {
				seen[ind] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(seen)), true, nil
}

// ChangeReader is what ReadMarks.Next asks of the store (*Store): its
// clock and the indicators written since a time.
type ChangeReader interface {
	ServerTime(ctx context.Context) (time.Time, error)
	ChangedSince(ctx context.Context, t, now time.Time) ([]string, bool, error)
}

// ReadMarks is what a reader that re-reads only the indicators written
// since its last read keeps between reads (the engine's evaluation, the
// completeness refresh): ReadAt, InfluxDB's time less ChangeSlack taken
// before the last read (zero: none, or the time was not known), and
// FullAt, when the last full read began.
type ReadMarks struct {
	ReadAt, FullAt time.Time
}

// FullDue reports whether the next read must read everything by age: no
// read to build on, fullRead ≤ 0 (every read is full), or the last full
// read fullRead old.
func (m ReadMarks) FullDue(fullRead time.Duration) bool {
	return fullRead <= 0 || m.ReadAt.IsZero() || time.Since(m.FullAt) >= fullRead
}

// Next decides the next read. It takes InfluxDB's time first; at is the
// ReadAt to keep once the read succeeds (zero when the time is not known).
// With incremental (the caller holds the figures of the last read and no
// full read is due: FullDue) it lists the indicators written since ReadAt
// (full false: re-read those only). Otherwise, or when InfluxDB's time or
// its writer marks cannot be read (why says which, for the caller's log),
// full is true: read every figure.
func (m ReadMarks) Next(ctx context.Context, src ChangeReader, incremental bool) (changed []string, full bool, at time.Time, why error) {
	now, err := src.ServerTime(ctx)
	if err != nil {
		return nil, true, time.Time{}, fmt.Errorf("InfluxDB's time is not known: %w", err)
	}
	at = now.Add(-ChangeSlack)
	if !incremental || m.ReadAt.IsZero() {
		return nil, true, at, nil
	}
	changed, ok, err := src.ChangedSince(ctx, m.ReadAt, now)
	if err != nil {
		return nil, true, at, fmt.Errorf("reading the writer marks failed: %w", err)
	}
	if !ok {
		return nil, true, at, nil
	}
	return changed, false, at, nil
}
