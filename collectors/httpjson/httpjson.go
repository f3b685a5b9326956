// Package httpjson polls a JSON feed over HTTP and maps its items to
// observations declaratively: where the items are (items: "data.rows") and
// which field of an item holds the indicator, region, period and value, or a
// constant indicator or region for the whole feed. Requests are conditional
// (If-None-Match, If-Modified-Since): an unchanged feed answers 304 and the
// run delivers nothing. The validators of a response are kept only once its
// batch was accepted, so a refused batch is fetched again. See README.md.
package httpjson

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/qualitymon/qualitymon/collectors"
	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/observation"
)

// Options configure a feed.
type Options struct {
	URL string `yaml:"url"`
	// TokenEnv names the environment variable holding a bearer token.
	TokenEnv string `yaml:"token_env"`
	// Items is the dot path to the array of items ("data.rows"; "" when the
	// response is the array). A number selects an array element ("data.0").
	Items string `yaml:"items"`
	// Fields name the item fields (dot paths) of each column.
	Fields Fields `yaml:"fields"`
	// Indicator, Region and Source are constants for every item.
	Indicator string `yaml:"indicator"`
	Region    string `yaml:"region"`
	Source    string `yaml:"source"`
	// MaxBytes bounds the response body (default 32 MiB).
	MaxBytes int64 `yaml:"max_bytes"`
}

// Fields map columns to item fields.
type Fields struct {
	Indicator string `yaml:"indicator"`
	Region    string `yaml:"region"`
	Period    string `yaml:"period"`
	Value     string `yaml:"value"`
	Unit      string `yaml:"unit"`
	Source    string `yaml:"source"`
	Note      string `yaml:"note"`
}

// DefaultMaxBytes bounds a response when max_bytes is not given.
const DefaultMaxBytes = 32 << 20

// Feed is the HTTP JSON collector.
type Feed struct {
	opts   Options
	token  string // never logged or returned in errors
	v      *ingest.Validator
	client *http.Client

	mu           sync.Mutex
	etag         string
	lastModified string
}

// New is the registry's Factory.
func New(name string, options *yaml.Node, deps collectors.Deps) (collectors.Collector, error) {
	var o Options
	if err := collectors.DecodeOptions(options, &o); err != nil {
		return nil, err
	}
	var errs []error
	u, err := url.Parse(o.URL)
	if o.URL == "" {
		errs = append(errs, errors.New("options.url: required"))
	} else if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("options.url: %q is not an http:// or https:// URL", o.URL))
	}
	one := func(field, fieldVal, constVal string) {
		if (fieldVal == "") == (constVal == "") {
			errs = append(errs, fmt.Errorf("options: give either fields.%s or a constant %s:", field, field))
		}
	}
	one("indicator", o.Fields.Indicator, o.Indicator)
	one("region", o.Fields.Region, o.Region)
	if o.Fields.Period == "" {
		errs = append(errs, errors.New("options.fields.period: required"))
	}
	if o.Fields.Value == "" {
		errs = append(errs, errors.New("options.fields.value: required"))
	}
	if o.Fields.Source != "" && o.Source != "" {
		errs = append(errs, errors.New("options: give either fields.source or a constant source:"))
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	f := &Feed{opts: o, v: deps.Validator, client: &http.Client{}}
	if o.TokenEnv != "" {
		getenv := deps.Getenv
		if getenv == nil {
			return nil, errors.New("options.token_env: no environment")
		}
		f.token = getenv(o.TokenEnv)
		if f.token == "" {
			errs = append(errs, fmt.Errorf("options.token_env: environment variable %s is empty or not set", o.TokenEnv))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return f, nil
}

// Collect fetches the feed; 304 Not Modified delivers nothing.
func (f *Feed) Collect(ctx context.Context) ([]collectors.Batch, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.opts.URL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if f.token != "" {
		req.Header.Set("Authorization", "Bearer "+f.token)
	}
	f.mu.Lock()
	if f.etag != "" {
		req.Header.Set("If-None-Match", f.etag)
	}
	if f.lastModified != "" {
		req.Header.Set("If-Modified-Since", f.lastModified)
	}
	f.mu.Unlock()
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", f.opts.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified {
		return nil, nil
	}
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, &StatusError{URL: f.opts.URL, Code: resp.StatusCode}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.opts.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", f.opts.URL, err)
	}
	etag, lm := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	b := collectors.Batch{Name: f.opts.URL}
	if int64(len(body)) > f.opts.MaxBytes {
		b.Err = &ingest.Error{File: f.opts.URL, Column: "body", Message: fmt.Sprintf("response larger than max_bytes (%d)", f.opts.MaxBytes)}
	} else {
		b.Samples, b.Err = f.parse(body)
	}
	b.Ack = func(err error) error {
		if err == nil {
			f.mu.Lock()
			f.etag, f.lastModified = etag, lm
			f.mu.Unlock()
		}
		return nil
	}
	return []collectors.Batch{b}, nil
}

