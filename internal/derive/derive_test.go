package derive

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/region"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

func pct(id string, d *catalog.Derived) *catalog.Indicator {
	return &catalog.Indicator{ID: id, NameZh: id, NameEn: id, Unit: "percent", Min: fp(0), Max: fp(100), Better: "higher", Frequency: "yearly", Kind: "level", Derived: d}
}

func countInd(id string) *catalog.Indicator {
	return &catalog.Indicator{ID: id, NameZh: id, NameEn: id, Unit: "count", Min: fp(0), Max: fp(1e9), Better: "higher", Frequency: "yearly", Kind: "flow"}
}

// deriveRegions is 甘肃 with three of its prefectures, 山东 and 青岛.
func deriveRegions(t *testing.T) *region.Table {
	t.Helper()
	return testenv.Regions(t, "620000", "620100", "620200", "620300", "370000", "370200")
}

func deriver(t *testing.T, inds ...*catalog.Indicator) *Rules {
	t.Helper()
	cat, err := catalog.New(inds...)
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(cat, deriveRegions(t))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func o(ind, reg string, year int, v float64) observation.Observation {
	return observation.Observation{Indicator: ind, Region: reg, Period: period.OfYear(year), Value: v}
}

func dump(os []observation.Observation) string {
	var b strings.Builder
	for _, o := range os {
		fmt.Fprintf(&b, "%s %s %s %v\n", o.Indicator, o.Region, o.Period, o.Value)
	}
	return b.String()
}

func TestApply(t *testing.T) {
	d := deriver(t,
		pct("fail_rate", nil),
		pct("pass_rate", &catalog.Derived{Complement: "fail_rate"}),
		countInd("good"), countInd("all"),
		pct("good_share", &catalog.Derived{Numerator: "good", Denominator: "all"}),
		pct("air_share", nil),
		pct("air_share_mean_gs", &catalog.Derived{AverageOf: "air_share", Parent: "620000"}),
		pct("air_share_mean_two", &catalog.Derived{AverageOf: "air_share", Parent: "620000", Regions: []string{"兰州", "620300"}}),
		pct("air_share_mean_any", &catalog.Derived{AverageOf: "air_share"}),
		// An average of a derived indicator: needs a second pass.
		pct("pass_rate_mean", &catalog.Derived{AverageOf: "pass_rate", Parent: "620000", Regions: []string{"620100", "620200"}}),
	)
	in := []observation.Observation{
		o("fail_rate", "370200", 2020, 2.9),
		o("fail_rate", "620100", 2021, 1.5),
		o("fail_rate", "620200", 2021, 2.5),
		// Reported directly: wins over the complement of 370000's fail rate.
		o("fail_rate", "370000", 2020, 3),
		o("pass_rate", "370000", 2020, 96.5),
		o("good", "620100", 2020, 300), o("all", "620100", 2020, 366),
		o("good", "620200", 2020, 1), // no denominator: nothing derived
		o("air_share", "620100", 2020, 80), o("air_share", "620200", 2020, 90), o("air_share", "620300", 2020, 85.5),
		o("air_share", "620100", 2021, 70), // 2021 incomplete for the full set
		o("air_share", "620300", 2021, 72),
	}
	figs, bad := d.Batch(in)
	if len(bad) != 0 {
		t.Fatalf("out of range: %+v", bad)
	}
	var got []observation.Observation
	for _, f := range figs {
		got = append(got, f.Observation)
	}
	slices.SortStableFunc(got, func(a, b observation.Observation) int { return cmp.Compare(a.Indicator, b.Indicator) })
	want := `air_share_mean_any 620000 2020 85.166666667
air_share_mean_gs 620000 2020 85.166666667
air_share_mean_two 620000 2020 82.75
air_share_mean_two 620000 2021 71
good_share 620100 2020 81.967213115
pass_rate 370200 2020 97.1
pass_rate 620100 2021 98.5
pass_rate 620200 2021 97.5
pass_rate_mean 620000 2021 98
`
	if g := dump(got); g != want {
		t.Fatalf("derived:\n%s\nwant:\n%s", g, want)
	}
	for _, x := range got {
		if x.Source != "derived" || x.Note == "" {
			t.Fatalf("derived observation without source/note: %+v", x)
		}
	}
}

func TestApplyOutOfRange(t *testing.T) {
	d := deriver(t, countInd("good"), countInd("all"), pct("good_share", &catalog.Derived{Numerator: "good", Denominator: "all"}))
	_, bad := d.Batch([]observation.Observation{o("good", "620100", 2020, 400), o("all", "620100", 2020, 366)})
	if len(bad) != 1 || bad[0].Indicator != "good_share" || bad[0].Value != 109.289617486 {
		t.Fatalf("out of range: %+v", bad)
	}
}

func TestNewErrors(t *testing.T) {
	yearly := pct("y", nil)
	daily := &catalog.Indicator{ID: "d", NameZh: "d", NameEn: "d", Unit: "index", Min: fp(0), Max: fp(500), Better: "lower", Frequency: "daily", Kind: "level"}
	for _, tc := range []struct {
		inds []*catalog.Indicator
		want string
	}{
		{[]*catalog.Indicator{daily, pct("x", &catalog.Derived{Complement: "d"})}, `indicator "x": derived: source "d" is reported daily, "x" yearly`},
		{[]*catalog.Indicator{yearly, pct("x", &catalog.Derived{AverageOf: "y", Parent: "110000"})}, `unknown parent region "110000"`},
		{[]*catalog.Indicator{yearly, pct("x", &catalog.Derived{AverageOf: "y", Parent: "620000", Regions: []string{"火星"}})}, `unknown region "火星"`},
	} {
		cat, err := catalog.New(tc.inds...)
		if err != nil {
			t.Fatal(err)
		}
		_, err = New(cat, deriveRegions(t))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("err = %v, want %q", err, tc.want)
		}
	}
}

func TestCatalogShape(t *testing.T) {
	y := pct("y", nil)
	for d, want := range map[*catalog.Derived]string{
		{Complement: "y", Numerator: "y", Denominator: "y"}: "give exactly one of",
		{Numerator: "y"}: "give exactly one of",
		{AverageOf: "y", Regions: []string{"620100"}}: "regions need the parent region",
		{Complement: "y", Parent: "620000"}:           "parent and regions go with average_of",
		{Complement: "nope"}:                          `unknown source indicator "nope"`,
		{Complement: "x"}:                             "cannot be derived from itself",
	} {
		_, err := catalog.New(y, pct("x", d))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: err = %v, want %q", d, err, want)
		}
	}
}

// The shipped catalogue's derived declarations are all computable.
func TestShippedCatalogue(t *testing.T) {
	cat, regs := testenv.Targets(t)
	if _, err := New(cat, regs); err != nil {
		t.Fatal(err)
	}
}
func fp(f float64) *float64 { return &f }
