package spool

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/qualitymon/qualitymon/internal/durable"
	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/store"
)

// maxGroupRecords and maxGroupRows bound what the flusher writes at once.
const (
	maxGroupRecords = 1000
	maxGroupRows    = store.BatchSize
)

// GroupStore writes many batches at once (*store.Store: Write, the store's
// one writer). A Store without it gets one Upsert per batch.
type GroupStore interface {
	Write(ctx context.Context, batches iter.Seq[store.Batch]) ([]store.BatchResult, error)
}

// pending is a record read for flushing.
type pendingRec struct {
	p *payload
	// next is the cursor after the record.
	next cursor
}

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
		if !s.waitUnheld(ctx) {
			return
		}
		group, err := s.nextGroup(&cur, files)
		if err != nil && len(group) == 0 {
			// A published record that cannot be read: the disk changed
			// under us. Retry after a pause rather than skip data.
			s.log.Error("spool cannot read a record", "dir", s.dir, "segment", cur.Seg, "offset", cur.Off, "err", err)
			if s.o.Sleep(ctx, s.o.MaxBackoff) != nil {
				return
			}
			continue
		}
		if len(group) == 0 {
			select {
			case <-s.wake:
				continue
			case <-ctx.Done():
				return
			}
		}
		var outs []outcome
		if len(group) == 1 && group[0].p.len() > maxGroupRows {
			var out outcome
			out, err = s.writeLarge(ctx, group[0].p)
			outs = []outcome{out}
		} else {
			outs, err = s.writeGroup(ctx, group)
		}
		if ctx.Err() != nil || err == errClosing {
			return // not committed: replayed at the next Open
		}
		last := group[len(group)-1]
		next := last.next
		next.LastID = last.p.ID
		samples := 0
		for _, r := range group {
			samples += r.p.len()
		}
		if cerr := s.done1(next, len(group), samples); cerr != nil {
			s.log.Error("spool cannot record progress; the batches will be replayed", "dir", s.dir, "err", cerr)
		}
		cur = next
		// OnStored hears of the rows before their uploads are answered: a
		// reader it updates (serve's plausibility check) holds them by the
		// time the bureau sends its next file.
		var stored []observation.Observation
		for i, r := range group {
			if s.o.OnStored != nil && !outs[i].told {
				stored = appendStored(stored, r.p, outs[i].obs, outs[i].err)
			}
		}
		if len(stored) > 0 {
			s.o.OnStored(stored)
		}
		for i, r := range group {
			out := outs[i]
			out.obs = nil // the rows are the flusher's
			s.answer(r.p.ID, out)
			if out.err == nil && s.o.OnFlushed != nil {
				s.o.OnFlushed()
			}
		}
	}
}

var errClosing = errors.New("spool closing")

// writeGroup writes a group of records and returns each one's outcome:
// written, or refused by InfluxDB as invalid and set aside. It retries with
// backoff while the store fails otherwise, until ctx ends (errClosing).
func (s *Spool) writeGroup(ctx context.Context, group []pendingRec) ([]outcome, error) {
	outs := make([]outcome, len(group))
	gs, ok := s.st.(GroupStore)
	if !ok {
		for i, r := range group {
			out, err := s.write(ctx, r.p)
			if err != nil {
				return nil, err
			}
			outs[i] = out
		}
		return outs, nil
	}
	// Records whose rows cannot be read back are set aside on their own.
	var batches []store.Batch
	var idx []int
	for i, r := range group {
		obs, err := r.p.observations()
		if err != nil {
			out, werr := s.write(ctx, r.p)
			if werr != nil {
				return nil, werr
			}
			outs[i] = out
			continue
		}
		batches = append(batches, store.Batch{Obs: obs, ReportedAt: r.p.ReportedAt})
		idx = append(idx, i)
	}
	if len(batches) == 0 {
		return outs, nil
	}
	err := s.retry().Do(ctx, func(attempt int) error {
		actx, cancel := context.WithTimeout(ctx, s.o.AttemptTimeout)
		res, err := gs.Write(actx, slices.Values(batches))
		cancel()
		if err == nil {
			if attempt > 1 {
				s.log.Info("spool write to InfluxDB succeeded after failures", "batches", len(batches), "attempts", attempt)
			}
			for j, r := range res {
				i := idx[j]
				outs[i] = outcome{sum: r.Summary, obs: batches[j].Obs}
				if r.Err != nil {
					refused, aerr := s.setAside(group[i].p, r.Err)
					for aerr != nil {
						// The batch is (partly) in InfluxDB; keep trying to
						// set its refused rows aside rather than lose them.
						s.log.Error("spool cannot set a refused batch aside, will retry", "batch", group[i].p.ID, "err", aerr)
						if s.o.Sleep(ctx, s.o.MaxBackoff) != nil {
							return errClosing
						}
						refused, aerr = s.setAside(group[i].p, r.Err)
					}
					outs[i] = outcome{err: refused, obs: batches[j].Obs}
				}
			}
			return nil
		}
		if ctx.Err() != nil {
			return errClosing
		}
		if store.Permanent(err) {
			// Not a refusal of rows the store could sort out: one by one.
			for _, i := range idx {
				out, werr := s.write(ctx, group[i].p)
				if werr != nil {
					return werr
				}
				outs[i] = out
			}
			return nil
		}
		return err
	}, func(attempt int, err error, wait time.Duration) {
		s.retrying(attempt, err, wait, "batches", len(batches), "first", group[0].p.ID)
	})
	if err != nil {
		return nil, errClosing
	}
	return outs, nil
}

