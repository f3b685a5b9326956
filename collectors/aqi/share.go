package aqi

import (
	"slices"
	"time"

	"github.com/qualitymon/qualitymon/internal/period"
)

// GoodMax is the highest AQI of a good day (优 or 良).
const GoodMax = 100

// Year sums one city's daily AQI over a calendar year.
type Year struct {
	Year int
	// Good counts days with AQI ≤ GoodMax; Covered the distinct days with a
	// record; Expected the days the year has (for the current year, up to
	// Through); Missing = Expected − Covered.
	Good, Covered, Expected, Missing int
	// ToDate marks the current, incomplete year, covered through Through.
	ToDate  bool
	Through time.Time
}

// Share is the percentage of covered days that were good.
func (y Year) Share() float64 {
	if y.Covered == 0 {
		return 0
	}
	return float64(y.Good) * 100 / float64(y.Covered)
}

// Years sums daily AQI values (one per day) by year, oldest first. The year
// of now is year to date: it expects the days from 1 January to its latest
// record; any other year expects all its days.
func Years(days map[period.Period]float64, now time.Time) []Year {
	by := map[int]*Year{}
	for p, v := range days {
		y := by[p.Year]
		if y == nil {
			y = &Year{Year: p.Year}
			by[p.Year] = y
		}
		y.Covered++
		if v <= GoodMax {
			y.Good++
		}
		if d := p.Start(); d.After(y.Through) {
			y.Through = d
		}
	}
	var out []Year
	for _, y := range by {
		start := time.Date(y.Year, 1, 1, 0, 0, 0, 0, time.UTC)
		if y.Year == now.Year() {
			y.ToDate = true
			y.Expected = int(y.Through.Sub(start).Hours()/24) + 1
		} else {
			y.Expected = int(start.AddDate(1, 0, 0).Sub(start).Hours() / 24)
		}
		y.Missing = y.Expected - y.Covered
		out = append(out, *y)
	}
	slices.SortFunc(out, func(a, b Year) int { return a.Year - b.Year })
	return out
}
