package evaluate

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

// Builders merged hold what one builder fed every figure holds: the years
// of a region both have joined, the later end kept.
func TestDataBuilderMerge(t *testing.T) {
	y := func(n int) period.Period { return period.Period{Kind: period.Year, Year: n} }
	a, b, whole := NewDataBuilder(), NewDataBuilder(), NewDataBuilder()
	for _, f := range []struct {
		into        *DataBuilder
		ind, region string
		year        int
		v           float64
	}{
		{a, "pass_rate", "370000", 2019, 90}, {b, "pass_rate", "370000", 2021, 92},
		{b, "pass_rate", "370200", 2020, 95}, {a, "aqi", "370000", 2018, 60}, {b, "aqi", "370000", 2017, 61},
	} {
		f.into.Add(f.ind, f.region, y(f.year), f.v)
		whole.Add(f.ind, f.region, y(f.year), f.v)
	}
	a.Merge(b)
	got, want := a.Data(), whole.Data()
	for _, k := range [][2]string{{"pass_rate", "370000"}, {"pass_rate", "370200"}, {"aqi", "370000"}} {
		if g, w := got.Yearly(k[0], k[1]), want.Yearly(k[0], k[1]); !reflect.DeepEqual(g, w) || len(g) == 0 {
			t.Errorf("%v: yearly %v, want %v", k, g, w)
		}
		if g, w := got.LastEnd(k[0], k[1]), want.LastEnd(k[0], k[1]); !g.Equal(w) || g.IsZero() {
			t.Errorf("%v: last end %v, want %v", k, g, w)
		}
	}
}

// Replace gives the data a whole read of the new figures gives: the
// replaced indicators' figures as re-read (one re-read without figures has
// none), the others kept; the base is not changed.
func TestDataReplace(t *testing.T) {
	y := func(n int) period.Period { return period.Period{Kind: period.Year, Year: n} }
	base, fresh, whole := NewDataBuilder(), NewDataBuilder(), NewDataBuilder()
	base.Add("pass_rate", "370000", y(2019), 90)
	base.Add("pass_rate", "370200", y(2019), 91)
	base.Add("gone", "370000", y(2019), 1)
	base.Add("aqi", "370000", y(2018), 60)
	for _, b := range []*DataBuilder{fresh, whole} {
		b.Add("pass_rate", "370000", y(2020), 93)
		b.Add("pass_rate", "370000", y(2019), 92)
	}
	whole.Add("aqi", "370000", y(2018), 60)
	old := base.Data()
	got, want := old.Replace(fresh, []string{"gone", "pass_rate"}), whole.Data()
	for _, k := range [][2]string{{"pass_rate", "370000"}, {"pass_rate", "370200"}, {"aqi", "370000"}, {"gone", "370000"}} {
		if g, w := got.Yearly(k[0], k[1]), want.Yearly(k[0], k[1]); !reflect.DeepEqual(g, w) {
			t.Errorf("%v: yearly %v, want %v", k, g, w)
		}
		if g, w := got.LastEnd(k[0], k[1]), want.LastEnd(k[0], k[1]); !g.Equal(w) {
			t.Errorf("%v: last end %v, want %v", k, g, w)
		}
	}
	if g := old.Yearly("pass_rate", "370000"); !reflect.DeepEqual(g, Series{{2019, 90}}) || len(old.Yearly("gone", "370000")) != 1 {
		t.Errorf("the base changed: %v", g)
	}
}

// WriteBinary writes what AppendBinary appends (the maps in another
// order), a megabyte at a time.
func TestDataWriteBinary(t *testing.T) {
	cat, regs := testenv.Targets(t)
	ev := &Evaluator{Set: &plan.Set{Catalog: cat, Regions: regs}}
	b := ev.NewDataBuilder()
	for r := range 5000 {
		for y := 2000; y < 2025; y++ {
			b.Add("food_sampling_pass_rate", fmt.Sprint(900000+r), period.OfYear(y), float64(r+y))
		}
	}
	want := b.Data()
	enc := want.AppendBinary(nil)
	var written bytes.Buffer
	if err := want.WriteBinary(&written); err != nil {
		t.Fatal(err)
	}
	if written.Len() != len(enc) || written.Len() < 1<<20 {
		t.Fatalf("WriteBinary wrote %d bytes, AppendBinary %d (want the same, over 1 MiB)", written.Len(), len(enc))
	}
	got, err := ev.DataFromBinary(written.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for r := range 5000 {
		reg := fmt.Sprint(900000 + r)
		if g, w := got.Yearly("food_sampling_pass_rate", reg), want.Yearly("food_sampling_pass_rate", reg); !reflect.DeepEqual(g, w) || len(g) != 25 {
			t.Fatalf("%s: yearly %v, want %v", reg, g, w)
		}
	}
}

// The binary figures give back the same data, derived figures included
// (daily AQI rolled up to the yearly share); any shorter or changed
// encoding is an error, never a panic.
func TestDataBinaryRoundTrip(t *testing.T) {
	cat, regs := testenv.Targets(t)
	ev := &Evaluator{Set: &plan.Set{Catalog: cat, Regions: regs}}
	b := ev.NewDataBuilder()
	b.Add("food_sampling_pass_rate", "370200", period.OfYear(2021), 97.5)
	b.Add("food_sampling_pass_rate", "370200", period.OfYear(2022), 98.25)
	b.Add("food_sampling_pass_rate", "370000", period.Period{Kind: period.Month, Year: 2024, N: 3}, 99)
	for d := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() == 2020; d = d.AddDate(0, 0, 1) {
		b.Add("aqi_daily", "620100", period.OfDay(d), float64(40+d.YearDay()%100))
	}
	want := b.Data()
	enc := want.AppendBinary(nil)
	got, err := ev.DataFromBinary(enc)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range [][2]string{{"food_sampling_pass_rate", "370200"}, {"food_sampling_pass_rate", "370000"}, {"good_air_quality_days_share", "620100"}, {"aqi_daily", "620100"}} {
		if g, w := got.Yearly(k[0], k[1]), want.Yearly(k[0], k[1]); !reflect.DeepEqual(g, w) {
			t.Errorf("%v: yearly %v, want %v", k, g, w)
		}
		if g, w := got.LastEnd(k[0], k[1]), want.LastEnd(k[0], k[1]); !g.Equal(w) || g.IsZero() {
			t.Errorf("%v: last end %v, want %v", k, g, w)
		}
	}
	if len(want.Yearly("good_air_quality_days_share", "620100")) != 1 {
		t.Errorf("no share derived from the daily AQI: %v", want.Yearly("good_air_quality_days_share", "620100"))
	}
	for n := range len(enc) {
		if _, err := ev.DataFromBinary(enc[:n]); err == nil {
			t.Fatalf("the first %d of %d bytes read without an error", n, len(enc))
		}
	}
	if _, err := ev.DataFromBinary(append(enc, 0)); err == nil {
		t.Errorf("a byte more read without an error")
	}
}
