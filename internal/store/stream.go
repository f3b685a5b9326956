package store

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/qualitymon/qualitymon/internal/period"
)

// queryStream runs a Flux query and reads its CSV answer (header row, no
// annotations) as it arrives, calling fn for every data row: a large answer
// is never held whole in memory (the client's QueryRaw returns one string).
func (s *Store) queryStream(ctx context.Context, q string, fn func(fluxRow) error) error {
	body, err := json.Marshal(map[string]any{"query": q, "type": "flux",
		"dialect": map[string]any{"header": true, "annotations": []string{}}})
	if err != nil {
		return err
	}
	svc := s.client.HTTPService()
	u := svc.ServerAPIURL() + "query?org=" + url.QueryEscape(s.cfg.Org)
	var readErr error
	enc := s.cfg.ReadEncoding
	if enc == "" {
		enc = streamReadEncoding(s.cfg.URL)
	}
	perr := svc.DoPostRequest(ctx, u, bytes.NewReader(body), func(req *http.Request) {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept-Encoding", enc)
	}, func(resp *http.Response) error {
		r := resp.Body
		if resp.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(resp.Body)
			if err != nil {
				return err
			}
			defer zr.Close()
			readErr = readFluxCSV(zr, fn)
			return nil
		}
		readErr = readFluxCSV(r, fn)
		return nil
	})
	if perr != nil {
		return classify(fmt.Errorf("querying %s: %w", s.cfg.Bucket, perr))
	}
	if readErr != nil {
		return fmt.Errorf("querying %s: %w", s.cfg.Bucket, readErr)
	}
	return nil
}

// streamReadEncoding is the Accept-Encoding of the streamed reads from the
// InfluxDB at rawURL: gzip (a twentieth of the bytes) across a network;
// identity on the loopback, where the answer then streams as Flux writes
// it rather than through InfluxDB's compressor, one per query: a full read
// of 3 million figures (64 pages, two at a time; 2 cores, load 15–20 from
// other work) took 13.8–26 s uncompressed against 32.8–37.2 s gzipped, for
// about the same CPU of influxd (12–21 s against 14–18 s) and 1–2 s more of
// qualitymon's (many small chunks instead of a few large ones).
func streamReadEncoding(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "gzip"
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return "identity"
	}
	return "gzip"
}

// EachValue calls fn with the current value of every observation matching
// f, as the answer streams in (the engine's paged reads: no slice of every
// observation). The indicator and region strings are shared between the
// rows of one call.
//
// The query is the storage read alone, one table per series with every
// column: Flux 0.65 (InfluxDB 1.8) streams that as it reads, whereas
// group(), keep() or drop() make it gather the whole answer before the
// first byte. Measured over 300,000 yearly figures in 30,000 series
// (2 cores, load ≈ 14): with group() and keep() 17.3 s, first byte after
// 16.9 s; with drop() 13.5 s; as here 7.1–8.4 s, first byte after 0.1 s,
// at twice the bytes (38 MB), which the CSV reader parses in a fraction
// of that. InfluxQL (SELECT value FROM observation on /query, JSON or
// CSV, chunked or not) took 20–26 s for the same rows.
func (s *Store) EachValue(ctx context.Context, f Filter, fn func(indicator, region string, p period.Period, v float64)) error {
	q := f.flux(s.cfg.Bucket, measObservation) + `  |> filter(fn: (r) => r._field == "value")
`
	vr := newValueReader()
	return s.queryStream(ctx, q, func(r fluxRow) error { return vr.row(r, fn) })
}

// valueReader reads the rows of the Values query, with the caches of one
// answer: period kinds by freq tag, the start of each period by its _time
// (a read of yearly figures has a handful), one copy of each indicator and
// region name, and the index of each column of the current header. A row
// costs no allocation (BenchmarkEachValueParse).
type valueReader struct {
	kinds  map[string]period.Kind
	names  map[string]string
	times  map[string]time.Time
	gen    int
	column [5]int // freq, _time, _value, indicator, region in the header of gen
}

// valueColumns are the columns valueReader reads, in valueReader.column's order.
var valueColumns = [5]string{"freq", "_time", "_value", "indicator", "region"}

// maxTimes bounds valueReader.times (daily figures have thousands of days).
const maxTimes = 4096

func newValueReader() *valueReader {
	return &valueReader{kinds: map[string]period.Kind{}, names: map[string]string{}, times: map[string]time.Time{}}
}

func (vr *valueReader) intern(b []byte) string {
	if v, ok := vr.names[string(b)]; ok {
		return v
	}
	v := string(b)
	vr.names[v] = v
	return v
}

// row parses one row and hands it to fn.
func (vr *valueReader) row(r fluxRow, fn func(indicator, region string, p period.Period, v float64)) error {
	if vr.gen != r.hdr.gen {
		vr.gen = r.hdr.gen
		for i, c := range valueColumns {
			if j, ok := r.hdr.cols[c]; ok {
				vr.column[i] = j
			} else {
				vr.column[i] = -1
			}
		}
	}
	freq := r.cell(vr.column[0])
	k, ok := vr.kinds[string(freq)]
	if !ok {
		var err error
		if k, err = period.ParseKind(string(freq)); err != nil {
			return fmt.Errorf("stored point with bad freq tag: %w", err)
		}
		vr.kinds[string(freq)] = k
	}
	ts := r.cell(vr.column[1])
	t, ok := vr.times[string(ts)]
	if !ok {
		var err error
		if t, err = time.Parse(time.RFC3339Nano, string(ts)); err != nil {
			return fmt.Errorf("query result: bad _time %q", ts)
		}
		if len(vr.times) < maxTimes {
			vr.times[string(ts)] = t
		}
	}
	val := r.cell(vr.column[2])
	v, err := strconv.ParseFloat(string(val), 64)
	if err != nil {
		return fmt.Errorf("query result: bad _value %q", val)
	}
	fn(vr.intern(r.cell(vr.column[3])), vr.intern(r.cell(vr.column[4])), period.FromStart(k, t), v)
	return nil
}
