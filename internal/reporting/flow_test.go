package reporting_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/xuri/excelize/v2"

	"github.com/qualitymon/qualitymon/internal/config"
	"github.com/qualitymon/qualitymon/internal/engine"
	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/internal/reporting"
	"github.com/qualitymon/qualitymon/internal/store"
	"github.com/qualitymon/qualitymon/internal/store/storetest"
	"github.com/qualitymon/qualitymon/internal/testenv"
	"github.com/qualitymon/qualitymon/internal/upload"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const (
	qingdaoToken  = "qingdao-secret-token"
	reviewerToken = "shandong-reviewer-token"
	jinanToken    = "jinan-reviewer-token"
)

// env is one test's world: a fresh bucket, the shipped plans, tokens for
// 青岛市统计局 (review required), a provincial reviewer and a Jinan
// reviewer, the queue and receipts in a temporary review_dir, and the
// upload handler wired as serve wires it.
type env struct {
	set       *plan.Set
	st        *store.Store
	dir       *reporting.Directory
	queue     *reporting.Queue
	receipts  *reporting.Receipts
	grid      *reporting.Grid
	up        *upload.Handler
	tokens    []config.UploadToken
	reviewer  *reporting.Bureau
	now       time.Time
	reviewDir string
}

func newEnv(t *testing.T, review string) *env {
	t.Helper()
	return newEnvWith(t, t.TempDir(), testTokens(review))
}

// testTokens are the tokens of newEnv.
func testTokens(review string) []config.UploadToken {
	return []config.UploadToken{
		{Bureau: "青岛市统计局", TokenSHA256: upload.HashToken(qingdaoToken), Regions: []string{"370200"}, Role: config.RoleReporter, Review: review},
		{Bureau: "山东省统计局", TokenSHA256: upload.HashToken(reviewerToken), Regions: []string{"370000", "370200"}, Role: config.RoleReviewer, Review: config.ReviewNone},
		{Bureau: "济南市统计局", TokenSHA256: upload.HashToken(jinanToken), Regions: []string{"370100"}, Role: config.RoleReviewer, Review: config.ReviewNone},
	}
}

// auditActions is the actions of review_dir/audit.jsonl, in order.
func auditActions(t *testing.T, reviewDir string) string {
	t.Helper()
	audit, err := os.ReadFile(filepath.Join(reviewDir, "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, line := range strings.Split(strings.TrimSpace(string(audit)), "\n") {
		var a struct{ Action string }
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		actions = append(actions, a.Action)
	}
	return strings.Join(actions, " ")
}

// newEnvWith is newEnv with these tokens and review_dir.
func newEnvWith(t *testing.T, reviewDir string, tokens []config.UploadToken) *env {
	t.Helper()
	st := storetest.Open(t)
	e := &env{set: testenv.Plans(t), st: st, now: time.Date(2024, 6, 1, 8, 0, 0, 0, time.UTC), reviewDir: reviewDir, tokens: tokens}
	var err error
	if e.dir, err = reporting.NewDirectory(e.tokens, e.set.Catalog, e.set.Regions); err != nil {
		t.Fatal(err)
	}
	if e.receipts, err = reporting.OpenReceipts(filepath.Join(e.reviewDir, "receipts.jsonl")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.receipts.Close() })
	sink := &store.Direct{Store: st}
	if e.queue, err = reporting.OpenQueue(e.reviewDir, sink, st, e.receipts); err != nil {
		t.Fatal(err)
	}
	e.queue.Now = func() time.Time { return e.now }
	t.Cleanup(func() { e.queue.Close() })
	e.grid = &reporting.Grid{Set: e.set, Store: st, Receipts: e.receipts, Queue: e.queue}
	v := &ingest.Validator{Catalog: e.set.Catalog, Regions: e.set.Regions, Now: func() time.Time { return e.now }}
	cfg := upload.Config{MaxBytes: 1 << 20, ArchiveDir: filepath.Join(t.TempDir(), "archive"), AuditLog: filepath.Join(t.TempDir(), "upload-audit.jsonl"), Tokens: e.tokens}
	if e.up, err = upload.NewHandler(cfg, v, sink, nil, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.up.Close() })
	e.up.Now = func() time.Time { return e.now }
	e.up.SinkFor = (&reporting.Sinks{Queue: e.queue, Receipts: e.receipts}).For
	e.reviewer, _ = e.dir.Authenticate(reviewerToken)
	return e
}

