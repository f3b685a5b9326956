package spool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/store"
)

// flusher writes pending records to the store in order until ctx ends.
func (s *Spool) flusher(ctx context.Context) {
	defer close(s.done)
	files := map[uint64]*os.File{}
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	s.mu.Lock()
	cur := s.commit
	s.mu.Unlock()
	for {
		p, next, err := s.next(&cur, files)
		if err != nil {
			// A published record that cannot be read: the disk changed
			// under us. Retry after a pause rather than skip data.
			s.log.Error("spool cannot read a record", "dir", s.dir, "segment", cur.Seg, "offset", cur.Off, "err", err)
			if s.o.Sleep(ctx, s.o.MaxBackoff) != nil {
				return
			}
			continue
		}
		if p == nil {
			select {
			case <-s.wake:
				continue
			case <-ctx.Done():
				return
			}
		}
		sum, err := s.write(ctx, p)
		if ctx.Err() != nil {
			return // not committed: replayed at the next Open
		}
		if err == errClosing {
			return
		}
		next.LastID = p.ID
		if cerr := s.done1(next, len(p.Rows)); cerr != nil {
			s.log.Error("spool cannot record progress; the batch will be replayed", "dir", s.dir, "err", cerr)
		}
		cur = next
		s.answer(p.ID, outcome{sum: sum, err: err})
		if err == nil && s.o.OnFlushed != nil {
			s.o.OnFlushed()
		}
	}
}

var errClosing = errors.New("spool closing")

// write writes one record, retrying with backoff until it is written, or
// InfluxDB refuses it as invalid and it is set aside (the returned error),
// or ctx ends (errClosing).
func (s *Spool) write(ctx context.Context, p *payload) (observation.Summary, error) {
	backoff := s.o.MinBackoff
	for attempt := 1; ; attempt++ {
		batch, err := p.observations()
		var sum observation.Summary
		if err == nil {
			actx, cancel := context.WithTimeout(ctx, s.o.AttemptTimeout)
			sum, err = s.st.Upsert(actx, batch, p.ReportedAt)
			cancel()
			if err == nil {
				if attempt > 1 {
					s.log.Info("spool write to InfluxDB succeeded after failures", "batch", p.ID, "attempts", attempt)
				}
				return sum, nil
			}
		}
		if ctx.Err() != nil {
			return sum, errClosing
		}
		if store.Permanent(err) || batch == nil {
			refused, aerr := s.setAside(p, err)
			if aerr == nil {
				return sum, refused
			}
			err = aerr
		}
		if attempt == 1 || backoff == s.o.MaxBackoff {
			s.log.Warn("spool write to InfluxDB failed, will retry", "batch", p.ID, "samples", len(p.Rows), "attempt", attempt, "retry_in", backoff.String(), "err", err)
		}
		s.setBackingOff()
		if s.o.Sleep(ctx, backoff) != nil {
			return sum, errClosing
		}
		backoff = min(2*backoff, s.o.MaxBackoff)
	}
}

