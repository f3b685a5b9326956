package reporting_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/qualitymon/qualitymon/internal/config"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/reporting"
	"github.com/qualitymon/qualitymon/internal/store"
)

// TestRowsQueueApproves: testdata/rows-queue is a review_dir as the
// previous version left it: an upload of 青岛市统计局 held for review, its
// rows stored as strings. This version lists it, diffs it and, approved by
// the provincial reviewer, stores its figures in the real InfluxDB with
// their periods, values and source; it is written back in the
// current form.
func TestRowsQueueApproves(t *testing.T) {
	const id = "20240601T080000-fae5e6d5"
	dir := t.TempDir()
	from := filepath.Join("testdata", "rows-queue")
	for _, f := range []string{"audit.jsonl", filepath.Join("uploads", id+".json")} {
		b, err := os.ReadFile(filepath.Join(from, f))
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o750)
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	e := newEnvWith(t, dir, testTokens(config.ReviewRequired))
	ctx := context.Background()
	if l := e.queue.List(nil); len(l) != 1 || l[0].ID != id || l[0].RowCount != 2 {
		t.Fatalf("held uploads %+v", l)
	}
	if rows, err := e.queue.Rows(id); err != nil || len(rows) != 2 || rows[1].Period != period.OfYear(2022) || rows[1].Note != "修订" {
		t.Fatalf("held rows %+v %v", rows, err)
	}
	y2023 := observation.Key{Indicator: "food_sampling_pass_rate", Region: "370200", Period: period.OfYear(2023)}
	if held, err := e.queue.Held(nil); err != nil || held[y2023] != id {
		t.Fatalf("Held(nil)[%v] = %q, %v", y2023, held[y2023], err)
	}
	diff, err := e.queue.Diff(ctx, id)
	if err != nil || len(diff) != 2 || diff[0].Period != period.OfYear(2023) || diff[0].Change != reporting.ChangeNew {
		t.Fatalf("diff %+v %v", diff, err)
	}
	u, err := e.queue.Approve(ctx, id, e.reviewer, "", "")
	if err != nil || u.State != reporting.UploadStored || u.Result.New != 2 {
		t.Fatalf("approval: %+v %v", u, err)
	}
	got, err := e.st.Current(ctx, store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(got, func(i, j int) bool { return got[i].Period.Year < got[j].Period.Year })
	want := []observation.Observation{
		{Indicator: "food_sampling_pass_rate", Region: "370200", Period: period.OfYear(2022), Value: 98.1, Note: "修订"}, // the note is kept with the figure
		{Indicator: "food_sampling_pass_rate", Region: "370200", Period: period.OfYear(2023), Value: 98.9, Source: "青岛市市场监管局"},
	}
	if len(got) != len(want) {
		t.Fatalf("InfluxDB holds %d figures, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i].Observation != want[i] {
			t.Errorf("InfluxDB holds %+v, want %+v", got[i].Observation, want[i])
		}
	}
	// Written back in the current form: decided, so in the archive, its
	// rows beside it.
	head, _ := filepath.Glob(filepath.Join(dir, "archive", "*", id+".json"))
	rows, _ := filepath.Glob(filepath.Join(dir, "archive", "*", id+".jsonl"))
	if len(head) != 1 || len(rows) != 1 {
		t.Fatalf("archive holds %v and %v", head, rows)
	}
	b, _ := os.ReadFile(head[0])
	r, _ := os.ReadFile(rows[0])
	if !strings.Contains(string(b), `"state": "stored"`) || !strings.Contains(string(r), `"period":"2023"`) {
		t.Fatalf("the upload as written back:\n%s\n%s", b, r)
	}
	if _, err := os.Stat(filepath.Join(dir, "uploads", id+".json")); !os.IsNotExist(err) {
		t.Fatalf("the stored upload is still among the open ones: %v", err)
	}
}