// post uploads a file as a bureau and returns the decoded answer.
func (e *env) post(t *testing.T, token, name string, body []byte) (int, map[string]any) {
	t.Helper()
	ct := upload.TypeCSV
	if strings.HasSuffix(name, ".xlsx") {
		ct = upload.TypeXLSX
	}
	req := httptest.NewRequest(http.MethodPost, upload.Path+"?filename="+name, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", ct)
	req.RemoteAddr = "10.0.0.7:5555"
	w := httptest.NewRecorder()
	e.up.ServeHTTP(w, req)
	var out map[string]any
	json.Unmarshal(w.Body.Bytes(), &out)
	return w.Code, out
}

// status is the evaluation of Qingdao's food sampling target as the store
// holds it now.
func (e *env) status(t *testing.T) evaluate.Status {
	t.Helper()
	ev := &evaluate.Evaluator{Set: e.set}
	evals, _, err := engine.Load(context.Background(), e.st, ev, "qingdao-2023", e.now, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range evals {
		if x.Target == "food-sampling-pass-rate" {
			return x.Status
		}
	}
	t.Fatal("no evaluation of qingdao-2023/food-sampling-pass-rate")
	return ""
}

func (e *env) cell(t *testing.T, b *reporting.Bureau, ind, per string) reporting.Cell {
	t.Helper()
	r, err := e.grid.For(context.Background(), b, "qingdao-2023", e.now)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range r.Cells {
		if c.Indicator.ID == ind && c.Region == "370200" && c.Period.String() == per {
			return c
		}
	}
	t.Fatalf("no cell %s/370200/%s", ind, per)
	return reporting.Cell{}
}

// Held → not stored, not in the evaluation, 待审核 in the grid → a reviewer
// of another region may not approve → approved → stored (as of the
// approval), in the evaluation, 已报送 by 青岛市统计局, on time by its
// submission; every step audited. A second upload is returned with a
// comment the bureau sees.
func TestReviewFlow(t *testing.T) {
	e := newEnv(t, config.ReviewRequired)
	ctx := context.Background()
	qingdao, _ := e.dir.Reporter("青岛市统计局")
	if e.status(t) != evaluate.NoData {
		t.Fatalf("before: %s", e.status(t))
	}
	e.now = time.Date(2024, 3, 20, 9, 0, 0, 0, time.UTC) // before the 2023 figure is due
	code, resp := e.post(t, qingdaoToken, "qd.csv", []byte("指标,地区,时期,数值\n食品安全抽检合格率,青岛市,2023,98.9\n"))
	if code != 200 || resp["held"] != true || resp["review_id"] == "" {
		t.Fatalf("upload: %d %v", code, resp)
	}
	id := resp["review_id"].(string)
	if n := len(mustCurrent(t, e.st)); n != 0 {
		t.Fatalf("a held upload stored %d figures", n)
	}
	e.now = time.Date(2024, 4, 10, 9, 0, 0, 0, time.UTC) // approved after the due date
	if e.status(t) != evaluate.NoData {
		t.Fatal("a held upload is in the evaluation")
	}
	if c := e.cell(t, qingdao, "food_sampling_pass_rate", "2023"); c.State != reporting.StateHeld || c.HeldID != id {
		t.Fatalf("held cell: %+v", c)
	}
	if l := e.queue.List(e.reviewer.Scope.Regions); len(l) != 1 || l[0].ID != id || l[0].Bureau != "青岛市统计局" {
		t.Fatalf("reviewer's list: %+v", l)
	}
	diff, err := e.queue.Diff(ctx, id)
	if err != nil || len(diff) != 1 || diff[0].Change != reporting.ChangeNew || diff[0].Value != 98.9 {
		t.Fatalf("diff: %+v %v", diff, err)
	}
	jinan, _ := e.dir.Authenticate(jinanToken)
	if _, err := e.queue.Approve(ctx, id, jinan, "", "10.0.0.9:1"); !errors.Is(err, reporting.ErrOutOfScope) {
		t.Fatalf("Jinan's reviewer approved Qingdao's upload: %v", err)
	}
	if _, err := e.queue.Approve(ctx, id, qingdao, "", "10.0.0.9:1"); !errors.Is(err, reporting.ErrNotReviewer) {
		t.Fatalf("a reporter approved: %v", err)
	}
	u, err := e.queue.Approve(ctx, id, e.reviewer, "核对无误", "10.0.0.8:4444")
	if err != nil || u.State != reporting.UploadStored || u.Result == nil || u.Result.New != 1 || u.StoredAt == nil {
		t.Fatalf("approve: %+v %v", u, err)
	}
	if _, err := e.queue.Approve(ctx, id, e.reviewer, "", ""); !errors.Is(err, reporting.ErrDecided) {
		t.Fatalf("approved twice: %v", err)
	}
	if s := e.status(t); s == evaluate.NoData {
		t.Fatal("the approved figure is not in the evaluation")
	}
	c := e.cell(t, qingdao, "food_sampling_pass_rate", "2023")
	if c.State != reporting.StateReported || *c.Value != 98.9 || c.Reporter != "青岛市统计局" || !*c.OnTime || !c.ReportedAt.Equal(e.now) {
		t.Fatalf("approved cell: %+v (reported %v, on time %v)", c, c.ReportedAt, *c.OnTime)
	}

	// Returned with a comment; nothing stored.
	code, resp = e.post(t, qingdaoToken, "qd2.csv", []byte("indicator,region,period,value\nfood_sampling_pass_rate,370200,2022,99.9\n"))
	if code != 200 || resp["held"] != true {
		t.Fatalf("second upload: %d %v", code, resp)
	}
	id2 := resp["review_id"].(string)
	if _, err := e.queue.Return(ctx, id2, e.reviewer, "  ", ""); !errors.Is(err, reporting.ErrCommentRequired) {
		t.Fatalf("returned without a comment: %v", err)
	}
	if _, err := e.queue.Return(ctx, id2, e.reviewer, "2022年数据与年鉴不符,请核实", "10.0.0.8:4444"); err != nil {
		t.Fatal(err)
	}
	mine := e.queue.ForBureau("青岛市统计局", 0)
	if len(mine) != 2 || mine[0].ID != id2 || mine[0].State != reporting.UploadReturned || mine[0].Comment != "2022年数据与年鉴不符,请核实" || mine[1].State != reporting.UploadStored {
		t.Fatalf("bureau's uploads: %+v", mine)
	}
	if c := e.cell(t, qingdao, "food_sampling_pass_rate", "2022"); c.State != reporting.StateOverdue {
		t.Fatalf("returned upload's cell: %s", c.State)
	}

	// Durable: a reopened queue has both decisions.
	q2, err := reporting.OpenQueue(e.reviewDir, nil, e.st, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer q2.Close()
	if u, ok := q2.Get(id2); !ok || u.State != reporting.UploadReturned {
		t.Fatalf("reopened: %+v", u)
	}
	// Audited: who, when, what, from where.
	audit, _ := os.ReadFile(filepath.Join(e.reviewDir, "audit.jsonl"))
	var actions []string
	for _, line := range strings.Split(strings.TrimSpace(string(audit)), "\n") {
		var a map[string]any
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatal(err)
		}
		actions = append(actions, a["action"].(string))
		if a["action"] == "approve" && (a["by"] != "山东省统计局" || a["remote_addr"] != "10.0.0.8:4444" || a["comment"] != "核对无误" || a["bureau"] != "青岛市统计局") {
			t.Errorf("approve audit line: %s", line)
		}
	}
	want := "hold approve_refused approve_refused approve store approve_refused hold return_refused return"
	if strings.Join(actions, " ") != want {
		t.Errorf("audit actions:\n %s\nwant\n %s", strings.Join(actions, " "), want)
	}
}

func mustCurrent(t *testing.T, st *store.Store) []any {
	t.Helper()
	rows, err := st.Current(context.Background(), store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]any, len(rows))
	for i := range rows {
		out[i] = rows[i]
	}
	return out
}

// Without review an upload is stored at once, with a receipt naming the
// bureau; a figure imported otherwise shows its source; timeliness follows
// the first report even after a revision.
func TestGridReportedBy(t *testing.T) {
	e := newEnv(t, config.ReviewNone)
	ctx := context.Background()
	qingdao, _ := e.dir.Reporter("青岛市统计局")
	e.now = time.Date(2023, 3, 1, 0, 0, 0, 0, time.UTC)
	if code, resp := e.post(t, qingdaoToken, "a.csv", []byte("indicator,region,period,value\nfood_sampling_pass_rate,370200,2022,98.1\n")); code != 200 || resp["held"] == true {
		t.Fatalf("%d %v", code, resp)
	}
	// A revision after the due date keeps the figure on time.
	e.now = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	if code, resp := e.post(t, qingdaoToken, "b.csv", []byte("indicator,region,period,value\nfood_sampling_pass_rate,370200,2022,98.3\n")); code != 200 || resp["revised"] != float64(1) {
		t.Fatalf("%d %v", code, resp)
	}
	// An import (no receipt): shown by its source, late.
	if _, err := e.st.Upsert(ctx, []observation.Observation{testenv.Obs("food_sampling_pass_rate", "370200", "2023", 98.7, "统计公报")}, e.now); err != nil {
		t.Fatal(err)
	}
	c := e.cell(t, qingdao, "food_sampling_pass_rate", "2022")
	if c.State != reporting.StateReported || *c.Value != 98.3 || c.Reporter != "青岛市统计局" || c.Revision != 1 || !*c.OnTime || !c.Submitted.Equal(time.Date(2023, 3, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("2022: %+v submitted %v", c, c.Submitted)
	}
	c = e.cell(t, qingdao, "food_sampling_pass_rate", "2023")
	if c.Reporter != "" || c.Source != "统计公报" || *c.OnTime {
		t.Fatalf("2023: %+v", c)
	}
	r, err := e.grid.For(ctx, qingdao, "qingdao-2023", e.now)
	if err != nil {
		t.Fatal(err)
	}
	if r.Summary.Reported != 2 || r.Summary.OnTime != 1 || r.Summary.Late != 1 || r.Summary.Overdue == 0 || r.Summary.Expected != r.Summary.Reported+r.Summary.Overdue {
		t.Fatalf("summary %+v", r.Summary)
	}
}

// The template lists what is due with context; filled in as it is, it
// uploads through the ordinary pipeline (XLSX and CSV), and the grid then
// shows every row reported.
func TestTemplateRoundTrip(t *testing.T) {
	for _, format := range []string{"xlsx", "csv"} {
		t.Run(format, func(t *testing.T) {
			e := newEnv(t, config.ReviewNone)
			ctx := context.Background()
			qingdao, _ := e.dir.Reporter("青岛市统计局")
			r, err := e.grid.For(ctx, qingdao, "", e.now)
			if err != nil {
				t.Fatal(err)
			}
			rows := reporting.TemplateRows(r.Cells, e.set.Regions)
			if len(rows) == 0 || len(rows) != r.Summary.Open+r.Summary.Overdue {
				t.Fatalf("%d template rows for %+v", len(rows), r.Summary)
			}
			var buf bytes.Buffer
			var filled []byte
			if format == "xlsx" {
				if err := reporting.WriteTemplateXLSX(&buf, r.Cells, e.set.Regions, qingdao.Name); err != nil {
					t.Fatal(err)
				}
				f, err := excelize.OpenReader(&buf)
				if err != nil {
					t.Fatal(err)
				}
				got, _ := f.GetRows("报送模板")
				if strings.Join(got[0], ",") != strings.Join(reporting.TemplateHeader, ",") || len(got) != len(rows)+1 {
					t.Fatalf("sheet: header %v, %d rows", got[0], len(got))
				}
				if got[1][2] != "370200" || got[1][3] != "青岛市" || got[1][9] == "" {
					t.Fatalf("first row %v", got[1])
				}
				for i := range rows {
					cell, _ := excelize.CoordinatesToCellName(6, i+2)
					f.SetCellStr("报送模板", cell, fillValue(e, got[i+1][0]))
				}
				var out bytes.Buffer
				f.WriteTo(&out)
				filled = out.Bytes()
			} else {
				if err := reporting.WriteTemplateCSV(&buf, r.Cells, e.set.Regions); err != nil {
					t.Fatal(err)
				}
				if !bytes.HasPrefix(buf.Bytes(), []byte("\uFEFF")) || !bytes.Contains(buf.Bytes(), []byte("\r\n")) {
					t.Fatal("not Excel's CSV (BOM, CRLF)")
				}
				recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(buf.Bytes(), []byte("\uFEFF")))).ReadAll()
				if err != nil {
					t.Fatal(err)
				}
				for _, rec := range recs[1:] {
					rec[5] = fillValue(e, rec[0])
				}
				var out bytes.Buffer
				out.WriteString("\uFEFF")
				w := csv.NewWriter(&out)
				w.UseCRLF = true
				w.WriteAll(recs)
				filled = out.Bytes()
			}
			code, resp := e.post(t, qingdaoToken, "filled."+format, filled)
			if code != 200 || resp["accepted"] == nil || int(resp["accepted"].(float64)) < len(rows) {
				t.Fatalf("filled template: %d %v", code, resp)
			}
			r2, err := e.grid.For(ctx, qingdao, "", e.now)
			if err != nil {
				t.Fatal(err)
			}
			if r2.Summary.Open+r2.Summary.Overdue != 0 || r2.Summary.Reported != len(rows) {
				t.Fatalf("after upload: %+v", r2.Summary)
			}
		})
	}
}

