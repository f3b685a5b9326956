package ingest

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

func fp(v float64) *float64 { return &v }

func validator(t testing.TB) *Validator {
	cat, err := catalog.New(
		&catalog.Indicator{ID: "food_sampling_pass_rate", NameZh: "食品安全抽检合格率", NameEn: "x", Unit: "percent", Min: fp(0), Max: fp(100), Better: "higher", Frequency: "yearly", Kind: "level", Aliases: []string{"食品抽检合格率"}},
		&catalog.Indicator{ID: "brands_new", NameZh: "新增名牌产品", NameEn: "x", Unit: "count", Min: fp(0), Max: fp(1e6), Better: "higher", Frequency: "yearly", Kind: "flow"},
		&catalog.Indicator{ID: "aqi", NameZh: "空气质量指数", NameEn: "x", Unit: "index", Min: fp(0), Max: fp(500), Better: "lower", Frequency: "daily", Kind: "level"},
	)
	if err != nil {
		t.Fatal(err)
	}
	return &Validator{Catalog: cat, Regions: testenv.Regions(t, "370000", "370200"), Now: func() time.Time { return time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC) }}
}

func TestCSVValidAndChineseHeaders(t *testing.T) {
	v := validator(t)
	for name, in := range map[string]string{
		"english": "indicator,region,period,value,unit,source\nfood_sampling_pass_rate,370000,2020,97.1,%,省市场监管局\n食品抽检合格率,青岛市,2021,98.6%,,\n",
		"chinese": "\ufeff指标,地区,时期,数值\n食品安全抽检合格率,山东,2020,97.1\nfood_sampling_pass_rate,370200,2021年,98.6\n",
	} {
		c, err := NewCSV(name+".csv", strings.NewReader(in))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := v.ReadAll(c)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(got) != 2 || got[0].Region != "370000" || got[0].Value != 97.1 || got[1].Region != "370200" || got[1].Period.String() != "2021" || got[1].Value != 98.6 {
			t.Fatalf("%s: %+v", name, got)
		}
	}
}

func TestGBKDecoded(t *testing.T) {
	v := validator(t)
	utf := "指标,地区,时期,数值\n食品抽检合格率,青岛市,2021,98.6\n"
	c, err := NewCSV("gbk.csv", bytes.NewReader(testenv.GBK(t, utf)))
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.ReadAll(c)
	if err != nil || len(got) != 1 || got[0].Region != "370200" {
		t.Fatalf("%+v %v", got, err)
	}
}

func TestCSVErrorsNameRowAndColumn(t *testing.T) {
	v := validator(t)
	in := "indicator,region,period,value\n" +
		"food_sampling_pass_rate,370000,2020,985\n" + // row 2: out of range
		"unknown_thing,370000,2020,1\n" + // row 3
		"food_sampling_pass_rate,火星,2020,90\n" + // row 4
		"food_sampling_pass_rate,370000,2020-13,90\n" + // row 5
		"food_sampling_pass_rate,370000,2021,abc\n" + // row 6
		"food_sampling_pass_rate,370000,2030,90\n" + // row 7: future
		"food_sampling_pass_rate,370000,2020-Q1,90\n" + // row 8: wrong frequency
		"brands_new,370000,2020,12%\n" + // row 9: percent on a count
		"food_sampling_pass_rate,370200,2019,90\n" +
		"food_sampling_pass_rate,青岛,2019,91\n" // row 11: duplicate key
	c, err := NewCSV("bad.csv", strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.ReadAll(c)
	if got != nil {
		t.Fatalf("observations returned from a rejected file: %v", got)
	}
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("err = %v", err)
	}
	want := []string{
		"bad.csv:2:value: 985 is outside the valid range of food_sampling_pass_rate (expected 0..100 percent)",
		`bad.csv:3:indicator: unknown indicator "unknown_thing"`,
		`bad.csv:4:region: unknown region "火星"`,
		`bad.csv:5:period: invalid period "2020-13"`,
		"bad.csv:6:value: not a number",
		"bad.csv:7:period: period is in the future",
		"bad.csv:8:period: a quarter period for food_sampling_pass_rate, which is reported yearly",
		"bad.csv:9:value: a percentage for brands_new, whose unit is count",
		"bad.csv:11:period: duplicate key food_sampling_pass_rate/370200/2019, first given on row 10",
	}
	if len(errs) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(errs), len(want), errs)
	}
	for i, w := range want {
		if !strings.HasPrefix(errs[i].Error(), w) {
			t.Errorf("error %d = %q, want prefix %q", i, errs[i].Error(), w)
		}
	}
}

