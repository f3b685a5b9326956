package web

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/internal/region"
	"github.com/qualitymon/qualitymon/targets"
	"github.com/xuri/excelize/v2"
)

// scaleSite is a site over one plan with two indicators in each of the
// first 300 county-level divisions of the real region table (600
// evaluations, more than a page), judged by the real evaluator from yearly
// figures and served as serve serves it: from the latest evaluation.
func scaleSite(t *testing.T) (*Site, http.Handler, []evaluate.Evaluation) {
	t.Helper()
	return scaleSiteOf(t, 300, 2)
}

// scaleSiteOf is scaleSite over the first n regions of the table (its
// county-level divisions first, then prefectures) × k indicators.
func scaleSiteOf(t testing.TB, n, k int) (*Site, http.Handler, []evaluate.Evaluation) {
	t.Helper()
	return scaleSiteWith(t, n, k, false)
}

// scaleSiteWith is scaleSiteOf, with perRegion every region's targets in a
// plan of its own (countyKey, 「<name>质量强县规划」, issued by
// <name>人民政府) instead of all in scale-2021.
func scaleSiteWith(t testing.TB, n, k int, perRegion bool) (*Site, http.Handler, []evaluate.Evaluation) {
	t.Helper()
	fsys := fstest.MapFS{}
	for _, name := range []string{"regions.yaml", "regions-county.tsv"} {
		data, err := fs.ReadFile(targets.FS, name)
		if err != nil {
			t.Fatal(err)
		}
		fsys[name] = &fstest.MapFile{Data: data}
	}
	inds := []string{"scale_a", "scale_b"}
	for i := 2; i < k; i++ {
		inds = append(inds, fmt.Sprintf("scale_%03d", i))
	}
	inds = inds[:k]
	var cat strings.Builder
	cat.WriteString("indicators:\n")
	for i, id := range inds {
		fmt.Fprintf(&cat, "  - {id: %s, name_zh: 规模指标%d, name_en: Scale %d, unit: percent, min: 0, max: 100, better: higher, frequency: yearly, kind: level, definition: 规模测试用的合成指标, method: 测试数据生成, source: 测试}\n", id, i, i)
	}
	fsys["catalogue/scale.yaml"] = &fstest.MapFile{Data: []byte(cat.String())}
	regs, err := region.Load(fsys, "regions.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var counties []string
	for _, l := range []string{region.County, region.Prefecture} {
		for _, r := range regs.All() {
			if r.Level == l && len(counties) < n {
				counties = append(counties, r.Code)
			}
		}
	}
	plans := map[string]*strings.Builder{}
	planOf := func(c string) *strings.Builder {
		key, name, reg, published := "scale-2021", "规模页面规划", "100000", "2021"
		if perRegion {
			r, _ := regs.Get(c)
			key, name, reg, published = countyKey(c), r.Name+"质量强县规划", c, "2022"
		}
		pf := plans[key]
		if pf == nil {
			pf = &strings.Builder{}
			fmt.Fprintf(pf, "plan: {key: %s, name_zh: %s, issuer: %s, published: %q, region: %q, start: 2021, horizon: 2030, source: test}\ntargets:\n", key, name, strings.TrimSuffix(name, "质量强县规划")+"人民政府", published, reg)
			plans[key] = pf
		}
		return pf
	}
	b := evaluate.NewDataBuilder()
	for i, ind := range inds {
		for k, c := range counties {
			fmt.Fprintf(planOf(c), "  - {id: t-%d-%s, indicator: %s, region: %q, comparator: \">=\", value: 90, deadline: 2027, modality: reach, lead_agencies: [局%d], clause: x, quote: x}\n", i, c, ind, c, k%3)
			for y := 2015; y <= 2024; y++ {
				b.Add(ind, c, period.OfYear(y), 80+float64((y*7+k+i)%20))
			}
		}
	}
	for key, pf := range plans {
		fsys[key+".yaml"] = &fstest.MapFile{Data: []byte(pf.String())}
	}
	set, err := plan.LoadDir(fsys, ".")
	if err != nil {
		t.Fatal(err)
	}
	ev := &evaluate.Evaluator{Set: set}
	data := b.Data()
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	evals := ev.Evaluate(data, "", at)
	s, err := New(nil, ev, func() time.Time { return at }, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	s.Latest = func() ([]evaluate.Evaluation, *evaluate.Data, time.Time) { return evals, data, at }
	mux := http.NewServeMux()
	s.Register(mux)
	return s, mux, evals
}

var rowLink = regexp.MustCompile(`<td><a href="/plans/scale-2021/targets/([^"?]+)\?region=([0-9]+)">`)

// shownRows are the scorecard rows of a page: target id and region.
func shownRows(t *testing.T, body string) [][2]string {
	t.Helper()
	_, table, ok := strings.Cut(body, `<table class="scorecard">`)
	if !ok {
		t.Fatal("no scorecard table")
	}
	var out [][2]string
	for _, m := range rowLink.FindAllStringSubmatch(table, -1) {
		out = append(out, [2]string{m[1], m[2]})
	}
	return out
}

func ok200(t *testing.T, h http.Handler, path string) string {
	t.Helper()
	rec := get(t, h, path)
	if rec.Code != 200 {
		t.Fatalf("%s: %d %s", path, rec.Code, rec.Body.String())
	}
	return rec.Body.String()
}

// The scorecard shows 200 rows a page, in the plan's order: page 2 is rows
// 201-400, with links to the pages before and after and the count.
func TestScorecardPages(t *testing.T) {
	_, mux, evals := scaleSite(t)
	want := func(from, to int) [][2]string {
		var out [][2]string
		for _, ev := range evals[from:to] {
			out = append(out, [2]string{ev.Target, ev.Region})
		}
		return out
	}
	first := ok200(t, mux, "/plans/scale-2021")
	if got := shownRows(t, first); !slices.Equal(got, want(0, 200)) {
		t.Errorf("page 1: %d rows, want rows 1-200 (first %v)", len(got), got[:min(len(got), 2)])
	}
	if !strings.Contains(first, "显示 1–200 / 600 项") || !strings.Contains(first, `href="/plans/scale-2021?page=2" rel="next">下一页`) {
		t.Error("page 1 lacks its count or the link to page 2")
	}
	second := ok200(t, mux, "/plans/scale-2021?page=2")
	if got := shownRows(t, second); !slices.Equal(got, want(200, 400)) {
		t.Errorf("page 2: %d rows, want rows 201-400", len(got))
	}
	for _, w := range []string{"显示 201–400 / 600 项", `href="/plans/scale-2021?page=1" rel="prev">上一页`, `href="/plans/scale-2021?page=3" rel="next">下一页`, "第 2 / 3 页,共 600 项"} {
		if !strings.Contains(second, w) {
			t.Errorf("page 2 lacks %q", w)
		}
	}
	if got := shownRows(t, ok200(t, mux, "/plans/scale-2021?page=3")); !slices.Equal(got, want(400, 600)) {
		t.Errorf("page 3: %d rows, want rows 401-600", len(got))
	}
	// Sorted, the pages follow the sort.
	byGap := slices.Clone(evals)
	slices.SortStableFunc(byGap, func(a, b evaluate.Evaluation) int { return rowOrder("gap")(&a, &b) })
	var wantGap [][2]string
	for _, ev := range byGap[200:400] {
		wantGap = append(wantGap, [2]string{ev.Target, ev.Region})
	}
	if got := shownRows(t, ok200(t, mux, "/plans/scale-2021?sort=gap&page=2")); !slices.Equal(got, wantGap) {
		t.Error("sorted by gap, page 2 is not rows 201-400 of that order")
	}
}

// The page size is bounded: ?size= from 1 to 1,000, ?page= within the
// pages; anything else is a 400.
func TestPageSizeBounded(t *testing.T) {
	_, mux, _ := scaleSite(t)
	if got := shownRows(t, ok200(t, mux, "/plans/scale-2021?size=50&page=12")); len(got) != 50 {
		t.Errorf("size=50: %d rows", len(got))
	}
	if got := shownRows(t, ok200(t, mux, "/plans/scale-2021?size=1000")); len(got) != 600 {
		t.Errorf("size=1000: %d rows, want all 600", len(got))
	}
	for _, q := range []string{"size=1001", "size=0", "size=-5", "size=abc", "page=4", "page=0", "size=50&page=13"} {
		for _, path := range []string{"/plans/scale-2021?", "/indicators/scale_a?", "/?"} {
			if rec := get(t, mux, path+q); rec.Code != 400 {
				t.Errorf("%s%s: %d, want 400", path, q, rec.Code)
			}
		}
	}
}

// The region tree: 全国 lists the provinces with evaluations, a province
// its prefectures (and the counties directly under it), a prefecture its
// counties; each level keeps the rows within it, and the path leads back.
func TestRegionDrillDown(t *testing.T) {
	s, mux, evals := scaleSite(t)
	regs := s.Evaluator.Set.Regions
	within := func(code string) (n int) {
		for _, ev := range evals {
			if slices.Contains(regionChain(regs, ev.Region), code) {
				n++
			}
		}
		return n
	}
	top := ok200(t, mux, "/plans/scale-2021")
	for _, w := range []string{`<b>全国</b>`, `href="/plans/scale-2021?region=130000" data-region="130000">河北省</a> <small>` + fmt.Sprint(within("130000")) + ` 项`} {
		if !strings.Contains(top, w) {
			t.Errorf("全国 lacks %q", w)
		}
	}
	province := ok200(t, mux, "/plans/scale-2021?region=130000")
	if !strings.Contains(province, `<a href="/plans/scale-2021">全国</a> › <b>河北省</b>`) ||
		!strings.Contains(province, `data-region="130100">石家庄市</a>`) || strings.Contains(province, `data-region="110101"`) {
		t.Error("河北省: path or prefectures wrong")
	}
	if !strings.Contains(province, fmt.Sprintf("/ %d 项", within("130000"))) {
		t.Errorf("河北省 should count its %d evaluations", within("130000"))
	}
	city := ok200(t, mux, "/plans/scale-2021?region=130100&size=1000")
	rows := shownRows(t, city)
	if len(rows) != within("130100") || len(rows) == 0 {
		t.Errorf("石家庄市: %d rows, want %d", len(rows), within("130100"))
	}
	for _, r := range rows {
		if !slices.Contains(regionChain(regs, r[1]), "130100") {
			t.Errorf("石家庄市 shows a row of %s", r[1])
		}
	}
	county := regs.Counties("130100")[0]
	if !strings.Contains(city, `data-region="`+county.Code+`">`+county.Name+`</a>`) {
		t.Errorf("石家庄市 does not list its county %s", county.Name)
	}
	page := ok200(t, mux, "/plans/scale-2021?region="+county.Code)
	if !strings.Contains(page, `全国</a> › <a href="/plans/scale-2021?region=130000">河北省</a> › <a href="/plans/scale-2021?region=130100">石家庄市</a> › <b>`+county.Name+`</b>`) {
		t.Error("a county's path is not 全国 › 河北省 › 石家庄市 › county")
	}
	if got := shownRows(t, page); len(got) != 2 || got[0][1] != county.Code {
		t.Errorf("county %s: rows %v, want its two", county.Code, got)
	}
	// The overview and the indicator comparison drill down the same way.
	if ov := ok200(t, mux, "/?region=130000"); !strings.Contains(ov, `data-region="130100">石家庄市</a>`) || !strings.Contains(ov, `href="/plans/scale-2021?region=130000"`) {
		t.Error("overview: no drill-down to 石家庄市 or the plan's link loses the region")
	}
	if ind := ok200(t, mux, "/indicators/scale_a?region=130100"); !strings.Contains(ind, fmt.Sprintf("共 %d 项目标评估", within("130100")/2)) {
		t.Error("indicator comparison: region not applied")
	}
}

// Search by indicator and by region (a code or a name, resolved through
// the region table); anything the table or the plan does not hold is a 400
// and reaches no query.
func TestScorecardSearch(t *testing.T) {
	_, mux, _ := scaleSite(t)
	rows := shownRows(t, ok200(t, mux, "/plans/scale-2021?indicator=scale_b&region="+url.QueryEscape("石家庄市")+"&size=1000"))
	if len(rows) == 0 {
		t.Fatal("no rows for scale_b in 石家庄市")
	}
	for _, r := range rows {
		if !strings.HasPrefix(r[0], "t-1-") || r[1][:4] != "1301" {
			t.Errorf("search shows %v", r)
		}
	}
	for _, q := range []string{"indicator=nope", "region=" + url.QueryEscape("不存在市"), "region=999999", "region=" + url.QueryEscape(`") |> drop()`), "status=x"} {
		if rec := get(t, mux, "/plans/scale-2021?"+q); rec.Code != 400 || !strings.Contains(rec.Body.String(), "参数无效") {
			t.Errorf("%s: %d, want 400 参数无效", q, rec.Code)
		}
	}
}

// The exports are streamed: no Content-Length, flushed as the rows are
// written, and complete (every evaluation, in order); with ?region= the
// region's rows only.
func TestExportStreamed(t *testing.T) {
	_, mux, evals := scaleSite(t)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/export/status.csv?plan=scale-2021", nil))
	if rec.Code != 200 || !rec.Flushed {
		t.Fatalf("status.csv: %d, flushed %v", rec.Code, rec.Flushed)
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/export/status.csv?plan=scale-2021")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.ContentLength != -1 || resp.Header.Get("Content-Length") != "" || !slices.Contains(resp.TransferEncoding, "chunked") {
		t.Errorf("status.csv: Content-Length %d, Transfer-Encoding %v: not streamed", resp.ContentLength, resp.TransferEncoding)
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\uFEFF")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1+len(evals) || recs[1][2] != evals[0].Target || recs[len(recs)-1][2] != evals[len(evals)-1].Target {
		t.Fatalf("status.csv: %d records, want %d, first and last in order", len(recs), 1+len(evals))
	}
	rec = get(t, mux, "/export/status.csv?plan=scale-2021&region=130100")
	recs, _ = csv.NewReader(bytes.NewReader(bytes.TrimPrefix(rec.Body.Bytes(), []byte("\uFEFF")))).ReadAll()
	for _, r := range recs[1:] {
		if r[4][:4] != "1301" {
			t.Errorf("region=130100 exports a row of %s", r[4])
		}
	}
	if len(recs) < 2 {
		t.Error("region=130100: no rows")
	}
	// The workbook too: flushed as its rows are made, not sized in advance,
	// and its sheet the CSV's rows, numbers as numbers, the table over all.
	all, _ := csv.NewReader(strings.NewReader(strings.TrimPrefix(ok200(t, mux, "/export/status.csv?plan=scale-2021"), "\uFEFF"))).ReadAll()
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/export/status.xlsx?plan=scale-2021", nil))
	if rec.Code != 200 || !rec.Flushed {
		t.Fatalf("status.xlsx: %d, flushed %v", rec.Code, rec.Flushed)
	}
	if resp, err := http.Get(srv.URL + "/export/status.xlsx?plan=scale-2021"); err != nil {
		t.Fatal(err)
	} else {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.ContentLength != -1 || !slices.Contains(resp.TransferEncoding, "chunked") {
			t.Errorf("status.xlsx: Content-Length %d, Transfer-Encoding %v: not streamed", resp.ContentLength, resp.TransferEncoding)
		}
	}
	f, err := excelize.OpenReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	sheet, err := f.GetRows("目标状态")
	if err != nil || len(sheet) != 1+len(evals) {
		t.Fatalf("status.xlsx: %d rows (%v), want %d", len(sheet), err, 1+len(evals))
	}
	for i, row := range sheet {
		want := all[i]
		for len(want) > 0 && want[len(want)-1] == "" {
			want = want[:len(want)-1]
		}
		if !slices.Equal(row, want) {
			t.Fatalf("status.xlsx row %d: %q, the CSV's %q", i+1, row, want)
		}
	}
	for _, cell := range []string{"I2", "M2", "O2"} {
		if typ, _ := f.GetCellType("目标状态", cell); typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
			t.Errorf("%s: cell type %v, want a number", cell, typ)
		}
	}
	if tables, err := f.GetTables("目标状态"); err != nil || len(tables) != 1 || tables[0].Range != fmt.Sprintf("A1:X%d", 1+len(evals)) {
		t.Errorf("status.xlsx: table %+v (%v), want A1:X%d", tables, err, 1+len(evals))
	}
}

// The indicator comparison is paged too: 300 regions, 200 a page.
func TestIndicatorPages(t *testing.T) {
	_, mux, _ := scaleSite(t)
	count := func(body string) int { return strings.Count(body, `<td><a href="/plans/scale-2021/targets/`) }
	first, second := ok200(t, mux, "/indicators/scale_a"), ok200(t, mux, "/indicators/scale_a?page=2")
	if count(first) != 200 || count(second) != 100 {
		t.Errorf("indicator pages: %d and %d rows, want 200 and 100", count(first), count(second))
	}
	if !strings.Contains(first, "共 300 项目标评估") || !strings.Contains(first, `rel="next">下一页`) || !strings.Contains(first, "本页前 12 个地区") {
		t.Error("indicator page 1 lacks its count, the next page or the line chart's note")
	}
}

// countyKey is the key of a county's plan in scaleSiteWith: plan keys are
// letters and a year, so the code's digits become letters (130102:
// "xianbdabac-2022").
func countyKey(code string) string {
	b := []byte(code)
	for i := range b {
		b[i] += 'a' - '0'
	}
	return "xian" + string(b) + "-2022"
}

// With a plan for every county, the header lists a few plans and links to
// the overview, which shows a page of them with their number, narrows them
// to a region of the tree and finds them by a part of the name.
func TestManyPlans(t *testing.T) {
	s, mux, _ := scaleSiteWith(t, 300, 1, true)
	if len(s.Evaluator.Set.Plans) != 300 {
		t.Fatalf("%d plans", len(s.Evaluator.Set.Plans))
	}
	planRows := regexp.MustCompile(`<th scope="row"><a href="/plans/(xian[a-j]+-2022)[^"]*">`)
	top := ok200(t, mux, "/")
	_, nav, _ := strings.Cut(top, `<nav class="plans">`)
	nav, _, _ = strings.Cut(nav, "</nav>")
	if n := strings.Count(nav, `href="/plans/`); n > navPlans {
		t.Errorf("the header lists %d plans, at most %d", n, navPlans)
	}
	if !strings.Contains(nav, `<a href="/" title="全部 300 个规划">全部 300 个规划 ›</a>`) {
		t.Errorf("the header does not link to all 300 plans: %.300s", nav)
	}
	if rows := planRows.FindAllStringSubmatch(top, -1); len(rows) != pageSize || !strings.Contains(top, `<span class="n">300</span>个规划`) ||
		!strings.Contains(top, `href="/?page=2" rel="next">下一页`) {
		t.Errorf("overview: %d plans shown, want a page of %d of 300 and a link to the next", len(rows), pageSize)
	}
	if rows := planRows.FindAllStringSubmatch(ok200(t, mux, "/?page=2"), -1); len(rows) != 100 {
		t.Errorf("overview page 2: %d plans, want 100", len(rows))
	}
	// By region: 石家庄市's counties' plans only.
	for _, m := range planRows.FindAllStringSubmatch(ok200(t, mux, "/?region=130100"), -1) {
		if !strings.HasPrefix(m[1], countyKey("1301")[:8]) {
			t.Errorf("石家庄市 lists %s", m[1])
		}
	}
	// By name: one county's plan.
	county := s.Evaluator.Set.Plans[17]
	found := ok200(t, mux, "/?plan="+url.QueryEscape(county.NameZh))
	if rows := planRows.FindAllStringSubmatch(found, -1); len(rows) != 1 || rows[0][1] != county.Key || !strings.Contains(found, `<span class="n">1</span>个规划`) {
		t.Errorf("searching %s: %v", county.NameZh, rows)
	}
	if rows := planRows.FindAllStringSubmatch(ok200(t, mux, "/?plan=nothing-like-it"), -1); len(rows) != 0 {
		t.Errorf("a name no plan has finds %d", len(rows))
	}
	if rec := get(t, mux, "/?plan="+strings.Repeat("县", maxFind+1)); rec.Code != 400 || !strings.Contains(rec.Body.String(), "参数无效") {
		t.Errorf("a 51-character search: %d, want 400", rec.Code)
	}
}

// Each upload publishes a new latest evaluation; the pages keep the index
// of the newest only (an older one held its whole evaluation: 158 MB at
// 300,000 targets), and the latest's index is built once however often
// it is asked for.
func TestOnlyLatestIndexKept(t *testing.T) {
	s, _, evals := scaleSiteOf(t, 30, 2)
	latest := evals
	s.Latest = func() ([]evaluate.Evaluation, *evaluate.Data, time.Time) { return latest, nil, time.Time{} }
	s.Prepare()
	first := s.indexOf(latest, true)
	for range keptIndexes + 1 {
		latest = slices.Clone(evals) // as Engine.Apply publishes: a new slice
		s.Prepare()
	}
	if again := s.indexOf(latest, true); again != s.indexOf(latest, true) || again == first {
		t.Fatal("the latest evaluation's index was built again, or is the first's")
	}
	s.indexes.mu.Lock()
	defer s.indexes.mu.Unlock()
	if n := len(s.indexes.list); n != 1 || s.indexes.list[0].first != &latest[0] {
		t.Fatalf("the site keeps %d indexes after %d evaluations, want only the latest's", n, keptIndexes+2)
	}
}
