package bulk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/qualitymon/qualitymon/internal/derive"
	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/store"
)

// DefaultBatchSize is how many rows are written at once (Store.Write).
const DefaultBatchSize = 50000

// Options configure an Importer.
type Options struct {
	// Validator holds the catalogue, region table, clock and scope; every
	// row is valid exactly when Validator.Row says so.
	Validator *ingest.Validator
	// Deriver: the catalogue's derivation rules; a file whose rows derive
	// a figure outside its valid range is refused, as on every other
	// ingest path (ingest.CheckDerived). Derived figures are not stored.
	Deriver *derive.Rules
	// Influx is the store's connection settings; the importer writes
	// through the store's one writer (store.Store.Write).
	Influx store.Config
	// BatchSize is the number of rows written at once (default DefaultBatchSize).
	BatchSize int
	// Retry retries a chunk's write while it fails retryably.
	Retry store.Retry
	// DryRun validates only.
	DryRun bool
	// TempDir holds the (unlinked) spill file of validated rows; "" is the
	// system's temporary directory.
	TempDir string
	// Parse opens a file as an ingest source. Nil reads it as every path
	// does (ingest.OpenAs, a name not ending in .xlsx as CSV). A Source that
	// is an io.Closer is closed.
	Parse func(file string, r io.Reader) (ingest.Source, error)
	// Progress, when set, receives a status line (ending in "\r") a few times
	// a second once a file takes longer than a second; give it a terminal.
	Progress io.Writer
	// OnRetry, when set, hears of every retried failure.
	OnRetry func(err error, wait time.Duration)
}

// Importer imports files; it may be reused for many files, not concurrently.
type Importer struct {
	opts  Options
	v     *ingest.Validator // Options.Validator, its lookups memoised
	t     *tables
	store *store.Store
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
	t, err := newTables(opts.Validator.Catalog, opts.Validator.Regions)
	if err != nil {
		return nil, err
	}
	im := &Importer{opts: opts, v: opts.Validator.Memoised(), t: t, store: store.Open(opts.Influx)}
	if im.opts.Parse == nil {
		im.opts.Parse = im.open
	}
	return im, nil
}

// Close releases idle connections.
func (im *Importer) Close() { im.store.Close() }

// Result says what an import did.
type Result struct {
	observation.Summary
	// Written counts the points written (current values and revisions).
	Written int
	// Time spent validating (pass 1) and writing (pass 2).
	Validate, Write time.Duration
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
	if _, err := spill.Seek(0, io.SeekStart); err != nil {
		return Result{}, err
	}
	res, err := im.write(ctx, spill, p.rows, reportedAt, prog)
	res.Validate, res.Write = validated, time.Since(t1)
	if err != nil {
		return res, fmt.Errorf("%s: %w", path, err)
	}
	return res, nil
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

// validate is pass 1: the file is read through Options.Parse (an ingest
// source) and every row validated by ingest.Validator.Row.
func (im *Importer) validate(f *os.File, path string, size int64, spill *os.File, prog *progress) (*validator, error) {
	cr := &countingReader{r: f}
	prog.phase("validating", func() (int64, int64) { return cr.n.Load(), size })
	p := newValidator(im.v, im.t, path, spill, im.opts.Deriver)
	src, err := im.opts.Parse(path, cr)
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

// open reads a file as every path does (ingest.OpenAs: canonical layout or
// the 国家统计局 export, CSV in any encoding or XLSX), a name not ending in
// .xlsx as CSV: the default Options.Parse.
func (im *Importer) open(file string, r io.Reader) (ingest.Source, error) {
	return ingest.OpenAs(file, Format(file), r, im.v.Catalog, im.v.Limits)
}

// inFlight is how many chunks are written at once: the store's lookup,
// marks and checks of one chunk run while InfluxDB stores the one before,
// and InfluxDB parses one request while it syncs another to its WAL. The
// chunks of one file share no key (pass 1 refuses duplicates), so the
// store does not count them as racing each other (store.Store.Write).
const inFlight = 2

// write is pass 2: the validated records go, in chunks of BatchSize/inFlight, to
// the store's one writer (store.Store.Write: the classifier, the reports,
// reconcile), inFlight chunks at a time, each chunk retried with Retry
// while the store calls its failure retryable (a chunk written twice
// changes nothing). A chunk that fails for good stops the import.
func (im *Importer) write(ctx context.Context, spill io.Reader, rows int, reportedAt time.Time, prog *progress) (Result, error) {
	var res Result
	var mu sync.Mutex // guards res
	var done atomic.Int64
	prog.phase("writing", func() (int64, int64) { return done.Load(), int64(rows) })
	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(inFlight)
	put := func(chunk []observation.Observation) {
		eg.Go(func() error {
			var out []store.BatchResult
			err := im.opts.Retry.Do(ectx, func(int) error {
				var err error
				out, err = im.store.Write(ectx, slices.Values([]store.Batch{{Obs: chunk, ReportedAt: reportedAt}}))
				return err
			}, func(_ int, err error, wait time.Duration) {
				if im.opts.OnRetry != nil {
					im.opts.OnRetry(err, wait)
				}
			})
			if err == nil && len(out) == 1 {
				err = out[0].Err
			}
			if err != nil {
				return err
			}
			sum := out[0].Summary
			mu.Lock()
			res.Summary.Add(sum)
			res.Written += sum.New + 2*sum.Revised // revisions keep the value they supersede
			accepted := res.Accepted
			mu.Unlock()
			done.Add(int64(len(chunk)))
			prog.tick(accepted)
			if im.afterBatch != nil {
				im.afterBatch()
			}
			return nil
		})
	}
	// A chunk ends at BatchSize rows, or earlier (from three quarters of it
	// on) where the indicator changes: the store's lookup of a chunk's
	// current values reads its indicators' points in their period ranges,
	// and a chunk that ends mid-indicator makes the next one read back the
	// rows it wrote of that indicator. (From half of it on, a file ordered
	// by year, 367 rows an indicator, was written in chunks of half the
	// size, each with its lookup, marks and checks.)
	// Chunks are of BatchSize/inFlight rows, so that the rows in flight
	// are no more than BatchSize (memory: 1,000,000 rows peaked at 199 MB
	// of RSS with two chunks of BatchSize in flight and a third being read).
	size := max(1, min(rows, im.opts.BatchSize/inFlight))
	chunk := make([]observation.Observation, 0, size)
	last := -1
	for rec := range records(spill) {
		if ectx.Err() != nil {
			break
		}
		if len(chunk) >= size*3/4 && int(rec.ind) != last {
			put(chunk)
			chunk = make([]observation.Observation, 0, size)
		}
		last = int(rec.ind)
		chunk = append(chunk, im.t.observation(rec))
		if len(chunk) == size {
			put(chunk)
			chunk = make([]observation.Observation, 0, size)
		}
	}
	if len(chunk) > 0 && ectx.Err() == nil {
		put(chunk)
	}
	if err := eg.Wait(); err != nil {
		return res, err
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if n := res.Accepted; n != rows {
		return res, fmt.Errorf("reading temporary file: %d of %d rows", n, rows)
	}
	return res, nil
}
