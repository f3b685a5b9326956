package reporting_test

import (
	"context"
	"errors"
	"fmt"
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
	"github.com/qualitymon/qualitymon/internal/testenv"
)

// The review queue lives on disk (issue 19 item 3): 24 uploads decided
// through the real upload API and InfluxDB (12 approved and stored, 12
// returned) and 2 held. A queue opened again on the directory reads no
// upload file at all (Reads, with nothing in memory to load them into);
// listing the held uploads reads their 2 headers only, the bureau's page
// its open ones and the newest 5 of its archive, the grid's held keys the
// rows of the held uploads only. On disk the decided uploads are in the
// archive, headers and rows, and only the held ones in uploads/.
func TestQueueRestartReadsNoDecidedUpload(t *testing.T) {
	e := newEnvWith(t, t.TempDir(), testTokens(config.ReviewRequired))
	ctx := context.Background()
	var held []string
	for i := range 26 {
		body := fmt.Sprintf("indicator,region,period,value\nfood_sampling_pass_rate,370200,%d,9%d.5\n", 1990+i, i%10)
		code, resp := e.post(t, qingdaoToken, fmt.Sprintf("qd-%d.csv", i), []byte(body))
		if code != 200 || resp["held"] != true {
			t.Fatalf("upload %d: %d %v", i, code, resp)
		}
		id := resp["review_id"].(string)
		switch {
		case i < 12:
			if u, err := e.queue.Approve(ctx, id, e.reviewer, "", ""); err != nil || u.State != reporting.UploadStored {
				t.Fatalf("approving %d: %+v %v", i, u, err)
			}
		case i < 24:
			if _, err := e.queue.Return(ctx, id, e.reviewer, "请核实", ""); err != nil {
				t.Fatalf("returning %d: %v", i, err)
			}
		default:
			held = append(held, id)
		}
	}
	if n := len(mustCurrent(t, e.st)); n != 12 {
		t.Fatalf("InfluxDB holds %d figures, want the 12 approved", n)
	}
	open, _ := filepath.Glob(filepath.Join(e.reviewDir, "uploads", "*.json"))
	heads, _ := filepath.Glob(filepath.Join(e.reviewDir, "archive", "*", "*.json"))
	rows, _ := filepath.Glob(filepath.Join(e.reviewDir, "archive", "*", "*.jsonl"))
	openRows, _ := filepath.Glob(filepath.Join(e.reviewDir, "rows", "*.jsonl"))
	if len(open) != 2 || len(heads) != 24 || len(rows) != 24 || len(openRows) != 2 {
		t.Fatalf("on disk: %d open headers, %d open rows, %d archived headers, %d archived rows; want 2, 2, 24, 24",
			len(open), len(openRows), len(heads), len(rows))
	}

	q, err := reporting.OpenQueue(e.reviewDir, nil, e.st, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if n := q.Reads(); n != 0 {
		t.Fatalf("opening the queue read %d upload files, want none", n)
	}
	l := q.List(nil)
	if len(l) != 2 || !(l[0].ID == held[0] && l[1].ID == held[1] || l[0].ID == held[1] && l[1].ID == held[0]) || l[0].RowCount != 1 {
		t.Fatalf("held uploads after the restart: %+v", l)
	}
	if n := q.Reads(); n != 2 {
		t.Fatalf("listing the held uploads read %d files, want their 2 headers", n)
	}
	mine := q.ForBureau("青岛市统计局", 5)
	states := map[string]int{}
	for _, u := range mine {
		states[u.State]++
	}
	if len(mine) != 7 || states[reporting.UploadHeld] != 2 || states[reporting.UploadHeld]+states[reporting.UploadReturned]+states[reporting.UploadStored] != 7 {
		t.Fatalf("the bureau's newest uploads: %d, %v", len(mine), states)
	}
	if n := q.Reads(); n != 2+2+5 {
		t.Fatalf("the bureau's page read %d files in all, want 2+2 open headers and 5 archived", n)
	}
	want := observation.Key{Indicator: "food_sampling_pass_rate", Region: "370200", Period: period.OfYear(2015)}
	keys, err := q.Held(nil)
	if err != nil || len(keys) != 2 || keys[want] != held[1] {
		t.Fatalf("held keys %v %v", keys, err)
	}
	if n := q.Reads(); n != 9+2+2 {
		t.Fatalf("the held keys read %d files in all, want 2 more headers and the 2 held uploads' rows", n)
	}
	// Keys of another region: the held uploads' headers say so, no rows read.
	keys, err = q.Held(map[observation.Key]bool{{Indicator: "food_sampling_pass_rate", Region: "110000", Period: period.OfYear(2015)}: true})
	if err != nil || len(keys) != 0 {
		t.Fatalf("held keys of Beijing: %v %v", keys, err)
	}
	if n := q.Reads(); n != 13+2 {
		t.Fatalf("the held keys of another region read %d files in all, want only the 2 held headers more", n)
	}
	// A decided upload is still found, and its rows read, when asked for.
	// (The test's clock stands still, so the page's order among uploads
	// of one moment is by id, which is random: take a decided one by state.)
	var decided *reporting.Upload
	for _, u := range mine {
		if u.State != reporting.UploadHeld {
			decided = u
		}
	}
	if u, ok := q.Get(decided.ID); !ok || !u.Decided() {
		t.Fatalf("an archived upload: %+v %v", u, ok)
	}
	if r, err := q.Rows(decided.ID); err != nil || len(r) != 1 {
		t.Fatalf("an archived upload's rows: %v %v", r, err)
	}
	if _, err := os.Stat(filepath.Join(e.reviewDir, "lock")); err != nil {
		t.Fatal(err)
	}
}

// Two queues on one review_dir, as two serve replicas sharing it (each
// step takes the directory's flock, which excludes queues of one process
// as it does processes): an upload held through one is listed by the
// other; both return it at once 20 times over — each time exactly one
// decision is made and the other is refused as already decided.
func TestQueueSharedByReplicas(t *testing.T) {
	e := newEnvWith(t, t.TempDir(), testTokens(config.ReviewRequired))
	other, err := reporting.OpenQueue(e.reviewDir, nil, e.st, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ctx := context.Background()
	for i := range 20 {
		code, resp := e.post(t, qingdaoToken, "qd.csv", []byte(fmt.Sprintf("indicator,region,period,value\nfood_sampling_pass_rate,370200,%d,97.5\n", 2000+i)))
		if code != 200 || resp["held"] != true {
			t.Fatalf("upload: %d %v", code, resp)
		}
		id := resp["review_id"].(string)
		if _, ok := other.Get(id); !ok {
			t.Fatalf("upload %s held through one queue is unknown to the other", id)
		}
		errs := make(chan error, 2)
		for _, q := range []*reporting.Queue{e.queue, other} {
			go func() {
				_, err := q.Return(ctx, id, e.reviewer, "请核实", "")
				errs <- err
			}()
		}
		a, b := <-errs, <-errs
		if (a == nil) == (b == nil) || !errors.Is(a, reporting.ErrDecided) && !errors.Is(b, reporting.ErrDecided) {
			t.Fatalf("two queues returning upload %s at once: %v and %v; want one made, one refused as decided", id, a, b)
		}
	}
	if a := auditActions(t, e.reviewDir); strings.Count(a, "return_refused") != 20 || strings.Count(a, "return ") != 20 {
		t.Fatalf("audit actions %q", a)
	}
}

// TestRowsQueueApproves: testdata/rows-queue is a review_dir as the
// previous version left it: an upload of 青岛市统计局 held for review, its
// rows stored as strings. This version lists it, diffs it and, approved by
// the provincial reviewer, stores its figures in the real InfluxDB with
// their periods, values and source; it is written back in the
// current form.
func TestRowsQueueApproves(t *testing.T) {
	const id = "20240601T080000-fae5e6d5"
	dir := testenv.CopyDir(t, filepath.Join("testdata", "rows-queue"))
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
