package bulk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/store"
)

// DefaultBatchSize is how many points go into one write request.
const DefaultBatchSize = 50000

// Options configure an Importer.
type Options struct {
	// Validator holds the catalogue, region table, clock and scope; every
	// row is valid exactly when Validator.Row says so.
	Validator *ingest.Validator
	// Deriver computes the catalogue's derived indicators from the file's
	// rows, as every other ingest path does (nil: none).
	Deriver *ingest.Deriver
	// Influx is the store's connection settings; the importer writes over
	// its own store.HTTP client, with the store's encoder.
	Influx store.Config
	// BatchSize is the number of points per write (default DefaultBatchSize).
	BatchSize int
	// Connections is the number of concurrent writes (default 1: InfluxDB
	// 1.8 ingests no faster over two, and the next batch is rendered while
	// one is in flight anyway).
	Connections int
	Retry       store.Retry
	// DryRun validates only.
	DryRun bool
	// TempDir holds the (unlinked) spill file of validated rows; "" is the
	// system's temporary directory.
	TempDir string
	// Parse opens files the fast CSV path does not read (or gives up on):
	// other formats and layouts. Nil reads everything as canonical CSV with
	// ingest.NewCSV. A Source that is an io.Closer is closed.
	Parse func(file string, r io.Reader) (ingest.Source, error)
	// Progress, when set, receives a status line (ending in "\r") a few times
	// a second once a file takes longer than a second; give it a terminal.
	Progress io.Writer
	// OnRetry, when set, hears of every retried failure.
	OnRetry func(err error, wait time.Duration)
}

// Importer imports files; it may be reused for many files, not concurrently.
type Importer struct {
	opts   Options
	t      *tables
	client *store.HTTP
	store  *store.Store // for reconcile
	// afterBatch, when set (tests), runs after each successful write.
	afterBatch func()
}

// New prepares an importer.
func New(opts Options) (*Importer, error) {
	if opts.Validator == nil || opts.Validator.Catalog == nil || opts.Validator.Regions == nil {
		return nil, errors.New("bulk: a validator with a catalogue and a region table is required")
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.Connections <= 0 {
		opts.Connections = 1
	}
	t, err := newTables(opts.Validator.Catalog, opts.Validator.Regions)
	if err != nil {
		return nil, err
	}
	return &Importer{opts: opts, t: t, client: store.NewHTTP(opts.Influx, opts.Connections, opts.Retry, opts.OnRetry), store: store.Open(opts.Influx)}, nil
}

// Close releases idle connections.
func (im *Importer) Close() {
	im.client.Close()
	im.store.Close()
}

// Result says what an import did.
type Result struct {
	observation.Summary
	// Written counts the points written (current values and revisions).
	Written int
	// Time spent validating (pass 1), querying stored values and writing.
	Validate, Query, Write time.Duration
}

// ImportFile validates the file whole and, when every row is valid, writes
// it as of reportedAt. A file with any error writes nothing: the error is
// then ingest.Errors (every error up to ingest.MaxErrors). Other errors are
// I/O or InfluxDB failures; after a write failure part of the file may be
// written, and importing it again completes it.
func (im *Importer) ImportFile(ctx context.Context, path string, reportedAt time.Time) (Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return Result{}, err
	}
	defer f.Close()
	size := int64(-1)
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	spill, err := os.CreateTemp(im.opts.TempDir, "qualitymon-import-*")
	if err != nil {
		return Result{}, err
	}
	os.Remove(spill.Name()) // unlinked: nothing is left behind, whatever happens
	defer spill.Close()

	prog := newProgress(im.opts.Progress, path)
	defer prog.done()
	t0 := time.Now()
	p, err := im.validate(f, path, size, spill, prog)
	if err != nil {
		return Result{}, err
	}
	if len(p.errs) > 0 {
		return Result{}, p.errs
	}
	validated := time.Since(t0)
	if im.opts.DryRun || p.rows == 0 {
		return Result{Summary: observation.Summary{Accepted: p.rows}, Validate: validated}, nil
	}
	t1 := time.Now()
	existing, err := loadExisting(ctx, im.client, im.opts.Influx.Bucket, im.t, p)
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", path, err)
	}
	if _, err := spill.Seek(0, io.SeekStart); err != nil {
		return Result{}, err
	}
	t2 := time.Now()
	res, err := im.write(ctx, spill, p.rows, existing, reportedAt.Unix(), prog)
	if err == nil && res.New+res.Revised > 0 {
		err = im.reconcile(ctx, p)
	}
	res.Validate, res.Query, res.Write = validated, t2.Sub(t1), time.Since(t2)
	if err != nil {
		return res, fmt.Errorf("%s: %w", path, err)
	}
	return res, nil
}

// reconcile makes the latest report current for the file's keys, one
// indicator at a time (store.Reconcile): a serve replica or another import
// may have written some of them between the lookup of stored values and
// the write.
func (im *Importer) reconcile(ctx context.Context, p *validator) error {
	f := existingFilter(im.t, p)
	for i, used := range p.indUsed {
		if used {
			f.Indicators = []string{im.t.inds[i].ID}
			if err := im.store.Reconcile(ctx, f); err != nil {
				return err
			}
		}
	}
	return nil
}

// countingReader counts the bytes read from the file, for progress.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n.Add(int64(n))
	return n, err
}

