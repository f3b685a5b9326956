// Package spool is the durable local queue between every ingest path and
// InfluxDB. It implements observation.Sink: Accept appends the batch to a segment
// file and fsyncs it before returning, so an accepted batch survives a crash
// of qualitymon or an outage of InfluxDB; one flusher goroutine then writes
// the batches to InfluxDB through the store, strictly in the order they
// were accepted, retrying with capped exponential backoff while InfluxDB is
// unreachable.
//
// # Group commit
//
// Concurrent Accepts share fsyncs: each appends its record under a lock,
// then one of them (the leader) fsyncs the segment for every record
// appended so far while the others wait; none returns before its record is
// on disk. The flusher likewise takes every pending record (up to
// maxGroupRecords) at once: with a GroupStore (*store.Store) they become one
// write request and one commit, each batch keeping its own summary.
//
// # On disk
//
// The spool directory holds:
//
//	00000000000000000001.seg   segments: records appended in order
//	commit                     two checksummed slots written in place in
//	                           turn, {"segment":N,"offset":M,"last_id":K,"seq":S}:
//	                           every record before segment N offset M is in InfluxDB
//	lock                       flock held by the process that owns the spool
//	failed/<id>.csv, <id>.err  batches InfluxDB refused as invalid (400/422),
//	                           in the canonical CSV layout for re-import: the
//	                           rows it refused, with what it stored in .err
//	quarantine/<seg>-<off>.bad damaged bytes of acknowledged records, byte for byte
//	quarantine/<seg>-<off>.torn the torn final record a crash left (never acknowledged)
//
// A record is a 16-byte header (magic "QMS4", big-endian payload length,
// CRC-32C of the payload, CRC-32C of those 12 bytes) followed by a compact
// binary payload (compact.go): id, origin, who, file, reported_at and the
// rows as observation.Compact encodes them (each indicator, region, source
// and note once; per row their indexes, the period packed and the value).
// Records of older spools are still read: "QMS3" (the same header; a JSON
// payload of observations), "QMS2" (the payload's rows with short keys)
// and "QMS1" (no header checksum). An older version does not take a newer
// record for one of its own: it sets it aside as damage, never replays it
// as an empty batch.
//
// A record of more rows than a group holds (maxGroupRows) is flushed on
// its own, a chunk at a time (writeLarge), decoded only chunk by chunk.
//
// # Damage
//
// At Open every segment is scanned from the commit. A record whose magic,
// length or checksum is wrong is followed by a search for the next intact
// record (magic, valid length, matching checksum). When one is found, the
// bad bytes were acknowledged data damaged on disk. So is a record of full
// length whose checksum fails even when it is the last one: its header
// (checked by its own checksum) says N bytes and N bytes are there, which
// an append cut short by a crash cannot leave. Damaged bytes are never
// truncated: they are copied byte for byte to quarantine/, logged and
// counted in qualitymon_spool_quarantined_records, and the flusher skips
// them while everything else replays. Only a record that the end of the
// newest segment cuts short is a torn append (a crash before the fsync, so
// never acknowledged): its bytes too are copied to quarantine/ (.torn),
// then truncated away.
//
// # Full disk
//
// An append that fails (ENOSPC) is undone and Accept returns an error
// wrapping ErrNoSpace (uploads answer 503 with Retry-After); appends move
// to a new segment so that the flusher can remove the old one once it is
// in InfluxDB. The commit is rewritten in place and needs no free space, so
// the flusher keeps going on a full disk and the spool recovers by itself
// when space returns.
//
// # Exactly once
//
// After a group is written the commit is rewritten. A crash between the
// write and the commit replays that group on the next start. The replay is
// harmless: the store skips keys whose stored value is unchanged and
// otherwise overwrites the same series and timestamp, and batches are
// replayed in their original order, so a later report of a key is never
// overwritten by an earlier one. Segments wholly before the commit are
// removed.
//
// # Backup
//
// A backup of qualitymon is InfluxDB's backup and a copy of the spool that
// together hold every acknowledged batch. The flusher removes a segment
// only after committing past it, and commits only what is in InfluxDB; so
// while the flusher is held at a group boundary (everything before the
// commit is in InfluxDB, nothing after it is, nothing is removed) a copy of
// the commit and of every segment's fsynced records, followed by InfluxDB's
// backup, meet exactly at the commit: nothing is in neither, and nothing is
// in both (a restore replays the copy's records after the commit into an
// InfluxDB that lacks exactly them, in order, so no older report is
// replayed over a newer one). Appends go on meanwhile; Accept answers
// Pending at once while the flusher is held. While serve runs, Backup asks
// it for the hold through BackupSocket, a Unix socket in the spool
// directory that only the spool's owner can connect to; the hold lasts as
// long as the connection. When no process holds the spool, Backup takes its
// lock instead. Restore puts a copy in place for serve to replay.
package spool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qualitymon/qualitymon/internal/durable"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/store"
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
	// OnStored runs in the flusher goroutine after each group of batches
	// is written, with the rows now in InfluxDB (in the order written), so
	// that evaluations can be updated without reading them back, and
	// before the Accepts of those batches are answered. It must return
	// quickly; the slice is the callee's to keep.
	OnStored func([]observation.Observation)
	// AcceptWait is how long Accept waits for its batch to reach InfluxDB
	// before answering Pending (default 10 s; negative: do not wait).
	AcceptWait time.Duration
	// MaxWaiting is how many Accepts may wait for InfluxDB's answer at
	// once (default DefaultMaxWaiting). Past it an Accept answers Pending
	// as soon as its batch is durable: under a burst the flusher, one
	// InfluxDB round trip per group, would otherwise set the pace of every
	// upload, while the spool's group fsync takes them much faster.
	MaxWaiting int
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
	// BackupSocket, when set, serves holds of the flusher for Backup on
	// spool_dir/backup.sock (serve sets it).
	BackupSocket bool
}

