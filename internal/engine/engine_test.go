package engine_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/engine"
	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/exporter"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/internal/store/storetest"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// The evaluation history holds a point per change, not per run: the first
// run writes every target, a run that changes nothing writes nothing, and
// a new figure writes the one target it changes.
func TestHistoryWritesChanges(t *testing.T) {
	srv := testenv.SharedInflux(t)
	bucket := srv.NewBucket(t)
	st := storetest.On(t, srv, bucket)
	ctx := context.Background()

	lo, hi := 0.0, 100.0
	cat, err := catalog.New(&catalog.Indicator{ID: "ind_a", NameZh: "指标", NameEn: "x", Unit: "percent", Min: &lo, Max: &hi, Better: "higher", Frequency: "yearly", Kind: "level"})
	if err != nil {
		t.Fatal(err)
	}
	regs := testenv.Regions(t, "370000", "370200", "370300")
	var b strings.Builder
	b.WriteString("plan: {key: p-2021, name_zh: 测试, issuer: 测试, published: \"2021\", region: \"370000\", start: 2021, horizon: 2030, source: x}\ntargets:\n")
	for _, c := range []string{"370000", "370200", "370300"} {
		fmt.Fprintf(&b, "  - {id: t-%s, indicator: ind_a, region: %q, comparator: \">=\", value: 90, deadline: 2030, modality: reach, clause: x, quote: x}\n", c, c)
	}
	pl, err := plan.Parse("p-2021.yaml", []byte(b.String()), cat, regs)
	if err != nil {
		t.Fatal(err)
	}
	set := &plan.Set{Plans: []*plan.Plan{pl}, Catalog: cat, Regions: regs}
	var obs []observation.Observation
	for _, c := range []string{"370000", "370200", "370300"} {
		for y := 2021; y <= 2023; y++ {
			obs = append(obs, observation.Observation{Indicator: "ind_a", Region: c, Period: period.OfYear(y), Value: 80 + float64(y-2021)})
		}
	}
	if _, err := st.Upsert(ctx, obs, time.Now()); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC)
	e := &engine.Engine{Store: st, Evaluator: &evaluate.Evaluator{Set: set}, Exporter: exporter.New(prometheus.NewRegistry(), cat, nil),
		Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { now = now.Add(time.Minute); return now }}
	points := func() int {
		n := 0
		for _, s := range srv.QueryDB(t, strings.TrimSuffix(bucket, "/autogen"), "SELECT count(status) FROM evaluation") {
			for _, v := range s.Values {
				fmt.Sscan(fmt.Sprint(v[1]), &n)
			}
		}
		return n
	}
	if err := e.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if n := points(); n != 3 {
		t.Fatalf("after the first run: %d history points, want 3", n)
	}
	if err := e.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if n := points(); n != 3 {
		t.Errorf("after a run that changed nothing: %d history points, want still 3", n)
	}
	fig := []observation.Observation{{Indicator: "ind_a", Region: "370200", Period: period.OfYear(2024), Value: 99}}
	if _, err := st.Upsert(ctx, fig, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := e.Apply(ctx, fig); err != nil {
		t.Fatal(err)
	}
	if n := points(); n != 4 {
		t.Errorf("after a figure for 370200: %d history points, want 4", n)
	}
	h, err := st.StatusHistory(ctx, "p-2021", "t-370200", "370200")
	if err != nil {
		t.Fatal(err)
	}
	if len(h) == 0 || h[len(h)-1].Status != "achieved" {
		t.Errorf("history of t-370200 = %+v, want it to end achieved", h)
	}
}
