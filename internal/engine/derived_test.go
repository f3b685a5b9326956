package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/engine"
	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/internal/store"
	"github.com/qualitymon/qualitymon/internal/store/storetest"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

// Derived figures are computed when read, from the members stored (issue
// 21, items 2 and 3), on the real InfluxDB with the shipped catalogue: the
// mean of 甘肃's 14 cities moves when one city is corrected, a vintage gives
// the old mean, and daily AQI rolls up to the yearly share (GB 3095-2012's
// validity rule named when a year falls short).
func TestDerivedAtReadTime(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	cat, regs := testenv.Targets(t)
	pl, err := plan.Parse("p-2018.yaml", []byte(`plan: {key: p-2018, name_zh: 测试, issuer: 测试, published: "2018", region: "620000", start: 2018, horizon: 2020, source: x}
targets:
  - {id: mean, indicator: good_air_quality_days_share_prefecture_mean, region: "620000", comparator: ">=", value: 82, deadline: 2020, modality: reach, clause: x, quote: x}
  - {id: share, indicator: good_air_quality_days_share, region: "620100", comparator: ">=", value: 80, deadline: 2020, modality: reach, clause: x, quote: x}
  - {id: share-short, indicator: good_air_quality_days_share, region: "620200", comparator: ">=", value: 80, deadline: 2020, modality: reach, clause: x, quote: x}
`), cat, regs)
	if err != nil {
		t.Fatal(err)
	}
	ev := &evaluate.Evaluator{Set: &plan.Set{Plans: []*plan.Plan{pl}, Catalog: cat, Regions: regs}}
	at := time.Date(2021, 12, 31, 0, 0, 0, 0, time.UTC)
	judge := func(knownAt time.Time) map[string]evaluate.Evaluation {
		t.Helper()
		evals, _, err := engine.Load(ctx, st, ev, "", at, knownAt)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]evaluate.Evaluation{}
		for _, e := range evals {
			out[e.Target] = e
		}
		return out
	}

	// 12 cities report 81.9 for 2020.
	kids := regs.Children("620000")
	if len(kids) != 14 {
		t.Fatalf("甘肃 has %d prefectures", len(kids))
	}
	var obs []observation.Observation
	for _, k := range kids {
		obs = append(obs, observation.Observation{Indicator: "good_air_quality_days_share", Region: k.Code, Period: period.OfYear(2020), Value: 81.9})
	}
	first := time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC)
	if _, err := st.Upsert(ctx, obs[2:], first); err != nil { // 620100 and 620200 come from daily AQI below
		t.Fatal(err)
	}
	// Daily AQI: 兰州 (620100) every day of 2020, 300 of 366 good; 嘉峪关
	// (620200) only 300 days.
	var days []observation.Observation
	for d := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() == 2020; d = d.AddDate(0, 0, 1) {
		i := d.YearDay()
		v := 60.0
		if i > 300 {
			v = 150 // the last 66 days are not good
		}
		days = append(days, observation.Observation{Indicator: "aqi_daily", Region: kids[0].Code, Period: period.OfDay(d), Value: v})
		if i <= 300 {
			days = append(days, observation.Observation{Indicator: "aqi_daily", Region: kids[1].Code, Period: period.OfDay(d), Value: 40})
		}
	}
	if _, err := st.Upsert(ctx, days, first); err != nil {
		t.Fatal(err)
	}
	got := judge(time.Time{})
	share := got["share"]
	if share.Actual == nil || *share.Actual < 81.9 || *share.Actual > 82 || share.Status != evaluate.Achieved || !strings.Contains(share.Derived, "366 天有效日值中 300 天") {
		t.Fatalf("share from daily AQI: %+v %v %q", share.Actual, share.Status, share.Derived)
	}
	short := got["share-short"]
	if short.Actual != nil || !strings.Contains(short.Basis.Zh, "2020年仅有 300 天有效日值,不足 GB 3095-2012 要求的 324 天") {
		t.Fatalf("a year of 300 days: actual %v, basis %q", short.Actual, short.Basis.Zh)
	}
	// 嘉峪关's share of 2020 is not computed, so the mean is not either.
	if m := got["mean"]; m.Actual != nil {
		t.Fatalf("mean without 嘉峪关: %v", *m.Actual)
	}

	// 嘉峪关 reports its share: the mean is (81.97 + 13 × 81.9) / 14 = 81.905.
	if _, err := st.Upsert(ctx, []observation.Observation{{Indicator: "good_air_quality_days_share", Region: kids[1].Code, Period: period.OfYear(2020), Value: 81.9}}, first); err != nil {
		t.Fatal(err)
	}
	got = judge(time.Time{})
	m := got["mean"]
	if m.Actual == nil || *m.Actual >= 82 || m.Status == evaluate.Achieved || !strings.Contains(m.Derived, "14个市州平均,由各市州数据计算") || !strings.Contains(m.Basis.Zh, "由各市州数据计算") {
		t.Fatalf("mean: %v %v %q %q", m.Actual, m.Status, m.Derived, m.Basis.Zh)
	}
	// A correction of one city (+2.8) moves the mean (+0.2, to 82.105) and the verdict.
	if _, err := st.Upsert(ctx, []observation.Observation{{Indicator: "good_air_quality_days_share", Region: kids[5].Code, Period: period.OfYear(2020), Value: 84.7}}, first.AddDate(0, 2, 0)); err != nil {
		t.Fatal(err)
	}
	m = judge(time.Time{})["mean"]
	if m.Actual == nil || *m.Actual < 82.1 || m.Status != evaluate.Achieved {
		t.Fatalf("after the correction: %v %v", m.Actual, m.Status)
	}
	// Known before the correction: the old mean.
	old := judge(first.AddDate(0, 1, 0))["mean"]
	if old.Actual == nil || *old.Actual >= 82 || old.Status == evaluate.Achieved {
		t.Fatalf("known before the correction: %v %v", old.Actual, old.Status)
	}
	// Nothing derived was stored.
	cur, err := st.Current(ctx, store.Filter{Indicators: []string{"good_air_quality_days_share_prefecture_mean"}})
	if err != nil || len(cur) != 0 {
		t.Fatalf("stored derived figures: %v %v", cur, err)
	}
}
