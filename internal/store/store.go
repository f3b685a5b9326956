// Package store keeps observations and evaluations in InfluxDB through
// influxdb-client-go/v2, with blocking writes and Flux queries.
//
// Schema (documented for users in the README):
//
//	observation            tags: indicator, region, freq   time: period start (UTC)
//	                       fields: value (float), revision (int), source (string), reported_at (int, unix s),
//	                       note (string: the 备注 given with the figure, "" when none)
//	observation_revision   tags: indicator, region, freq, revision   time: period start
//	                       fields: value, source, reported_at, note — the values a revision superseded
//	observation_report     tags: indicator, region, freq   time: period start + a slot of 1–999,999,999 ns
//	                       fields: value, revision, source, reported_at, note — the reports of writes
//	                       another write was active beside (several writers: see report.go)
//	writer_activity        tags: indicator   time: InfluxDB's clock (ns)
//	                       fields: start, done (string: a write's id) — see activity.go
//	evaluation             tags: plan, region   time: evaluation time (ms) + a slot (ns) per target
//	                       fields: target, indicator, status (string), status_code (int), actual, target_value, gap,
//	                       progress, projected (float), stale, settled (bool), basis, period (string)
package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	stdhttp "net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"github.com/influxdata/influxdb-client-go/v2/api"
	"github.com/influxdata/influxdb-client-go/v2/api/http"

	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
)

// Measurement names.
const (
	measObservation = "observation"
	measRevision    = "observation_revision"
	measEvaluation  = "evaluation"
)

// Config locates the InfluxDB bucket.
type Config struct {
	URL    string
	Token  string
	Org    string
	Bucket string
	// Timeout bounds each HTTP request (default 60 s).
	Timeout time.Duration
	// ReadEncoding is the Accept-Encoding of the streamed reads (EachValue,
	// a write's lookup): "gzip" or "identity"; "" (the default) is gzip
	// except for an InfluxDB on the loopback (streamReadEncoding).
	ReadEncoding string
}

// Store is a connection to one bucket.
type Store struct {
	cfg    Config
	client influxdb2.Client

	// lookups queues the callers of CurrentValues (lookups.go).
	lookups lookups

	// own are the group writes in progress (activity.go).
	own ownWrites

	// afterCurrent, when set (tests), runs when a group write has written
	// its current values, before it checks for other writers.
	afterCurrent func()
}

// Open creates the client; it does not contact the server (see Ready).
func Open(cfg Config) *Store {
	if cfg.Timeout == 0 {
		cfg.Timeout = 60 * time.Second
	}
	opts := influxdb2.DefaultOptions().
		SetHTTPRequestTimeout(uint(cfg.Timeout / time.Second)).
		SetPrecision(time.Second)
	c := influxdb2.NewClientWithOptions(cfg.URL, cfg.Token, opts)
	return &Store{cfg: cfg, client: c}
}

// queryAPI is a query client for one query. The library's query client
// builds its URL lazily without a lock, so one shared client raced when the
// engine ran its queries concurrently (go test -race); a new one per query
// costs a URL parse.
func (s *Store) queryAPI() api.QueryAPI { return s.client.QueryAPI(s.cfg.Org) }

// Close releases the client.
func (s *Store) Close() {
	s.client.Close()
}

// URL is InfluxDB's URL, its password hidden (RedactURL).
func (s *Store) URL() string { return RedactURL(s.cfg.URL) }

// Bucket is the configured bucket.
func (s *Store) Bucket() string { return s.cfg.Bucket }

// Ready checks that InfluxDB answers (/ping, which 1.8 and 2.x both serve)
// and that the bucket exists and answers queries: a server without the
// bucket is not ready to store anything.
func (s *Store) Ready(ctx context.Context) error {
	ok, err := s.client.Ping(ctx)
	if err != nil {
		return fmt.Errorf("influxdb %s: %w", RedactURL(s.cfg.URL), err)
	}
	if !ok {
		return fmt.Errorf("influxdb %s: not ready", RedactURL(s.cfg.URL))
	}
	// One small measurement (writer activity marks): a range without a
	// measurement walks every series of the shard group it falls in, and
	// with the long shard groups statistics want (docs/operations.md) that
	// is every series there is (42 s against 0.3 s at 300,000 targets).
	q := "from(bucket: " + FluxString(s.cfg.Bucket) + ")\n  |> range(start: -1m)\n  |> filter(fn: (r) => r._measurement == " + FluxString(measActivity) + ")\n  |> limit(n: 1)\n"
	res, err := s.queryAPI().Query(ctx, q)
	if err == nil {
		for res.Next() {
		}
		err = res.Err()
		res.Close()
	}
	if err != nil {
		return classify(fmt.Errorf("influxdb %s: bucket %q does not answer queries (does it exist? InfluxDB 1.8: CREATE DATABASE; 2.x: influx bucket create): %w",
			RedactURL(s.cfg.URL), s.cfg.Bucket, err))
	}
	return nil
}