// DefaultMaxWaiting is Options.MaxWaiting's default: under load the
// Accepts that wait are the slowest answers (a group write is several
// InfluxDB queries), so few wait; a lone upload still gets the store's
// summary.
const DefaultMaxWaiting = 2

func (o *Options) defaults() {
	if o.MaxWaiting == 0 {
		o.MaxWaiting = DefaultMaxWaiting
	}
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
		o.Sleep = store.Sleep
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// ErrNoSpace is wrapped by Accept's error while the spool's disk is full.
var ErrNoSpace = errors.New("spool disk full")

// rotateIdleBytes: once everything in the current segment is in InfluxDB
// and it holds at least this much, the next append starts a new segment so
// that the flushed one can be removed.
const rotateIdleBytes = 1 << 20

// Spool is an open spool directory. It is safe for concurrent use.
type Spool struct {
	dir       string
	st        Store
	o         Options
	log       *slog.Logger
	lock      *os.File
	gauge     prometheus.Gauge
	quarGauge prometheus.GaugeFunc
	commitF   *commitFile // written by the flusher only

	appendMu   sync.Mutex // serializes appends; guards the fields below
	active     *segFile
	activeNum  uint64
	activeSize int64 // bytes written to the active segment, synced or not
	nextID     uint64
	broken     error // set when an append could not be undone or an fsync failed
	unsynced   []unsyncedRec
	// full is set while appends are refused for a full disk (the last
	// append failed with ENOSPC), with the size of the refused record;
	// cleared by an append that succeeds, or by Writable once that much
	// can be written again.
	full     bool
	fullNeed int

	fsyncMu sync.Mutex // held while fsyncing a segment; guards segFile.closed

	synced durable.Group // the group commit of appends (syncAppended)

	mu             sync.Mutex // guards the fields below
	segs           []segment  // ascending; sizes are durable ends
	commit         cursor
	pendingRecs    int
	pendingSamples int
	waiters        map[uint64]chan outcome
	backingOff     bool
	closed         bool
	changed        chan struct{} // closed and replaced when state changes
	holds          int           // backups holding the flusher
	parked         bool          // the flusher stands still for them
	holdConns      map[net.Conn]bool

	backupLn net.Listener // BackupSocket, when served

	wake   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

type segment struct {
	num  uint64
	size int64
	// sealed is set once appends moved to a later segment; final is then
	// the segment's length (size reaches it once every record is fsynced
	// and published).
	sealed bool
	final  int64
	// holes are damaged ranges the flusher skips (quarantined at Open).
	holes []span
}

// segFile is a segment open for appends.
type segFile struct {
	f      *os.File
	closed bool // guarded by fsyncMu
}

// unsyncedRec is a record appended but not yet fsynced.
type unsyncedRec struct {
	seg     uint64
	end     int64
	samples int
}

// outcome is what the flusher reports to a waiting Accept.
type outcome struct {
	sum     observation.Summary
	err     error
	pending bool
	// obs are the record's rows as converted for the write (the flusher's
	// own; nil when not kept).
	obs []observation.Observation
	// told: OnStored has heard of the record's rows already.
	told bool
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
		waiters: map[uint64]chan outcome{}, changed: make(chan struct{}), holdConns: map[net.Conn]bool{},
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	s.gauge = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "qualitymon_spool_pending_samples",
		Help: "Accepted samples not yet written to InfluxDB.",
	})
	s.quarGauge = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "qualitymon_spool_quarantined_records",
		Help: "Damaged ranges of acknowledged spool records kept in spool_dir/quarantine/*.bad for an operator (0 once they are dealt with and removed).",
	}, func() float64 { return float64(s.Quarantined()) })
	fail := func(err error) (*Spool, error) {
		if s.active != nil {
			s.active.f.Close()
		}
		if s.commitF != nil {
			s.commitF.close()
		}
		unlockDir(lock)
		return nil, fmt.Errorf("spool %s: %w", dir, err)
	}
	if err := s.recover(); err != nil {
		return fail(err)
	}
	if o.Registerer != nil {
		for _, c := range []prometheus.Collector{s.gauge, s.quarGauge} {
			if err := o.Registerer.Register(c); err != nil {
				return fail(fmt.Errorf("registering metrics: %w", err))
			}
		}
	}
	s.gauge.Set(float64(s.pendingSamples))
	if s.pendingRecs > 0 {
		s.log.Info("spool replaying batches not yet in InfluxDB", "dir", dir, "batches", s.pendingRecs, "samples", s.pendingSamples)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go s.flusher(ctx)
	if o.BackupSocket {
		if err := s.listenBackup(); err != nil {
			s.Close()
			return nil, fmt.Errorf("spool %s: %w", dir, err)
		}
	}
	return s, nil
}

