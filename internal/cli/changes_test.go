package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

// `qualitymon changes` lists, between two moments around an upload and a
// revision, the new figure, the revision with its old and new values and
// note, and the status change, as text and as JSON.
func TestChangesCommand(t *testing.T) {
	env, st := influxEnv(t)
	ctx := context.Background()
	t0 := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	first := testenv.Obs("food_sampling_pass_rate", "370200", "2024", 97.19, "青岛市市场监管局")
	if _, err := st.Upsert(ctx, []observation.Observation{first}, t0); err != nil {
		t.Fatal(err)
	}
	t1 := time.Date(2026, 2, 3, 8, 0, 0, 0, time.UTC)
	rev := testenv.Obs("food_sampling_pass_rate", "370200", "2024", 96.4, "青岛市统计局")
	rev.Note = "按年鉴核定数修订"
	added := testenv.Obs("food_sampling_pass_rate", "370200", "2025", 98.2, "青岛市统计局")
	added.Note = "快报数"
	if _, err := st.Upsert(ctx, []observation.Observation{rev, added}, t1); err != nil {
		t.Fatal(err)
	}
	for i, s := range []evaluate.Status{evaluate.OnTrack, evaluate.AtRisk} {
		ev := evaluate.Evaluation{Plan: "qingdao-2023", Target: "food-sampling-pass-rate", Indicator: "food_sampling_pass_rate",
			Region: "370200", Status: s, Basis: evaluate.Basis{Code: evaluate.BasisProjection}, Period: "2024"}
		if err := st.WriteEvaluations(ctx, []evaluate.Evaluation{ev}, []time.Time{t0, t1.Add(time.Hour)}[i]); err != nil {
			t.Fatal(err)
		}
	}

	r := run(t, env, "changes", "--from", "2026-02-01", "--to", "2026-02-28", "--format", "json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var l struct {
		Counts struct{ Status, New, Revised int }
		Groups []struct {
			Plan, Region string
			Items        []struct {
				Kind, Note, Source, Status, Before, Period string
				Value, Previous, Difference                *float64
			}
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &l); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if l.Counts.Status != 1 || l.Counts.New != 1 || l.Counts.Revised != 1 {
		t.Fatalf("counts %+v, want one of each\n%s", l.Counts, r.stdout)
	}
	kinds := map[string]bool{}
	for _, g := range l.Groups {
		if g.Plan != "qingdao-2023" || g.Region != "370200" {
			continue
		}
		for _, it := range g.Items {
			kinds[it.Kind] = true
			switch it.Kind {
			case "revised":
				if *it.Previous != 97.19 || *it.Value != 96.4 || evaluate.Round(*it.Difference) != -0.79 || it.Note != rev.Note || it.Source != "青岛市统计局" {
					t.Errorf("revision %+v", it)
				}
			case "new":
				if it.Period != "2025" || *it.Value != 98.2 || it.Note != "快报数" || it.Previous != nil {
					t.Errorf("new figure %+v", it)
				}
			case "status":
				if it.Before != "on_track" || it.Status != "at_risk" {
					t.Errorf("status change %+v", it)
				}
			}
		}
	}
	if len(kinds) != 3 {
		t.Errorf("qingdao-2023 · 370200 lists %v, want the three kinds", kinds)
	}

	r = run(t, env, "changes", "--from", "2026-02-01", "--to", "2026-02-28")
	for _, want := range []string{"修订", "97.19", "96.4", "-0.79", "按年鉴核定数修订", "新数据", "快报数", "状态变化", "按进度", "滞后",
		"状态变化 1 项,新数据 1 条,修订 1 条"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, r.stdout)
		}
	}
	// Before the revision: nothing of it.
	r = run(t, env, "changes", "--from", "2026-01-10", "--to", "2026-02-02", "--format", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"total": 0`) {
		t.Errorf("changes before the revision: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := run(t, env, "changes", "--from", "2026-13-01"); r.code == 0 || !strings.Contains(r.stderr, "--from") {
		t.Errorf("a bad --from: %d %s", r.code, r.stderr)
	}
}
