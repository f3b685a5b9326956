package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/testenv"
)

// raws reads a source to the end and renders each raw row.
func raws(src File) (string, error) {
	defer src.Close()
	var b strings.Builder
	for {
		r, err := src.Next()
		if errors.Is(err, io.EOF) {
			return b.String(), nil
		}
		if err != nil {
			return b.String(), err
		}
		c := r.Cells
		fmt.Fprintf(&b, "%d %s|%s|%s|%s|%s\n", r.Row, c[ColIndicator], c[ColRegion], c[ColPeriod], c[ColValue], c[ColUnit])
	}
}

func TestParseExportLiteral(t *testing.T) {
	v := shippedValidator(t)
	for _, tc := range []struct{ name, in, want, err string }{
		{"plain", "数据库：年度数据\n指标：食品抽检合格率(%)\n时间：最近5年\n地区,2024年,2023年\n北京市,98.5,\n山东省,,97\n注：x\n数据来源：国家统计局\n",
			"5 food_sampling_pass_rate|北京市|2024年|98.5|%\n6 food_sampling_pass_rate|山东省|2023年|97|%\n", ""},
		{"ascii colons, full-width brackets, quoted cells", "\"数据库:年度数据\"\n\"指标:药品抽检合格率（%）\"\n\"地区\",\"2024年\"\n\"北京市\",\"99\"\n",
			"4 drug_sampling_pass_rate|北京市|2024年|99|%\n", ""},
		{"blank lines are counted", "\n指标：食品抽检合格率\n\n地区,2024\n\n北京,98\n",
			"6 food_sampling_pass_rate|北京|2024|98|\n", ""},
		{"rows after the footer are ignored", "指标：食品抽检合格率\n地区,2024\n北京,98\n注：1. 口径调整\n2. 2024年为初步数\n",
			"3 food_sampling_pass_rate|北京|2024|98|\n", ""},
		{"unit line", "指标：食品抽检合格率\n单位：%\n地区,2024\n北京,98\n", "4 food_sampling_pass_rate|北京|2024|98|%\n", ""},
		{"no indicator", "数据库：年度数据\n地区,2024年\n", "", "f.csv:2:指标: no indicator line"},
		{"unknown indicator", "指标：GDP(亿元)\n地区,2024年\n", "", `f.csv:1:指标: unknown indicator "GDP"`},
		{"bad header", "指标：食品抽检合格率\n省份,2024年\n", "", "f.csv:2:header: header does not start with 地区"},
		{"bad period", "指标：食品抽检合格率\n地区,2024年,近年\n", "", "f.csv:2:近年: header is not a period"},
		{"value without period", "指标：食品抽检合格率\n地区,2024年\n北京,98,97\n", "", "f.csv:3:column 3: value in a column without a period"},
		{"no header", "指标：食品抽检合格率\n", "", "f.csv:2:header: no header row"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, err := Open("f.csv", strings.NewReader(tc.in), v.Catalog, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := raws(src)
			if tc.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got\n%s(err %v), want\n%s", got, err, tc.want)
			}
		})
	}
}

