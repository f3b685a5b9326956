package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/store"
)

// StatusHistory lists the first status and each change (status, basis or
// settled), per target and region, from the evaluation points written.
func TestStatusHistory(t *testing.T) {
	st := open(t)
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
	var lines []string
	for _, e := range evs {
		var b strings.Builder
		store.EvaluationLine(&b, [4]string{"p", "t1", "ind", e.region}, e.status, 0, map[string]float64{"actual": 1}, false, e.settled, e.basis, "2020", base.Add(time.Duration(e.hours)*time.Hour))
		lines = append(lines, b.String())
	}
	if err := st.WriteLines(ctx, lines); err != nil {
		t.Fatal(err)
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
