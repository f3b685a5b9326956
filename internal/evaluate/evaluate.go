// Package evaluate judges every target of every plan against the observations
// held: the latest actual, the gap, the projection to the deadline and a
// status in the style of the UN SDG Progress Chart (README, "How targets are
// judged"), with the basis of each verdict.
package evaluate

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/derive"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/plan"
)

// Evaluation is the judgement of one target for one region at one moment.
type Evaluation struct {
	Plan      string `json:"plan"`
	Target    string `json:"target"`
	Indicator string `json:"indicator"`
	// NameZh is the catalogue's name of the statistic; Wording the plan's own.
	NameZh              string   `json:"name_zh"`
	Wording             string   `json:"wording"`
	Region              string   `json:"region"`
	RegionName          string   `json:"region_name"`
	Unit                string   `json:"unit"`
	Comparator          string   `json:"comparator"`
	Modality            string   `json:"modality"`
	Clause              string   `json:"clause"`
	Quote               string   `json:"quote"`
	LeadAgencies        []string `json:"lead_agencies"`
	ResponsibleAgencies []string `json:"responsible_agencies"`
	// LeadAgency joins LeadAgencies for metric labels.
	LeadAgency  string   `json:"-"`
	TargetValue *float64 `json:"target_value"`
	// Deadline is the year in force: printed, or the plan's horizon
	// (DeadlineFromHorizon) when the text gives none.
	Deadline            *int     `json:"deadline"`
	DeadlineFromHorizon bool     `json:"deadline_from_horizon,omitempty"`
	Actual              *float64 `json:"actual"`
	Period              string   `json:"period"`
	Gap                 *float64 `json:"gap"`
	Baseline            *float64 `json:"baseline"`
	Projected           *float64 `json:"projected"`
	Progress            *float64 `json:"progress"`
	Status              Status   `json:"status"`
	Basis               Basis    `json:"basis"`
	// Settled: the deadline year closed and its grace passed; the status
	// changes only with new figures for the plan period.
	Settled bool `json:"settled"`
	// SettlesAt is when the target settles (settled) (deadline year end + grace).
	SettlesAt time.Time `json:"settles_at"`
	Stale     bool      `json:"stale"`
	// LastObservation is the end (exclusive) of the latest period observed;
	// LastObservationDay its last day, as people read it.
	LastObservation    *time.Time `json:"-"`
	LastObservationDay string     `json:"last_observation"`
	// Years: each plan year of a hold or quota target.
	Years []YearJudgement `json:"years,omitempty"`
	// Coverage: for an average, each year with figures and whether it counts.
	Coverage []YearCoverage `json:"coverage,omitempty"`
	// Derived, when the actual is not a reported figure but computed from
	// others (internal/derive), says how: "14个市州平均,由各市州数据计算".
	Derived string `json:"derived,omitempty"`
	// Later lists figures for years after the deadline: shown, never judged.
	Later []Figure `json:"later_figures,omitempty"`
}

// Figure is one yearly figure.
type Figure struct {
	Period string  `json:"period"`
	Value  float64 `json:"value"`
}

// Year states of a YearJudgement.
const (
	YearMet         = "met"
	YearNotMet      = "not_met"
	YearNotReported = "not_reported" // closed and past its grace without a figure: counts as not met
	YearPending     = "pending"      // open, or within its grace, without a figure
	YearFuture      = "future"       // not begun
)

// YearJudgement is one year of a hold or quota target.
type YearJudgement struct {
	Year   int      `json:"year"`
	State  string   `json:"state"`
	Target *float64 `json:"target,omitempty"`
	Actual *float64 `json:"actual,omitempty"`
}

// YearCoverage is one year of an average: how many of its regions reported,
// and whether the year counts.
type YearCoverage struct {
	Year     int  `json:"year"`
	Used     bool `json:"used"`
	Reported int  `json:"reported"`
	Of       int  `json:"of"`
	// Missing are the regions (codes) without a figure for the year.
	Missing []string `json:"missing,omitempty"`
	// Source: "reported" (the average as published) or "computed" (the
	// mean of the regions' figures).
	Source string   `json:"source"`
	Value  *float64 `json:"value,omitempty"`
}

