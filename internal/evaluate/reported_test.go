package evaluate

import (
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

// Reported answers yearly figures and the daily figures of a rolled-up
// indicator exactly as reported (98.99 and 55.5, not their float32), says
// "no figure" for those it would hold but has none of, and leaves to the
// store (held false) a monthly figure, a day of an indicator no rule rolls
// up, and a daily figure whose float32 may have lost digits (35.1234567).
func TestReported(t *testing.T) {
	cat, regs := testenv.Targets(t)
	ev := &Evaluator{Set: &plan.Set{Catalog: cat, Regions: regs}}
	b := ev.NewDataBuilder()
	month := period.Period{Kind: period.Month, Year: 2024, N: 3}
	day := func(d int) period.Period { return period.OfDay(time.Date(2023, 1, d, 0, 0, 0, 0, time.UTC)) }
	b.Add("food_sampling_pass_rate", "370200", period.OfYear(2022), 98.99)
	b.Add("food_sampling_pass_rate", "370200", month, 99)
	b.Add("aqi_daily", "370200", day(1), 55.5)
	b.Add("aqi_daily", "370200", day(2), 35.1234567)
	d := b.Data()
	for _, c := range []struct {
		ind  string
		p    period.Period
		v    float64
		ok   bool
		held bool
	}{
		{"food_sampling_pass_rate", period.OfYear(2022), 98.99, true, true},
		{"food_sampling_pass_rate", period.OfYear(2021), 0, false, true},
		{"food_sampling_pass_rate", month, 0, false, false},
		{"aqi_daily", day(1), 55.5, true, true},
		{"aqi_daily", day(3), 0, false, true},
		{"aqi_daily", period.OfDay(time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)), 0, false, true},
		{"aqi_daily", day(2), 0, false, false},
		{"pm25_daily_unrolled", day(1), 0, false, false},
	} {
		v, ok, held := d.Reported(observation.Key{Indicator: c.ind, Region: "370200", Period: c.p})
		if v != c.v || ok != c.ok || held != c.held {
			t.Errorf("%s %s: %v, %v, held %v; want %v, %v, held %v", c.ind, c.p, v, ok, held, c.v, c.ok, c.held)
		}
	}
}
