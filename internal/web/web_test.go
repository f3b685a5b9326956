package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/sample"
	"github.com/qualitymon/qualitymon/internal/store/storetest"
	"github.com/qualitymon/qualitymon/internal/testenv"
	"github.com/qualitymon/qualitymon/internal/web/shell"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// The sample dataset is reported on reported; one figure (Shandong's food
// sampling pass rate of 2019) is revised on revised; pages are asked on now.
var (
	reported = time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	revised  = time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	now      = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

// newSite loads the SAMPLE dataset and a revision into a fresh bucket of
// the shared InfluxDB and returns the site and a mux serving it (with the
// static assets, as serve does).
func newSite(tb testing.TB) (*Site, *http.ServeMux) {
	tb.Helper()
	st := storetest.Open(tb)
	set := testenv.Plans(tb)
	ctx := context.Background()
	obs := sample.Generate(set, 2025)
	for i := 0; i < len(obs); i += 500 {
		if _, err := st.Upsert(ctx, obs[i:min(i+500, len(obs))], reported); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := st.Upsert(ctx, []observation.Observation{{Indicator: "food_sampling_pass_rate", Region: "370000",
		Period: period.OfYear(2019), Value: 97.9, Source: "山东省市场监管局(修订)"}}, revised); err != nil {
		tb.Fatal(err)
	}
	// Two stored evaluations of one target: its status history.
	for i, s := range []evaluate.Status{evaluate.NoData, evaluate.Achieved} {
		ev := evaluate.Evaluation{Plan: "shandong-2018", Target: "food-sampling-pass-rate", Indicator: "food_sampling_pass_rate",
			Region: "370000", Status: s, Basis: evaluate.Basis{Code: "x"}, Period: "2020"}
		if err := st.WriteEvaluations(ctx, []evaluate.Evaluation{ev}, reported.Add(time.Duration(i)*48*time.Hour)); err != nil {
			tb.Fatal(err)
		}
	}
	s, err := New(st, &evaluate.Evaluator{Set: set}, func() time.Time { return now }, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	s.Register(mux)
	shell.Register(mux)
	return s, mux
}

func get(tb testing.TB, h http.Handler, path string) *httptest.ResponseRecorder {
	tb.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return rec
}

// getXLSX fetches path and opens the workbook it answers.
func getXLSX(tb testing.TB, h http.Handler, path string) *excelize.File {
	tb.Helper()
	f, err := excelize.OpenReader(get(tb, h, path).Body)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return f
}

func TestPages(t *testing.T) {
	s, mux := newSite(t)
	pages := map[string][]string{
		"/": {"质量目标看板", "关于开展质量提升行动的实施方案", "质量强国建设纲要", "已达标", "严重滞后", "不可量化跟踪", `href="/plans/shandong-2018"`,
			`href="/report/shandong-2018"`, "评估日期 <b>2026-03-01</b>"},
		"/plans/shandong-2018": {"食品抽检合格率", `<svg class="chart spark"`, `data-status="achieved"`, "不可量化跟踪的承诺",
			`href="/plans/shandong-2018/targets/food-sampling-pass-rate?region=370000"`, `href="/export/status.xlsx?plan=shandong-2018"`},
		"/plans/shandong-2018/targets/food-sampling-pass-rate?region=370000": {"到2020年,食品安全满意度达到85%以上,食品抽检合格率达到96%以上",
			`class="line actual"`, `class="dot revised"`, `class="rule target"`, `class="rule deadline"`, "已被修订", "山东省市场监管局(修订)",
			"状态记录", "2026-01-10", "逐年末回溯", "2018年末", `href="/indicators/food_sampling_pass_rate"`},
		"/plans/shandong-2018/targets/high-standard-farmland-total": {`class="line required"`, "基线 2017 年 4500"},
		"/indicators/food_sampling_pass_rate":                       {`<svg class="chart bar-chart"`, "海南省", "山东省", "青岛市"},
		"/indicators/prefab_building_share":                         {"考核排名", "济南市", "菏泽市"},
		"/report/shandong-2018":                                     {"质量状况分析报告", "一、总体情况", "二、滞后与未达标目标及原因", "四、与其他规划的比较", "五、数据完整性", "六、方法说明", "<svg"},
		"/static/site.css":                                          {"@media print", "size: A4"},
		"/static/site.js":                                           {"data-autosubmit"},
	}
	for path, wants := range pages {
		rec := get(t, mux, path)
		if rec.Code != 200 {
			t.Errorf("%s: %d %s", path, rec.Code, rec.Body.String())
			continue
		}
		if csp := rec.Header().Get("Content-Security-Policy"); csp != shell.CSP {
			t.Errorf("%s: CSP %q", path, csp)
		}
		body := rec.Body.String()
		for _, w := range wants {
			if !strings.Contains(body, w) {
				t.Errorf("%s lacks %q", path, w)
			}
		}
		if strings.HasSuffix(rec.Header().Get("Content-Type"), "html; charset=utf-8") {
			for _, bad := range []string{"<script>", " style=", "http://", "https://"} {
				if strings.Contains(body, bad) {
					t.Errorf("%s contains %q (inline script or style, or an external address)", path, bad)
				}
			}
		}
	}
	_ = s
}

// An unknown path value is a 404; an unknown value of a query parameter a
// 400 (参数无效, internal/param).
func TestErrors(t *testing.T) {
	_, mux := newSite(t)
	for path, want := range map[string]int{
		"/plans/nowhere":                       404,
		"/plans/shandong-2018/targets/nothing": 404,
		"/plans/shandong-2018/targets/food-sampling-pass-rate?region=460000": 400,
		"/indicators/nothing":                    404,
		"/report/nowhere":                        404,
		"/plans/shandong-2018?at=yesterday":      400,
		"/export/status.csv?known_at=2021-13-01": 400,
		"/export/status.csv?plan=nowhere":        400,
		"/report/shandong-2018?format=pdf":       400,
		"/plans/shandong-2018?sort=value":        400,
	} {
		rec := get(t, mux, path)
		if rec.Code != want {
			t.Errorf("%s = %d, want %d", path, rec.Code, want)
		}
		// The error page is in Chinese, what was asked for quoted apart.
		body := rec.Body.String()
		if english := regexp.MustCompile(`Bad Request|Not Found|invalid parameter|unknown (plan|target|indicator)`).FindString(body); english != "" {
			t.Errorf("%s: the error page says %q", path, english)
		}
		if !strings.Contains(body, shell.StatusText(want)) {
			t.Errorf("%s: the error page lacks %q", path, shell.StatusText(want))
		}
	}
}

// Plan text is escaped wherever it appears.
func TestEscaping(t *testing.T) {
	s, mux := newSite(t)
	p, _ := s.Evaluator.Set.Plan("shandong-2018")
	p.Targets[0].Wording = `<script>alert("x")</script>`
	p.Targets[0].Quote = `"><img src=x onerror=alert(1)>`
	for _, path := range []string{"/plans/shandong-2018", "/plans/shandong-2018/targets/" + p.Targets[0].ID, "/report/shandong-2018"} {
		body := get(t, mux, path).Body.String()
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
			t.Errorf("%s: plan text not escaped", path)
		}
		if !strings.Contains(body, "&lt;script&gt;alert") && path != "/report/shandong-2018" {
			t.Errorf("%s: escaped wording missing", path)
		}
	}
}

// known_at before the revision shows the first report as the current value;
// at moves the evaluation date, and links keep both.
func TestMoments(t *testing.T) {
	_, mux := newSite(t)
	page := "/plans/shandong-2018/targets/food-sampling-pass-rate?region=370000"
	before := get(t, mux, page+"&known_at=2026-01-20").Body.String()
	if strings.Contains(before, "已被修订") || strings.Contains(before, "山东省市场监管局(修订)") {
		t.Error("known_at before the revision still shows it")
	}
	if !strings.Contains(before, "仅用 <b>2026-01-20</b> 前报送的数据") {
		t.Error("the page does not say which vintage it shows")
	}
	at := get(t, mux, "/plans/shandong-2018?at=2019-12-31").Body.String()
	if !strings.Contains(at, "评估日期 <b>2019-12-31</b>") || !strings.Contains(at, "/plans/shandong-2018/targets/food-sampling-pass-rate?at=2019-12-31&amp;region=370000") {
		t.Error("at is not shown or not kept by links")
	}
	if strings.Count(at, "已定论") >= strings.Count(get(t, mux, "/plans/shandong-2018").Body.String(), "已定论") {
		t.Error("as of 2019 fewer targets should be settled than today")
	}
	none := get(t, mux, "/plans/shandong-2018?known_at=2025-01-01").Body.String()
	if strings.Count(none, `data-status="no_data"`) != strings.Count(none, `data-status=`) {
		t.Error("known_at before every report: every target should have no data")
	}
}

func TestExports(t *testing.T) {
	s, mux := newSite(t)
	rec := get(t, mux, "/export/status.csv?plan=shandong-2018")
	body := rec.Body.Bytes()
	if !bytes.HasPrefix(body, []byte("\uFEFF")) || !strings.Contains(rec.Header().Get("Content-Disposition"), "qualitymon-status-shandong-2018-20260301.csv") {
		t.Fatalf("CSV without BOM or file name: %q", rec.Header())
	}
	rows, err := csv.NewReader(bytes.NewReader(body[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	evals := len(s.Evaluator.Evaluate(evaluate.NewData(nil), "shandong-2018", now))
	untracked := len(s.Evaluator.Set.Targets("shandong-2018")) - len(s.Evaluator.Set.Tracked("shandong-2018"))
	if len(rows) != 1+evals+untracked || strings.Join(rows[0], ",") != strings.Join(exportHeader, ",") {
		t.Fatalf("CSV: %d rows, want 1+%d+%d; header %v", len(rows), evals, untracked, rows[0])
	}
	var sawUntracked bool
	for _, r := range rows[1:] {
		if r[0] != "shandong-2018" {
			t.Errorf("row of another plan: %v", r)
		}
		sawUntracked = sawUntracked || r[6] == "不可量化跟踪"
	}
	if !sawUntracked {
		t.Error("untracked commitments missing from the export")
	}

	f := getXLSX(t, mux, "/export/status.xlsx?at=2020-12-31")
	xrows, err := f.GetRows("目标状态")
	if err != nil {
		t.Fatal(err)
	}
	all := len(s.Evaluator.Evaluate(evaluate.NewData(nil), "", now)) + len(s.Evaluator.Set.Targets("")) - len(s.Evaluator.Set.Tracked(""))
	if len(xrows) != 1+all || xrows[0][0] != "规划" {
		t.Fatalf("XLSX: %d rows, want %d", len(xrows), 1+all)
	}
	if typ, _ := f.GetCellType("目标状态", "M2"); typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
		t.Errorf("target value cell type %v, want a number", typ)
	}
	xlsxFrozenAndFiltered(t, f, "2020-12-31")
	xlsxIndicators(t, s, f)

	fig := get(t, mux, "/export/figures.csv?plan=shandong-2018&target=food-sampling-pass-rate&region=370000").Body.String()
	if !strings.Contains(fig, "370000,山东省,2019,97.9,%,1,") || !strings.Contains(fig, ",2019,") {
		t.Errorf("figures CSV lacks the revision:\n%s", fig)
	}
}

func TestReportFormats(t *testing.T) {
	s, _ := newSite(t)
	m, _ := ParseMoment("2021-12-31", "", now)
	rep, err := s.BuildReport(context.Background(), "hainan-2018", m)
	if err != nil {
		t.Fatal(err)
	}
	var html, md bytes.Buffer
	if err := s.WriteReport(&html, rep, "html"); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteReport(&md, rep, "md"); err != nil {
		t.Fatal(err)
	}
	// The file stands alone: its stylesheet inline, nothing linked.
	if h := html.String(); !strings.Contains(h, "<style>") || strings.Contains(h, `href="/static`) || !strings.Contains(h, "评估日期 <b>2021-12-31</b>") {
		t.Error("standalone HTML report: stylesheet not inline or date missing")
	}
	for _, w := range []string{"# 关于开展质量提升行动加快建设质量强省的实施意见 质量状况分析报告", "## 二、滞后与未达标目标及原因", "| 目标 | 地区 | 实际 |", "## 五、方法说明"} {
		if !strings.Contains(md.String(), w) {
			t.Errorf("Markdown report lacks %q", w)
		}
	}
	if err := s.WriteReport(io.Discard, rep, "pdf"); err == nil {
		t.Error("unknown format accepted")
	}
}

// The scorecard filters by any agency a target names, lead or responsible
// (江苏's goals name only agencies 按职责分工负责), and refuses an agency no
// target of the plan names.
func TestAgencyFilter(t *testing.T) {
	_, mux := newSite(t)
	rec := get(t, mux, "/plans/jiangsu-2018?agency="+url.QueryEscape("省农委"))
	if rec.Code != 200 {
		t.Fatalf("agency=省农委: %d %s", rec.Code, rec.Body.String())
	}
	body := rec.Body.String()
	_, table, _ := strings.Cut(body, `<table class="scorecard">`) // (the indicator filter names every indicator)
	if !strings.Contains(table, "主要地产农产品质量抽检合格率") || strings.Contains(table, "社会公用计量标准和量值传递体系覆盖率") {
		t.Errorf("agency=省农委 should list the 二(四) goals only")
	}
	if !strings.Contains(body, `<option value="省农委" selected>`) {
		t.Errorf("the responsible agency 省农委 is not a selected filter option")
	}
	if rec := get(t, mux, "/plans/jiangsu-2018?agency="+url.QueryEscape("省不存在局")); rec.Code != 400 {
		t.Errorf("unknown agency = %d, want 400", rec.Code)
	}
}
