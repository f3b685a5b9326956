package workspace

import (
	"bytes"
	"context"
	"encoding/csv"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/config"
	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/reporting"
	"github.com/qualitymon/qualitymon/internal/store"
	"github.com/qualitymon/qualitymon/internal/store/storetest"
	"github.com/qualitymon/qualitymon/internal/testenv"
	"github.com/qualitymon/qualitymon/internal/upload"
	"github.com/qualitymon/qualitymon/internal/web"
)

const reviewerToken = "shandong-reviewer-token-0123"

// The note (备注) of an upload travels with its figure: shown to the
// reviewer in the review diff (with the old value, the new value, the
// difference and the source), stored in InfluxDB on approval, shown on
// the target page, exported with the figures and listed on 变化.
func TestNoteRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	logger := slog.New(slog.DiscardHandler)
	set := testenv.Plans(t)
	st := storetest.Open(t)
	tokens := []config.UploadToken{
		{Bureau: "青岛市统计局", TokenSHA256: upload.HashToken(qdToken), Regions: []string{"370200"}, Role: config.RoleReporter, Review: config.ReviewRequired},
		{Bureau: "山东省统计局", TokenSHA256: upload.HashToken(reviewerToken), Regions: []string{"370000", "370200"}, Role: config.RoleReviewer, Review: config.ReviewNone},
	}
	rc, err := reporting.OpenReceipts(filepath.Join(dir, "receipts.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rc.Close() })
	q, err := reporting.OpenQueue(dir, &store.Direct{Store: st}, st, rc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	q.Now = clock
	v := &ingest.Validator{Catalog: set.Catalog, Regions: set.Regions, Now: clock}
	ucfg, err := upload.ParseConfig(&config.Uploads{MaxBytes: 1 << 20, ArchiveDir: filepath.Join(dir, "archive"), AuditLog: filepath.Join(dir, "audit-up.jsonl"), Tokens: tokens})
	if err != nil {
		t.Fatal(err)
	}
	up, err := upload.NewHandler(ucfg, v, &store.Direct{Store: st}, nil, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { up.Close() })
	up.Now = clock
	up.SinkFor = (&reporting.Sinks{Queue: q, Receipts: rc}).For
	w, err := New(Deps{Tokens: tokens, Uploads: up, Queue: q, Validator: v, Dir: filepath.Join(dir, "checked"), Now: clock, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	e := &bureauEnv{t: t, w: w, mux: http.NewServeMux(), now: now}
	w.Register(e.mux)

	send := func(csvText string) string {
		t.Helper()
		req := httptest.NewRequest(http.MethodPost, upload.Path+"?filename=qd.csv", bytes.NewReader([]byte(csvText)))
		req.Header.Set("Authorization", "Bearer "+qdToken)
		req.Header.Set("Content-Type", upload.TypeCSV)
		rec := httptest.NewRecorder()
		up.ServeHTTP(rec, req)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"held": true`) {
			t.Fatalf("upload: %d %s", rec.Code, rec.Body)
		}
		u := q.ForBureau("青岛市统计局", 50)[0]
		return u.ID
	}
	review := func() string {
		t.Helper()
		session := sessionOf(e.signin("10.0.0.8:1", reviewerToken))
		if session == nil {
			t.Fatal("the reviewer cannot sign in")
		}
		r := httptest.NewRequest("GET", "/review", nil)
		r.AddCookie(session)
		rec := e.do(r)
		if rec.Code != 200 {
			t.Fatalf("/review: %d %s", rec.Code, rec.Body)
		}
		return rec.Body.String()
	}

	// A new figure with its note: the reviewer sees the note.
	id := send("指标,地区,时期,数值,来源,备注\n食品安全抽检合格率,青岛市,2024,97.19,青岛市市场监管局,快报数\n")
	if page := review(); !strings.Contains(page, "<td>快报数</td>") || !strings.Contains(page, "97.19") {
		t.Fatalf("review page lacks the new figure's note:\n%s", page)
	}
	if _, err := q.Approve(ctx, id, mustReviewer(t, tokens), "", "10.0.0.8:1"); err != nil {
		t.Fatal(err)
	}
	// A revision with another note: old value, new value, difference, source and both notes.
	now = now.Add(24 * time.Hour)
	id = send("指标,地区,时期,数值,来源,备注\n食品安全抽检合格率,青岛市,2024,96.4,青岛市统计局,按年鉴核定数修订\n")
	page := review()
	i := strings.Index(page, "按年鉴核定数修订")
	if i < 0 {
		t.Fatalf("review page lacks the revision's note:\n%s", page)
	}
	row := page[strings.LastIndex(page[:i], "<tr"):]
	row = row[:strings.Index(row, "</tr>")]
	for _, want := range []string{">97.19 %<", ">96.4 %<", ">-0.79<", "修订", "青岛市统计局", "现有:青岛市市场监管局", "现有备注:快报数"} {
		if !strings.Contains(row, want) {
			t.Errorf("review diff row lacks %q:\n%s", want, row)
		}
	}
	if _, err := q.Approve(ctx, id, mustReviewer(t, tokens), "", "10.0.0.8:1"); err != nil {
		t.Fatal(err)
	}

	// Stored with the figure, shown on the target page and exported.
	site, err := web.New(st, &evaluate.Evaluator{Set: set}, clock, logger)
	if err != nil {
		t.Fatal(err)
	}
	site.Changes.Receipts = rc
	mux := http.NewServeMux()
	site.Register(mux)
	get := func(path string) string {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != 200 {
			t.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
		}
		return rec.Body.String()
	}
	target := get("/plans/qingdao-2023/targets/food-sampling-pass-rate?region=370200")
	for _, n := range []string{"<td>快报数</td>", "<td>按年鉴核定数修订</td>"} {
		if !strings.Contains(target, n) {
			t.Errorf("target page lacks %s", n)
		}
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(get("/export/figures.csv?plan=qingdao-2023&target=food-sampling-pass-rate&region=370200"), "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	notes := map[string]string{}
	for _, r := range rows[1:] {
		notes[r[4]] = r[9]
	}
	if rows[0][9] != "备注" || notes["97.19"] != "快报数" || notes["96.4"] != "按年鉴核定数修订" {
		t.Errorf("figures.csv: %v", rows)
	}
	// 变化 of the day of the revision names the bureau and both notes.
	changes := get("/changes?from=2026-03-01&to=2026-03-02")
	for _, want := range []string{"修订 <b>1</b> 条", "按年鉴核定数修订", "原备注:快报数", "青岛市统计局"} {
		if !strings.Contains(changes, want) {
			t.Errorf("/changes lacks %q", want)
		}
	}
}

func mustReviewer(t *testing.T, tokens []config.UploadToken) *reporting.Bureau {
	t.Helper()
	d, err := reporting.NewDirectory(tokens, testenv.Plans(t).Catalog, testenv.Plans(t).Regions)
	if err != nil {
		t.Fatal(err)
	}
	b, ok := d.Authenticate(reviewerToken)
	if !ok {
		t.Fatal("no reviewer")
	}
	return b
}
