package web

import (
	"fmt"
	"github.com/qualitymon/qualitymon/internal/plan"
	"html/template"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/testenv"
	"github.com/qualitymon/qualitymon/internal/web/shell"
)

func fp(v float64) *float64 { return &v }

// TestRankTies: equal figures share a rank (1, 1, 1, 1, 5); figures of
// different years are ranked apart, the newest year first; rows without a
// figure are not ranked.
func TestRankTies(t *testing.T) {
	row := func(region, period string, v *float64) Row {
		return Row{Evaluation: &evaluate.Evaluation{Region: region, Period: period, Actual: v}}
	}
	rows := []Row{row("a", "2020", fp(25.13)), row("b", "2020", fp(24.5)), row("c", "2020", fp(25.13)), row("d", "2019", fp(30)),
		row("e", "2020", fp(25.13)), row("f", "2020", fp(25.13)), row("g", "", nil), row("h", "2019", fp(20))}
	groups := rank(rows, true)
	var got []string
	for _, g := range groups {
		var s []string
		for _, r := range g.Rows {
			s = append(s, r.Region+":"+strconv.Itoa(r.Rank))
		}
		got = append(got, g.Period+" "+strings.Join(s, " "))
	}
	want := []string{"2020年 a:1 c:1 e:1 f:1 b:5", "2019年 d:1 h:2", " g:0"}
	if strings.Join(got, " | ") != strings.Join(want, " | ") {
		t.Errorf("ranks\n got %q\nwant %q", got, want)
	}
	// Lower is better: the smallest figure ranks first.
	low := rank(rows[:3], false)
	if low[0].Rows[0].Region != "b" || low[0].Rows[1].Rank != 2 || low[0].Rows[2].Rank != 2 {
		t.Errorf("lower is better: %+v", low[0].Rows)
	}
}

