package store_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/store"
	"github.com/qualitymon/qualitymon/internal/store/storetest"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

// EachValue reads the same figures whether InfluxDB's answer comes gzipped
// (the default across a network) or not (the default on the loopback), as
// a proxy in front of the real InfluxDB sees them sent.
func TestEachValueEncodings(t *testing.T) {
	srv := testenv.SharedInflux(t)
	bucket := srv.NewBucket(t)
	ctx := context.Background()
	w := storetest.On(t, srv, bucket)
	var obs []observation.Observation
	var want []string
	for y := 2015; y < 2025; y++ {
		for _, r := range []string{"370000", "370200"} {
			v := float64(y-2000) + 0.25
			obs = append(obs, testenv.Obs("food_sampling_pass_rate", r, fmt.Sprint(y), v, ""))
			want = append(want, fmt.Sprintf("food_sampling_pass_rate/%s/%d=%g", r, y, v))
		}
	}
	if _, err := w.Upsert(ctx, obs, time.Now()); err != nil {
		t.Fatal(err)
	}
	slices.Sort(want)

	var mu sync.Mutex
	var sent []string // the Content-Encoding of each query's answer
	front := testenv.Front(t, srv.URL, func(w http.ResponseWriter, r *http.Request, influx http.Handler) {
		influx.ServeHTTP(w, r)
		if r.URL.Path == "/api/v2/query" {
			mu.Lock()
			sent = append(sent, w.Header().Get("Content-Encoding"))
			mu.Unlock()
		}
	})

	for _, c := range []struct{ enc, sent string }{{"gzip", "gzip"}, {"identity", ""}, {"", ""}} {
		st := store.Open(store.Config{URL: front, Org: srv.Org, Token: srv.Token, Bucket: bucket, ReadEncoding: c.enc})
		var got []string
		err := st.EachValue(ctx, store.Filter{Indicators: []string{"food_sampling_pass_rate"}}, func(ind, reg string, p period.Period, v float64) {
			got = append(got, fmt.Sprintf("%s/%s/%s=%g", ind, reg, p, v))
		})
		st.Close()
		if err != nil {
			t.Fatalf("ReadEncoding %q: %v", c.enc, err)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("ReadEncoding %q: read %q, want %q", c.enc, got, want)
		}
		mu.Lock()
		last := sent[len(sent)-1]
		mu.Unlock()
		if last != c.sent {
			t.Errorf("ReadEncoding %q (proxy on %s): InfluxDB answered with Content-Encoding %q, want %q", c.enc, front, last, c.sent)
		}
	}
}