// next returns the record at cur and the cursor after it, moving cur to the
// following segment (and committing that, removing the finished segment)
// when cur is at the end of a segment that is no longer appended to. It
// returns nil when there is nothing to flush.
func (s *Spool) next(cur *cursor, files map[uint64]*os.File) (*payload, cursor, error) {
	for {
		s.mu.Lock()
		var size int64 = -1
		var following uint64
		for i, sg := range s.segs {
			if sg.num == cur.Seg {
				size = sg.size
				if i+1 < len(s.segs) {
					following = s.segs[i+1].num
				}
			}
		}
		if size < 0 && len(s.segs) > 0 && s.segs[0].num > cur.Seg {
			following = s.segs[0].num
		}
		s.mu.Unlock()
		if cur.Off < size {
			f := files[cur.Seg]
			if f == nil {
				var err error
				if f, err = os.Open(filepath.Join(s.dir, segName(cur.Seg))); err != nil {
					return nil, *cur, err
				}
				files[cur.Seg] = f
			}
			p, n, err := readAt(f, cur.Off)
			if err != nil {
				return nil, *cur, err
			}
			nx := *cur
			nx.Off += n
			return p, nx, nil
		}
		if following == 0 {
			return nil, *cur, nil
		}
		// Everything in cur.Seg is done and appends go to a later segment.
		old := cur.Seg
		*cur = cursor{Seg: following, LastID: cur.LastID}
		if err := s.done1(*cur, 0); err != nil {
			return nil, *cur, err
		}
		if f := files[old]; f != nil {
			f.Close()
			delete(files, old)
		}
		if err := os.Remove(filepath.Join(s.dir, segName(old))); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.log.Warn("spool cannot remove a flushed segment", "segment", old, "err", err)
		}
		s.mu.Lock()
		for i, sg := range s.segs {
			if sg.num == old {
				s.segs = append(s.segs[:i], s.segs[i+1:]...)
				break
			}
		}
		s.mu.Unlock()
	}
}

// done1 commits c durably and takes a record of samples off the pending
// counts (samples 0: a segment move, no record).
func (s *Spool) done1(c cursor, samples int) error {
	err := writeCommit(s.dir, c)
	s.mu.Lock()
	s.commit = c
	if samples > 0 {
		s.pendingRecs--
		s.pendingSamples -= samples
	}
	s.backingOff = false
	s.gauge.Set(float64(s.pendingSamples))
	s.notify()
	s.mu.Unlock()
	return err
}

// setBackingOff answers every waiting Accept with Pending: InfluxDB is not
// taking writes now.
func (s *Spool) setBackingOff() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.backingOff = true
	for id, ch := range s.waiters {
		ch <- outcome{pending: true}
		delete(s.waiters, id)
	}
}

func (s *Spool) answer(id uint64, out outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch, ok := s.waiters[id]; ok {
		ch <- out
		delete(s.waiters, id)
	}
}

// setAside writes a refused batch to failed/<id>.csv (canonical layout, for
// re-import once fixed) with the reason in failed/<id>.err, and returns the
// error Accept reports; aerr is set when the batch could not be set aside.
func (s *Spool) setAside(p *payload, cause error) (refused, aerr error) {
	dir := filepath.Join(s.dir, failedDir)
	base := fmt.Sprintf("%020d", p.ID)
	err := func() error {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return err
		}
		f, err := os.CreateTemp(dir, ".tmp-*")
		if err != nil {
			return err
		}
		defer os.Remove(f.Name())
		w, err := ingest.NewCSVWriter(f, false)
		if err != nil {
			f.Close()
			return err
		}
		w.Write([]string{"indicator", "region", "period", "value", "source", "note"})
		for _, r := range p.Rows {
			w.Write([]string{r.Indicator, r.Region, r.Period, strconv.FormatFloat(r.Value, 'f', -1, 64), r.Source, r.Note})
		}
		if err := w.Flush(); err != nil {
			f.Close()
			return err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		if err := os.Rename(f.Name(), filepath.Join(dir, base+".csv")); err != nil {
			return err
		}
		reason := fmt.Sprintf("origin: %s\nwho: %s\nfile: %s\nreported_at: %s\nerror: %v\n", p.Origin, p.Who, p.File, p.ReportedAt.Format("2006-01-02T15:04:05Z07:00"), cause)
		return writeFileSync(dir, base+".err", []byte(reason))
	}()
	path := filepath.Join(dir, base+".csv")
	if err != nil {
		// The batch stays in the spool and is retried.
		return nil, fmt.Errorf("setting aside a batch InfluxDB refused (%v) as %s: %w", cause, path, err)
	}
	s.log.Error("InfluxDB refused a batch as invalid; set aside for re-import", "batch", p.ID, "samples", len(p.Rows), "path", path, "err", cause)
	return fmt.Errorf("InfluxDB refused the batch; set aside as %s: %w", path, cause), nil
}
