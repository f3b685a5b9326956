package store

import (
	"context"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

// TestRangeBefore1970: InfluxDB 1.8's Flux ignores a range starting before
// 1970 and answers every point of the measurement; the store's queries
// apply the period range again (Filter.flux), and a write's lookup keeps
// only the keys it asked for (currentRaw), so that the lookups of an
// import of 1900–1970 daily figures do not read and hold everything
// written before them.
func TestRangeBefore1970(t *testing.T) {
	srv := testenv.SharedInflux(t)
	s := Open(Config{URL: srv.URL, Org: srv.Org, Token: srv.Token, Bucket: srv.NewBucket(t)})
	t.Cleanup(s.Close)
	ctx := context.Background()
	day := func(y, i int) period.Period {
		return period.FromStart(period.Day, time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i))
	}
	var obs []observation.Observation
	for _, y := range []int{1900, 1969, 2000} {
		for i := range 60 {
			for _, r := range []string{"370100", "370200"} {
				obs = append(obs, observation.Observation{Indicator: "aqi_daily", Region: r, Period: day(y, i), Value: float64(i)})
			}
		}
	}
	if sum, err := s.Upsert(ctx, obs, time.Now()); err != nil || sum.New != len(obs) {
		t.Fatalf("upsert: %+v, %v; want %d new", sum, err, len(obs))
	}
	for _, y := range []int{1900, 1969} {
		p := day(y, 30)
		got, err := s.Values(ctx, Filter{Indicators: []string{"aqi_daily"}, From: p.Start(), To: p.Start().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Period != p || got[1].Period != p {
			t.Errorf("values of %s: %d rows, want the 2 of that day: %v", p, len(got), got[:min(len(got), 4)])
		}
		// A lookup over a wider range keeps only the keys it wants.
		k := observation.Key{Indicator: "aqi_daily", Region: "370200", Period: p}
		cur, _, err := s.currentRaw(ctx, Filter{Indicators: []string{"aqi_daily"}, From: day(y, 0).Start(), To: day(y, 59).Start()}, map[observation.Key]bool{k: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(cur) != 1 || cur[0].Key() != k || cur[0].Value != 30 {
			t.Errorf("lookup of %v: %d rows, want that key alone (value 30): %v", k, len(cur), cur[:min(len(cur), 4)])
		}
	}
	// Written again, every row is unchanged; one changed value is revised.
	obs[5].Value += 0.5
	if sum, err := s.Upsert(ctx, obs, time.Now()); err != nil || sum.Unchanged != len(obs)-1 || sum.Revised != 1 {
		t.Fatalf("upsert again: %+v, %v; want %d unchanged, 1 revised", sum, err, len(obs)-1)
	}
}
