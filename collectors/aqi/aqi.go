// Package aqi reads daily air-quality records, one city per file, in the
// layout of the national monitoring exports (no header; index, date, grade
// 优/良/轻度污染…, AQI, then pollutant columns). It submits each day's AQI as
// aqi_daily; the yearly share of good days (good_air_quality_days_share, with
// the days covered and missing) is rolled up from them by the catalogue's
// rule (internal/derive, GB 3095-2012's validity rule) when the figures are
// read, as for daily AQI uploaded or imported. A date given twice with the same AQI
// counts once; with different values the file is rejected. A file is read
// again only when it changed. See README.md.
package aqi

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/qualitymon/qualitymon/collectors"
	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
)

// Indicator ids this collector writes.
const (
	Daily   = "aqi_daily"
	Share   = "good_air_quality_days_share"
	Covered = "good_air_quality_days_covered"
	Missing = "good_air_quality_days_missing"
)

// Options configure the collector.
type Options struct {
	Files []File `yaml:"files"`
	// Source is recorded on every observation (default "aqi:<file name>").
	Source string `yaml:"source"`
}

// File is one city's record file.
type File struct {
	Path string `yaml:"path"`
	// Region is the city: a GB/T 2260 code or name (460100, 海口).
	Region string `yaml:"region"`
}

// Collector reads the configured files.
type Collector struct {
	opts    Options
	regions []string // resolved codes, by file
	v       *ingest.Validator
	now     func() time.Time

	mu   sync.Mutex
	seen map[string]stamp // files delivered and accepted, by path
}

type stamp struct {
	mod  time.Time
	size int64
}

// New is the registry's Factory.
func New(name string, options *yaml.Node, deps collectors.Deps) (collectors.Collector, error) {
	var o Options
	if err := collectors.DecodeOptions(options, &o); err != nil {
		return nil, err
	}
	c := &Collector{opts: o, v: deps.Validator, now: deps.Now, seen: map[string]stamp{}}
	if c.now == nil {
		c.now = time.Now
	}
	var errs []error
	if len(o.Files) == 0 {
		errs = append(errs, errors.New("options.files: required (a list of {path, region})"))
	}
	for i, f := range o.Files {
		if f.Path == "" {
			errs = append(errs, fmt.Errorf("options.files[%d].path: required", i))
		}
		r, ok := deps.Validator.Regions.Resolve(f.Region)
		if !ok {
			errs = append(errs, fmt.Errorf("options.files[%d].region: unknown region %q (want a GB/T 2260 code or name)", i, f.Region))
			continue
		}
		c.regions = append(c.regions, r.Code)
	}
	for _, id := range []string{Daily, Share, Covered, Missing} {
		if _, ok := deps.Validator.Catalog.Get(id); !ok {
			errs = append(errs, fmt.Errorf("catalogue: no indicator %q (targets/catalogue/collectors.yaml)", id))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// Collect reads every file that changed since it was last accepted: one
// batch per file.
func (c *Collector) Collect(ctx context.Context) ([]collectors.Batch, error) {
	var out []collectors.Batch
	var errs []error
	for i, f := range c.opts.Files {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		info, err := os.Stat(f.Path)
		if err != nil {
			errs = append(errs, fmt.Errorf("reading AQI file: %w", err))
			continue
		}
		st := stamp{info.ModTime(), info.Size()}
		c.mu.Lock()
		unchanged := c.seen[f.Path] == st
		c.mu.Unlock()
		if unchanged {
			continue
		}
		b := collectors.Batch{Name: f.Path}
		b.Samples, b.Err = c.read(f.Path, c.regions[i])
		path := f.Path
		b.Ack = func(err error) error {
			if err == nil {
				c.mu.Lock()
				c.seen[path] = st
				c.mu.Unlock()
			}
			return nil
		}
		out = append(out, b)
	}
	return out, errors.Join(errs...)
}

func (c *Collector) read(path, region string) ([]observation.Observation, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &ingest.Error{File: path, Column: "file", Message: err.Error()}
	}
	defer f.Close()
	recs, err := Parse(path, f)
	var shapeErrs ingest.Errors
	if err != nil && !errors.As(err, &shapeErrs) {
		return nil, err
	}
	source := c.opts.Source
	if source == "" {
		source = "aqi:" + filepath.Base(path)
	}
	got, err := Observations(c.v, path, region, source, recs, c.now())
	if len(shapeErrs) == 0 {
		return got, err
	}
	var verrs ingest.Errors
	errors.As(err, &verrs)
	all := append(shapeErrs, verrs...)
	slices.SortStableFunc(all, func(a, b *ingest.Error) int { return a.Row - b.Row })
	return nil, all
}

// Observations validates the records of one city and returns its daily
// observations.
func Observations(v *ingest.Validator, file, region, source string, recs []Record, now time.Time) ([]observation.Observation, error) {
	var out []observation.Observation
	var errs ingest.Errors
	days := map[period.Period]float64{}
	firstRow := map[period.Period]int{}
	for _, r := range recs {
		raw := &ingest.Raw{File: file, Row: r.Row,
			Cells:   map[string]string{ingest.ColIndicator: Daily, ingest.ColRegion: region, ingest.ColPeriod: r.Date, ingest.ColValue: r.AQI, ingest.ColSource: source},
			Columns: map[string]string{ingest.ColPeriod: "date", ingest.ColValue: "AQI", ingest.ColRegion: "region", ingest.ColIndicator: "indicator"}}
		o, rowErrs := v.Row(raw)
		if len(rowErrs) > 0 {
			errs = append(errs, rowErrs...)
			if len(errs) >= ingest.MaxErrors {
				break
			}
			continue
		}
		if prev, dup := days[o.Period]; dup {
			if prev != o.Value {
				errs = append(errs, &ingest.Error{File: file, Row: r.Row, Column: "AQI", Value: r.AQI,
					Message:  fmt.Sprintf("%s given twice with different AQI (%v on row %d)", o.Period, prev, firstRow[o.Period]),
					Expected: "one AQI per day"})
			}
			continue // the same record again counts once
		}
		days[o.Period] = o.Value
		firstRow[o.Period] = r.Row
		out = append(out, o)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}
