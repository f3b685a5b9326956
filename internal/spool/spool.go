// Package spool is the durable local queue between every ingest path and
// InfluxDB. It implements observation.Sink: Accept appends the batch to a segment
// file and fsyncs it before returning, so an accepted batch survives a crash
// of qualitymon or an outage of InfluxDB; one flusher goroutine then writes
// the batches to InfluxDB through store.Upsert, strictly in the order they
// were accepted, retrying with capped exponential backoff while InfluxDB is
// unreachable.
//
// # On disk
//
// The spool directory holds:
//
//	00000000000000000001.seg   segments: records appended in order
//	commit                     {"segment":N,"offset":M,"last_id":K}: every
//	                           record before segment N offset M is in InfluxDB
//	lock                       flock held by the process that owns the spool
//	failed/<id>.csv, <id>.err  batches InfluxDB refused as invalid (400/422),
//	                           in the canonical CSV layout for re-import
//
// A record is a 12-byte header (magic "QMS1", big-endian payload length,
// CRC-32C of the payload) followed by a JSON payload: id, origin, who, file,
// reported_at and the rows (indicator, region, canonical period, value,
// source, note). A crash in the middle of an append leaves a record whose
// length or checksum does not match; Open truncates it away. It was never
// acknowledged, because Accept returns only after the fsync.
//
// # Exactly once
//
// After a batch is written the commit file is replaced (write, fsync,
// rename, fsync directory). A crash between the write and the commit replays
// that batch on the next start. The replay is harmless: Upsert skips keys
// whose stored value is unchanged and otherwise overwrites the same series
// and timestamp, and batches are replayed in their original order, so a
// later report of a key is never overwritten by an earlier one. Segments
// wholly before the commit are removed.
package spool

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qualitymon/qualitymon/internal/observation"
)

// Store is what the spool writes to; *store.Store implements it.
type Store interface {
	Upsert(ctx context.Context, batch []observation.Observation, reportedAt time.Time) (observation.Summary, error)
}