// StatusError is an unexpected HTTP status; 5xx and 429 are worth retrying.
type StatusError struct {
	URL  string
	Code int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("fetching %s: %d %s", e.URL, e.Code, http.StatusText(e.Code))
}

// Retryable reports whether a later attempt may succeed.
func (e *StatusError) Retryable() bool { return e.Code >= 500 || e.Code == http.StatusTooManyRequests }

func (f *Feed) parse(body []byte) ([]observation.Observation, error) {
	raws, err := Map(f.opts.URL, body, f.opts)
	var cellErrs ingest.Errors
	if err != nil && !errors.As(err, &cellErrs) {
		return nil, err
	}
	got, err := f.v.ReadAll(&sliceSource{raws: raws})
	if len(cellErrs) == 0 {
		return got, err
	}
	// Report the cells Map could not read with whatever else is wrong.
	var verrs ingest.Errors
	errors.As(err, &verrs)
	bad := map[string]bool{}
	for _, e := range cellErrs {
		bad[fmt.Sprint(e.Row, e.Column)] = true
	}
	all := cellErrs
	for _, e := range verrs {
		if !bad[fmt.Sprint(e.Row, e.Column)] {
			all = append(all, e)
		}
	}
	slices.SortStableFunc(all, func(a, b *ingest.Error) int { return a.Row - b.Row })
	return nil, all
}

// Map turns a JSON document into raw rows following the options' mapping.
// Row is the 1-based item number; the column names the item field. A cell
// that is not a scalar is returned as ingest.Errors together with all rows
// (that cell left empty), so that validation can report the rest.
func Map(name string, body []byte, o Options) ([]*ingest.Raw, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, &ingest.Error{File: name, Column: "body", Message: "not JSON: " + err.Error()}
	}
	items, ok := lookup(doc, o.Items)
	if !ok {
		return nil, &ingest.Error{File: name, Column: o.Items, Message: fmt.Sprintf("no %q in the response", o.Items), Expected: "the path of the items array"}
	}
	list, ok := items.([]any)
	if !ok {
		return nil, &ingest.Error{File: name, Column: o.Items, Message: fmt.Sprintf("%q is not an array", o.Items)}
	}
	cols := []struct{ col, path, constant string }{
		{ingest.ColIndicator, o.Fields.Indicator, o.Indicator},
		{ingest.ColRegion, o.Fields.Region, o.Region},
		{ingest.ColPeriod, o.Fields.Period, ""},
		{ingest.ColValue, o.Fields.Value, ""},
		{ingest.ColUnit, o.Fields.Unit, ""},
		{ingest.ColSource, o.Fields.Source, o.Source},
		{ingest.ColNote, o.Fields.Note, ""},
	}
	out := make([]*ingest.Raw, 0, len(list))
	var errs ingest.Errors
	for i, it := range list {
		r := &ingest.Raw{File: name, Row: i + 1, Cells: map[string]string{}, Columns: map[string]string{}}
		for _, c := range cols {
			switch {
			case c.constant != "":
				r.Cells[c.col] = c.constant
			case c.path != "":
				r.Columns[c.col] = c.path
				v, _ := lookup(it, c.path)
				s, err := scalar(v)
				if err != nil {
					errs = append(errs, &ingest.Error{File: name, Row: i + 1, Column: c.path, Message: err.Error(), Expected: "a string or number"})
				}
				r.Cells[c.col] = s
			}
		}
		out = append(out, r)
	}
	if len(errs) > 0 {
		return out, errs
	}
	return out, nil
}

// lookup follows a dot path; "" is the value itself.
func lookup(v any, path string) (any, bool) {
	if path == "" {
		return v, true
	}
	for _, part := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[part]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// scalar renders a JSON scalar as the cell text the validator reads; a
// missing field or null is an empty cell.
func scalar(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		return "", errors.New("a boolean where a figure or name belongs")
	}
	return "", errors.New("an object or array where a figure or name belongs")
}

type sliceSource struct{ raws []*ingest.Raw }

func (s *sliceSource) Next() (*ingest.Raw, error) {
	if len(s.raws) == 0 {
		return nil, io.EOF
	}
	r := s.raws[0]
	s.raws = s.raws[1:]
	return r, nil
}
