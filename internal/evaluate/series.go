package evaluate

import (
	"sort"
	"time"

	"github.com/qualitymon/qualitymon/internal/derive"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
)

// Point is one yearly figure.
type Point struct {
	Year  int
	Value float64
}

// Series is the yearly figures of one indicator in one region, by year.
type Series []Point

// Data is what the evaluator reads: yearly figures and the end of the latest
// period observed, per indicator and region.
type Data struct {
	yearly map[string]map[string]Series // indicator -> region -> series, as reported
	last   map[string]map[string]time.Time

	// rules derive figures from the others (nil: none); days keeps the
	// daily values they roll up (indicator -> region -> year); derived,
	// info and skipped are what they gave (derived.go).
	rules   *derive.Rules
	days    map[string]map[string]map[int]*derive.Days
	derived map[string]map[string]Series
	info    map[dkey]derivedInfo
	skipped map[[2]string][]derive.Skipped
}

// NewData indexes observations. Yearly figures feed the judgement; every
// period kind counts for freshness. Nothing is derived (Evaluator.NewData
// derives the catalogue's derived indicators).
func NewData(rows []observation.Stored) *Data {
	b := NewDataBuilder()
	for i := range rows {
		b.Add(rows[i].Indicator, rows[i].Region, rows[i].Period, rows[i].Value)
	}
	return b.Data()
}

// DataBuilder gathers figures into a Data one at a time, as a store query
// streams them (no slice of every observation first). Not safe for
// concurrent use: each reader fills its own and Merge joins them.
type DataBuilder struct{ d *Data }

// NewDataBuilder starts an empty Data.
func NewDataBuilder() *DataBuilder {
	return &DataBuilder{&Data{yearly: map[string]map[string]Series{}, last: map[string]map[string]time.Time{}}}
}

// Add adds the figure v of indicator in region for period p.
func (b *DataBuilder) Add(indicator, region string, p period.Period, v float64) {
	d := b.d
	if p.Kind == period.Year {
		m := d.yearly[indicator]
		if m == nil {
			m = map[string]Series{}
			d.yearly[indicator] = m
		}
		m[region] = append(m[region], Point{p.Year, v})
	} else if p.Kind == period.Day && d.rules.Daily(indicator) {
		d.addDay(indicator, region, p, v)
	}
	l := d.last[indicator]
	if l == nil {
		l = map[string]time.Time{}
		d.last[indicator] = l
	}
	if end := p.End(); end.After(l[region]) {
		l[region] = end
	}
}

// Merge moves the figures of o into b (o is not used afterwards).
func (b *DataBuilder) Merge(o *DataBuilder) {
	if b.d.days == nil && len(o.d.days) > 0 {
		b.d.days = map[string]map[string]map[int]*derive.Days{}
	}
	mergeByRegion(b.d.days, o.d.days, func(mine, theirs map[int]*derive.Days) map[int]*derive.Days {
		if mine == nil {
			return theirs
		}
		for y, days := range theirs {
			mine[y] = days // builders read disjoint pages of indicators
		}
		return mine
	})
	mergeByRegion(b.d.yearly, o.d.yearly, func(mine, theirs Series) Series { return append(mine, theirs...) })
	mergeByRegion(b.d.last, o.d.last, func(mine, theirs time.Time) time.Time {
		if theirs.After(mine) {
			return theirs
		}
		return mine
	})
}

// mergeByRegion moves src's indicators into dst, joining the values of a
// region both have with join.
func mergeByRegion[V any](dst, src map[string]map[string]V, join func(mine, theirs V) V) {
	for ind, m := range src {
		mine := dst[ind]
		if mine == nil {
			dst[ind] = m
			continue
		}
		for reg, v := range m {
			if old, ok := mine[reg]; ok {
				v = join(old, v)
			}
			mine[reg] = v
		}
	}
}

// Data sorts each series by year (a later figure for a year replaces an
// earlier one) and returns the Data; the builder is not used afterwards.
func (b *DataBuilder) Data() *Data {
	b.sort()
	b.d.derive()
	return b.d
}

// sort sorts each series by year, a later figure for a year replacing an
// earlier one.
func (b *DataBuilder) sort() {
	for _, m := range b.d.yearly {
		for reg, s := range m {
			sort.SliceStable(s, func(i, j int) bool { return s[i].Year < s[j].Year })
			m[reg] = dedupe(s)
		}
	}
}

func dedupe(s Series) Series {
	out := s[:0]
	for i, p := range s {
		if i > 0 && p.Year == s[i-1].Year {
			out[len(out)-1] = p
			continue
		}
		out = append(out, p)
	}
	return out
}

// Yearly returns the series of an indicator in a region: the figures
// reported, and for the years without one, those derived (DerivedNote).
func (d *Data) Yearly(indicator, region string) Series {
	s := d.yearly[indicator][region]
	dv := d.derived[indicator][region]
	if len(dv) == 0 {
		return s
	}
	out := make(Series, 0, len(s)+len(dv))
	out = append(out, s...)
	for _, p := range dv {
		if _, ok := s.at(p.Year); !ok {
			out = append(out, p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Year < out[j].Year })
	return out
}

// LastEnd is the end of the latest period observed (zero if none).
func (d *Data) LastEnd(indicator, region string) time.Time { return d.last[indicator][region] }

// LastEnds lists, per indicator and region, the end of the latest period observed.
func (d *Data) LastEnds(fn func(indicator, region string, end time.Time)) {
	for ind, m := range d.last {
		for reg, t := range m {
			fn(ind, reg, t)
		}
	}
}

// upTo keeps the figures of years up to and including y.
func (s Series) upTo(y int) Series {
	i := sort.Search(len(s), func(i int) bool { return s[i].Year > y })
	return s[:i]
}

// from keeps the figures of years from y on.
func (s Series) from(y int) Series {
	i := sort.Search(len(s), func(i int) bool { return s[i].Year >= y })
	return s[i:]
}

func (s Series) at(y int) (float64, bool) {
	i := sort.Search(len(s), func(i int) bool { return s[i].Year >= y })
	if i < len(s) && s[i].Year == y {
		return s[i].Value, true
	}
	return 0, false
}

// slope is the least-squares trend per year (0 with fewer than two points).
func (s Series) slope() float64 {
	n := float64(len(s))
	if n < 2 {
		return 0
	}
	var sx, sy, sxx, sxy float64
	for _, p := range s {
		x := float64(p.Year)
		sx += x
		sy += p.Value
		sxx += x * x
		sxy += x * p.Value
	}
	den := n*sxx - sx*sx
	if den == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / den
}