// Blank lines are skipped but still counted: errors name the file's line.
func TestRowNumbersCountBlankLines(t *testing.T) {
	v := validator(t)
	c, err := NewCSV("b.csv", strings.NewReader("\nindicator,region,period,value\n\n\nfood_sampling_pass_rate,370000,2020,985\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.ReadAll(c)
	if err == nil || !strings.HasPrefix(err.Error(), "b.csv:5:value:") {
		t.Fatalf("err = %v, want it on line 5", err)
	}
}

func TestHeaderErrors(t *testing.T) {
	for in, want := range map[string]string{
		"":                                "h.csv:1:header: no header row",
		"indicator,region,value\nx,y,1\n": "h.csv:1:header: missing column period",
		"a,b\n":                           "missing column indicator, region, period, value",
	} {
		_, err := NewCSV("h.csv", strings.NewReader(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err %v, want %q", in, err, want)
		}
	}
}

func TestScope(t *testing.T) {
	v := validator(t)
	v.Scope = &Scope{Regions: map[string]bool{"370200": true}}
	c, _ := NewCSV("s.csv", strings.NewReader("indicator,region,period,value\nfood_sampling_pass_rate,370000,2020,97\n"))
	_, err := v.ReadAll(c)
	if err == nil || !strings.Contains(err.Error(), "s.csv:2:region: this reporter is not allowed to report for region 370000 山东省") {
		t.Fatalf("err = %v", err)
	}
}

func FuzzCSV(f *testing.F) {
	f.Add("indicator,region,period,value\nfood_sampling_pass_rate,370000,2020,97\n")
	f.Add("指标,地区,时期,数值\n食品抽检合格率,青岛,2020,98%\n")
	f.Add("indicator,region,period,value\n\"a,b\",x,2020-Q1,1,482\n")
	v := validator(f)
	f.Fuzz(func(t *testing.T, in string) {
		c, err := NewCSV("f.csv", strings.NewReader(in))
		if err != nil {
			return
		}
		got, err := v.ReadAll(c)
		if err != nil && got != nil {
			t.Fatal("rejected input returned observations")
		}
		for _, o := range got {
			ind, _ := v.Catalog.Get(o.Indicator)
			if !ind.InRange(o.Value) {
				t.Fatalf("accepted out-of-range value %v", o.Value)
			}
		}
	})
}

// TestCountyRegions: county-level divisions validate by code, full name and
// short name; a name several counties share and an abolished code are
// refused, naming the candidates (with their parents) and the successor.
func TestCountyRegions(t *testing.T) {
	v := shippedValidator(t)
	c, err := NewCSV("county.csv", strings.NewReader("指标,地区,时期,数值\n食品安全抽检合格率,370281,2020,97.1\n食品安全抽检合格率,海淀区,2020,98\n食品安全抽检合格率,孟村,2020,96\n"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.ReadAll(c)
	if err != nil || len(got) != 3 || got[0].Region != "370281" || got[1].Region != "110108" || got[2].Region != "130930" {
		t.Fatalf("%+v %v", got, err)
	}
	c, err = NewCSV("bad.csv", strings.NewReader("指标,地区,时期,数值\n食品安全抽检合格率,朝阳区,2020,97.1\n食品安全抽检合格率,371200,2020,98\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.ReadAll(c)
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 2 {
		t.Fatalf("err = %v", err)
	}
	for i, want := range []string{
		`bad.csv:2:地区: 地区名称 "朝阳区" 不唯一 (ambiguous region), 可指 110105 北京市朝阳区、220104 吉林省长春市朝阳区`,
		`bad.csv:3:地区: 地区 "371200" (371200 莱芜市) 已于 2019 年撤销 (abolished),现为 370100 济南市`,
	} {
		if !strings.HasPrefix(errs[i].Error(), want) {
			t.Errorf("error %d = %q, want prefix %q", i, errs[i], want)
		}
	}
}
