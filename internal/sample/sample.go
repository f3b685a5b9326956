// Package sample generates the SAMPLE dataset the quick start loads: made-up
// yearly figures for every target of every plan, chosen so that every status
// appears. Every row's source says it is sample data; none of it is an
// official statistic.
package sample

import (
	"hash/fnv"
	"math"
	"sort"

	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/plan"
)

// Source labels every generated row.
const Source = "SAMPLE DATA (synthetic, not official statistics)"

// Scenario is the outcome a target's sample figures are made to show.
type Scenario int

// Scenarios, chosen per target from a hash of its key.
const (
	Achieve Scenario = iota
	Miss
	OnPace  // deadline figure not reported yet, trend meets the target
	Slow    // deadline figure not reported yet, about half the pace
	Regress // deadline figure not reported yet, moving away
	Nothing // no figures at all
	nScenarios
)

// ScenarioOf picks a target's scenario.
func ScenarioOf(key string) Scenario {
	h := fnv.New32a()
	h.Write([]byte(key))
	// Weighted: most targets have data.
	switch n := h.Sum32() % 20; {
	case n < 7:
		return Achieve
	case n < 11:
		return Miss
	case n < 14:
		return OnPace
	case n < 16:
		return Slow
	case n < 18:
		return Regress
	}
	return Nothing
}

// Generate returns sample observations for every target, up to the year
// `through` (the latest year a figure could have been published for).
func Generate(set *plan.Set, through int) []observation.Observation {
	seen := map[observation.Key]bool{}
	var out []observation.Observation
	add := func(o observation.Observation) {
		if !seen[o.Key()] {
			seen[o.Key()] = true
			out = append(out, o)
		}
	}
	for _, t := range set.Tracked("") {
		regions := t.Units
		if len(t.AverageOf) > 0 {
			regions = t.AverageOf
		}
		for i, reg := range regions {
			key := t.Key()
			if len(t.Units) > 1 {
				key += "/" + reg // each city of a group has its own story
			}
			sc := ScenarioOf(key)
			for _, p := range series(t, sc, i, through) {
				add(observation.Observation{Indicator: t.Indicator, Region: reg, Period: period.OfYear(p.year), Value: p.v, Source: Source})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Indicator != b.Indicator {
			return a.Indicator < b.Indicator
		}
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		return a.Period.Year < b.Period.Year
	})
	return out
}

type point struct {
	year int
	v    float64
}

// series makes the yearly figures of one target in one region.
func series(t *plan.Target, sc Scenario, jitter int, through int) []point {
	if sc == Nothing {
		return nil
	}
	baseline := t.Baseline
	var target float64
	if m := t.MultipleOf; m != nil {
		// "翻一番": a made-up reference count, and the target as its multiple.
		baseline = &plan.Baseline{Year: m.Year, Value: 50}
		target = 50 * m.Factor
	} else {
		target = *t.Value
	}
	deadline := t.Due()
	last := min(deadline, through)
	if sc == OnPace || sc == Slow || sc == Regress {
		last = min(deadline-1, through)
	}
	first := t.Plan.Start - 1
	if baseline != nil {
		first = min(first, baseline.Year)
	}
	if last < first {
		last = first
	}
	ind := t.Ind
	dir := 1.0
	if t.Comparator == "<=" || t.Comparator == "<" || (t.Comparator == "==" && !ind.HigherIsBetter()) {
		dir = -1
	}
	lo, hi := *ind.Min, *ind.Max
	clamp := func(v float64) float64 { return math.Max(lo, math.Min(hi, v)) }
	round := func(v float64) float64 {
		if ind.Unit == "count" {
			return math.Round(v)
		}
		return math.Round(v*100) / 100
	}
	var pts []point
	switch t.Modality {
	case plan.New:
		years := deadline - t.Plan.Start + 1
		per := target / float64(years)
		factor := map[Scenario]float64{Achieve: 1.15, Miss: 0.8, OnPace: 1.05, Slow: 0.55, Regress: 0.05}[sc]
		for y := t.Plan.Start; y <= last; y++ {
			pts = append(pts, point{y, round(clamp(per * factor * (1 + 0.02*float64(jitter%3))))})
		}
		return pts
	case plan.Quota:
		var ys []int
		for y := range t.Quotas {
			if y <= through {
				ys = append(ys, y)
			}
		}
		sort.Ints(ys)
		for i, y := range ys {
			f := 1.05
			if sc == Miss && i == len(ys)-1 {
				f = 0.9
			}
			pts = append(pts, point{y, round(clamp(t.Quotas[y] * f))})
		}
		return pts
	}
	// Levels: a start below (or above, when lower is better) the target and
	// a path depending on the scenario.
	span := math.Abs(target) * 0.05
	if baseline != nil && baseline.Value != target {
		span = math.Abs(target - baseline.Value)
	}
	if span == 0 {
		span = 1
	}
	start := clamp(target - dir*span)
	if baseline != nil {
		start = baseline.Value
	}
	n := float64(deadline - first)
	if n <= 0 {
		n = 1
	}
	for y := first; y <= last; y++ {
		k := float64(y - first)
		var v float64
		switch sc {
		case Achieve, OnPace:
			v = start + dir*(span*1.1)*k/n
		case Miss:
			v = start + dir*(span*0.6)*k/n
		case Slow:
			v = start + dir*(span*0.5)*k/n
		case Regress:
			v = start - dir*(span*0.2)*k/n
		}
		if t.Modality == plan.Hold {
			// Hold targets start at the line and either stay above or dip once.
			v = target + dir*math.Max(span*0.02, 0.1)
			if sc == Miss && y == last {
				v = target - dir*math.Max(span*0.02, 0.1)
			}
		}
		pts = append(pts, point{y, round(clamp(v))})
	}
	return pts
}