// fillValue is a valid figure for the indicator (the middle of its range).
func fillValue(e *env, id string) string {
	ind, _ := e.set.Catalog.Get(id)
	v := (*ind.Min + *ind.Max) / 2
	if ind.Unit == "count" {
		return "10"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// The completeness API: every reporting bureau with its cells and counts,
// filters, errors.
func TestCompletenessAPI(t *testing.T) {
	e := withOneFigure(t)
	h := reporting.CompletenessHandler(e.grid, e.dir, func() time.Time { return e.now }, nil)
	get := func(q string) (int, reporting.Completeness, string) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, reporting.CompletenessPath+q, nil))
		body, _ := io.ReadAll(w.Body)
		var c reporting.Completeness
		json.Unmarshal(body, &c)
		return w.Code, c, string(body)
	}
	code, c, body := get("?bureau=青岛市统计局&plan=qingdao-2023&region=青岛")
	if code != 200 || len(c.Bureaus) != 1 || c.Bureaus[0].Bureau != "青岛市统计局" {
		t.Fatalf("%d %s", code, body)
	}
	s := c.Bureaus[0].Summary
	if s.Reported != 1 || s.Overdue == 0 || s.Expected != s.Reported+s.Overdue || c.Summary != s {
		t.Fatalf("summary %+v", s)
	}
	for _, want := range []string{`"indicator": "food_sampling_pass_rate"`, `"region": "370200"`, `"period": "2023"`, `"state": "reported"`, `"reporter": "青岛市统计局"`, `"state": "overdue"`, `"on_time": false`} {
		if !strings.Contains(body, want) {
			t.Errorf("answer lacks %s", want)
		}
	}
	// Everything: Qingdao's bureau and the items no bureau reports.
	code, c, _ = get("")
	if code != 200 || len(c.Bureaus) != 2 || c.Bureaus[1].Bureau != reporting.Unassigned {
		t.Fatalf("all: %d %+v", code, c.Bureaus)
	}
	for _, q := range []string{"?region=火星", "?plan=nope"} {
		if code, _, _ := get(q); code != 400 {
			t.Errorf("%s: %d", q, code)
		}
	}
	// The metric counts overdue periods per bureau × indicator × region.
	comp, _ := e.grid.Completeness(context.Background(), e.dir.Reporters(), reporting.CompletenessQuery{}, e.now)
	found := false
	for _, o := range comp.Overdue() {
		if o.Bureau == "青岛市统计局" && o.Indicator == "food_sampling_pass_rate" && o.Region == "370200" {
			found = true
			if o.Overdue != 1 { // 2022; 2023 reported
				t.Errorf("overdue %d, want 1", o.Overdue)
			}
		}
		if o.Bureau == reporting.Unassigned {
			t.Error("unassigned items in the metric")
		}
	}
	if !found {
		t.Error("no overdue count for Qingdao's food sampling pass rate")
	}

	// As serve answers it, from the Collector's last refresh: 503 before the
	// first, then the same answers as computed afresh (narrowed in memory),
	// and a figure stored since shows only after the next refresh (the
	// request never reads the store).
	fresh := h
	col := &reporting.Collector{Grid: e.grid, Dir: e.dir, Now: func() time.Time { return e.now }}
	h = reporting.CompletenessHandler(e.grid, e.dir, func() time.Time { return e.now }, col.Latest)
	if code, _, _ := get("?region=370200"); code != http.StatusServiceUnavailable {
		t.Errorf("before the first refresh: %d, want 503", code)
	}
	if err := col.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	queries := []string{"", "?bureau=青岛市统计局&plan=qingdao-2023&region=青岛", "?region=370200", "?plan=qingdao-2023", "?bureau=-", "?bureau=-&plan=qingdao-2023"}
	for _, q := range queries {
		_, _, cached := get(q)
		h = fresh
		_, _, want := get(q)
		h = reporting.CompletenessHandler(e.grid, e.dir, func() time.Time { return e.now }, col.Latest)
		if cached != want {
			t.Errorf("%q: the refreshed listing answers\n%.400s\nnot as computed afresh\n%.400s", q, cached, want)
		}
	}
	if code, _ := e.post(t, qingdaoToken, "b.csv", []byte("indicator,region,period,value\nfood_sampling_pass_rate,370200,2022,97.5\n")); code != 200 {
		t.Fatal(code)
	}
	q := "?bureau=青岛市统计局&plan=qingdao-2023&region=370200"
	if _, c, _ := get(q); c.Summary.Reported != 1 {
		t.Errorf("before the refresh: %d reported, want the refreshed 1", c.Summary.Reported)
	}
	col.Refresh(context.Background())
	if _, c, _ := get(q); c.Summary.Reported != 2 {
		t.Errorf("after the refresh: %d reported, want 2", c.Summary.Reported)
	}
}