// RedactURL hides the password of a URL's user information
// ("http://user:xxxxx@host"), for every message, log line and check output;
// text that is not a URL is shown only as "<redacted>" when it holds an @.
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		if strings.Contains(s, "@") {
			return "<redacted>"
		}
		return s
	}
	return u.Redacted()
}

// RetryableError marks a failure worth retrying (server down, 5xx, 429).
type RetryableError struct{ Err error }

func (e *RetryableError) Error() string { return e.Err.Error() }
func (e *RetryableError) Unwrap() error { return e.Err }

// classify wraps transport errors and 5xx/429 answers as retryable.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var he *http.Error
	if errors.As(err, &he) {
		if he.StatusCode >= 500 || he.StatusCode == 429 || he.StatusCode == 0 {
			return &RetryableError{err}
		}
		return err
	}
	return &RetryableError{err}
}

// Permanent reports whether InfluxDB refused a write as invalid (400, 422:
// a bad point, a field-type conflict, a partial write), which no retry will
// change. Everything else (down, 5xx, and also 401, 403 and 404, which an
// operator fixes in the configuration) is worth retrying.
func Permanent(err error) bool {
	var re *RetryableError
	if err == nil || errors.As(err, &re) {
		return false
	}
	var he *http.Error
	return errors.As(err, &he) && (he.StatusCode == 400 || he.StatusCode == 422)
}

// requestLines is the most lines of one write request a group write
// (and a reconcile) sends: an import's chunk (25,000 rows) is one request, as the raw POST
// it is measured against sends 50,000 lines a request (BenchmarkImport1M).
const requestLines = 50000

// lineBuffer holds a group write's current-value lines in one buffer,
// each ending in a newline, rendered in place (no string per line).
type lineBuffer struct {
	body []byte
	ends []int // the end of each line in body
}

// end closes the line rendered since the previous one.
func (lb *lineBuffer) end() {
	lb.body = append(lb.body, '\n')
	lb.ends = append(lb.ends, len(lb.body))
}

// writeBuffer writes lb's lines (precision s) in requests of at most
// requestLines lines, posted as they are (influxdb-client-go's blocking
// writer would join a copy of them). A request InfluxDB refuses as
// invalid (Permanent) does not stop the others: its refusal is returned
// in refused; err is the first failure that may be retried, at once.
func (s *Store) writeBuffer(ctx context.Context, lb *lineBuffer) (refused []error, err error) {
	for i := 0; i < len(lb.ends); i += requestLines {
		from := 0
		if i > 0 {
			from = lb.ends[i-1]
		}
		j := min(i+requestLines, len(lb.ends))
		err := s.post(ctx, lb.body[from:lb.ends[j-1]], j-i, "s", "points")
		if err == nil {
			continue
		}
		if !Permanent(err) {
			return nil, err
		}
		refused = append(refused, err)
	}
	return refused, nil
}

// post sends n lines of line protocol, their times in precision ("s" or
// "ns"), in one request through the client's HTTP service (its token and
// timeout); what names the lines in an error ("points", "reports", ...).
func (s *Store) post(ctx context.Context, body []byte, n int, precision, what string) error {
	svc := s.client.HTTPService()
	u := svc.ServerAPIURL() + "write?" + url.Values{"org": {s.cfg.Org}, "bucket": {s.cfg.Bucket}, "precision": {precision}}.Encode()
	perr := svc.DoPostRequest(ctx, u, bytes.NewReader(body), func(req *stdhttp.Request) {
		req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	}, func(resp *stdhttp.Response) error {
		_, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return err
	})
	if perr != nil {
		return classify(fmt.Errorf("writing %d %s to %s: %w", n, what, s.cfg.Bucket, perr))
	}
	return nil
}

// Filter narrows a query of current observations; empty fields match all.
type Filter struct {
	Indicators []string
	// ExcludeIndicators drops these indicators (applied after Indicators).
	ExcludeIndicators []string
	Regions           []string
	Freq              period.Kind // 0: any
	From, To          time.Time   // period start within [From, To); zero: unbounded
}

