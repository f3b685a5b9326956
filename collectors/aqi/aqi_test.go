package aqi

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qualitymon/qualitymon/collectors"
	"github.com/qualitymon/qualitymon/collectors/collectortest"
	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/plan"
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
	// The yearly share is rolled up by the catalogue's rule as the figures
	// are read (internal/derive), not by the collector.
	ev := &evaluate.Evaluator{Set: &plan.Set{Catalog: v.Catalog, Regions: v.Regions}}
	for _, b := range batches {
		if b.Err != nil {
			t.Fatalf("%s rejected: %v", b.Name, b.Err)
		}
		var rows []observation.Stored
		region := ""
		for _, o := range b.Samples {
			if o.Indicator != Daily {
				t.Fatalf("%s: the collector submitted %s; only daily values are submitted", b.Name, o.Indicator)
			}
			rows = append(rows, observation.Stored{Observation: o})
			region = o.Region
		}
		if len(rows) == 0 {
			t.Fatalf("%s: no daily observations", b.Name)
		}
		t.Logf("%s: %d distinct days", filepath.Base(b.Name), len(rows))
		d := ev.NewData(rows)
		reg, _ := v.Regions.Get(region)
		shares := d.Yearly(Share, region)
		for _, p := range shares {
			zh, _, _ := d.DerivedNote(Share, region, p.Year)
			t.Logf("%s %s %d: good days %.2f%% (%s)", filepath.Base(b.Name), reg.Name, p.Year, p.Value, zh)
			if p.Value < 0 || p.Value > 100 || zh == "" {
				t.Errorf("share %v %q", p.Value, zh)
			}
		}
		for _, s := range d.Skipped(Share, region) {
			t.Logf("%s %s %d: not counted: %s", filepath.Base(b.Name), reg.Name, s.Year, s.Zh)
		}
		if len(shares) == 0 {
			t.Errorf("%s: no year meets the validity rule", b.Name)
		}
	}
}
