package reporting_test

import (
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/reporting"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

// Qingdao's food sampling pass rate (qingdao-2023: start 2023, deadline
// 2025, yearly, default lag 90 days): the baseline year 2022 and the plan
// years, each due 90 days after its year ends, and only once it has ended.
func TestExpected(t *testing.T) {
	set := testenv.Plans(t)
	for _, tc := range []struct {
		now  string
		want map[string]string // period → due (last day)
	}{
		{"2022-12-31", map[string]string{}},
		{"2023-01-01", map[string]string{"2022": "2023-03-31"}},
		{"2024-06-01", map[string]string{"2022": "2023-03-31", "2023": "2024-03-30"}}, // 2024 is a leap year
		{"2030-01-01", map[string]string{"2022": "2023-03-31", "2023": "2024-03-30", "2024": "2025-03-31", "2025": "2026-03-31"}},
	} {
		got := map[string]string{}
		for _, it := range reporting.Expected(set, "qingdao-2023", day(tc.now)) {
			if it.Indicator.ID == "food_sampling_pass_rate" && it.Region == "370200" {
				got[it.Period.String()] = it.Due.Add(-time.Second).Format("2006-01-02")
				if len(it.Targets) != 1 || it.Targets[0].Key() != "qingdao-2023/food-sampling-pass-rate" {
					t.Errorf("%s: targets %v", it.Period, it.Targets)
				}
			}
		}
		if len(got) != len(tc.want) {
			t.Errorf("now %s: %v, want %v", tc.now, got, tc.want)
		}
		for p, d := range tc.want {
			if got[p] != d {
				t.Errorf("now %s: %s due %q, want %q", tc.now, p, got[p], d)
			}
		}
	}
	// Gansu's average over its 14 prefectures asks each prefecture, not the
	// province the mean is stored for.
	members, parent := 0, 0
	for _, it := range reporting.Expected(set, "gansu-2018", day("2021-01-01")) {
		if it.Indicator.ID == "good_air_quality_days_share" && it.Period == period.OfYear(2019) {
			if it.Region == "620000" {
				parent++
			} else if it.Region[:2] == "62" {
				members++
			}
		}
	}
	if members != 14 || parent != 0 {
		t.Errorf("gansu good-air-days 2019: %d members, %d parent items; want 14 and 0", members, parent)
	}
}

// The state of an item, worked by hand: due 2024-03-31 (end of 2023 + 90 d).
func TestClassify(t *testing.T) {
	cat, _ := testenv.Targets(t)
	ind, _ := cat.Get("food_sampling_pass_rate")
	it := reporting.Item{Indicator: ind, Region: "370200", Period: period.OfYear(2023), Due: day("2024-03-31")}
	k := it.Key()
	for _, tc := range []struct {
		name   string
		now    string
		fig    *reporting.Figure
		held   bool
		state  string
		onTime *bool
	}{
		{"before due, nothing", "2024-02-01", nil, false, reporting.StateOpen, nil},
		{"on the due date, nothing", "2024-03-31", nil, false, reporting.StateOpen, nil},
		{"after due, nothing", "2024-04-01", nil, false, reporting.StateOverdue, nil},
		{"held for review after due", "2024-05-01", nil, true, reporting.StateHeld, nil},
		{"reported early", "2024-02-01", &reporting.Figure{Value: 98, ReportedAt: day("2024-01-20")}, false, reporting.StateReported, ptr(true)},
		{"reported on the due date", "2024-06-01", &reporting.Figure{Value: 98, ReportedAt: day("2024-03-31")}, false, reporting.StateReported, ptr(true)},
		{"reported late", "2024-06-01", &reporting.Figure{Value: 98, ReportedAt: day("2024-04-02")}, false, reporting.StateReported, ptr(false)},
		{"submitted in time, approved late", "2024-06-01", &reporting.Figure{Value: 98, ReportedAt: day("2024-04-10"), Submitted: day("2024-03-30")}, false, reporting.StateReported, ptr(true)},
		{"figure beats a held upload", "2024-06-01", &reporting.Figure{Value: 98, ReportedAt: day("2024-03-01")}, true, reporting.StateReported, ptr(true)},
	} {
		figs := map[observation.Key]reporting.Figure{}
		if tc.fig != nil {
			figs[k] = *tc.fig
		}
		held := map[observation.Key]string{}
		if tc.held {
			held[k] = "u1"
		}
		c := reporting.Classify([]reporting.Item{it}, figs, held, day(tc.now))[0]
		if c.State != tc.state {
			t.Errorf("%s: state %s, want %s", tc.name, c.State, tc.state)
		}
		if (c.OnTime == nil) != (tc.onTime == nil) || (c.OnTime != nil && *c.OnTime != *tc.onTime) {
			t.Errorf("%s: on time %v, want %v", tc.name, c.OnTime, tc.onTime)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// Rate and timeliness of a worked grid: 2 reported (1 late), 1 held, 1
// overdue, 1 open → expected 4, rate 2/4, timeliness 1/2.
func TestSummarize(t *testing.T) {
	f, tr := false, true
	cells := []reporting.Cell{{State: reporting.StateReported, OnTime: &tr}, {State: reporting.StateReported, OnTime: &f},
		{State: reporting.StateHeld}, {State: reporting.StateOverdue}, {State: reporting.StateOpen}}
	s := reporting.Summarize(cells)
	want := reporting.Summary{Items: 5, Expected: 4, Reported: 2, Held: 1, Open: 1, Overdue: 1, OnTime: 1, Late: 1, Rate: 0.5, Timeliness: 0.5}
	if s != want {
		t.Errorf("%+v\nwant %+v", s, want)
	}
}

// A bureau scoped to the non-pass rate answers for the pass rate derived
// from it; not for another region or an unrelated indicator.
func TestInScopeDerived(t *testing.T) {
	cat, _ := testenv.Targets(t)
	pass, _ := cat.Get("food_sampling_pass_rate")
	drug, _ := cat.Get("drug_sampling_pass_rate")
	s := &ingest.Scope{Regions: map[string]bool{"370200": true}, Indicators: map[string]bool{"food_sampling_fail_rate": true}}
	if !reporting.InScope(s, cat, pass, "370200") {
		t.Error("the source indicator's bureau does not answer for the derived one")
	}
	if reporting.InScope(s, cat, pass, "370000") || reporting.InScope(s, cat, drug, "370200") {
		t.Error("scope too wide")
	}
	if !reporting.InScope(&ingest.Scope{Regions: map[string]bool{"370200": true}}, cat, drug, "370200") {
		t.Error("a scope without indicators covers every indicator")
	}
}
