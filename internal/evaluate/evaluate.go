package evaluate

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/plan"
)

// Evaluation is the judgement of one target for one region at one moment.
type Evaluation struct {
	Plan        string   `json:"plan"`
	Target      string   `json:"target"`
	Indicator   string   `json:"indicator"`
	NameZh      string   `json:"name_zh"`
	Region      string   `json:"region"`
	RegionName  string   `json:"region_name"`
	Unit        string   `json:"unit"`
	Comparator  string   `json:"comparator"`
	Modality    string   `json:"modality"`
	LeadAgency  string   `json:"lead_agency"`
	TargetValue float64  `json:"target_value"`
	Deadline    *int     `json:"deadline"`
	Actual      *float64 `json:"actual"`
	Period      string   `json:"period"`
	Gap         *float64 `json:"gap"`
	Baseline    *float64 `json:"baseline"`
	Projected   *float64 `json:"projected"`
	Progress    *float64 `json:"progress"`
	Status      Status   `json:"status"`
	Stale       bool     `json:"stale"`
	// LastObservation is the end of the latest period observed (nil if none).
	LastObservation *time.Time      `json:"last_observation"`
	Detail          string          `json:"detail,omitempty"`
	Years           []YearJudgement `json:"years,omitempty"`
}

// YearJudgement is one year of a hold or quota target.
type YearJudgement struct {
	Year   int     `json:"year"`
	Target float64 `json:"target"`
	Actual float64 `json:"actual"`
	Met    bool    `json:"met"`
}

// Options tune the judgement.
type Options struct {
	// Grace is added to an indicator's reporting interval before its data
	// counts as stale; per frequency, with a default for unlisted ones.
	Grace map[period.Kind]time.Duration
}

// DefaultGrace: yearly figures are published well into the next year.
var DefaultGrace = map[period.Kind]time.Duration{
	period.Year:    180 * 24 * time.Hour,
	period.Half:    90 * 24 * time.Hour,
	period.Quarter: 60 * 24 * time.Hour,
	period.Month:   30 * 24 * time.Hour,
	period.Day:     3 * 24 * time.Hour,
}

// Evaluator judges targets.
type Evaluator struct {
	Set  *plan.Set
	Opts Options
}

// Evaluate judges every target (of one plan when planKey is set) as of at.
// Region groups give one evaluation per region.
func (e *Evaluator) Evaluate(d *Data, planKey string, at time.Time) []Evaluation {
	targets := e.Set.Targets(planKey)
	out := make([]Evaluation, 0, len(targets))
	for _, t := range targets {
		for _, reg := range t.Units {
			out = append(out, e.one(d, t, reg, at))
		}
	}
	return out
}

func (e *Evaluator) one(d *Data, t *plan.Target, reg string, at time.Time) Evaluation {
	ev := Evaluation{
		Plan: t.Plan.Key, Target: t.ID, Indicator: t.Indicator, Region: reg,
		Unit: t.Ind.Unit, Comparator: t.Comparator, Modality: t.Modality,
		NameZh: t.Ind.NameZh, TargetValue: *t.Value,
	}
	if r, ok := e.Set.Regions.Get(reg); ok {
		ev.RegionName = r.Name
	}
	if len(t.LeadAgencies) > 0 {
		ev.LeadAgency = strings.Join(t.LeadAgencies, "、")
	}
	if t.Deadline != 0 {
		dl := t.Deadline
		ev.Deadline = &dl
	}
	if t.Baseline != nil {
		b := t.Baseline.Value
		ev.Baseline = &b
	}
	s, last, note := e.series(d, t, reg)
	// Only periods that have begun by the evaluation date count.
	s = s.upTo(at.Year())
	if !last.IsZero() {
		if limit := period.OfYear(at.Year()).End(); last.After(limit) {
			last = limit
		}
		l := last
		ev.LastObservation = &l
		freq := t.Ind.Freq()
		grace, ok := e.Opts.Grace[freq]
		if !ok {
			grace = DefaultGrace[freq]
		}
		ev.Stale = at.Sub(last) > freq.Interval()+grace
	}
	j := judge{t: t, s: s, at: at}
	if t.Deadline != 0 {
		freq := t.Ind.Freq()
		grace, ok := e.Opts.Grace[freq]
		if !ok {
			grace = DefaultGrace[freq]
		}
		// The deadline year's figure is due within the grace after the year ends.
		j.overdue = at.After(period.OfYear(t.Deadline).End().Add(grace))
	}
	switch t.Modality {
	case plan.Hold:
		j.hold(&ev)
	case plan.Quota:
		j.quota(&ev)
	case plan.New:
		j.sum(&ev)
	default:
		j.reach(&ev)
	}
	if note != "" {
		ev.Detail = strings.TrimPrefix(ev.Detail+"; "+note, "; ")
	}
	return ev
}