// Options tune a spool; the zero value gives the defaults.
type Options struct {
	// Logger receives the flusher's reports (default: discard).
	Logger *slog.Logger
	// Registerer, when set, registers qualitymon_spool_pending_samples.
	Registerer prometheus.Registerer
	// OnFlushed runs in the flusher goroutine after each batch is written
	// to InfluxDB. It must return quickly (e.g. signal a channel).
	OnFlushed func()
	// AcceptWait is how long Accept waits for its batch to reach InfluxDB
	// before answering Pending (default 10 s; negative: do not wait).
	AcceptWait time.Duration
	// AttemptTimeout bounds one Upsert of one batch (default 2 min).
	AttemptTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait between attempts after a
	// failure, doubling from min to max (defaults 1 s and 1 min).
	MinBackoff, MaxBackoff time.Duration
	// SegmentBytes starts a new segment once the current one is this large
	// (default 16 MiB).
	SegmentBytes int64
	// Sleep waits between attempts (default: a timer); it returns early
	// with ctx's error when the spool closes.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now stamps batches whose Meta.ReportedAt is zero (default time.Now).
	Now func() time.Time
}

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.AcceptWait == 0 {
		o.AcceptWait = 10 * time.Second
	}
	if o.AttemptTimeout <= 0 {
		o.AttemptTimeout = 2 * time.Minute
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = time.Second
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(time.Minute, o.MinBackoff)
	}
	if o.SegmentBytes <= 0 {
		o.SegmentBytes = 16 << 20
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Spool is an open spool directory. It is safe for concurrent use.
type Spool struct {
	dir   string
	st    Store
	o     Options
	log   *slog.Logger
	lock  *os.File
	gauge prometheus.Gauge

	appendMu  sync.Mutex // serializes appends; guards the fields below
	active    *os.File
	activeNum uint64
	nextID    uint64
	broken    error // set when an append could not be undone

	mu             sync.Mutex // guards the fields below
	segs           []segment  // ascending; sizes are durable ends
	commit         cursor
	pendingRecs    int
	pendingSamples int
	waiters        map[uint64]chan outcome
	backingOff     bool
	closed         bool
	changed        chan struct{} // closed and replaced when state changes

	wake   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

type segment struct {
	num  uint64
	size int64
}

// outcome is what the flusher reports to a waiting Accept.
type outcome struct {
	sum     observation.Summary
	err     error
	pending bool
}

// Open opens (creating) the spool in dir, replays whatever is not yet in
// InfluxDB and starts the flusher. Only one process may hold a spool
// directory; a second Open fails while the first holds it.
func Open(dir string, st Store, o Options) (*Spool, error) {
	o.defaults()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	lock, err := lockDir(filepath.Join(dir, lockName))
	if err != nil {
		return nil, fmt.Errorf("spool %s: %w", dir, err)
	}
	s := &Spool{dir: dir, st: st, o: o, log: o.Logger, lock: lock,
		waiters: map[uint64]chan outcome{}, changed: make(chan struct{}),
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	s.gauge = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "qualitymon_spool_pending_samples",
		Help: "Accepted samples not yet written to InfluxDB.",
	})
	if err := s.recover(); err != nil {
		unlockDir(lock)
		return nil, fmt.Errorf("spool %s: %w", dir, err)
	}
	if o.Registerer != nil {
		if err := o.Registerer.Register(s.gauge); err != nil {
			s.active.Close()
			unlockDir(lock)
			return nil, fmt.Errorf("spool: registering metrics: %w", err)
		}
	}
	s.gauge.Set(float64(s.pendingSamples))
	if s.pendingRecs > 0 {
		s.log.Info("spool replaying batches not yet in InfluxDB", "dir", dir, "batches", s.pendingRecs, "samples", s.pendingSamples)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go s.flusher(ctx)
	return s, nil
}

// recover reads the commit, removes flushed segments, counts what is
// pending, truncates a torn tail and opens the segment for appends.
func (s *Spool) recover() error {
	c, err := readCommit(s.dir)
	if err != nil {
		return err
	}
	nums, err := listSegments(s.dir)
	if err != nil {
		return err
	}
	removed := false
	for len(nums) > 0 && nums[0] < c.Seg {
		if err := os.Remove(filepath.Join(s.dir, segName(nums[0]))); err != nil {
			return err
		}
		nums, removed = nums[1:], true
	}
	if removed {
		if err := syncDir(s.dir); err != nil {
			return err
		}
	}
	if len(nums) > 0 && nums[0] > c.Seg { // the commit's segment was removed after moving on
		c = cursor{Seg: nums[0], LastID: c.LastID}
	}
	s.commit = c
	s.nextID = c.LastID + 1
	for i, n := range nums {
		path := filepath.Join(s.dir, segName(n))
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			return err
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return err
		}
		from := int64(0)
		if n == c.Seg {
			from = c.Off
		}
		if from > fi.Size() {
			f.Close()
			return fmt.Errorf("commit offset %d is past the end of %s (%d bytes)", from, path, fi.Size())
		}
		res, err := scanSegment(f, from)
		if err != nil {
			f.Close()
			return fmt.Errorf("reading %s: %w", path, err)
		}
		last := i == len(nums)-1
		if res.torn != nil {
			if !last {
				f.Close()
				return fmt.Errorf("%s: offset %d: %v (only the newest segment can end in a torn record; move the file aside to start)", path, res.end, res.torn)
			}
			s.log.Warn("spool dropped a torn record left by a crash during append (it was never acknowledged)",
				"file", path, "offset", res.end, "bytes", fi.Size()-res.end, "reason", res.torn.Error())
			if err := f.Truncate(res.end); err != nil {
				f.Close()
				return err
			}
			if err := f.Sync(); err != nil {
				f.Close()
				return err
			}
		}
		s.pendingRecs += res.records
		s.pendingSamples += res.samples
		if res.lastID >= s.nextID {
			s.nextID = res.lastID + 1
		}
		s.segs = append(s.segs, segment{num: n, size: res.end})
		f.Close()
		if last {
			if s.active, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0); err != nil {
				return err
			}
			s.activeNum = n
		}
	}
	if s.active == nil {
		// No segment: start after the committed one (the flusher moves on
		// to it).
		return s.newSegment(c.Seg + 1)
	}
	return nil
}

// newSegment creates segment n and makes it the append target. The caller
// holds appendMu (or is recover).
func (s *Spool) newSegment(n uint64) error {
	path := filepath.Join(s.dir, segName(n))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := syncDir(s.dir); err != nil {
		f.Close()
		return err
	}
	if s.active != nil {
		s.active.Close()
	}
	s.active, s.activeNum = f, n
	s.mu.Lock()
	s.segs = append(s.segs, segment{num: n})
	s.mu.Unlock()
	return nil
}