// recover reads the commit, removes flushed segments, counts what is
// pending, quarantines damaged records, keeps a torn tail in quarantine and
// truncates it, and opens the segment for appends.
func (s *Spool) recover() error {
	cf, c, err := openCommit(s.dir)
	if err != nil {
		return err
	}
	s.commitF = cf
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
		if err := durable.SyncDir(s.dir); err != nil {
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
		seg := segment{num: n, size: res.end}
		for _, d := range res.damaged {
			if err := s.quarantine(f, n, d, ".bad", "a whole record whose checksum fails, or bad bytes followed by intact records: acknowledged data, kept byte for byte; the records around it replay"); err != nil {
				f.Close()
				return err
			}
			seg.holes = append(seg.holes, d)
		}
		if res.torn != nil {
			if last {
				// A record the end of the newest segment cuts short:
				// an append torn by a crash before its fsync.
				if err := s.quarantine(f, n, res.tail, ".torn", "torn final record left by a crash during append (it was never acknowledged); kept, then truncated"); err != nil {
					f.Close()
					return err
				}
				s.log.Warn("spool dropped a torn final record left by a crash during append (it was never acknowledged); its bytes are kept in quarantine",
					"file", path, "offset", res.tail.from, "bytes", res.tail.to-res.tail.from, "reason", res.torn.Error())
				if err := f.Truncate(res.tail.from); err != nil {
					f.Close()
					return err
				}
				if err := f.Sync(); err != nil {
					f.Close()
					return err
				}
			} else {
				// A segment followed by another one was complete when
				// appends moved on: its bad end is damage, not a tear.
				if err := s.quarantine(f, n, res.tail, ".bad", "damaged end of a segment that later segments follow: acknowledged data, kept byte for byte"); err != nil {
					f.Close()
					return err
				}
				seg.holes = append(seg.holes, res.tail)
				seg.size = res.tail.to
			}
		}
		if len(seg.holes) > 0 {
			seg.size = max(seg.size, seg.holes[len(seg.holes)-1].to)
		}
		if !last {
			seg.sealed, seg.final = true, seg.size
		}
		s.pendingRecs += res.records
		s.pendingSamples += res.samples
		if res.lastID >= s.nextID {
			s.nextID = res.lastID + 1
		}
		s.segs = append(s.segs, seg)
		f.Close()
		if last {
			af, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				return err
			}
			s.active, s.activeNum, s.activeSize = &segFile{f: af}, n, seg.size
		}
	}
	if s.active == nil {
		// No segment: start after the committed one (the flusher moves on
		// to it).
		return s.newSegment(c.Seg + 1)
	}
	return nil
}