// series is the yearly series judged for a region: its own figures, or for an
// average target the reported average when there is one, else the mean of
// its regions' figures.
func (e *Evaluator) series(d *Data, t *plan.Target, reg string) (Series, time.Time, string) {
	if len(t.AverageOf) == 0 {
		return d.Yearly(t.Indicator, reg), d.LastEnd(t.Indicator, reg), ""
	}
	if s := d.Yearly(t.Indicator, reg); len(s) > 0 {
		return s, d.LastEnd(t.Indicator, reg), "average as reported"
	}
	parts := make([]Series, 0, len(t.AverageOf))
	var last time.Time
	for _, r := range t.AverageOf {
		parts = append(parts, d.Yearly(t.Indicator, r))
		if l := d.LastEnd(t.Indicator, r); l.After(last) {
			last = l
		}
	}
	m, cover := mean(parts)
	if len(m) == 0 {
		return nil, last, ""
	}
	return m, last, fmt.Sprintf("mean of %d/%d regions", cover, len(t.AverageOf))
}

type judge struct {
	t  *plan.Target
	s  Series
	at time.Time
	// overdue: the deadline year's figure should have been reported by now.
	overdue bool
}

const overdueNote = "deadline-year figure never reported: judged on the last figure before the deadline"

func ptr(f float64) *float64 { return &f }

// gap is the shortfall in the indicator's unit: positive when not met.
func gap(cmp string, higherBetter bool, actual, target float64) float64 {
	switch cmp {
	case ">=", ">":
		return target - actual
	case "<=", "<":
		return actual - target
	}
	if higherBetter {
		return target - actual
	}
	return actual - target
}

// direction is +1 when the target asks for a higher value, -1 for lower.
func direction(cmp string, higherBetter bool) float64 {
	switch cmp {
	case ">=", ">":
		return 1
	case "<=", "<":
		return -1
	}
	if higherBetter {
		return 1
	}
	return -1
}

func (j *judge) setActual(ev *Evaluation, p Point) {
	ev.Actual = ptr(p.Value)
	ev.Period = period.OfYear(p.Year).String()
	ev.Gap = ptr(gap(j.t.Comparator, j.t.Ind.HigherIsBetter(), p.Value, *j.t.Value))
}

// clamp keeps a projection within the indicator's valid range.
func (j *judge) clamp(v float64) float64 {
	ind := j.t.Ind
	if ind.Min != nil && v < *ind.Min {
		return *ind.Min
	}
	if ind.Max != nil && v > *ind.Max {
		return *ind.Max
	}
	return v
}

// reach: the deadline year's figure decides; before it, the trend projected
// to the deadline against the progress required.
func (j *judge) reach(ev *Evaluation) {
	t := j.t
	if len(j.s) == 0 {
		ev.Status = NoData
		return
	}
	latest := j.s[len(j.s)-1]
	if t.Deadline != 0 {
		if v, ok := j.s.at(t.Deadline); ok {
			j.setActual(ev, Point{t.Deadline, v})
			if t.Met(v) {
				ev.Status = Achieved
			} else {
				ev.Status = Missed
			}
			return
		}
		if latest.Year > t.Deadline {
			// Only figures after the deadline: judge on the last one before it, if any.
			if before := j.s.upTo(t.Deadline); len(before) > 0 {
				latest = before[len(before)-1]
			}
		}
	}
	j.setActual(ev, latest)
	if t.Deadline != 0 && j.overdue && latest.Year <= t.Deadline {
		if t.Met(latest.Value) {
			ev.Status = Achieved
		} else {
			ev.Status = Missed
		}
		ev.Detail = overdueNote
		return
	}
	if t.Deadline == 0 {
		// No deadline: met now is achieved; otherwise the direction of travel.
		if t.Met(latest.Value) {
			ev.Status = Achieved
			return
		}
		dir := direction(t.Comparator, t.Ind.HigherIsBetter())
		if j.trendSeries().slope()*dir > 0 {
			ev.Status = AtRisk
		} else {
			ev.Status = OffTrack
		}
		ev.Detail = "no deadline: judged on the current figure and its trend"
		return
	}
	j.project(ev, latest)
}