// TestPeriodText: a span of years prints as 2018—2019年, never 2018..2019.
func TestPeriodText(t *testing.T) {
	for in, want := range map[string]string{"2018..2019": "2018—2019年", "2020": "2020年", "2024-Q3": "2024-Q3", "": ""} {
		if got := periodText(in); got != want {
			t.Errorf("periodText(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestBarChartFromZero: every bar starts at the zero of the axis, even
// when every figure is near 100, and is labelled with its year; the value
// label clears the target's tick; the legend lies inside the chart.
func TestBarChartFromZero(t *testing.T) {
	c := buildBarChart("t", []barRow{{Label: "甲", Period: "2020年", Value: fp(95.6), Target: fp(97)},
		{Label: "乙", Period: "2025年", Value: fp(98.99), Target: fp(98.5)}}, shell.Float)
	var zeroX float64 = -1
	for _, tx := range c.Texts {
		if tx.Class == "tick" && tx.Label == "0" {
			zeroX = tx.X
		}
	}
	if zeroX < 0 {
		t.Fatal("no tick at zero")
	}
	for _, b := range c.Bars {
		if b.X != zeroX {
			t.Errorf("bar at x=%v, zero at %v", b.X, zeroX)
		}
	}
	// 95.6 is drawn at 95.6/98.99 of 98.99's length, not half of it.
	if r := c.Bars[0].W / c.Bars[1].W; r < 0.95 {
		t.Errorf("95.6 drawn as %.2f of 98.99", r)
	}
	years := 0
	for i, tx := range c.Texts {
		if tx.Class == "bar-value" {
			if !regexp.MustCompile(`\(20\d\d年\)$`).MatchString(tx.Label) {
				t.Errorf("bar label %q without its year", tx.Label)
			}
			years++
			tick := c.Rules[years-1]
			if tx.X <= tick.X1 {
				t.Errorf("label %d %q starts at %v, before the target tick at %v", i, tx.Label, tx.X, tick.X1)
			}
		}
	}
	if years != 2 {
		t.Errorf("%d bar labels, want 2", years)
	}
	checkLegendInside(t, c)
}

// TestLineChartLabels: a deadline at the last year and a target near the
// top — the 期限 and 目标 labels once drawn over each other — do not
// overlap; a series of counts from zero has no tick below zero; the legend
// lies inside the chart, wrapping when it is long.
func TestLineChartLabels(t *testing.T) {
	c := newLineChart(760, 300, "t")
	c.line([]xy{{2017, 0, ""}, {2018, 30, ""}, {2019, 55, ""}}, "actual", "")
	c.vrule(2020, "期限 2020", "deadline")
	c.hrule(70, "目标 ≥70个", "target")
	for i := 0; i < 9; i++ {
		c.key("line", "series", "一个相当长的图例名称")
	}
	out := c.build("")
	var boxes []box
	for _, tx := range out.Texts {
		if tx.Class == "tick" && strings.HasPrefix(tx.Label, "-") {
			t.Errorf("tick %q below zero", tx.Label)
		}
		if tx.Class == "deadline" || tx.Class == "target" {
			boxes = append(boxes, textBox(tx))
		}
	}
	if len(boxes) != 2 || boxes[0].overlaps(boxes[1]) {
		t.Errorf("rule labels overlap: %+v", boxes)
	}
	checkLegendInside(t, out)
}

func checkLegendInside(t *testing.T, c *Chart) {
	t.Helper()
	if len(c.Legend) == 0 {
		t.Fatal("no legend")
	}
	for _, l := range c.Legend {
		if l.Y+6 > c.H || l.TX+labelWidth(l.Label) > c.W+1 {
			t.Errorf("legend %q at (%v,%v) outside the %vx%v chart", l.Label, l.TX, l.Y, c.W, c.H)
		}
	}
}

// TestNotesInChinese: every note and reason of the plans has its Chinese
// text, which the pages show.
func TestNotesInChinese(t *testing.T) {
	for _, tg := range testenv.Plans(t).Targets("") {
		if tg.Note != "" && tg.NoteZh == "" || tg.Reason != "" && tg.ReasonZh == "" {
			t.Errorf("%s/%s: note or reason without note_zh/reason_zh", tg.Plan.Key, tg.ID)
		}
	}
}

// xlsxFrozenAndFiltered checks the status sheet's frozen header and
// filter, and the 说明 sheet's evaluation date.
func xlsxFrozenAndFiltered(t *testing.T, f *excelize.File, at string) {
	t.Helper()
	panes, err := f.GetPanes("目标状态")
	if err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("header not frozen: %+v %v", panes, err)
	}
	tables, err := f.GetTables("目标状态")
	if err != nil || len(tables) != 1 || !strings.HasPrefix(tables[0].Range, "A1:") {
		t.Errorf("no filter table over the sheet: %+v %v", tables, err)
	}
	v, _ := f.GetCellValue("说明", "B1")
	if k, _ := f.GetCellValue("说明", "A1"); k != "评估日期" || !strings.HasPrefix(v, at) {
		t.Errorf("说明 sheet: %s %s, want 评估日期 %s", k, v, at)
	}
}

// TestEnglish: ?lang=en, or a browser preferring English, gets the pages'
// second language, and links keep ?lang=en; Chinese stays the default.
func TestEnglish(t *testing.T) {
	s, mux := newSite(t)
	en := get(t, mux, "/?lang=en").Body.String()
	for _, w := range []string{`<html lang="en">`, "Quality targets", "Status of each plan", `href="/plans/shandong-2018?lang=en"`, "achieved"} {
		if !strings.Contains(en, w) {
			t.Errorf("/?lang=en lacks %q", w)
		}
	}
	req := httptest.NewRequest("GET", "/plans/shandong-2018", nil)
	req.Header.Set("Accept-Language", "en-US,en;q=0.9,zh-CN;q=0.5")
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	if b := rec.Body.String(); !strings.Contains(b, "Export Excel") || rec.Header().Get("Vary") != "Accept-Language" {
		t.Errorf("Accept-Language: en: no English (Vary %q)", rec.Header().Get("Vary"))
	}
	req.Header.Set("Accept-Language", "zh-CN,zh;q=0.9,en;q=0.5")
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	if b := rec.Body.String(); !strings.Contains(b, "导出 Excel") || strings.Contains(b, "Export Excel") {
		t.Error("Accept-Language: zh-CN: not Chinese")
	}
	if zh := get(t, mux, "/").Body.String(); strings.Contains(zh, "Quality targets") || !strings.Contains(zh, `<html lang="zh-CN">`) {
		t.Error("the default is not Chinese")
	}
	if rec := get(t, mux, "/plans/nowhere?lang=en"); !strings.Contains(rec.Body.String(), "Not found") {
		t.Errorf("English error page: %s", rec.Body.String())
	}
	if rec := get(t, mux, "/?lang=fr"); rec.Code != 400 {
		t.Errorf("?lang=fr = %d, want 400", rec.Code)
	}
	// The indicator pages: no Chinese in the visible text but region names
	// and the catalogue's Chinese quotations (marked lang="zh-CN"); the
	// navigation names the plans in English.
	for _, id := range []string{"food_sampling_pass_rate", "prefab_building_share"} {
		page := get(t, mux, "/indicators/"+id+"?lang=en").Body.String()
		if han := chineseLeft(s, page); han != "" {
			t.Errorf("/indicators/%s?lang=en shows Chinese: %q", id, han)
		}
		if !strings.Contains(page, ">Shandong 2018</a>") || !strings.Contains(page, `title="Shandong: implementation plan`) {
			t.Errorf("/indicators/%s?lang=en: the navigation does not name the plans in English", id)
		}
	}
	// Every plan page, its report and every target page (tracked or not,
	// averaged or not), and /changes: the same rule.
	// The target pages: one of each kind (modality, averaged, untracked,
	// with a note, misprinted, unit).
	paths := []string{"/changes?from=2018-01-01&lang=en"}
	kinds := map[string]bool{}
	for _, p := range s.Evaluator.Set.Plans {
		paths = append(paths, "/plans/"+p.Key+"?lang=en", "/report/"+p.Key+"?lang=en")
		for _, tg := range p.Targets {
			kind := fmt.Sprint(tg.Modality, tg.IsTracked(), len(tg.AverageOf) > 0, tg.Note != "", tg.Printed != "", unitOfTarget(tg))
			if kinds[kind] {
				continue
			}
			kinds[kind] = true
			u := "/plans/" + p.Key + "/targets/" + tg.ID + "?lang=en"
			if tg.IsTracked() {
				u += "&region=" + tg.Units[len(tg.Units)-1]
			}
			paths = append(paths, u)
		}
	}
	for _, path := range paths {
		rec := get(t, mux, path)
		if rec.Code != 200 {
			t.Errorf("%s = %d", path, rec.Code)
			continue
		}
		if han := chineseLeft(s, rec.Body.String()); han != "" {
			t.Errorf("%s shows Chinese: %q", path, han)
		}
	}
	if zh := get(t, mux, "/changes?from=2018-01-01").Body.String(); !strings.Contains(zh, `<p class="asof">2018-01-01 23:59 之后至`) {
		t.Error("/changes in Chinese: the window sentence changed")
	}
	target := get(t, mux, "/plans/shandong-2018/targets/food-sampling-pass-rate?region=370000&lang=en").Body.String()
	for _, w := range []string{`<html lang="en">`, "Shandong 2018</a>", "The plan&#39;s text", `<blockquote class="quote" lang="zh-CN">`, "Basis: ", "annual", ">Reported (current)</text>"} {
		if !strings.Contains(target, w) {
			t.Errorf("the English target page lacks %q", w)
		}
	}
}

func unitOfTarget(t *plan.Target) string {
	if t.Ind == nil {
		return ""
	}
	return t.Ind.Unit
}

var (
	zhQuoted = regexp.MustCompile(`(?s)<(dd|p|span|blockquote|small|td|h3)[^>]*lang="zh-CN"[^>]*>.*?</(dd|p|span|blockquote|small|td|h3)>`)
	tag      = regexp.MustCompile(`(?s)<[^>]*>`)
	han      = regexp.MustCompile(`\p{Han}+`)
)

// chineseLeft is the Chinese of an English page's visible text (the
// charts' tooltips included) once the quotations marked lang="zh-CN", the
// link to the Chinese page, the region names and the agencies are taken
// out ("" when none is left).
func chineseLeft(s *Site, page string) string {
	_, body, _ := strings.Cut(page, "<body")
	body = strings.ReplaceAll(body, ">中文</a>", "></a>")
	body = tag.ReplaceAllString(zhQuoted.ReplaceAllString(body, ""), " ")
	for _, reg := range s.Evaluator.Set.Regions.All() {
		body = strings.ReplaceAll(body, reg.Name, "")
	}
	// The agencies (the plan page's filter lists them) stay Chinese too.
	for _, tg := range s.Evaluator.Set.Targets("") {
		for _, a := range append(slices.Clone(tg.LeadAgencies), tg.Agencies...) {
			body = strings.ReplaceAll(body, a, "")
		}
	}
	return strings.Join(han.FindAllString(body, 5), " ")
}

// TestIndicatorAbout: the indicator page shows the catalogue's 指标说明 —
// definition, method, unit, frequency, publication lag, source agency and
// reference — in Chinese, and in English with the Chinese quotations
// marked lang="zh-CN".
func TestIndicatorAbout(t *testing.T) {
	s, mux := newSite(t)
	ind, _ := s.Evaluator.Set.Catalog.Get("food_sampling_pass_rate")
	zh := get(t, mux, "/indicators/food_sampling_pass_rate").Body.String()
	about := between(zh, `<section class="about"`, `</section>`)
	for _, w := range []string{"<h2 id=\"about\">指标说明</h2>",
		"<dt>口径</dt><dd class=\"definition\">" + template.HTMLEscapeString(ind.Definition) + "</dd>",
		"<dt>计算方法</dt><dd class=\"method\">" + template.HTMLEscapeString(ind.Method) + "</dd>",
		"<dt>单位</dt><dd class=\"unit\">百分比(%)</dd>", "<dt>频率</dt><dd class=\"frequency\">年度</dd>",
		"<dt>发布时滞</dt><dd class=\"lag\">90天(按频率默认)", "<dt>数据来源单位</dt><dd class=\"source\">" + template.HTMLEscapeString(ind.Source) + "</dd>",
		"<dt>口径依据</dt><dd class=\"reference\">" + template.HTMLEscapeString(ind.Reference) + "</dd>"} {
		if !strings.Contains(about, w) {
			t.Errorf("指标说明 lacks %q:\n%s", w, about)
		}
	}
	en := get(t, mux, "/indicators/food_sampling_pass_rate?lang=en").Body.String()
	for _, w := range []string{"About the indicator", "<h1>Food safety sampling pass rate</h1>", `<dd class="definition" lang="zh-CN">`,
		`<dd class="lag">90 days (the frequency&#39;s default)`, `<dd class="frequency">annual</dd>`} {
		if !strings.Contains(en, w) {
			t.Errorf("English indicator page lacks %q", w)
		}
	}
}

// between is the part of s from the first start to the following end.
func between(s, start, end string) string {
	_, after, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	in, _, _ := strings.Cut(after, end)
	return in
}

// xlsxIndicators checks the 指标说明 table of the 说明 sheet: one row per
// indicator a plan tracks, with its definition, method and source.
func xlsxIndicators(t *testing.T, s *Site, f *excelize.File) {
	t.Helper()
	rows, err := f.GetRows("说明")
	if err != nil || len(rows) < 8 || rows[5][0] != "指标说明" || strings.Join(rows[6], ",") != strings.Join(indicatorHeader, ",") {
		t.Fatalf("说明 sheet has no 指标说明 table: %v %v", rows, err)
	}
	want := map[string]bool{}
	for _, tg := range s.Evaluator.Set.Tracked("") {
		want[tg.Indicator] = true
	}
	for _, r := range rows[7:] {
		ind, ok := s.Evaluator.Set.Catalog.Get(r[0])
		if !ok || len(r) < 8 || r[5] != ind.Definition || r[6] != ind.Method || r[7] != ind.Source {
			t.Errorf("指标说明 row %v does not match the catalogue", r)
			continue
		}
		delete(want, r[0])
	}
	if len(want) > 0 {
		t.Errorf("指标说明 lacks %v", want)
	}
}
