package evaluate

import (
	"slices"
	"time"

	"github.com/qualitymon/qualitymon/internal/plan"
)

// averaged is the yearly series of an average target.
type averaged struct {
	// series: the average per year that counts; trend: the same years over
	// one set of regions, for fitting a trend.
	series, trend Series
	last          time.Time
	coverage      []YearCoverage
}

// averageOf builds an average target's series for its unit region: the
// average as reported (Average.Reported) for the years it covers, else the
// mean of the regions' figures when at least MinCoverage regions (default
// all) reported the year. Years up to maxYear; the trend's common region set
// is taken over the years up to due.
func averageOf(d *Data, t *plan.Target, unit string, maxYear, due int) averaged {
	var a averaged
	n := len(t.AverageOf)
	need := n
	if t.Average != nil && t.Average.MinCoverage > 0 {
		need = t.Average.MinCoverage
	}
	var reported Series
	if t.Average != nil && t.Average.Reported != "" {
		// Only a published average counts as reported: a derived one is
		// the same mean, computed below with its coverage.
		reported = d.reported(t.Average.Reported, unit).upTo(maxYear)
		a.last = d.LastEnd(t.Average.Reported, unit)
	}
	parts := make([]Series, n)
	yearSet := map[int]bool{}
	for i, r := range t.AverageOf {
		parts[i] = d.Yearly(t.Indicator, r).upTo(maxYear)
		for _, p := range parts[i] {
			yearSet[p.Year] = true
		}
		if l := d.LastEnd(t.Indicator, r); l.After(a.last) {
			a.last = l
		}
	}
	for _, p := range reported {
		yearSet[p.Year] = true
	}
	ys := make([]int, 0, len(yearSet))
	for y := range yearSet {
		ys = append(ys, y)
	}
	slices.Sort(ys)
	// reporters[y] lists the indexes of the regions with a figure for y.
	reporters := map[int][]int{}
	for _, y := range ys {
		for i, s := range parts {
			if _, ok := s.at(y); ok {
				reporters[y] = append(reporters[y], i)
			}
		}
	}
	var computed []int
	for _, y := range ys {
		c := YearCoverage{Year: y, Reported: len(reporters[y]), Of: n}
		for i, r := range t.AverageOf {
			if !slices.Contains(reporters[y], i) {
				c.Missing = append(c.Missing, r)
			}
		}
		if v, ok := reported.at(y); ok {
			c.Used, c.Source, c.Value = true, "reported", ptr(v)
			a.series = append(a.series, Point{y, v})
		} else if len(reporters[y]) >= need {
			v := meanOf(parts, reporters[y], y)
			c.Used, c.Source, c.Value = true, "computed", ptr(v)
			a.series = append(a.series, Point{y, v})
			computed = append(computed, y)
		} else {
			c.Source = "computed"
		}
		a.coverage = append(a.coverage, c)
	}
	if need >= n {
		a.trend = a.series
		return a
	}
	// With partial coverage allowed, the trend is fitted on the regions that
	// reported every computed year up to the deadline, so that a change in
	// who reports cannot fake a trend.
	common := map[int]bool{}
	for i := range parts {
		common[i] = true
	}
	for _, y := range computed {
		if y > due {
			continue
		}
		in := map[int]bool{}
		for _, i := range reporters[y] {
			in[i] = true
		}
		for i := range common {
			if !in[i] {
				delete(common, i)
			}
		}
	}
	idx := make([]int, 0, len(common))
	for i := range common {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	for _, p := range a.series {
		if _, ok := reported.at(p.Year); ok {
			a.trend = append(a.trend, p)
		} else if len(idx) > 0 && p.Year <= due && slices.Contains(computed, p.Year) {
			a.trend = append(a.trend, Point{p.Year, meanOf(parts, idx, p.Year)})
		}
	}
	return a
}

// meanOf averages year y over the series at the given indexes (each must
// have a figure for y).
func meanOf(parts []Series, idx []int, y int) float64 {
	sum := 0.0
	for _, i := range idx {
		v, _ := parts[i].at(y)
		sum += v
	}
	return sum / float64(len(idx))
}