// trendSeries is the part of the series the trend is fitted on: from the
// baseline year (stated, or the year before the plan starts) on, with a
// stated baseline included as a point.
func (j *judge) trendSeries() Series {
	t := j.t
	startYear := t.Plan.Start - 1
	if t.Baseline != nil {
		startYear = t.Baseline.Year
	}
	s := j.s.from(startYear)
	if t.Baseline != nil {
		if _, ok := s.at(t.Baseline.Year); !ok {
			s = append(Series{{t.Baseline.Year, t.Baseline.Value}}, s...)
		}
	}
	if len(s) == 0 {
		s = j.s
	}
	return s
}

// project sets Projected, Progress and the status from the trend.
func (j *judge) project(ev *Evaluation, latest Point) {
	t := j.t
	target := *t.Value
	s := j.trendSeries()
	base := s[0]
	if t.Baseline != nil {
		base = Point{t.Baseline.Year, t.Baseline.Value}
	}
	ev.Baseline = ptr(base.Value)
	projected := j.clamp(latest.Value + s.slope()*float64(t.Deadline-latest.Year))
	ev.Projected = ptr(projected)
	dir := direction(t.Comparator, t.Ind.HigherIsBetter())
	required := (target - base.Value) * dir
	if required <= 0 || len(s) < 2 {
		// Already at the target when the plan started, or no trend yet: the
		// projection meeting the target is on track; falling short of a target
		// once met is regression; a single figure short of it needs acceleration.
		switch {
		case t.Met(projected):
			ev.Status = OnTrack
		case required <= 0:
			ev.Status = OffTrack
		default:
			ev.Status = AtRisk
			ev.Detail = "one figure only: no trend yet"
		}
		if required > 0 {
			ev.Progress = ptr(((latest.Value - base.Value) * dir) / required)
		}
		return
	}
	ratio := ((projected - base.Value) * dir) / required
	ev.Progress = ptr(ratio)
	if t.Met(projected) {
		ev.Status = OnTrack
		return
	}
	ev.Status = fromRatio(ratio)
}

// hold: every year from the plan's start to the deadline must meet the value;
// any year below breaches the target for good.
func (j *judge) hold(ev *Evaluation) {
	t := j.t
	end := j.at.Year()
	if t.Deadline != 0 && t.Deadline < end {
		end = t.Deadline
	}
	years := j.s.from(t.Plan.Start).upTo(end)
	if len(years) == 0 {
		if len(j.s) > 0 {
			j.setActual(ev, j.s[len(j.s)-1])
			ev.Detail = "no figure within the plan period yet"
		}
		ev.Status = NoData
		return
	}
	var breached []string
	for _, p := range years {
		met := t.Met(p.Value)
		ev.Years = append(ev.Years, YearJudgement{Year: p.Year, Target: *t.Value, Actual: p.Value, Met: met})
		if !met {
			breached = append(breached, fmt.Sprint(p.Year))
		}
	}
	j.setActual(ev, years[len(years)-1])
	switch {
	case len(breached) > 0:
		ev.Status = Missed
		ev.Detail = "held below the value in " + strings.Join(breached, ", ")
		// The gap is the worst year's shortfall.
		for _, y := range ev.Years {
			if g := gap(t.Comparator, t.Ind.HigherIsBetter(), y.Actual, y.Target); g > *ev.Gap {
				ev.Gap = ptr(g)
			}
		}
	case t.Deadline != 0 && years[len(years)-1].Year >= t.Deadline:
		ev.Status = Achieved
	case j.overdue:
		ev.Status = Achieved
		ev.Detail = "held every year reported; " + overdueNote
	default:
		ev.Status = OnTrack
		// Warn when the trend will cross the line before the deadline.
		if t.Deadline != 0 && len(years) >= 2 {
			last := years[len(years)-1]
			p := j.clamp(last.Value + years.slope()*float64(t.Deadline-last.Year))
			ev.Projected = ptr(p)
			if !t.Met(p) {
				ev.Status = AtRisk
				ev.Detail = "held so far, but the trend falls below the value before the deadline"
			}
		}
	}
}

