package httpjson

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/qualitymon/qualitymon/collectors"
	"github.com/qualitymon/qualitymon/collectors/collectortest"
)

func feed(t *testing.T, url, opts string, env ...string) collectors.Collector {
	t.Helper()
	return collectortest.New(t, New, "feed", "url: "+url+"\n"+opts, env...)
}

// Each testdata/<case>/ holds response.json, config.yml (options without
// url) and expected.out or expected.err.
func TestCases(t *testing.T) {
	collectortest.Cases(t, func(t *testing.T, dir, opts string) {
		body, err := os.ReadFile(filepath.Join(dir, "response.json"))
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
		defer srv.Close()
		collectortest.Check(t, feed(t, srv.URL+"/feed", opts), dir, srv.URL, "http://feed.test")
	})
}

const okBody = `{"data": {"rows": [{"ind": "food_sampling_pass_rate", "area": "370200", "year": 2023, "v": 98.9}]}}`
const opts = "items: data.rows\nfields: {indicator: ind, region: area, period: year, value: v}\n"

// An unchanged feed answers 304 and delivers nothing; validators are kept
// only after an accepted batch; the token is sent as a bearer token.
func TestConditionalRequestsAndToken(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	etag := `"v1"`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, r.Header.Get("Authorization")+"|"+r.Header.Get("If-None-Match")+"|"+r.Header.Get("If-Modified-Since"))
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", "Sat, 21 Nov 2026 08:00:00 GMT")
		w.Write([]byte(okBody))
	}))
	defer srv.Close()
	f := feed(t, srv.URL, opts+"token_env: FEED_TOKEN\n", "FEED_TOKEN", "s3cret")
	ctx := context.Background()

	b, err := f.Collect(ctx)
	if err != nil || len(b) != 1 || b[0].Err != nil || len(b[0].Samples) != 1 {
		t.Fatalf("first: %+v %v", b, err)
	}
	b[0].Ack(context.DeadlineExceeded) // the sink refused it: fetch again
	b, err = f.Collect(ctx)
	if err != nil || len(b) != 1 {
		t.Fatalf("after refusal: %+v %v", b, err)
	}
	b[0].Ack(nil)
	b, err = f.Collect(ctx)
	if err != nil || len(b) != 0 {
		t.Fatalf("unchanged feed delivered %d batches, %v", len(b), err)
	}
	want := []string{
		"Bearer s3cret||",
		"Bearer s3cret||",
		`Bearer s3cret|"v1"|Sat, 21 Nov 2026 08:00:00 GMT`,
	}
	if strings.Join(seen, "\n") != strings.Join(want, "\n") {
		t.Fatalf("requests:\n%s\nwant:\n%s", strings.Join(seen, "\n"), strings.Join(want, "\n"))
	}
	etag = `"v2"` // the feed changed
	b, _ = f.Collect(ctx)
	if len(b) != 1 {
		t.Fatalf("changed feed: %d batches", len(b))
	}
}

func TestStatusError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "token s3cret invalid", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	_, err := feed(t, srv.URL, opts+"token_env: T\n", "T", "s3cret").Collect(context.Background())
	var se *StatusError
	if err == nil || !strings.Contains(err.Error(), "503 Service Unavailable") || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("err = %v", err)
	}
	if !asStatus(err, &se) || !se.Retryable() {
		t.Fatalf("not a retryable StatusError: %v", err)
	}
}

func asStatus(err error, se **StatusError) bool {
	s, ok := err.(*StatusError)
	*se = s
	return ok
}

func TestOptionErrors(t *testing.T) {
	collectortest.OptionErrors(t, New, map[string]string{
		"fields: {period: p, value: v, region: r}\n":                                               "options.url: required",
		"url: ftp://x\nindicator: a\nregion: b\nfields: {period: p, value: v}\n":                   `options.url: "ftp://x" is not an http`,
		"url: http://x\nregion: b\nfields: {period: p, value: v}\n":                                "give either fields.indicator or a constant indicator",
		"url: http://x\nindicator: a\nfields: {region: r, indicator: i, period: p, value: v}\n":    "give either fields.indicator",
		"url: http://x\nindicator: a\nregion: b\nfields: {value: v}\n":                             "options.fields.period: required",
		"url: http://x\nindicator: a\nregion: b\nfields: {period: p, value: v}\ntoken_env: NOPE\n": "environment variable NOPE is empty or not set",
		"url: http://x\nindicator: a\nregion: b\nfields: {period: p, valu: v}\n":                   "field valu not found",
	})
}

func FuzzMap(f *testing.F) {
	f.Add([]byte(okBody))
	f.Add([]byte(`[{"a": {"b": [1, "2"]}}]`))
	f.Add([]byte(`{"data": {"rows": [{"ind": null, "v": {"x": 1}}]}}`))
	o := Options{Items: "data.rows", Fields: Fields{Indicator: "ind", Region: "area", Period: "year", Value: "v"}}
	v := collectortest.Validator(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		raws, err := Map("f", body, o)
		if err != nil && raws == nil {
			return
		}
		got, err := v.ReadAll(&sliceSource{raws: raws})
		collectortest.Valid(t, v, got, err)
	})
}