func (f Filter) flux(bucket, measurement string) string {
	var b strings.Builder
	from, to := "0", "2200-01-01T00:00:00Z"
	if !f.From.IsZero() {
		from = FluxTime(f.From)
	}
	if !f.To.IsZero() {
		to = FluxTime(f.To)
	}
	b.WriteString("from(bucket: " + FluxString(bucket) + ")\n  |> range(start: " + from + ", stop: " + to + ")\n")
	b.WriteString("  |> filter(fn: (r) => r._measurement == " + FluxString(measurement) + ")\n")
	if !f.From.IsZero() && f.From.Before(time.Unix(0, 0)) {
		// InfluxDB 1.8's Flux ignores a range that starts before 1970 and
		// reads every point of the measurement (a lookup of an import's
		// chunk of 1900–1970 daily figures read everything written so far:
		// TestRangeBefore1970); the period range is applied again here.
		b.WriteString("  |> filter(fn: (r) => r._time >= " + from + " and r._time < " + to + ")\n")
	}
	if f.Freq != 0 {
		b.WriteString("  |> filter(fn: (r) => r.freq == " + FluxString(f.Freq.String()) + ")\n")
	}
	for _, c := range []struct {
		column, op, join string
		vals             []string
	}{
		{"indicator", "==", "or", f.Indicators},
		{"region", "==", "or", f.Regions},
		{"indicator", "!=", "and", f.ExcludeIndicators},
	} {
		if len(c.vals) > 0 {
			b.WriteString("  |> filter(fn: (r) => " + fluxAnyOf(c.column, c.op, c.join, c.vals) + ")\n")
		}
	}
	return b.String()
}

// filterLimit: with more distinct indicators (or regions) than this a
// lookup of stored values does not filter on them (a long chain of
// comparisons is slower than dropping the extra rows in Go).
const filterLimit = 50

// existingFlux selects the current points matching f with the fields a
// revision is judged by (value, revision, reported_at, source), one table
// per series and field, without pivoting: the lookup of
// what a file's keys hold (read it with readFluxCSV).
func existingFlux(bucket string, f Filter) string {
	return f.flux(bucket, measObservation) +
		`  |> filter(fn: (r) => r._field == "value" or r._field == "revision" or r._field == "reported_at" or r._field == "source" or r._field == "note")` + "\n" +
		`  |> keep(columns: ["_time", "_value", "_field", "indicator", "region", "freq"])` + "\n"
}

// Current returns the current value of every observation matching f.
func (s *Store) Current(ctx context.Context, f Filter) ([]observation.Stored, error) {
	return s.current(ctx, f, "")
}

// current is Current with where (Flux lines filtering the pivoted rows, or
// "") applied.
func (s *Store) current(ctx context.Context, f Filter, where string) ([]observation.Stored, error) {
	q := f.flux(s.cfg.Bucket, measObservation) +
		`  |> filter(fn: (r) => r._field == "value" or r._field == "revision" or r._field == "reported_at" or r._field == "source" or r._field == "note")
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
` + where + `  |> group()
`
	return s.readStored(ctx, q)
}

// History returns every value an observation key has had, oldest first (in
// the order of later); the last element is the current value.
func (s *Store) History(ctx context.Context, k observation.Key) ([]observation.Stored, error) {
	f := Filter{Indicators: []string{k.Indicator}, Regions: []string{k.Region}, Freq: k.Period.Kind, From: k.Period.Start(), To: k.Period.Start().Add(time.Second)}
	all, err := s.everyValue(ctx, f, "")
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(all, byReport)
	return all, nil
}

// everyValue returns every value the observations matching f have had,
// unordered, each report once: the reports (observation_report), the
// superseded values (observation_revision) and the current values (three
// queries). Values stored before observation_report existed are only in the
// latter two; a report two writers made at once only in the first.
// where, when not "", is Flux lines filtering the pivoted rows of each.
func (s *Store) everyValue(ctx context.Context, f Filter, where string) ([]observation.Stored, error) {
	q := f.flux(s.cfg.Bucket, measRevision) + `  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
` + where + `  |> group()
  |> map(fn: (r) => ({r with revision: int(v: r.revision)}))
`
	old, err := s.readStored(ctx, q)
	if err != nil {
		return nil, err
	}
	cur, err := s.current(ctx, f, where)
	if err != nil {
		return nil, err
	}
	reps, err := s.reportsWhere(ctx, f, where)
	if err != nil {
		return nil, err
	}
	type id struct {
		k          observation.Key
		rev        int
		at         int64
		value, src string
	}
	seen := map[id]bool{}
	var out []observation.Stored
	for _, part := range [][]observation.Stored{reps, old, cur} {
		for _, r := range part {
			i := id{r.Key(), r.Revision, r.ReportedAt.Unix(), strconv.FormatFloat(r.Value, 'g', -1, 64), r.Source}
			if !seen[i] {
				seen[i] = true
				out = append(out, r)
			}
		}
	}
	return out, nil
}