// quota: each year's figure is judged against that year's quota. The status
// is the judgement of the latest quota year with a figure; a quota year in
// progress without a figure yet is on track while earlier years were met.
func (j *judge) quota(ev *Evaluation) {
	t := j.t
	var years []int
	for y := range t.Quotas {
		if y <= j.at.Year() {
			years = append(years, y)
		}
	}
	slices.Sort(years)
	if len(years) == 0 {
		ev.Status = NoData
		ev.Detail = "no quota year has begun"
		return
	}
	var lastJudged *YearJudgement
	var missed []string
	for _, y := range years {
		v, ok := j.s.at(y)
		if !ok {
			continue
		}
		q := t.Quotas[y]
		met := plan.Compare(t.Comparator, v, q)
		ev.Years = append(ev.Years, YearJudgement{Year: y, Target: q, Actual: v, Met: met})
		lastJudged = &ev.Years[len(ev.Years)-1]
		if !met {
			missed = append(missed, fmt.Sprint(y))
		}
	}
	if lastJudged == nil {
		ev.Status = NoData
		return
	}
	ev.TargetValue = lastJudged.Target
	ev.Actual = ptr(lastJudged.Actual)
	ev.Period = period.OfYear(lastJudged.Year).String()
	ev.Gap = ptr(gap(t.Comparator, t.Ind.HigherIsBetter(), lastJudged.Actual, lastJudged.Target))
	switch {
	case !lastJudged.Met:
		ev.Status = Missed
	case lastJudged.Year < years[len(years)-1]:
		ev.Status = OnTrack // the current quota year is not reported yet
	default:
		ev.Status = Achieved
	}
	if len(missed) > 0 {
		ev.Detail = "quota missed in " + strings.Join(missed, ", ")
	}
}

// sum: a "new items" target counts the indicator's yearly additions from the
// plan's start to the deadline; before the deadline, the average yearly
// addition so far is projected over the remaining years.
func (j *judge) sum(ev *Evaluation) {
	t := j.t
	end := j.at.Year()
	if t.Deadline != 0 && t.Deadline < end {
		end = t.Deadline
	}
	years := j.s.from(t.Plan.Start).upTo(end)
	if len(years) == 0 {
		ev.Status = NoData
		return
	}
	total := 0.0
	for _, p := range years {
		total += p.Value
	}
	last := years[len(years)-1]
	ev.Actual = ptr(total)
	ev.Period = fmt.Sprintf("%d..%d", t.Plan.Start, last.Year)
	ev.Gap = ptr(gap(t.Comparator, t.Ind.HigherIsBetter(), total, *t.Value))
	ev.Baseline = ptr(0)
	if t.Met(total) && (t.Deadline == 0 || direction(t.Comparator, true) > 0) {
		// Additions only grow: a reached sum stays reached.
		ev.Status = Achieved
		return
	}
	if t.Deadline == 0 {
		ev.Status = AtRisk
		return
	}
	if last.Year >= t.Deadline || j.overdue {
		ev.Status = Missed
		if last.Year < t.Deadline {
			ev.Detail = overdueNote
		}
		return
	}
	perYear := total / float64(last.Year-t.Plan.Start+1)
	projected := total + perYear*float64(t.Deadline-last.Year)
	ev.Projected = ptr(projected)
	ratio := projected / *t.Value
	ev.Progress = ptr(ratio)
	if t.Met(projected) {
		ev.Status = OnTrack
		return
	}
	ev.Status = fromRatio(ratio)
}

// Round keeps metric and table values readable.
func Round(f float64) float64 { return math.Round(f*1e6) / 1e6 }
