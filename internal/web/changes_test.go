package web

import (
	"context"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/web/shell"
)

// notedRevision is a revision with a note, reported on revised+1 day over
// the sample's Qingdao food sampling pass rate of 2024.
func notedRevision(t *testing.T, s *Site) observation.Observation {
	t.Helper()
	o := observation.Observation{Indicator: "food_sampling_pass_rate", Region: "370200", Period: period.OfYear(2024),
		Value: 96.4, Source: "青岛市统计局", Note: "按年鉴核定数修订"}
	if _, err := s.Store.Upsert(context.Background(), []observation.Observation{o}, revised.AddDate(0, 0, 1)); err != nil {
		t.Fatal(err)
	}
	return o
}

// 变化 between two moments lists the status change, the revisions with
// their old and new values, difference, source and note, grouped by plan
// and region; before them, the sample's new figures, a page at a time.
func TestChangesPage(t *testing.T) {
	s, mux := newSite(t)
	notedRevision(t, s)
	rec := get(t, mux, "/changes?from=2026-01-11&to=2026-02-28")
	if rec.Code != 200 {
		t.Fatalf("/changes: %d %s", rec.Code, rec.Body)
	}
	body := rec.Body.String()
	for _, want := range []string{
		"目标状态变化 <b>1</b> 项,新报送数据 <b>0</b> 条,修订 <b>2</b> 条",
		"山东省", "青岛市",
		">97.9%<", "按年鉴核定数修订", "青岛市统计局", "山东省市场监管局(修订)", "状态变化", "已达标",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/changes lacks %q in\n%.3000s", want, body[strings.Index(body, "<h1>"):])
		}
	}
	// The revision of Qingdao's 2024 figure: old value, new value, difference.
	i := strings.Index(body, "按年鉴核定数修订")
	row := body[strings.LastIndex(body[:i], "<tr"):i]
	h, err := s.Store.History(context.Background(), observation.Key{Indicator: "food_sampling_pass_rate", Region: "370200", Period: period.OfYear(2024)})
	if err != nil || len(h) != 2 {
		t.Fatalf("history %+v %v", h, err)
	}
	old := h[0].Value
	if !strings.Contains(row, ">"+shell.WithUnit(&old, "percent")+"<") || !strings.Contains(row, ">96.4%<") || !strings.Contains(row, ">"+shell.Signed(96.4-old)+"<") {
		t.Errorf("revision row lacks the old value %v, 96.4 or the difference:\n%s", old, row)
	}

	// Up to the day the sample was reported: its new figures, in pages.
	body = get(t, mux, "/changes?from=2026-01-09&to=2026-01-10").Body.String()
	if !strings.Contains(body, "新报送数据 <b>") || !strings.Contains(body, "下一页") || strings.Contains(body, "修订 <b>1") {
		t.Errorf("the sample's new figures are not listed in pages:\n%.2000s", body)
	}
	// Bad parameters are refused at the edge.
	for _, q := range []string{"from=2026-13-01", "to=x", "page=0", "from=2026-03-01&to=2026-01-01"} {
		if rec := get(t, mux, "/changes?"+q); rec.Code != 400 {
			t.Errorf("/changes?%s: %d", q, rec.Code)
		}
	}
}

// A figure's note is shown on its target page and exported with it.
func TestNoteOnTargetPageAndExport(t *testing.T) {
	s, mux := newSite(t)
	o := notedRevision(t, s)
	page := get(t, mux, "/plans/qingdao-2023/targets/food-sampling-pass-rate?region=370200").Body.String()
	if !strings.Contains(page, "<td>"+o.Note+"</td>") {
		t.Errorf("target page lacks the note %q", o.Note)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(get(t, mux,
		"/export/figures.csv?plan=qingdao-2023&target=food-sampling-pass-rate&region=370200").Body.String(), "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if rows[0][9] != "备注" {
		t.Fatalf("header %v, want 备注 as the tenth column", rows[0])
	}
	found := false
	for _, r := range rows[1:] {
		if r[3] == "2024" && r[4] == "96.4" {
			found = r[9] == o.Note
		}
	}
	if !found {
		t.Errorf("figures.csv lacks the note of the 2024 revision:\n%v", rows)
	}
}