// Seek lets ingest.Decode read the file twice (once to decide its encoding);
// the count follows the offset.
func (c *countingReader) Seek(offset int64, whence int) (int64, error) {
	s, ok := c.r.(io.Seeker)
	if !ok {
		return 0, errors.New("not seekable")
	}
	n, err := s.Seek(offset, whence)
	if err == nil {
		c.n.Store(n)
	}
	return n, err
}

// validate is pass 1: the fast CSV path when it applies, else (or when it
// gives up) the generic parser from the start of the file.
func (im *Importer) validate(f *os.File, path string, size int64, spill *os.File, prog *progress) (*validator, error) {
	cr := &countingReader{r: f}
	prog.phase("validating", func() (int64, int64) { return cr.n.Load(), size })
	if Format(path) == ".csv" {
		p := newValidator(im.opts.Validator, im.t, path, spill, im.opts.Deriver)
		dec, _, err := ingest.Decode(cr)
		if err != nil {
			err = ingest.InFile(path, err)
			var e *ingest.Error
			if errors.As(err, &e) {
				p.errs = append(p.errs, e) // a file in no one encoding: refused
				return p, nil
			}
			return nil, err
		}
		err = p.fastCSV(dec, func() { prog.tick(p.rows) })
		if err == nil {
			return p, p.finish(spill)
		}
		if !errors.Is(err, errExotic) {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		if err := spill.Truncate(0); err != nil {
			return nil, err
		}
		if _, err := spill.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		cr.n.Store(0)
	}
	p := newValidator(im.opts.Validator, im.t, path, spill, im.opts.Deriver)
	parse := im.opts.Parse
	if parse == nil {
		parse = parseCSV
	}
	src, err := parse(path, cr)
	if err != nil {
		var e *ingest.Error
		if errors.As(err, &e) {
			p.errs = append(p.errs, e)
			return p, nil
		}
		return nil, err
	}
	if c, ok := src.(io.Closer); ok {
		defer c.Close()
	}
	if err := p.source(src, func() { prog.tick(p.rows) }); err != nil {
		return nil, err
	}
	return p, p.finish(spill)
}

// Format is how import reads the file path: ".xlsx" for a name ending in
// .xlsx (any case), ".csv" for any other name.
func Format(path string) string {
	if strings.ToLower(filepath.Ext(path)) == ".xlsx" {
		return ".xlsx"
	}
	return ".csv"
}

// parseCSV reads any file as canonical CSV: the default Options.Parse.
func parseCSV(file string, r io.Reader) (ingest.Source, error) { return ingest.NewCSV(file, r) }

// batch is one write request of current values and revisions, preceded by
// one of the reports of its rows (store.AppendReport, precision ns).
type batch struct {
	body, reports   []byte
	points, nreport int
}

// write is pass 2: classify each record against the stored values, render
// line protocol and write it in batches over Connections requests at once,
// while the next batch is rendered.
func (im *Importer) write(ctx context.Context, spill io.Reader, rows int, existing map[uint64]current, reportedAt int64, prog *progress) (Result, error) {
	var res Result
	var written atomic.Int64
	prog.phase("writing", func() (int64, int64) { return written.Load(), int64(rows) })
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	conns := im.opts.Connections
	pool := make(chan []byte, conns+2)
	for range conns + 2 {
		pool <- nil
	}
	work := make(chan batch, conns)
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				if ctx.Err() == nil {
					err := im.client.WriteReports(ctx, b.reports, b.nreport)
					if err == nil {
						err = im.client.Write(ctx, b.body, b.points)
					}
					if err != nil {
						cancel(err)
					} else {
						written.Add(int64(b.points))
						if im.afterBatch != nil {
							im.afterBatch()
						}
					}
				}
				pool <- b.body[:0]
			}
		}()
	}
	finish := func(err error) (Result, error) {
		close(work)
		wg.Wait()
		if err == nil {
			err = context.Cause(ctx)
		}
		res.Written = int(written.Load())
		return res, err
	}

	r := newRenderer(im.t, reportedAt)
	chunk := make([]byte, recordSize*4096)
	var cur, reps []byte
	points, nreport := 0, 0
	send := func() bool {
		if points == 0 {
			return true
		}
		select {
		case work <- batch{body: cur, points: points, reports: reps, nreport: nreport}:
		case <-ctx.Done():
			return false
		}
		points, nreport, reps = 0, 0, nil
		select {
		case cur = <-pool:
		case <-ctx.Done():
			return false
		}
		return true
	}
	cur = <-pool
	var rec record
	for n := 0; ; n++ {
		k, err := io.ReadFull(spill, chunk)
		if k%recordSize != 0 || (err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF)) {
			return finish(fmt.Errorf("reading temporary file: %v", err))
		}
		for off := 0; off < k; off += recordSize {
			rec.get(chunk[off:])
			var held *observation.Stored
			old, ok := existing[key(rec.ind, rec.reg, rec.day)]
			if ok {
				held = &observation.Stored{Observation: observation.Observation{Value: old.value, Source: im.t.sources[old.src]}, Revision: int(old.revision)}
			}
			c, r64 := store.Classify(held, rec.value, im.t.sources[rec.src])
			c.CountIn(&res.Summary)
			rev := int64(r64)
			switch c {
			case store.Unchanged:
				continue
			case store.Revised:
				cur = r.revisionLine(cur, &rec, &old)
				points++
			}
			reps = r.reportLine(reps, &rec, rev)
			nreport++
			cur = r.line(cur, &rec, rev)
			points++
			if points >= im.opts.BatchSize && !send() {
				return finish(nil)
			}
		}
		prog.tick(res.Accepted)
		if err != nil {
			break
		}
	}
	send()
	return finish(nil)
}