// quarantine copies the bytes of d in segment n to quarantine/ (durably)
// and logs it.
func (s *Spool) quarantine(f *os.File, n uint64, d span, suffix, why string) error {
	buf := make([]byte, d.to-d.from)
	if _, err := f.ReadAt(buf, d.from); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	dir := filepath.Join(s.dir, quarantineDir)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	name := fmt.Sprintf("%020d-%012d%s", n, d.from, suffix)
	if err := durable.WriteFile(filepath.Join(dir, name), buf, 0o640); err != nil {
		return fmt.Errorf("keeping damaged spool bytes in %s: %w", filepath.Join(dir, name), err)
	}
	if suffix == ".bad" {
		s.log.Error("spool found a damaged record: acknowledged data damaged on disk; its bytes are kept in quarantine, everything else replays",
			"segment", filepath.Join(s.dir, segName(n)), "offset", d.from, "bytes", d.to-d.from, "quarantine", filepath.Join(dir, name), "why", why)
	}
	return durable.SyncDir(s.dir)
}

// Quarantined is how many damaged ranges are kept in quarantine/.
func (s *Spool) Quarantined() int {
	ents, _ := os.ReadDir(filepath.Join(s.dir, quarantineDir))
	n := 0
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".bad") {
			n++
		}
	}
	return n
}

// newSegment creates segment n and makes it the append target, after
// fsyncing the current one (its records are then durable, whoever
// publishes them). The caller holds appendMu (or is recover).
func (s *Spool) newSegment(n uint64) error {
	if s.active != nil {
		s.fsyncMu.Lock()
		err := s.active.f.Sync()
		if err == nil {
			s.active.closed = true
			s.active.f.Close()
		}
		s.fsyncMu.Unlock()
		if err != nil {
			s.broken = fmt.Errorf("fsync %s: %w", s.active.f.Name(), err)
			return s.broken
		}
	}
	path := filepath.Join(s.dir, segName(n))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return s.reopenOld(err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return s.reopenOld(err)
	}
	if err := durable.SyncDir(s.dir); err != nil {
		f.Close()
		os.Remove(path)
		return s.reopenOld(err)
	}
	s.mu.Lock()
	if len(s.segs) > 0 && s.active != nil {
		last := &s.segs[len(s.segs)-1]
		last.sealed, last.final = true, s.activeSize
	}
	s.active, s.activeNum, s.activeSize = &segFile{f: f}, n, 0
	s.segs = append(s.segs, segment{num: n})
	s.mu.Unlock()
	s.kick()
	return nil
}

