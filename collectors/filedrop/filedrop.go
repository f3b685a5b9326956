// Package filedrop collects the files that bureaus drop into a directory:
// CSV and XLSX in the canonical long layout (English or Chinese headers) or
// in the 国家统计局 export layout, UTF-8 (with or without BOM) or
// GBK/GB18030. Each run reads every file that has not changed for min_age;
// a file is accepted or rejected whole. Accepted files move to done/,
// rejected ones to failed/ with <file>.errors.txt beside them listing every
// FILE:ROW:COLUMN: message. A file the sink could not take stays where it is
// and is read again on the next run. See README.md.
package filedrop

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/qualitymon/qualitymon/collectors"
	"github.com/qualitymon/qualitymon/internal/config"
	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/observation"
)

// Options configure a file drop.
type Options struct {
	// Dir is watched (not recursively).
	Dir string `yaml:"dir"`
	// DoneDir and FailedDir receive processed files (default Dir/done and
	// Dir/failed).
	DoneDir   string `yaml:"done_dir"`
	FailedDir string `yaml:"failed_dir"`
	// MinAge skips files modified more recently (still being copied).
	MinAge *config.Duration `yaml:"min_age"`
}

// DefaultMinAge is used when min_age is not given.
const DefaultMinAge = 10 * time.Second

// Drop is the file-drop collector.
type Drop struct {
	opts Options
	v    *ingest.Validator
	now  func() time.Time
}

// New is the registry's Factory.
func New(name string, options *yaml.Node, deps collectors.Deps) (collectors.Collector, error) {
	var o Options
	if err := collectors.DecodeOptions(options, &o); err != nil {
		return nil, err
	}
	if o.Dir == "" {
		return nil, errors.New("options.dir: required (the directory bureaus drop files into)")
	}
	if o.DoneDir == "" {
		o.DoneDir = filepath.Join(o.Dir, "done")
	}
	if o.FailedDir == "" {
		o.FailedDir = filepath.Join(o.Dir, "failed")
	}
	if o.MinAge == nil {
		d := config.Duration(DefaultMinAge)
		o.MinAge = &d
	}
	now := deps.Now
	if now == nil {
		now = time.Now
	}
	return &Drop{opts: o, v: deps.Validator, now: now}, nil
}

// Collect reads every settled file of the drop directory, sorted by name.
func (d *Drop) Collect(ctx context.Context) ([]collectors.Batch, error) {
	entries, err := os.ReadDir(d.opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("reading drop directory: %w", err)
	}
	cutoff := d.now().Add(-time.Duration(*d.opts.MinAge))
	var out []collectors.Batch
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		if !e.Type().IsRegular() || !slices.Contains(ingest.Formats, strings.ToLower(filepath.Ext(e.Name()))) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // taken away meanwhile
			}
			return out, fmt.Errorf("reading drop directory: %w", err)
		}
		if info.ModTime().After(cutoff) {
			continue
		}
		// A large file waits for a slot of the validator's gate
		// (limits.concurrent_parses), as an upload would be refused.
		release, err := d.v.Gate.Enter(ctx, filepath.Ext(e.Name()), info.Size())
		if err != nil {
			return out, err
		}
		out = append(out, d.read(e.Name()))
		release()
	}
	return out, nil
}

// read reads, parses and validates one file into a batch.
func (d *Drop) read(name string) collectors.Batch {
	path := filepath.Join(d.opts.Dir, name)
	b := collectors.Batch{Name: name}
	b.Samples, b.Err = d.readFile(name, path)
	rejected := b.Err != nil
	b.Ack = func(err error) error {
		switch {
		case err == nil:
			return d.move(path, d.opts.DoneDir, "")
		case rejected || isRejection(err):
			return d.move(path, d.opts.FailedDir, report(name, err, d.now()))
		}
		return nil // not taken (sink trouble): read again next run
	}
	return b
}

func (d *Drop) readFile(name, path string) ([]observation.Observation, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &ingest.Error{File: name, Column: "file", Message: err.Error()}
	}
	defer f.Close()
	src, err := ingest.Open(name, f, d.v.Catalog, d.v.Limits)
	if err != nil {
		return nil, asRejection(name, err)
	}
	defer src.Close()
	got, err := d.v.ReadAll(src)
	if err != nil {
		return nil, asRejection(name, err)
	}
	return got, nil
}

// asRejection makes every error reading a file an ingest error, so that the
// file moves to failed/ with a report.
func asRejection(name string, err error) error {
	if isRejection(err) {
		return err
	}
	return &ingest.Error{File: name, Column: "file", Message: err.Error()}
}

func isRejection(err error) bool {
	var es ingest.Errors
	var e *ingest.Error
	return errors.As(err, &es) || errors.As(err, &e)
}

// report renders the errors of a rejected file for <file>.errors.txt.
func report(name string, err error, at time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s was rejected on %s; nothing from it was stored.\n", name, at.Format(time.RFC3339))
	b.WriteString("Correct the rows below and drop the whole file again.\n\n")
	var es ingest.Errors
	var e *ingest.Error
	switch {
	case errors.As(err, &es):
	case errors.As(err, &e):
		es = ingest.Errors{e}
	default:
		fmt.Fprintf(&b, "%s: %v\n", name, err)
		return b.String()
	}
	for _, e := range es {
		b.WriteString(e.Error())
		if e.Value != "" {
			fmt.Fprintf(&b, " [value %q]", e.Value)
		}
		b.WriteByte('\n')
	}
	if len(es) >= ingest.MaxErrors {
		fmt.Fprintf(&b, "(stopped after %d errors)\n", ingest.MaxErrors)
	}
	return b.String()
}

// move renames path into dir (a name already there gets a time suffix) and
// writes the report beside it when one is given.
func (d *Drop) move(path, dir, errReport string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("moving %s: %w", filepath.Base(path), err)
	}
	base := filepath.Base(path)
	dst := filepath.Join(dir, base)
	if _, err := os.Lstat(dst); err == nil {
		ext := filepath.Ext(base)
		dst = filepath.Join(dir, strings.TrimSuffix(base, ext)+"."+d.now().UTC().Format("20060102T150405.000000000")+ext)
	}
	if errReport != "" {
		if err := os.WriteFile(dst+".errors.txt", []byte(errReport), 0o644); err != nil {
			return fmt.Errorf("writing error report of %s: %w", base, err)
		}
	}
	if err := os.Rename(path, dst); err != nil {
		return fmt.Errorf("moving %s: %w", base, err)
	}
	return nil
}
