package evaluate

import (
	"strconv"
	"strings"

	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
)

// Reported returns the figure reported for k as d holds it (ok: there is
// one). held says whether d can answer for k at all: it holds every yearly
// figure read, the daily figures of the indicators a rule rolls up, and
// nothing else of other periods. A daily figure is kept at float32
// precision: it is answered only when the shortest decimal of that float32
// has at most six significant digits — then it is the figure as reported
// (any decimal of up to six digits survives float32 unchanged) — and held
// is false otherwise (the caller asks the store).
func (d *Data) Reported(k observation.Key) (v float64, ok, held bool) {
	switch {
	case k.Period.Kind == period.Year:
		v, ok = d.yearly[k.Indicator][k.Region].at(k.Period.Year)
		return v, ok, true
	case k.Period.Kind == period.Day && d.rules.Daily(k.Indicator):
		days := d.days[k.Indicator][k.Region][k.Period.Year]
		if days == nil {
			return 0, false, true
		}
		f, ok := days.At(k.Period.Start())
		if !ok {
			return 0, false, true
		}
		s := strconv.FormatFloat(float64(f), 'e', -1, 32)
		mant, _, _ := strings.Cut(strings.TrimPrefix(s, "-"), "e")
		if len(strings.Replace(mant, ".", "", 1)) > 6 {
			return 0, false, false
		}
		v, err := strconv.ParseFloat(s, 64)
		return v, err == nil, err == nil
	}
	return 0, false, false
}
