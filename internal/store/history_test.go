package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/store"
	"github.com/qualitymon/qualitymon/internal/store/storetest"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

// StatusHistory lists the first status and each change (status, basis or
// settled), per target and region, from the evaluation points written.
func TestStatusHistory(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	type ev struct {
		hours          int
		region, status string
		basis          string
		settled        bool
	}
	evs := []ev{
		{0, "370000", "no_data", "no_figure", false},
		{2, "370000", "no_data", "no_figure", false}, // unchanged: not listed
		{5, "370000", "at_risk", "projection", false},
		{5, "370200", "achieved", "met_before_deadline", false}, // another region
		{9, "370000", "at_risk", "projection", false},
		{30, "370000", "missed", "deadline_figure", true},
	}
	one := 1.0
	for _, e := range evs {
		ev := evaluate.Evaluation{Plan: "p", Target: "t1", Indicator: "ind", Region: e.region, Status: evaluate.Status(e.status),
			Actual: &one, Settled: e.settled, Basis: evaluate.Basis{Code: e.basis}, Period: "2020"}
		if err := st.WriteEvaluations(ctx, []evaluate.Evaluation{ev}, base.Add(time.Duration(e.hours)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.StatusHistory(ctx, "p", "t1", "370000")
	if err != nil {
		t.Fatal(err)
	}
	want := []store.StatusPoint{
		{At: base, Status: "no_data", Basis: "no_figure"},
		{At: base.Add(5 * time.Hour), Status: "at_risk", Basis: "projection"},
		{At: base.Add(30 * time.Hour), Status: "missed", Basis: "deadline_figure", Settled: true},
	}
	if len(got) != len(want) {
		t.Fatalf("history = %+v, want %+v", got, want)
	}
	for i := range want {
		if !got[i].At.Equal(want[i].At) || got[i].Status != want[i].Status || got[i].Basis != want[i].Basis || got[i].Settled != want[i].Settled {
			t.Errorf("history[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	none, err := st.StatusHistory(ctx, "p", "t2", "370000")
	if err != nil || len(none) != 0 {
		t.Errorf("history of an unevaluated target = %v, %v", none, err)
	}
}

// The evaluation history stays inside InfluxDB's default limits: one series
// per plan and region however many targets and indicators it judges (the
// target and indicator are fields, so no tag has more values than there are
// plans or regions), each target's points apart at the same moment, and the
// points of the schema before (a series per target, tag target) still read.
func TestEvaluationSeriesPerPlanAndRegion(t *testing.T) {
	srv := testenv.SharedInflux(t)
	bucket := srv.NewBucket(t)
	st := storetest.On(t, srv, bucket)
	ctx := context.Background()
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	var evs []evaluate.Evaluation
	for i := range 50 {
		st := evaluate.Status("achieved")
		if i%2 == 1 {
			st = "missed"
		}
		evs = append(evs, evaluate.Evaluation{Plan: "p", Target: fmt.Sprintf("t%d", i), Indicator: fmt.Sprintf("ind_%d", i%5), Region: "370000", Status: st, Basis: evaluate.Basis{Code: "b"}})
	}
	evs = append(evs, evaluate.Evaluation{Plan: "p", Target: "t0", Indicator: "ind_0", Region: "370200", Status: "at_risk"})
	if err := st.WriteEvaluations(ctx, evs, at); err != nil {
		t.Fatal(err)
	}
	series := srv.QueryDB(t, strings.TrimSuffix(bucket, "/autogen"), "SHOW SERIES FROM evaluation")
	var keys []string
	for _, s := range series {
		for _, v := range s.Values {
			keys = append(keys, fmt.Sprint(v[0]))
		}
	}
	if want := []string{"evaluation,plan=p,region=370000", "evaluation,plan=p,region=370200"}; strings.Join(keys, " ") != strings.Join(want, " ") {
		t.Errorf("series of 51 evaluations = %q, want %q", keys, want)
	}
	for _, c := range []struct{ target, region, status string }{{"t0", "370000", "achieved"}, {"t1", "370000", "missed"}, {"t49", "370000", "missed"}, {"t0", "370200", "at_risk"}} {
		got, err := st.StatusHistory(ctx, "p", c.target, c.region)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Status != c.status || !got[0].At.Equal(at) {
			t.Errorf("history of %s in %s = %+v, want %s at %s", c.target, c.region, got, c.status, at)
		}
	}
	// A point of the schema before, an hour earlier, for t1 (and one of
	// another target, which must not show).
	old := at.Add(-time.Hour).Unix()
	srv.Write(t, bucket, "s", fmt.Sprintf("evaluation,indicator=ind_1,plan=p,region=370000,target=t1 status=\"at_risk\",basis=\"projection\",settled=false %d\n"+
		"evaluation,indicator=ind_2,plan=p,region=370000,target=t2 status=\"no_data\",settled=false %d", old, old))
	got, err := st.StatusHistory(ctx, "p", "t1", "370000")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Status != "at_risk" || got[0].Basis != "projection" || !got[0].At.Equal(at.Add(-time.Hour)) || got[1].Status != "missed" {
		t.Errorf("history of t1 over both schemas = %+v, want at_risk then missed", got)
	}
}

// SeriesHistory lists every value of a series, superseded and current, by
// region, period and revision, in two queries.
func TestSeriesHistory(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	t1 := time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC)
	t2 := t1.Add(24 * time.Hour)
	for _, w := range []struct {
		at  time.Time
		obs []observation.Observation
	}{
		{t1, []observation.Observation{testenv.Obs("food_sampling_pass_rate", "370000", "2019", 96.0, "公报"), testenv.Obs("food_sampling_pass_rate", "370000", "2020", 97.0, "公报"),
			testenv.Obs("food_sampling_pass_rate", "370200", "2020", 98.0, ""), testenv.Obs("food_sampling_pass_rate", "460000", "2020", 99.0, "")}},
		{t2, []observation.Observation{testenv.Obs("food_sampling_pass_rate", "370000", "2020", 97.5, "修订")}},
	} {
		if _, err := st.Upsert(ctx, w.obs, w.at); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.SeriesHistory(ctx, "food_sampling_pass_rate", []string{"370000", "370200"})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, s := range got {
		lines = append(lines, fmt.Sprintf("%s %s r%d %g %s %s", s.Region, s.Period, s.Revision, s.Value, s.Source, s.ReportedAt.Format("01-02")))
	}
	want := []string{"370000 2019 r0 96 公报 03-01", "370000 2020 r0 97 公报 03-01", "370000 2020 r1 97.5 修订 03-02", "370200 2020 r0 98  03-01"}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("series history:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// A figure's note (备注) is stored with it and kept with the value a
// revision superseded; ReportedBetween lists the reports of a window, each
// beside the value it replaced.
func TestNotesAndReportedBetween(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	t1 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	t2 := t1.Add(48 * time.Hour)
	first := testenv.Obs("food_sampling_pass_rate", "370000", "2024", 97.0, "统计公报")
	first.Note = "初步数"
	if _, err := st.Upsert(ctx, []observation.Observation{first}, t1); err != nil {
		t.Fatal(err)
	}
	rev := testenv.Obs("food_sampling_pass_rate", "370000", "2024", 97.6, "统计年鉴")
	rev.Note = "年鉴核定数,含抽检复核"
	other := testenv.Obs("food_sampling_pass_rate", "370200", "2024", 98.1, "")
	if _, err := st.Upsert(ctx, []observation.Observation{rev, other}, t2); err != nil {
		t.Fatal(err)
	}
	h, err := st.History(ctx, first.Key())
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 2 || h[0].Note != "初步数" || h[1].Note != rev.Note || h[1].Value != 97.6 {
		t.Fatalf("history = %+v, want the notes 初步数 then %q", h, rev.Note)
	}
	cur, err := st.Current(ctx, storeFilter(first))
	if err != nil || len(cur) != 1 || cur[0].Note != rev.Note {
		t.Fatalf("current = %+v %v, want note %q", cur, err, rev.Note)
	}

	// Between t1 and t2 (t1 excluded): the revision and the other new figure.
	got, err := st.ReportedBetween(ctx, storeFilter(), t1, t2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("reported between = %+v, want 2", got)
	}
	for _, r := range got {
		switch r.Region {
		case "370000":
			if r.Value != 97.6 || r.Note != rev.Note || r.Previous == nil || r.Previous.Value != 97.0 || r.Previous.Note != "初步数" || r.Previous.Source != "统计公报" {
				t.Errorf("revision = %+v (previous %+v)", r, r.Previous)
			}
		case "370200":
			if r.Previous != nil || r.Value != 98.1 {
				t.Errorf("new figure = %+v, previous %+v", r, r.Previous)
			}
		}
	}
	// Up to t1 only the first report, a new figure.
	got, err = st.ReportedBetween(ctx, storeFilter(), t1.Add(-time.Hour), t1)
	if err != nil || len(got) != 1 || got[0].Previous != nil || got[0].Note != "初步数" {
		t.Fatalf("reported up to t1 = %+v %v", got, err)
	}
}

// StatusChanges lists, per target and region, the changes after from up
// to to, each beside the status in force before it.
func TestStatusChanges(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	writeAt := func(d time.Duration, target, region, status, basis string) {
		t.Helper()
		one := 1.0
		ev := evaluate.Evaluation{Plan: "p", Target: target, Indicator: "ind", Region: region, Status: evaluate.Status(status),
			Actual: &one, Basis: evaluate.Basis{Code: basis}, Period: "2024"}
		if err := st.WriteEvaluations(ctx, []evaluate.Evaluation{ev}, base.Add(d)); err != nil {
			t.Fatal(err)
		}
	}
	write := func(hours int, target, region, status, basis string) {
		t.Helper()
		writeAt(time.Duration(hours)*time.Hour, target, region, status, basis)
	}
	write(0, "t1", "370000", "at_risk", "projection")
	write(3, "t1", "370000", "at_risk", "projection")
	write(10, "t1", "370000", "achieved", "met")    // a change in the window
	write(20, "t1", "370000", "missed", "deadline") // after the window
	write(0, "t2", "370200", "on_track", "projection")
	write(5, "t2", "370200", "on_track", "projection") // no change
	write(6, "t3", "370200", "no_data", "no_figure")   // first evaluated in the window: no change
	// Changes one second after each end of the window (InfluxDB 1.8 also
	// returns a point at a range's stop): the first is in it, the second not.
	write(0, "t4", "370000", "at_risk", "projection")
	writeAt(4*time.Hour+time.Second, "t4", "370000", "achieved", "met")
	writeAt(15*time.Hour+time.Second, "t4", "370000", "missed", "deadline")
	got, err := st.StatusChanges(ctx, base.Add(4*time.Hour), base.Add(15*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("changes = %+v, want two (t1 at 10 h, t4 at 4 h 1 s)", got)
	}
	if c := got[1]; c.Target != "t4" || c.Before.Status != "at_risk" || c.Status != "achieved" || !c.At.Equal(base.Add(4*time.Hour+time.Second)) {
		t.Errorf("change = %+v, want t4 from at_risk to achieved at 4 h 1 s", c)
	}
	c := got[0]
	if c.Plan != "p" || c.Target != "t1" || c.Region != "370000" || c.Indicator != "ind" || c.Before.Status != "at_risk" || c.Status != "achieved" ||
		c.Basis != "met" || !c.At.Equal(base.Add(10*time.Hour)) {
		t.Errorf("change = %+v", c)
	}
}

// storeFilter selects the keys of obs (all observations when none).
func storeFilter(obs ...observation.Observation) store.Filter {
	if len(obs) == 0 {
		return store.Filter{}
	}
	return store.SpanOf(obs).Filter()
}
