package aqi

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/collectors"
	"github.com/qualitymon/qualitymon/collectors/collectortest"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

func newCollector(t *testing.T, opts string) collectors.Collector {
	t.Helper()
	return collectortest.New(t, New, "aqi", opts)
}

// Each testdata/<case>/ holds the city files, config.yml ($DIR is the case
// directory) and expected.out or expected.err. The clock is 2026-11-22.
func TestCases(t *testing.T) {
	collectortest.Cases(t, func(t *testing.T, dir, config string) {
		c := newCollector(t, strings.ReplaceAll(config, "$DIR", dir))
		b := collectortest.Check(t, c, dir)
		// An accepted file is not read again until it changes.
		for _, x := range b {
			x.Ack(x.Err)
		}
		again, _ := c.Collect(context.Background())
		if b[0].Err == nil && len(again) != 0 {
			t.Fatalf("unchanged file read again")
		}
		if b[0].Err != nil && len(again) != 1 {
			t.Fatalf("rejected file not read again")
		}
	})
}

func TestYears(t *testing.T) {
	day := func(s string) period.Period { p, _ := period.Parse(s); return p }
	days := map[period.Period]float64{
		day("2024-02-29"): 100, day("2024-03-01"): 101, // leap year, past
		day("2026-01-01"): 50, day("2026-01-03"): 150, day("2026-01-04"): 20, // current year
	}
	got := Years(days, time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC))
	want := []string{
		"2024 good 1 covered 2 expected 366 missing 364 todate false share 50",
		"2026 good 2 covered 3 expected 4 missing 1 todate true share 66.66666666666667",
	}
	if len(got) != len(want) {
		t.Fatalf("%+v", got)
	}
	for i, y := range got {
		s := fmt.Sprintf("%d good %d covered %d expected %d missing %d todate %v share %v", y.Year, y.Good, y.Covered, y.Expected, y.Missing, y.ToDate, y.Share())
		if s != want[i] {
			t.Errorf("got %s\nwant %s", s, want[i])
		}
	}
}

func TestParseLiteral(t *testing.T) {
	recs, err := Parse("x.csv", strings.NewReader("\ufeff0, 2020-01-01 ,优,40\n\n1,2020-01-02,良,60,1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0] != (Record{1, "2020-01-01", "优", "40"}) || recs[1] != (Record{3, "2020-01-02", "良", "60"}) {
		t.Fatalf("%+v", recs)
	}
	_, err = Parse("x.csv", strings.NewReader("0,2020-01-01,优\n1,2020-01-02,棒,3\n"))
	if err == nil || !strings.Contains(err.Error(), "x.csv:1:line: 3 columns") || !strings.Contains(err.Error(), `x.csv:2:grade: unknown grade "棒"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestOptionErrors(t *testing.T) {
	collectortest.OptionErrors(t, New, map[string]string{
		"source: x\n": "options.files: required",
		"files: [{path: a.csv, region: 火星}]\n":      `options.files[0].region: unknown region "火星"`,
		"files: [{region: 海口}]\n":                   "options.files[0].path: required",
		"files: [{path: a, region: 海口, city: x}]\n": "field city not found",
	})
}

func TestMissingFile(t *testing.T) {
	c := newCollector(t, "files: [{path: /nonexistent/x.csv, region: 海口}]\n")
	if _, err := c.Collect(context.Background()); err == nil || !strings.Contains(err.Error(), "reading AQI file") {
		t.Fatalf("err = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("0,2025-03-01,优,40,1,2\n1,2025-03-01,良,60\n")
	f.Add("0,2025-02-30,很好,abc\n\"")
	v := collectortest.Validator(f)
	f.Fuzz(func(t *testing.T, in string) {
		recs, _ := Parse("f.csv", strings.NewReader(in))
		got, err := Observations(v, "f.csv", "460100", "s", recs, collectortest.Now)
		collectortest.Valid(t, v, got, err)
	})
}

// TestSharedData reads ../shared/data/aqi (or $QUALITYMON_AQI_DIR) when
// present and logs the share of good days per city and year.
func TestSharedData(t *testing.T) {
	dir := os.Getenv("QUALITYMON_AQI_DIR")
	if dir == "" {
		dir = testenv.SharedData(t, "data", "aqi")
	}
	cities := map[string]string{"haikou.csv": "460100", "lanzhou.csv": "620100"}
	var files []string
	for name, code := range cities {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			files = append(files, fmt.Sprintf("  - {path: %q, region: %q}", filepath.Join(dir, name), code))
		}
	}
	if len(files) == 0 {
		testenv.Missing(t, fmt.Sprintf("no AQI data (haikou.csv, lanzhou.csv) in %s", dir))
	}
	c := newCollector(t, "files:\n"+strings.Join(files, "\n")+"\n")
	batches, err := c.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	v := collectortest.Validator(t)
	for _, b := range batches {
		if b.Err != nil {
			t.Fatalf("%s rejected: %v", b.Name, b.Err)
		}
		days := 0
		for _, o := range b.Samples {
			switch o.Indicator {
			case Daily:
				days++
			case Share:
				reg, _ := v.Regions.Get(o.Region)
				t.Logf("%s %s %s: good days %.2f%% (%s)", filepath.Base(b.Name), reg.Name, o.Period, o.Value, o.Note)
				if o.Value < 0 || o.Value > 100 {
					t.Errorf("share %v", o.Value)
				}
			}
		}
		if days == 0 {
			t.Errorf("%s: no daily observations", b.Name)
		}
		t.Logf("%s: %d distinct days", filepath.Base(b.Name), days)
	}
}