// writeLarge writes a record of more than maxGroupRows rows a chunk of
// maxGroupRows at a time (each chunk a write of its own, retried like a
// group), decoding only the chunk being written, so that the flusher's
// memory does not grow with the record; OnStored hears of each chunk's rows
// once they are written (before the commit, which follows the last chunk:
// a crash in between replays the whole record, harmlessly). Its outcome
// adds up the chunks' summaries; rows InfluxDB refused in any chunk are set
// aside together, as one *store.PartialWriteError.
func (s *Spool) writeLarge(ctx context.Context, p *payload) (outcome, error) {
	gs, ok := s.st.(GroupStore)
	if !ok {
		return s.write(ctx, p)
	}
	chunks, cerr := p.chunks(maxGroupRows)
	if cerr != nil {
		return s.write(ctx, p) // sets it aside
	}
	var sum observation.Summary
	var pe *store.PartialWriteError
	for chunk := range chunks {
		var res store.BatchResult
		err := s.retry().Do(ctx, func(attempt int) error {
			actx, cancel := context.WithTimeout(ctx, s.o.AttemptTimeout)
			rs, err := gs.Write(actx, slices.Values([]store.Batch{{Obs: chunk, ReportedAt: p.ReportedAt}}))
			cancel()
			switch {
			case err == nil && len(rs) == 1:
				res = rs[0]
				return nil
			case err == nil:
				return fmt.Errorf("store answered %d results for one batch", len(rs))
			case ctx.Err() != nil:
				return errClosing
			case store.Permanent(err):
				// Refused whole, not a refusal of rows it could sort out.
				res = store.BatchResult{Err: &store.PartialWriteError{Refused: chunk, Err: err}}
				return nil
			}
			return err
		}, func(attempt int, err error, wait time.Duration) {
			s.retrying(attempt, err, wait, "batch", p.ID, "samples", p.len())
		})
		if err != nil {
			return outcome{}, errClosing
		}
		var cpe *store.PartialWriteError
		switch {
		case res.Err == nil:
			sum.Add(res.Summary)
		case errors.As(res.Err, &cpe):
			if pe == nil {
				pe = &store.PartialWriteError{Err: cpe.Err}
			}
			pe.Stored.Add(cpe.Stored)
			pe.Refused = append(pe.Refused, cpe.Refused...)
		default:
			if pe == nil {
				pe = &store.PartialWriteError{Err: res.Err}
			}
			pe.Refused = append(pe.Refused, chunk...)
		}
		if s.o.OnStored != nil {
			if stored := appendStored(nil, p, chunk, res.Err); len(stored) > 0 {
				s.o.OnStored(stored)
			}
		}
	}
	if pe == nil {
		return outcome{sum: sum, told: true}, nil
	}
	pe.Stored.Add(sum)
	refused, aerr := s.setAside(p, pe)
	for aerr != nil {
		s.log.Error("spool cannot set a refused batch aside, will retry", "batch", p.ID, "err", aerr)
		if s.o.Sleep(ctx, s.o.MaxBackoff) != nil {
			return outcome{}, errClosing
		}
		refused, aerr = s.setAside(p, pe)
	}
	return outcome{err: refused, told: true}, nil
}

