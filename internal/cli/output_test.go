package cli

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-runewidth"

	"github.com/qualitymon/qualitymon/internal/evaluate"
)

func f64(v float64) *float64 { return &v }

func sampleEvals() []evaluate.Evaluation {
	dl := 2020
	return []evaluate.Evaluation{
		{Plan: "shandong-2018", Target: "food-sampling-pass-rate", Indicator: "food_sampling_pass_rate", Region: "370000",
			RegionName: "山东省", NameZh: "食品安全抽检合格率", Unit: "percent", Comparator: ">=", Deadline: &dl,
			Actual: f64(90.5), Gap: f64(5.5), Period: "2020", Status: evaluate.Missed},
		{Plan: "qingdao-2023", Target: "brand-value", Indicator: "x", Region: "370200", RegionName: "青岛市",
			NameZh: "品牌价值", Unit: "count", Comparator: ">=", Status: evaluate.OnTrack, Stale: true},
		{Plan: "gansu-2018", Target: "t", Region: "620000", RegionName: "甘肃省", NameZh: "某指标", Status: evaluate.NoData},
	}
}

// columnStarts returns the display column at which each field of a table
// line starts (fields are separated by two or more blanks).
func columnStarts(line string) []int {
	var starts []int
	col, blanks := 0, 2
	for _, r := range line {
		if r == ' ' {
			blanks++
		} else {
			if blanks >= 2 {
				starts = append(starts, col)
			}
			blanks = 0
		}
		col += runewidth.RuneWidth(r)
	}
	return starts
}

// The table lines up by display width with Chinese headers, labels and
// names (a Chinese character is two cells wide), and closes with the counts
// in words.
func TestStatusTable(t *testing.T) {
	for _, lang := range []string{"zh", "en"} {
		var b bytes.Buffer
		at := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
		if err := writeStatus(&Env{Stdout: &b}, outputFlags{Format: "table", Lang: lang}, sampleEvals(), at); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(b.String()), "\n")
		header := columnStarts(lines[0])
		for _, l := range lines[1:4] {
			got := columnStarts(l)
			// Empty cells (no stale mark) have no start of their own.
			for i, j := 0, 0; i < len(got); i++ {
				for j < len(header) && header[j] < got[i] {
					j++
				}
				if j == len(header) || header[j] != got[i] {
					t.Errorf("%s: field at column %d of %q is not under a header (header starts %v)\n%s", lang, got[i], l, header, b.String())
					break
				}
			}
		}
		want := map[string][]string{
			"zh": {"规划", "未达标", "按进度", "无数据", "过期", "截至 2026-12-02 共 3 项评估:已达标 0 项,按进度 1 项,滞后 0 项,严重滞后 0 项,未达标 1 项,无数据 1 项。"},
			"en": {"PLAN", "missed", "on track", "no data", "stale", "3 evaluations as of 2026-12-02: 0 achieved, 1 on track, 0 at risk, 0 off track, 1 missed, 1 no data."},
		}[lang]
		for _, w := range want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s table lacks %q:\n%s", lang, w, b.String())
			}
		}
		if strings.Contains(b.String(), "[") {
			t.Errorf("%s: a Go slice in the output:\n%s", lang, b.String())
		}
	}
}

func TestStatusCSVAndJSON(t *testing.T) {
	var b bytes.Buffer
	if err := writeStatus(&Env{Stdout: &b}, outputFlags{Format: "csv", Lang: "zh"}, sampleEvals(), time.Now()); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	if !strings.HasPrefix(s, "\uFEFF规划,目标,地区,状态,") || !strings.Contains(s, "\r\n") {
		t.Fatalf("CSV wants a UTF-8 BOM, Chinese headers and CRLF:\n%q", s)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(s, "\uFEFF"))).ReadAll()
	if err != nil || len(rows) != 4 || rows[1][3] != "未达标" || rows[1][4] != "90.5" || rows[3][3] != "无数据" {
		t.Fatalf("CSV rows %q: %v", rows, err)
	}
	if strings.Contains(s, "截至") {
		t.Fatal("the summary line belongs to the table, not the CSV")
	}
	b.Reset()
	if err := writeStatus(&Env{Stdout: &b}, outputFlags{Format: "json", Lang: "zh"}, sampleEvals(), time.Now()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"comparator": ">="`) || strings.Contains(b.String(), `\u003e`) {
		t.Fatalf("JSON must not escape HTML characters:\n%.400s", b.String())
	}
}

func TestTargetsFormats(t *testing.T) {
	r := run(t, nil, "targets", "--plan", "hainan-2018")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "规划") || !strings.Contains(r.stdout, "每年保持") || !strings.Contains(r.stdout, "个规划共") {
		t.Fatalf("targets table: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	lines := strings.Split(r.stdout, "\n")
	if h, l := columnStarts(lines[0]), columnStarts(lines[1]); len(h) != len(l) || h[len(h)-1] != l[len(l)-1] {
		t.Errorf("columns do not line up:\n%s\n%s\n%v %v", lines[0], lines[1], h, l)
	}
	r = run(t, nil, "targets", "--plan", "hainan-2018", "--lang", "en")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "PLAN") || !strings.Contains(r.stdout, "targets in 1 plan(s).") {
		t.Fatalf("targets --lang en: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = run(t, nil, "targets", "--format", "csv", "--lang", "en")
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.stdout, "\uFEFF"))).ReadAll()
	if r.code != 0 || !strings.HasPrefix(r.stdout, "\uFEFFPLAN,TARGET,") || err != nil || len(rows) < 100 {
		t.Fatalf("targets csv: %d %v %d rows\n%.300s", r.code, err, len(rows), r.stdout)
	}
	r = run(t, nil, "targets", "--format", "json")
	if strings.Contains(r.stdout, `\u003e`) || !strings.Contains(r.stdout, `"comparator": ">="`) {
		t.Fatal("targets JSON escapes >=")
	}
}