// withOneFigure is an environment on 2024-06-01 where 青岛 reported its
// 2023 food sampling pass rate.
func withOneFigure(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, config.ReviewNone)
	e.now = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	if code, _ := e.post(t, qingdaoToken, "a.csv", []byte("indicator,region,period,value\nfood_sampling_pass_rate,370200,2023,98.1\n")); code != 200 {
		t.Fatal(code)
	}
	return e
}

// The completeness API pages its cells: following page.next from the first
// page gives every cell of the whole listing once, in order, each page with
// every bureau and the whole's summaries; a cursor of a listing a refresh
// has replaced is a 409, a malformed one or a limit out of range a 400.
func TestCompletenessPages(t *testing.T) {
	e := withOneFigure(t)
	col := &reporting.Collector{Grid: e.grid, Dir: e.dir, Now: func() time.Time { return e.now }}
	if err := col.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	type page struct {
		Summary reporting.Summary `json:"summary"`
		Bureaus []struct {
			Bureau  string            `json:"bureau"`
			Summary reporting.Summary `json:"summary"`
			Cells   []json.RawMessage `json:"cells"`
		} `json:"bureaus"`
		Page *reporting.ListingPage `json:"page"`
	}
	for _, h := range []http.Handler{
		reporting.CompletenessHandler(e.grid, e.dir, func() time.Time { return e.now }, col.Latest),
		reporting.CompletenessHandler(e.grid, e.dir, func() time.Time { return e.now }, nil),
	} {
		get := func(path string) (int, page, string) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
			var p page
			if w.Code == 200 {
				if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
					t.Fatal(err)
				}
			}
			return w.Code, p, w.Body.String()
		}
		_, whole, _ := get(reporting.CompletenessPath + "?limit=50000&region=370200")
		var want []string
		for _, b := range whole.Bureaus {
			for _, c := range b.Cells {
				want = append(want, b.Bureau+" "+string(c))
			}
		}
		if len(want) < 5 || whole.Page == nil || whole.Page.Cells != len(want) || whole.Page.Next != "" {
			t.Fatalf("the whole listing: %d cells, page %+v", len(want), whole.Page)
		}
		var got []string
		next, pages := reporting.CompletenessPath+"?region=370200&limit=3", 0
		for next != "" {
			code, p, body := get(next)
			if code != 200 {
				t.Fatalf("%s: %d %s", next, code, body)
			}
			pages++
			if p.Summary != whole.Summary || len(p.Bureaus) != len(whole.Bureaus) || p.Page.Cells != len(want) || p.Page.Limit != 3 {
				t.Errorf("page %d: summary %+v, %d bureaus, page %+v: not the whole's", pages, p.Summary, len(p.Bureaus), p.Page)
			}
			n := 0
			for i, b := range p.Bureaus {
				if b.Summary != whole.Bureaus[i].Summary {
					t.Errorf("page %d: %s's summary is not the whole's", pages, b.Bureau)
				}
				for _, c := range b.Cells {
					got = append(got, b.Bureau+" "+string(c))
					n++
				}
			}
			if n > 3 {
				t.Errorf("page %d: %d cells, limit 3", pages, n)
			}
			if !strings.Contains(p.Page.Next, "region=370200") && p.Page.Next != "" {
				t.Errorf("next %q loses the filter", p.Page.Next)
			}
			next = p.Page.Next
		}
		if pages != (len(want)+2)/3 || strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%d pages of %d cells: not the whole listing's %d cells in order", pages, len(got), len(want))
		}
		for _, q := range []string{"limit=0", "limit=50001", "limit=x", "cursor=abc", "cursor=1.-1", "cursor=" + strings.Repeat("9", 30) + ".1"} {
			if code, _, body := get(reporting.CompletenessPath + "?" + q); code != 400 || !strings.Contains(body, "参数无效") {
				t.Errorf("%s: %d %s, want 400", q, code, body)
			}
		}
	}
	// A refresh replaces the listing: its cursors are refused.
	h := reporting.CompletenessHandler(e.grid, e.dir, func() time.Time { return e.now }, col.Latest)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, reporting.CompletenessPath+"?limit=2", nil))
	var p page
	json.Unmarshal(w.Body.Bytes(), &p)
	if p.Page == nil || p.Page.Next == "" {
		t.Fatalf("no next page: %s", w.Body)
	}
	e.now = e.now.Add(time.Hour)
	if err := col.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, p.Page.Next, nil))
	if w.Code != http.StatusConflict {
		t.Errorf("a cursor of the replaced listing: %d %s, want 409", w.Code, w.Body)
	}
}