// retry is the flusher's policy: back off from MinBackoff to MaxBackoff
// and never give up, except when the spool closes.
func (s *Spool) retry() store.Retry {
	return store.Retry{Initial: s.o.MinBackoff, Max: s.o.MaxBackoff, GiveUp: -1, Sleep: s.o.Sleep,
		Retryable: func(err error) bool { return !errors.Is(err, errClosing) }}
}

// retrying logs a failed write (its first failure, then each at the
// longest backoff) and marks the spool as backing off.
func (s *Spool) retrying(attempt int, err error, wait time.Duration, what ...any) {
	if attempt == 1 || wait == s.o.MaxBackoff {
		s.log.Warn("spool write to InfluxDB failed, will retry", append(what, "attempt", attempt, "retry_in", wait.String(), "err", err)...)
	}
	s.setBackingOff()
}

// write writes one record, retrying with backoff until it is written, or
// InfluxDB refuses it as invalid (or its rows cannot be read back) and it
// is set aside (the outcome's error); the error is errClosing when ctx
// ends first.
func (s *Spool) write(ctx context.Context, p *payload) (outcome, error) {
	var sum observation.Summary
	var refused error
	batch, cerr := p.observations()
	err := s.retry().Do(ctx, func(attempt int) error {
		err := cerr
		if err == nil {
			actx, cancel := context.WithTimeout(ctx, s.o.AttemptTimeout)
			sum, err = s.st.Upsert(actx, batch, p.ReportedAt)
			cancel()
			if err == nil {
				if attempt > 1 {
					s.log.Info("spool write to InfluxDB succeeded after failures", "batch", p.ID, "attempts", attempt)
				}
				return nil
			}
		}
		if ctx.Err() != nil {
			return errClosing
		}
		if store.Permanent(err) || cerr != nil {
			r, aerr := s.setAside(p, err)
			if aerr == nil {
				refused = r
				return nil
			}
			err = aerr
		}
		return err
	}, func(attempt int, err error, wait time.Duration) {
		s.retrying(attempt, err, wait, "batch", p.ID, "samples", p.len())
	})
	if err != nil {
		return outcome{}, errClosing
	}
	return outcome{sum: sum, err: refused, obs: batch}, nil
}