// Options tune the judgement.
type Options struct {
	// Grace is added to the due date of the figure after the latest
	// before a target's data counts as stale (StaleAt), and to the end of
	// a deadline year before the target settles; per frequency, with a
	// default for unlisted ones.
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

// GraceFor is the grace of a frequency under the options.
func (o Options) GraceFor(k period.Kind) time.Duration {
	if g, ok := o.Grace[k]; ok {
		return g
	}
	return DefaultGrace[k]
}

// StaleAt is when the data of ind whose latest period ends at last (as
// stored) becomes stale: the due date of the next period's figure
// (catalog Indicator.Due: its end on the calendar of loc plus the
// publication lag) plus the grace of the frequency. A target is stale when
// it is not settled and its evaluation moment is after StaleAt: the
// figure that should follow its latest one is overdue by more than the
// grace. Overdue (internal/reporting) is the same due date without grace.
func (o Options) StaleAt(ind *catalog.Indicator, last time.Time, loc *time.Location) time.Time {
	next := period.FromStart(ind.Freq(), last)
	return ind.Due(next, loc).Add(o.GraceFor(ind.Freq()))
}

// StaleAfter is StaleAt as an age of the latest period's end, with the
// next period's nominal length (period.Kind.Interval): one interval, the
// publication lag and the grace. qualitymon_indicator_stale_after_seconds
// carries it for the alert rule IndicatorDataStale.
func (o Options) StaleAfter(ind *catalog.Indicator) time.Duration {
	return ind.Freq().Interval() + ind.PublicationLag() + o.GraceFor(ind.Freq())
}

// Evaluator judges targets.
type Evaluator struct {
	Set  *plan.Set
	Opts Options

	rulesOnce sync.Once
	rules     *derive.Rules
}

// Evaluate judges every tracked target (of one plan when planKey is set) as
// of at. Region groups give one evaluation per region.
func (e *Evaluator) Evaluate(d *Data, planKey string, at time.Time) []Evaluation {
	return e.EvaluateTargets(d, e.Set.Tracked(planKey), at)
}

func (e *Evaluator) one(d *Data, t *plan.Target, reg string, at time.Time) Evaluation {
	ev := Evaluation{
		Plan: t.Plan.Key, Target: t.ID, Indicator: t.Indicator, Region: reg,
		Unit: t.Ind.Unit, Comparator: t.Comparator, Modality: t.Modality,
		NameZh: t.Ind.NameZh, Wording: t.Name(), Clause: t.Clause, Quote: t.Quote,
		LeadAgencies: nonNil(t.LeadAgencies), ResponsibleAgencies: nonNil(t.Agencies),
		LeadAgency: strings.Join(t.LeadAgencies, "、"),
	}
	if r, ok := e.Set.Regions.Get(reg); ok {
		ev.RegionName = r.Name
	}
	due := t.Due()
	ev.Deadline = &due
	ev.DeadlineFromHorizon = t.Deadline == 0
	freq := t.Ind.Freq()
	grace := e.Opts.GraceFor(freq)
	ev.SettlesAt = period.OfYear(due).EndIn(at.Location()).Add(grace) // the deadline year ends on the calendar of the clock (timezone)
	ev.Settled = at.After(ev.SettlesAt)

	var s, trend Series
	var last time.Time
	if len(t.AverageOf) > 0 {
		a := averageOf(d, t, reg, at.Year(), due)
		s, trend, last = a.series, a.trend, a.last
		ev.Coverage = a.coverage
	} else {
		s = d.Yearly(t.Indicator, reg).upTo(at.Year())
		trend = s
		last = d.LastEnd(t.Indicator, reg)
	}
	if !last.IsZero() {
		// Only periods that have begun by the evaluation date count.
		if limit := period.OfYear(at.Year()).End(); last.After(limit) {
			last = limit
		}
		l := last
		ev.LastObservation = &l
		ev.LastObservationDay = l.Add(-time.Second).Format("2006-01-02")
		ev.Stale = !ev.Settled && at.After(e.Opts.StaleAt(t.Ind, last, at.Location()))
	}
	for _, p := range s.from(due + 1) {
		ev.Later = append(ev.Later, Figure{Period: period.OfYear(p.Year).String(), Value: roundTo(p.Value, t.Ind.Precision())})
	}
	j := judge{
		t: t, ev: &ev, at: at, due: due, settled: ev.Settled, grace: grace,
		all: s, s: s.upTo(due), trend: trend.upTo(due),
	}
	if t.Value != nil {
		j.value = *t.Value
	}
	j.d = describe{decimals: t.Ind.Precision(), cmp: t.Comparator, value: j.value, unit: catalog.Units[t.Ind.Unit]}
	if j.resolveMultiple() {
		switch t.Modality {
		case plan.Hold:
			j.hold()
		case plan.Quota:
			j.quota()
		case plan.New:
			j.sum()
		default:
			j.reach()
		}
	}
	if len(t.AverageOf) > 0 {
		j.noteCoverage()
		if ev.Actual != nil && ev.Period != "" {
			for _, c := range ev.Coverage {
				if period.OfYear(c.Year).String() == ev.Period && c.Source == "computed" {
					what := "地区"
					if t.Average != nil && t.Average.Level == "prefecture" {
						what = "市州"
					}
					ev.Derived = fmt.Sprintf("%d个%s平均,由各%s数据计算", c.Reported, what, what)
				}
			}
		}
	} else {
		j.noteDerived(d, t.Indicator, reg)
	}
	ev.round(t.Ind.Precision())
	return ev
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// round keeps every figure at the indicator's precision (never
// 0.20000000000000284); progress ratios keep three decimals.
func (ev *Evaluation) round(decimals int) {
	for _, p := range []*float64{ev.TargetValue, ev.Actual, ev.Gap, ev.Baseline, ev.Projected} {
		if p != nil {
			*p = roundTo(*p, decimals)
		}
	}
	if ev.Progress != nil {
		*ev.Progress = roundTo(*ev.Progress, 3)
	}
	for i := range ev.Coverage {
		if p := ev.Coverage[i].Value; p != nil {
			*p = roundTo(*p, decimals)
		}
	}
	for i := range ev.Years {
		for _, p := range []*float64{ev.Years[i].Target, ev.Years[i].Actual} {
			if p != nil {
				*p = roundTo(*p, decimals)
			}
		}
	}
}

func roundTo(f float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	r := math.Round(f*p) / p
	if r == 0 {
		return 0 // no "-0"
	}
	return r
}

// Round keeps metric and table values readable.
func Round(f float64) float64 { return roundTo(f, 6) }

// ParseMoment reads an evaluation or vintage moment: an RFC 3339 timestamp
// (2021-03-31T12:00:00+08:00), or a date (2021-03-31), which means the end
// of that day (UTC), so that everything reported on it counts.
func ParseMoment(s string) (time.Time, error) { return parseMomentIn(s, time.UTC) }

// parseMomentIn is ParseMoment with a date's day on the calendar of loc.
func parseMomentIn(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := time.ParseInLocation("2006-01-02", s, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a date (2021-03-31) nor an RFC 3339 timestamp (2021-03-31T12:00:00+08:00)", s)
	}
	return d.Add(24*time.Hour - time.Second), nil
}

// Moments reads the evaluation moment (at) and the vintage (knownAt) a user
// asked for, either possibly empty: at defaults to knownAt, else now; a zero
// knownAt means every figure held. Errors name the parameter (at, known_at).
// A date is a day on the calendar of now's location (the config's timezone).
func Moments(atS, knownS string, now time.Time) (at, knownAt time.Time, err error) {
	at = now
	if knownS != "" {
		if knownAt, err = parseMomentIn(knownS, now.Location()); err != nil {
			return at, knownAt, fmt.Errorf("known_at: %w", err)
		}
		at = knownAt
	}
	if atS != "" {
		if at, err = parseMomentIn(atS, now.Location()); err != nil {
			return at, knownAt, fmt.Errorf("at: %w", err)
		}
	}
	return at, knownAt, nil
}