// qualitymon_report_overdue is served from the last Refresh: a scrape never
// reads the store (at national scale the count takes seconds), and a
// Refresh brings the counts up to date.
func TestOverdueMetricNotOnScrape(t *testing.T) {
	e := withOneFigure(t)
	c := &reporting.Collector{Grid: e.grid, Dir: e.dir, Now: func() time.Time { return e.now }}
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	overdue := func() (n int, qingdao float64) {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				n++
				l := map[string]string{}
				for _, p := range m.GetLabel() {
					l[p.GetName()] = p.GetValue()
				}
				if l["bureau"] == "青岛市统计局" && l["indicator"] == "food_sampling_pass_rate" && l["region"] == "370200" {
					qingdao = m.GetGauge().GetValue()
				}
			}
		}
		return n, qingdao
	}
	if n, _ := overdue(); n != 0 {
		t.Fatalf("a scrape before any refresh served %d series: it computed them", n)
	}
	if err := c.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, q := overdue(); n == 0 || q != 1 { // 2022 overdue; 2023 reported
		t.Errorf("after a refresh: %d series, Qingdao's food sampling %v overdue, want 1", n, q)
	}
}

// TestReviewDiffPrevious: the reviewer's diff carries each held row's
// previous period (the stored value, read with the diff's one query), so
// that the review page shows the same 请核实 warning the clerk confirmed:
// 98.99 stored for 2022, 50.1 held for 2023.
func TestReviewDiffPrevious(t *testing.T) {
	e := newEnv(t, config.ReviewRequired)
	ctx := context.Background()
	e.now = time.Date(2024, 4, 10, 9, 0, 0, 0, time.UTC)
	code, resp := e.post(t, qingdaoToken, "2022.csv", []byte("indicator,region,period,value\nfood_sampling_pass_rate,370200,2022,98.99\n"))
	if code != 200 {
		t.Fatalf("upload: %d %v", code, resp)
	}
	if _, err := e.queue.Approve(ctx, resp["review_id"].(string), e.reviewer, "", "10.0.0.8:1"); err != nil {
		t.Fatal(err)
	}
	code, resp = e.post(t, qingdaoToken, "2023.csv", []byte("indicator,region,period,value\nfood_sampling_pass_rate,370200,2023,50.1\n"))
	if code != 200 || resp["held"] != true {
		t.Fatalf("upload: %d %v", code, resp)
	}
	diff, err := e.queue.Diff(ctx, resp["review_id"].(string))
	if err != nil || len(diff) != 1 || diff[0].Previous == nil || *diff[0].Previous != 98.99 || diff[0].PreviousPeriod != "2022" {
		t.Fatalf("diff: %+v %v", diff, err)
	}
	if w := ingest.Implausible("percent", *diff[0].Previous, diff[0].Value); !strings.Contains(w, "48.89 个百分点") {
		t.Fatalf("warning %q", w)
	}
}