// nextGroup returns the records from cur on (up to maxGroupRecords and
// maxGroupRows, within one segment), moving cur to the following segment
// (and committing that, removing the finished segment) when cur is at the
// end of a segment that is no longer appended to, and over damaged ranges.
// It returns nothing when there is nothing to flush; an error with no
// records when the record at cur cannot be read.
func (s *Spool) nextGroup(cur *cursor, files map[uint64]*os.File) ([]pendingRec, error) {
	for {
		s.mu.Lock()
		var size int64 = -1
		var holes []span
		var following uint64
		for i, sg := range s.segs {
			if sg.num == cur.Seg {
				size, holes = sg.size, sg.holes
				if i+1 < len(s.segs) && sg.sealed && sg.size >= sg.final {
					following = s.segs[i+1].num
				}
			}
		}
		if size < 0 && len(s.segs) > 0 && s.segs[0].num > cur.Seg {
			following = s.segs[0].num
		}
		s.mu.Unlock()
		var group []pendingRec
		rows := 0
		pos := *cur
		// One buffered reader for the records that follow each other
		// (a new one only after a hole).
		var br *bufio.Reader
		brOff := int64(-1)
		for pos.Off < size && len(group) < maxGroupRecords && rows < maxGroupRows {
			if h, ok := holeAt(holes, pos.Off); ok {
				pos.Off = h.to // quarantined at Open: skipped
				continue
			}
			f := files[pos.Seg]
			if f == nil {
				var err error
				if f, err = os.Open(filepath.Join(s.dir, segName(pos.Seg))); err != nil {
					return group, err
				}
				files[pos.Seg] = f
			}
			if br == nil || brOff != pos.Off {
				br = bufio.NewReaderSize(io.NewSectionReader(f, pos.Off, size-pos.Off), 64<<10)
				brOff = pos.Off
			}
			p, n, err := readRecord(br)
			if err != nil {
				return group, err
			}
			if len(group) > 0 && p.len() > maxGroupRows {
				break // a large record is written on its own (writeLarge)
			}
			brOff += n
			pos.Off += n
			group = append(group, pendingRec{p: p, next: pos})
			rows += p.len()
		}
		if len(group) > 0 {
			return group, nil
		}
		if pos.Off > cur.Off { // only holes were left
			*cur = pos
		}
		if cur.Off < size {
			continue
		}
		if following == 0 {
			return nil, nil
		}
		// Everything in cur.Seg is done and appends go to a later segment.
		old := cur.Seg
		*cur = cursor{Seg: following, LastID: cur.LastID}
		if err := s.done1(*cur, 0, 0); err != nil {
			return nil, err
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

// appendStored appends to dst the rows of p in InfluxDB after its write
// ended with err; obs are p's rows as converted for the write (nil: not
// kept, converted again).
func appendStored(dst []observation.Observation, p *payload, obs []observation.Observation, err error) []observation.Observation {
	var pe *store.PartialWriteError
	if err != nil && !errors.As(err, &pe) {
		return dst
	}
	if obs == nil {
		var oerr error
		if obs, oerr = p.observations(); oerr != nil {
			return dst
		}
	}
	if pe == nil {
		return append(dst, obs...)
	}
	refused := map[observation.Key]bool{}
	for _, o := range pe.Refused {
		refused[o.Key()] = true
	}
	for _, o := range obs {
		if !refused[o.Key()] {
			dst = append(dst, o)
		}
	}
	return dst
}

// holeAt returns the damaged range starting at off.
func holeAt(holes []span, off int64) (span, bool) {
	for _, h := range holes {
		if h.from == off {
			return h, true
		}
	}
	return span{}, false
}

// done1 commits c durably and takes records and samples off the pending
// counts (0, 0: a segment move).
func (s *Spool) done1(c cursor, records, samples int) error {
	err := s.commitF.write(c)
	s.mu.Lock()
	s.commit = c
	s.pendingRecs -= records
	s.pendingSamples -= samples
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

// setAside writes the rows of a batch InfluxDB refused to failed/<id>.csv
// (canonical layout, for re-import once fixed; with a *store.PartialWriteError
// only the refused rows) with the reason and what was stored in
// failed/<id>.err, and returns the error Accept reports (wrapping cause);
// aerr is set when the batch could not be set aside.
func (s *Spool) setAside(p *payload, cause error) (refused, aerr error) {
	dir := filepath.Join(s.dir, failedDir)
	base := fmt.Sprintf("%020d", p.ID)
	rows := p.cells()
	stored := ""
	var pe *store.PartialWriteError
	if errors.As(cause, &pe) {
		rows = obsCells(pe.Refused)
		stored = fmt.Sprintf("stored: %d of %d rows (new %d, revised %d, unchanged %d)\nrefused: %d rows (in %s.csv)\n",
			pe.Stored.Accepted, p.len(), pe.Stored.New, pe.Stored.Revised, pe.Stored.Unchanged, len(pe.Refused), base)
	}
	err := func() error {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return err
		}
		var csv bytes.Buffer
		w, err := ingest.NewCSVWriter(&csv, false)
		if err != nil {
			return err
		}
		w.Write([]string{"indicator", "region", "period", "value", "source", "note"})
		for _, r := range rows {
			w.Write(r)
		}
		if err := w.Flush(); err != nil {
			return err
		}
		if err := durable.WriteFile(filepath.Join(dir, base+".csv"), csv.Bytes(), 0o640); err != nil {
			return err
		}
		reason := fmt.Sprintf("origin: %s\nwho: %s\nfile: %s\nreported_at: %s\n%serror: %v\n", p.Origin, p.Who, p.File, p.ReportedAt.Format("2006-01-02T15:04:05Z07:00"), stored, cause)
		return durable.WriteFile(filepath.Join(dir, base+".err"), []byte(reason), 0o640)
	}()
	path := filepath.Join(dir, base+".csv")
	if err != nil {
		// The batch stays in the spool and is retried.
		return nil, fmt.Errorf("setting aside a batch InfluxDB refused (%v) as %s: %w", cause, path, err)
	}
	if pe != nil {
		pe.SetAside = path
	}
	s.log.Error("InfluxDB refused rows as invalid; set aside for re-import", "batch", p.ID, "samples", p.len(), "refused", len(rows), "path", path, "err", cause)
	return fmt.Errorf("InfluxDB refused the batch; set aside as %s: %w", path, cause), nil
}