func (s *Store) readStored(ctx context.Context, q string) ([]observation.Stored, error) {
	res, err := s.queryAPI().Query(ctx, q)
	if err != nil {
		return nil, classify(fmt.Errorf("querying %s: %w", s.cfg.Bucket, err))
	}
	defer res.Close()
	var out []observation.Stored
	for res.Next() {
		r := res.Record()
		st, err := storedFrom(r.Values())
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	if err := res.Err(); err != nil {
		return nil, classify(fmt.Errorf("reading query result: %w", err))
	}
	return out, nil
}

func storedFrom(v map[string]any) (observation.Stored, error) {
	var st observation.Stored
	st.Indicator, _ = v["indicator"].(string)
	st.Region, _ = v["region"].(string)
	freq, _ := v["freq"].(string)
	k, err := period.ParseKind(freq)
	if err != nil {
		return st, fmt.Errorf("stored point with bad freq tag: %w", err)
	}
	t, _ := v["_time"].(time.Time)
	st.Period = period.FromStart(k, t)
	st.Value = toFloat(v["value"])
	st.Revision = int(toFloat(v["revision"]))
	st.ReportedAt = time.Unix(int64(toFloat(v["reported_at"])), 0).UTC()
	st.Source, _ = v["source"].(string)
	st.Note, _ = v["note"].(string)
	return st, nil
}

func toFloat(x any) float64 {
	switch n := x.(type) {
	case float64:
		return n
	case int64:
		return float64(n)
	case uint64:
		return float64(n)
	case string:
		var f float64
		fmt.Sscan(n, &f)
		return f
	}
	return 0
}

// Query runs a Flux query and returns its rows as maps (for checks and tools).
func (s *Store) Query(ctx context.Context, flux string) ([]map[string]any, error) {
	res, err := s.queryAPI().Query(ctx, flux)
	if err != nil {
		return nil, classify(err)
	}
	defer res.Close()
	var out []map[string]any
	for res.Next() {
		out = append(out, res.Record().Values())
	}
	return out, classify(res.Err())
}

// Values returns the current value of every observation matching f, without
// revision details: the lean query the evaluator runs (EachValue, as a
// slice). The answer is read as plain CSV (no record maps), which matters
// at hundreds of thousands of rows.
func (s *Store) Values(ctx context.Context, f Filter) ([]observation.Stored, error) {
	var out []observation.Stored
	err := s.EachValue(ctx, f, func(ind, reg string, p period.Period, v float64) {
		out = append(out, observation.Stored{Observation: observation.Observation{Indicator: ind, Region: reg, Period: p, Value: v}})
	})
	return out, err
}

// parseValues reads a CSV answer of the Values query held whole.
func parseValues(raw string) ([]observation.Stored, error) {
	vr := newValueReader()
	var out []observation.Stored
	err := decodeAnswer(raw, func(r fluxRow) error {
		return vr.row(r, func(ind, reg string, p period.Period, v float64) {
			out = append(out, observation.Stored{Observation: observation.Observation{Indicator: ind, Region: reg, Period: p, Value: v}})
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// KnownAt returns, for every observation matching f, the value that was
// current at the moment t: of the current value and the revisions it
// superseded, the latest reported at or before t. Observations first
// reported after t are left out, so an evaluation over the result
// reproduces what qualitymon would have said at t.
func (s *Store) KnownAt(ctx context.Context, f Filter, t time.Time) ([]observation.Stored, error) {
	var all []observation.Stored
	for _, m := range []string{measObservation, measRevision} {
		q := f.flux(s.cfg.Bucket, m) + `  |> filter(fn: (r) => r._field == "value" or r._field == "reported_at" or r._field == "revision")
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> filter(fn: (r) => r.reported_at <= ` + fluxInt(t.Unix()) + `)
  |> group()
  |> keep(columns: ["_time", "indicator", "region", "freq", "value", "reported_at", "revision"])
`
		rows, err := s.readStored(ctx, q)
		if err != nil {
			return nil, err
		}
		all = append(all, rows...)
	}
	return latestVintage(all), nil
}

// byReport orders reports of one key as later does, earliest first.
func byReport(a, b observation.Stored) int {
	switch {
	case later(&a, &b):
		return 1
	case later(&b, &a):
		return -1
	}
	return 0
}

// latestVintage keeps, per observation key, the latest report (by reported_at,
// then revision).
func latestVintage(rows []observation.Stored) []observation.Stored {
	best := make(map[observation.Key]int, len(rows))
	out := rows[:0:0]
	for _, r := range rows {
		i, ok := best[r.Key()]
		if !ok {
			best[r.Key()] = len(out)
			out = append(out, r)
			continue
		}
		if o := out[i]; r.ReportedAt.After(o.ReportedAt) || (r.ReportedAt.Equal(o.ReportedAt) && r.Revision > o.Revision) {
			out[i] = r
		}
	}
	return out
}