// reopenOld keeps appending to the current segment when a new one could
// not be made.
func (s *Spool) reopenOld(cause error) error {
	if s.active == nil || !s.active.closed {
		return cause
	}
	f, err := os.OpenFile(filepath.Join(s.dir, segName(s.activeNum)), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		s.broken = fmt.Errorf("%v; reopening %s: %w", cause, segName(s.activeNum), err)
		return s.broken
	}
	s.active = &segFile{f: f}
	return cause
}

// kick wakes the flusher.
func (s *Spool) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
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
	// A pending answer still says how many rows were accepted (durably):
	// new/revised/unchanged follow once InfluxDB has them.
	pending := observation.Result{Summary: observation.Summary{Accepted: len(batch)}, Pending: true}
	if backlog || s.o.AcceptWait < 0 {
		if ch != nil {
			s.dropWaiter(id)
		}
		return pending, nil
	}
	t := time.NewTimer(s.o.AcceptWait)
	defer t.Stop()
	select {
	case out := <-ch:
		return result(out, pending)
	case <-t.C:
	case <-ctx.Done():
	}
	s.dropWaiter(id)
	select { // the flusher may have answered meanwhile
	case out := <-ch:
		return result(out, pending)
	default:
		return pending, nil
	}
}

func result(out outcome, pending observation.Result) (observation.Result, error) {
	if out.pending {
		return pending, nil
	}
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

// append writes one record and waits until it is fsynced (sharing the
// fsync with concurrent appends), then publishes it to the flusher.
// backlog reports that the flusher is backing off after a failure.
func (s *Spool) append(batch []observation.Observation, meta observation.Meta) (id uint64, ch chan outcome, backlog bool, err error) {
	s.appendMu.Lock()
	if s.broken != nil {
		s.appendMu.Unlock()
		return 0, nil, false, fmt.Errorf("spool unusable after an earlier write failure: %w", s.broken)
	}
	s.mu.Lock()
	closed := s.closed
	cur := s.segs[len(s.segs)-1]
	flushedAll := s.commit.Seg == cur.num && s.commit.Off == cur.size && cur.size == s.activeSize
	s.mu.Unlock()
	if closed {
		s.appendMu.Unlock()
		return 0, nil, false, errors.New("spool closed")
	}
	// A new segment when the current one is full, or when everything in a
	// sizeable one is in InfluxDB (so that the flushed one can be removed).
	if s.activeSize >= s.o.SegmentBytes || (flushedAll && s.activeSize >= min(rotateIdleBytes, s.o.SegmentBytes)) {
		if err := s.newSegment(s.activeNum + 1); err != nil {
			s.appendMu.Unlock()
			return 0, nil, false, s.appendErr(fmt.Errorf("spool: new segment: %w", err), 0)
		}
	}
	id = s.nextID
	buf, err := encodeRecord(newPayload(id, batch, meta))
	if err != nil {
		s.appendMu.Unlock()
		return 0, nil, false, fmt.Errorf("spool: %w", err)
	}
	if _, err := s.active.f.Write(buf); err != nil {
		werr := fmt.Errorf("spool: appending to %s: %w", s.active.f.Name(), err)
		if terr := s.active.f.Truncate(s.activeSize); terr != nil {
			s.broken = fmt.Errorf("%v; truncating the partial record: %w", err, terr)
		} else if errors.Is(err, syscall.ENOSPC) && s.activeSize > 0 {
			// Move appends on so that the flusher can remove this
			// segment once it is in InfluxDB and free its space.
			s.newSegment(s.activeNum + 1)
		}
		s.appendMu.Unlock()
		return 0, nil, false, s.appendErr(werr, len(buf))
	}
	s.full = false
	s.nextID++
	s.activeSize += int64(len(buf))
	s.unsynced = append(s.unsynced, unsyncedRec{seg: s.activeNum, end: s.activeSize, samples: len(batch)})
	s.mu.Lock()
	// Behind (backing off, held, or MaxWaiting Accepts already waiting):
	// answer Pending once durable instead of waiting for the flusher.
	backlog = s.backingOff || s.holds > 0 || len(s.waiters) >= s.o.MaxWaiting
	if !backlog {
		ch = make(chan outcome, 1)
		s.waiters[id] = ch
	}
	s.mu.Unlock()
	s.appendMu.Unlock()
	// One fsync for this record and every other appended before it began.
	if err := s.synced.Do(s.syncAppended); err != nil {
		s.dropWaiter(id)
		return 0, nil, false, err
	}
	return id, ch, backlog, nil
}

// appendErr marks a full disk with ErrNoSpace and remembers it (for
// Writable) with need, the size of the record refused. Hold appendMu.
func (s *Spool) appendErr(err error, need int) error {
	if errors.Is(err, syscall.ENOSPC) {
		s.log.Warn("spool disk full: refusing new batches until space returns", "dir", s.dir, "err", err)
		s.full, s.fullNeed = true, need
		return fmt.Errorf("%w: %w", ErrNoSpace, err)
	}
	return err
}

// probeName is the scratch file Writable writes to see whether space has
// returned.
const probeName = "space.probe"

// Writable returns nil while the spool accepts batches; otherwise why not:
// an error wrapping ErrNoSpace while its disk is full (the last append
// failed with ENOSPC), or the write failure that made it unusable. On a
// full disk it checks whether space has returned by writing as many bytes
// as the refused record (at least 4 KiB) to a scratch file and removing
// it: once that succeeds, the spool is writable again. /readyz asks it.
func (s *Spool) Writable() error {
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	if s.broken != nil {
		return fmt.Errorf("spool unusable after an earlier write failure: %w", s.broken)
	}
	if !s.full {
		return nil
	}
	path := filepath.Join(s.dir, probeName)
	err := writeProbe(path, max(s.fullNeed, 4096))
	os.Remove(path)
	if err != nil {
		return fmt.Errorf("%w: refusing new batches in %s until space returns (%d bytes could not be written: %v)", ErrNoSpace, s.dir, max(s.fullNeed, 4096), err)
	}
	s.full = false
	s.log.Info("spool disk has space again: accepting batches", "dir", s.dir)
	return nil
}

// writeProbe writes n bytes to a new file at path.
func writeProbe(path string, n int) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	_, err = f.Write(make([]byte, n))
	return errors.Join(err, f.Close())
}

