package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/qualitymon/qualitymon/internal/store"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

// xlsxFile writes a workbook of canonical rows; a cell is a value, or a
// value with a number format (xlsxNum).
type xlsxNum struct {
	v      any
	numFmt int
}

func xlsxFile(t *testing.T, name string, rows ...[]any) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	all := append([][]any{{"indicator", "region", "period", "value", "source"}}, rows...)
	for i, row := range all {
		for j, c := range row {
			ref, _ := excelize.CoordinatesToCellName(j+1, i+1)
			if n, ok := c.(xlsxNum); ok {
				style, err := f.NewStyle(&excelize.Style{NumFmt: n.numFmt})
				if err != nil {
					t.Fatal(err)
				}
				f.SetCellValue("Sheet1", ref, n.v)
				f.SetCellStyle("Sheet1", ref, ref, style)
				continue
			}
			f.SetCellValue("Sheet1", ref, c)
		}
	}
	p := filepath.Join(t.TempDir(), name)
	if err := f.SaveAs(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// current renders what InfluxDB holds now, sorted.
func current(t *testing.T, st *store.Store) []string {
	t.Helper()
	rows, err := st.Current(context.Background(), store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, fmt.Sprintf("%s|%s|%s|%s|%s", r.Indicator, r.Region, r.Period, strconv.FormatFloat(r.Value, 'g', -1, 64), r.Source))
	}
	sort.Strings(out)
	return out
}

// TestImportFiguresAsWritten: `qualitymon import` on the real InfluxDB
// refuses every ambiguous or garbled input whole, naming the cell, and
// stores exactly the value each accepted cell holds.
func TestImportFiguresAsWritten(t *testing.T) {
	env, st := influxEnv(t)
	gbk := func(s string) []byte { return testenv.GBK(t, s) }
	file := func(name string, data []byte) string {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const head = "indicator,region,period,value,source\n"
	const pct, cnt = "food_sampling_pass_rate", "provincial_brand_products_new"
	late := append(testenv.ASCIIRows(2000), []byte("aqi_daily,370200,2020-01-01,60,青岛市生态环境局\n")...)
	late = append(late, gbk("aqi_daily,370200,2020-01-02,61,青岛市生态环境局\n")...)
	refused := []struct {
		path, want string
	}{
		{file("comma-decimal.csv", []byte(head+pct+",370000,2019,96\n"+pct+",370000,2020,\"1.234,5\"\n")), ":3:value: misplaced comma"},
		{file("comma-fraction.csv", []byte(head+pct+",370000,2020,\"0.9,999\"\n")), ":2:value: misplaced comma"},
		{file("nul-source.csv", []byte(head+pct+",370000,2020,96,\"省局\x00\"\n")), ":2:source: control character NUL"},
		{file("mixed.csv", late), ":2003:file: mixed text encodings: row 2002 is UTF-8 text"},
		{xlsxFile(t, "pct-count.xlsx", []any{cnt, "370000", "2020", xlsxNum{0.5, 10}}), ":2:value: a percentage for provincial_brand_products_new"},
	}
	for _, c := range refused {
		r := run(t, env, "import", c.path)
		if r.code != 1 || !strings.Contains(r.stderr, c.path+c.want) || !strings.Contains(r.stderr, "nothing written") {
			t.Errorf("import %s: exit %d, stderr\n%s\nwant %s%s", filepath.Base(c.path), r.code, r.stderr, c.path, c.want)
		}
	}
	if got := current(t, st); len(got) != 0 {
		t.Fatalf("refused files stored %d values: %v", len(got), got[:min(5, len(got))])
	}

	// Accepted: GBK text after 64 KiB of ASCII, stored as written.
	lateGBK := append(testenv.ASCIIRows(2000), gbk("aqi_daily,370200,2020-01-02,61,青岛市生态环境局\n")...)
	if r := run(t, env, "import", file("late-gbk.csv", lateGBK)); r.code != 0 {
		t.Fatalf("late-gbk.csv: exit %d\n%s", r.code, r.stderr)
	}
	// Accepted: numbers as written (CSV) and as held (XLSX).
	csvPath := file("forms.csv", []byte(head+cnt+",370200,2019,\"12,345.6\"\n"+cnt+",370000,2019,\"１，４８２\"\n"+pct+",370200,2019,９８．５％\n"))
	if r := run(t, env, "import", csvPath); r.code != 0 {
		t.Fatalf("forms.csv: exit %d\n%s", r.code, r.stderr)
	}
	book := xlsxFile(t, "held.xlsx",
		[]any{pct, "370000", "2020", xlsxNum{2.6, 1}},      // shown 3
		[]any{pct, "370200", "2020", xlsxNum{0.98456, 10}}, // shown 98.46%
		[]any{cnt, "370000", "2020", xlsxNum{1482.4, 3}},   // shown 1,482
		[]any{pct, "370000", "2021", "98.5%"},              // text
	)
	if r := run(t, env, "import", book); r.code != 0 {
		t.Fatalf("held.xlsx: exit %d\n%s", r.code, r.stderr)
	}
	got := current(t, st)
	check := map[string]string{
		"aqi_daily|370200|2020-01-02": "61|青岛市生态环境局",
		cnt + "|370000|2019":          "1482|",
		cnt + "|370200|2019":          "12345.6|",
		pct + "|370200|2019":          "98.5|",
		pct + "|370000|2020":          "2.6|",
		pct + "|370200|2020":          "98.456|",
		cnt + "|370000|2020":          "1482.4|",
		pct + "|370000|2021":          "98.5|",
	}
	seen := 0
	for _, line := range got {
		parts := strings.SplitN(line, "|", 4)
		key := strings.Join(parts[:3], "|")
		if w, ok := check[key]; ok {
			seen++
			if parts[3] != w {
				t.Errorf("stored %s, want %s|%s", line, key, w)
			}
		}
	}
	if seen != len(check) || len(got) != 2000+len(check) {
		t.Fatalf("%d values stored (%d checked), want %d:\n%s", len(got), seen, 2000+len(check), strings.Join(got[max(0, len(got)-10):], "\n"))
	}
}
