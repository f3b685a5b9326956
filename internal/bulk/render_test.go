package bulk

import (
	"strings"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/store"
)

// TestLineMatchesStore: the import writes exactly what store.Upsert writes.
func TestLineMatchesStore(t *testing.T) {
	im := newTestImporter(t)
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	r := newRenderer(im.t, at.Unix())
	cases := []observation.Observation{
		{Indicator: "food_sampling_pass_rate", Region: "370000", Period: period.OfYear(2019), Value: 96},
		{Indicator: "food_sampling_pass_rate", Region: "370200", Period: period.OfYear(1900), Value: 97.125, Source: `国家统计局 "年鉴", a\b` + "\nx"},
		{Indicator: "aqi_daily", Region: "110000", Period: period.Period{Kind: period.Day, Year: 2024, N: 2, D: 29}, Value: 1e6},
		{Indicator: "aqi_daily", Region: "110000", Period: period.Period{Kind: period.Day, Year: 2024, N: 3, D: 1}, Value: 0.1},
	}
	for _, o := range cases {
		p := newValidator(im.opts.Validator, im.t, "x", nil, nil)
		rec, _, err := p.toRecord(2, &o)
		if err != nil {
			t.Fatal(err)
		}
		for _, rev := range []int64{0, 3} {
			var b strings.Builder
			store.ObservationLine(&b, &o, int(rev), at)
			want := b.String() + "\n"
			if got := string(r.line(nil, &rec, rev)); got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		}
	}
}
