package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/store"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

// A figure's note (备注) is stored with it and kept with the value a
// revision superseded; ReportedBetween lists the reports of a window, each
// beside the value it replaced.
func TestNotesAndReportedBetween(t *testing.T) {
	st := open(t)
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
	st := open(t)
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
