package evaluate

import (
	"reflect"
	"testing"

	"github.com/qualitymon/qualitymon/internal/period"
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