// syncAppended fsyncs the active segment and publishes every record
// appended before it to the flusher. Records of segments rotated away were
// fsynced by the rotation.
func (s *Spool) syncAppended() error {
	s.appendMu.Lock()
	if s.broken != nil {
		s.appendMu.Unlock()
		return fmt.Errorf("spool unusable after an earlier write failure: %w", s.broken)
	}
	sf, recs := s.active, s.unsynced
	s.unsynced = nil
	s.appendMu.Unlock()
	s.fsyncMu.Lock()
	var err error
	if !sf.closed {
		err = sf.f.Sync()
	}
	s.fsyncMu.Unlock()
	if err != nil {
		// After a failed fsync the page cache state is unknown: stop.
		s.appendMu.Lock()
		s.broken = fmt.Errorf("fsync %s: %w", sf.f.Name(), err)
		s.appendMu.Unlock()
		return fmt.Errorf("spool: %w", s.broken)
	}
	s.mu.Lock()
	for _, r := range recs {
		for i := range s.segs {
			if s.segs[i].num == r.seg {
				s.segs[i].size = max(s.segs[i].size, r.end)
				break
			}
		}
		s.pendingRecs++
		s.pendingSamples += r.samples
	}
	s.gauge.Set(float64(s.pendingSamples))
	s.mu.Unlock()
	s.kick()
	return nil
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
	if s.backupLn != nil {
		s.backupLn.Close()
	}
	for c := range s.holdConns {
		c.Close()
	}
	s.notify()
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
	s.fsyncMu.Lock()
	s.active.closed = true
	err := s.active.f.Close()
	s.fsyncMu.Unlock()
	return errors.Join(err, s.commitF.close(), unlockDir(s.lock))
}

// notify tells the state's watchers that something changed. Hold mu.
func (s *Spool) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}