func TestParseCanonicalLiteral(t *testing.T) {
	src, err := Open("f.CSV", strings.NewReader("\ufeff指标,地区,时期,数值\n食品抽检合格率,青岛,2023,98\n"), nil, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := raws(src)
	if err != nil || got != "2 食品抽检合格率|青岛|2023|98|\n" {
		t.Fatalf("%q %v", got, err)
	}
	if _, err := Open("f.xls", strings.NewReader(""), nil, Limits{}); err == nil || !strings.Contains(err.Error(), "unsupported file type") {
		t.Fatalf("xls: %v", err)
	}
}

// The validator accepts only in-range values of known indicators, whatever
// the parser made of the input; a parser never panics or hangs.
func checkParse(t *testing.T, v *Validator, name string, data []byte) {
	src, err := Open(name, bytes.NewReader(data), v.Catalog, v.Limits)
	if err != nil {
		return
	}
	defer src.Close()
	got, err := v.ReadAll(src)
	if err != nil && got != nil {
		t.Fatal("rejected input returned observations")
	}
	for _, o := range got {
		ind, ok := v.Catalog.Get(o.Indicator)
		if !ok || !ind.InRange(o.Value) {
			t.Fatalf("accepted %+v", o)
		}
	}
}

func FuzzParseCSV(f *testing.F) {
	seeds, _ := filepath.Glob("../../collectors/filedrop/testdata/*/*.csv")
	for _, s := range seeds {
		data, _ := os.ReadFile(s)
		f.Add(data)
	}
	f.Add([]byte("指标：食品抽检合格率\n地区,2024年,2023年\n北京,98,\n"))
	v := shippedValidator(f)
	f.Fuzz(func(t *testing.T, data []byte) { checkParse(t, v, "f.csv", data) })
}

func FuzzParseXLSX(f *testing.F) {
	seeds, _ := filepath.Glob("../../collectors/filedrop/testdata/*/*.xlsx")
	for _, s := range seeds {
		data, _ := os.ReadFile(s)
		f.Add(data)
	}
	v := shippedValidator(f)
	f.Fuzz(func(t *testing.T, data []byte) { checkParse(t, v, "f.xlsx", data) })
}

// FuzzExportRows drives the export parser with rows directly (no CSV
// quoting in the way): cells separated by | and rows by newlines.
func FuzzExportRows(f *testing.F) {
	f.Add("指标：食品抽检合格率(%)\n地区|2024年|2023年\n北京|98|\n注：x")
	f.Add("数据库：x\n指标：药品抽检合格率（%）\n时间：y\n地区|2020\n山东|99.5\n\n甘肃|")
	v := shippedValidator(f)
	f.Fuzz(func(t *testing.T, in string) {
		var rs sliceRows
		for i, line := range strings.Split(in, "\n") {
			rs = append(rs, tableRow{i + 1, strings.Split(line, "|")})
		}
		e := newExport("f", &rs, v.Catalog)
		got, err := v.ReadAll(e)
		if err != nil && got != nil {
			t.Fatal("rejected input returned observations")
		}
		for _, o := range got {
			if o.Indicator == "" || o.Region == "" {
				t.Fatalf("accepted %+v", o)
			}
		}
	})
}

type sliceRows []tableRow

func (s *sliceRows) Next() (int, []string, error) {
	if len(*s) == 0 {
		return 0, nil, io.EOF
	}
	r := (*s)[0]
	*s = (*s)[1:]
	return r.n, r.cells, nil
}

func (s *sliceRows) Close() error { return nil }

// shippedValidator validates against the shipped catalogue and regions.
func shippedValidator(tb testing.TB) *Validator {
	tb.Helper()
	cat, regs := testenv.Targets(tb)
	return &Validator{Catalog: cat, Regions: regs, Now: func() time.Time { return time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC) }}
}

// The layout comes from the first non-blank row, read with the CSV rule.
func TestOpenChoosesLayout(t *testing.T) {
	for in, export := range map[string]bool{
		"数据库：年度数据\n":                      true,
		"\n,,\n指标:x\n":                    true,
		"\"时间：最近5年\",,\n":                 true,
		"指标,地区,时期,数值\n":                   false,
		"indicator,region,period,value\n": false,
	} {
		src, err := Open("f.csv", strings.NewReader(in), nil, Limits{})
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if _, got := src.(*exportReader); got != export {
			t.Errorf("%q: export layout %v, want %v", in, got, export)
		}
	}
	for _, in := range []string{"", "注：x\n", "indicator,region\n"} {
		if _, err := Open("f.csv", strings.NewReader(in), nil, Limits{}); err == nil {
			t.Errorf("%q: opened", in)
		}
	}
}