// Accept implements observation.Sink. The batch is durable when Accept returns nil.
// Accept then waits up to AcceptWait for the batch to be written: the result
// has the store's summary, or Pending when InfluxDB has not taken it yet. An
// error means the batch was not accepted, or InfluxDB refused it as invalid
// (it is then set aside under failed/, not retried).
func (s *Spool) Accept(ctx context.Context, batch []observation.Observation, meta observation.Meta) (observation.Result, error) {
	if len(batch) == 0 {
		return observation.Result{}, nil
	}
	if err := ctx.Err(); err != nil {
		return observation.Result{}, err
	}
	if meta.ReportedAt.IsZero() {
		meta.ReportedAt = s.o.Now()
	}
	id, ch, backlog, err := s.append(batch, meta)
	if err != nil {
		return observation.Result{}, err
	}
	if backlog || s.o.AcceptWait < 0 {
		s.dropWaiter(id)
		return observation.Result{Pending: true}, nil
	}
	t := time.NewTimer(s.o.AcceptWait)
	defer t.Stop()
	select {
	case out := <-ch:
		return result(out)
	case <-t.C:
	case <-ctx.Done():
	}
	s.dropWaiter(id)
	select { // the flusher may have answered meanwhile
	case out := <-ch:
		return result(out)
	default:
		return observation.Result{Pending: true}, nil
	}
}

func result(out outcome) (observation.Result, error) {
	if out.err != nil {
		return observation.Result{}, out.err
	}
	return observation.Result{Summary: out.sum, Pending: out.pending}, nil
}

func (s *Spool) dropWaiter(id uint64) {
	s.mu.Lock()
	delete(s.waiters, id)
	s.mu.Unlock()
}

// append writes and fsyncs one record, then publishes it to the flusher.
// backlog reports that the flusher is backing off after a failure.
func (s *Spool) append(batch []observation.Observation, meta observation.Meta) (id uint64, ch chan outcome, backlog bool, err error) {
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	if s.broken != nil {
		return 0, nil, false, fmt.Errorf("spool unusable after an earlier write failure: %w", s.broken)
	}
	s.mu.Lock()
	closed := s.closed
	cur := s.segs[len(s.segs)-1]
	flushedAll := s.commit.Seg == cur.num && s.commit.Off == cur.size
	s.mu.Unlock()
	if closed {
		return 0, nil, false, errors.New("spool closed")
	}
	// A new segment when the current one is full, or when everything in it
	// is in InfluxDB (so that the flushed one can be removed).
	if cur.size >= s.o.SegmentBytes || (cur.size > 0 && flushedAll) {
		if err := s.newSegment(s.activeNum + 1); err != nil {
			return 0, nil, false, fmt.Errorf("spool: new segment: %w", err)
		}
		cur = segment{num: s.activeNum}
	}
	id = s.nextID
	buf, err := encodeRecord(newPayload(id, batch, meta))
	if err != nil {
		return 0, nil, false, fmt.Errorf("spool: %w", err)
	}
	if _, err := s.active.Write(buf); err != nil {
		s.undo(cur.size, err)
		return 0, nil, false, fmt.Errorf("spool: appending to %s: %w", s.active.Name(), err)
	}
	if err := s.active.Sync(); err != nil {
		// After a failed fsync the page cache state is unknown: stop.
		s.broken = err
		return 0, nil, false, fmt.Errorf("spool: fsync %s: %w", s.active.Name(), err)
	}
	s.nextID++
	ch = make(chan outcome, 1)
	s.mu.Lock()
	s.segs[len(s.segs)-1].size = cur.size + int64(len(buf))
	s.pendingRecs++
	s.pendingSamples += len(batch)
	s.waiters[id] = ch
	backlog = s.backingOff
	s.gauge.Set(float64(s.pendingSamples))
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return id, ch, backlog, nil
}

// undo truncates a partly written record away, or marks the spool broken.
func (s *Spool) undo(size int64, cause error) {
	if err := s.active.Truncate(size); err != nil {
		s.broken = fmt.Errorf("%v; truncating the partial record: %w", cause, err)
	}
}

// Pending returns how many accepted batches and samples are not yet in
// InfluxDB.
func (s *Spool) Pending() (batches, samples int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pendingRecs, s.pendingSamples
}

// WaitIdle returns when every accepted batch is in InfluxDB (or set aside
// as invalid), or with ctx's error.
func (s *Spool) WaitIdle(ctx context.Context) error {
	for {
		s.mu.Lock()
		n, ch := s.pendingRecs, s.changed
		s.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("spool: %d batches still pending: %w", n, ctx.Err())
		}
	}
}

// Close stops the flusher (an unfinished write is replayed at the next
// Open), answers waiting Accepts with Pending and releases the directory.
// Close does not unregister the gauge.
func (s *Spool) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	<-s.done
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	s.mu.Lock()
	for id, ch := range s.waiters {
		ch <- outcome{pending: true}
		delete(s.waiters, id)
	}
	s.mu.Unlock()
	err := s.active.Close()
	return errors.Join(err, unlockDir(s.lock))
}

// notify tells the state's watchers that something changed. Hold mu.
func (s *Spool) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}
