// Package derive holds the one set of rules for the indicators the catalogue
// declares as derived (catalog.Derived): a complement (a pass rate from a
// reported non-pass rate), a ratio (a share from two counts), an average over
// a set of regions for their parent (甘肃 "14个市州平均") and a rollup of daily
// values into a yearly figure per region (the share of good air-quality days
// from daily AQI, with the completeness rule the catalogue states, GB
// 3095-2012). Nothing is coded per indicator.
//
// Derived figures are never stored: the read path (internal/evaluate's Data,
// built by internal/engine from the store as held now or as known at a past
// moment) computes them from the members it read, so a corrected member moves
// the derived figure and a vintage gives it as it would have been computed
// then. A figure reported for the same key always wins. The ingest pipeline
// uses the same rules on each accepted batch only to refuse figures that
// contradict each other (a derived value outside its valid range).
package derive

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/region"
)

// Rules are the catalogue's derivation rules, ordered so that a rule comes
// after the rules deriving its sources.
type Rules struct {
	rules []*rule
	daily map[string]bool // sources kept day by day (rollups)
}

type ruleKind int

const (
	complement ruleKind = iota + 1
	ratio
	average
	rollup
)

type rule struct {
	ind  *catalog.Indicator
	kind ruleKind
	// src is the complement, average or rollup source; num/den the ratio's.
	src, num, den string
	// names are the Chinese names of the sources, for the basis.
	srcName, numName, denName string
	max                       float64
	groups                    []group
	measure                   string
	atMost                    float64
	validity                  *catalog.Validity
}

// group is a set of regions averaged into parent; what names them in the
// basis ("市州", "地区").
type group struct {
	parent  string
	members []string
	what    string
}

// Figure is one derived value: the observation (Source "derived", Note the
// formula in English), the Chinese basis (由…计算) and the members it was
// computed from (indicator and region), whose latest figures date it.
type Figure struct {
	observation.Observation
	Zh   string
	From [][2]string
}

// Skipped is a derived figure that does not count: a rollup year short of
// its completeness rule, or a value outside the indicator's valid range.
type Skipped struct {
	Indicator, Region string
	Year              int
	Zh, En            string
}

// New reads every derived indicator of cat and checks what the catalogue
// cannot: frequencies agree, a complement's source has a maximum, the regions
// of an average exist, a rollup's source is daily and its result yearly, and
// no rule derives from itself through others.
func New(cat *catalog.Catalog, regs *region.Table) (*Rules, error) {
	d := &Rules{daily: map[string]bool{}}
	var errs []string
	bad := func(ind *catalog.Indicator, format string, args ...any) {
		errs = append(errs, fmt.Sprintf("indicator %q: derived: %s", ind.ID, fmt.Sprintf(format, args...)))
	}
	name := func(id string) string {
		if s, ok := cat.Get(id); ok {
			return s.NameZh
		}
		return id
	}
	byID := map[string]*rule{}
	for _, ind := range cat.All() {
		dv := ind.Derived
		if dv == nil {
			continue
		}
		r := &rule{ind: ind}
		var sources []string
		switch {
		case dv.Complement != "":
			r.kind, r.src = complement, dv.Complement
			sources = []string{r.src}
			if s, ok := cat.Get(r.src); ok {
				if s.Max == nil {
					bad(ind, "complement source %q has no maximum", r.src)
				} else {
					r.max = *s.Max
				}
			}
		case dv.Numerator != "":
			r.kind, r.num, r.den = ratio, dv.Numerator, dv.Denominator
			sources = []string{r.num, r.den}
		case dv.AverageOf != "":
			r.kind, r.src = average, dv.AverageOf
			sources = []string{r.src}
			gs, err := groups(regs, dv)
			if err != nil {
				bad(ind, "%v", err)
			}
			r.groups = gs
		case dv.RollupOf != "":
			r.kind, r.src, r.measure, r.validity = rollup, dv.RollupOf, dv.Measure, dv.Validity
			if dv.AtMost != nil {
				r.atMost = *dv.AtMost
			}
			if s, ok := cat.Get(r.src); ok && s.Freq() != period.Day {
				bad(ind, "rollup source %q is reported %s, want daily", r.src, s.Frequency)
			}
			if ind.Freq() != period.Year {
				bad(ind, "a rollup is yearly, not %s", ind.Frequency)
			}
			d.daily[r.src] = true
		default:
			bad(ind, "no rule")
			continue
		}
		r.srcName, r.numName, r.denName = name(r.src), name(r.num), name(r.den)
		for _, s := range sources {
			src, ok := cat.Get(s)
			if !ok {
				bad(ind, "unknown source indicator %q", s)
				continue
			}
			if src.Freq() != ind.Freq() {
				bad(ind, "source %q is reported %s, %q %s", s, src.Frequency, ind.ID, ind.Frequency)
			}
		}
		byID[ind.ID] = r
	}
	// Order: the rules of a rule's sources first.
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(r *rule) bool
	visit = func(r *rule) bool {
		switch state[r.ind.ID] {
		case 1:
			bad(r.ind, "derived from itself through other derived indicators")
			return false
		case 2:
			return true
		}
		state[r.ind.ID] = 1
		for _, s := range r.sources() {
			if sr := byID[s]; sr != nil && !visit(sr) {
				return false
			}
		}
		state[r.ind.ID] = 2
		d.rules = append(d.rules, r)
		return true
	}
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		visit(byID[id])
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return d, nil
}

func (r *rule) sources() []string {
	if r.kind == ratio {
		return []string{r.num, r.den}
	}
	return []string{r.src}
}

func groups(regs *region.Table, dv *catalog.Derived) ([]group, error) {
	codes := func(rs []*region.Region) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = r.Code
		}
		return out
	}
	what := func(rs []*region.Region) string {
		for _, r := range rs {
			if r.Level != region.Prefecture {
				return "地区"
			}
		}
		return "市州"
	}
	if dv.Parent == "" {
		var out []group
		for _, r := range regs.All() {
			if r.Level == region.Province {
				if kids := regs.Children(r.Code); len(kids) > 0 {
					out = append(out, group{parent: r.Code, members: codes(kids), what: what(kids)})
				}
			}
		}
		return out, nil
	}
	if _, ok := regs.Get(dv.Parent); !ok {
		return nil, fmt.Errorf("unknown parent region %q", dv.Parent)
	}
	if len(dv.Regions) == 0 {
		kids := regs.Children(dv.Parent)
		if len(kids) == 0 {
			return nil, fmt.Errorf("parent region %q has no prefectures to average", dv.Parent)
		}
		return []group{{parent: dv.Parent, members: codes(kids), what: what(kids)}}, nil
	}
	g := group{parent: dv.Parent}
	var rs []*region.Region
	for _, c := range dv.Regions {
		r, ok := regs.Resolve(c)
		if !ok {
			return nil, fmt.Errorf("unknown region %q", c)
		}
		g.members = append(g.members, r.Code)
		rs = append(rs, r)
	}
	g.what = what(rs)
	return []group{g}, nil
}

// Indicator returns the derived indicator id's catalogue entry.
func (d *Rules) Indicator(id string) (*catalog.Indicator, bool) {
	if d != nil {
		for _, r := range d.rules {
			if r.ind.ID == id {
				return r.ind, true
			}
		}
	}
	return nil, false
}

// Outputs lists the derived indicators.
func (d *Rules) Outputs() []string {
	if d == nil {
		return nil
	}
	out := make([]string, len(d.rules))
	for i, r := range d.rules {
		out[i] = r.ind.ID
	}
	return out
}

// Involved lists the indicators the rules read or write.
func (d *Rules) Involved() []string {
	if d == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, r := range d.rules {
		for _, id := range []string{r.ind.ID, r.src, r.num, r.den} {
			if id != "" && !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	return out
}

// Sources returns ids with, for every derived indicator among them, the
// indicators it is computed from (transitively): what a reader must read to
// derive them.
func (d *Rules) Sources(ids []string) []string {
	out := slices.Clone(ids)
	if d == nil {
		return out
	}
	seen := map[string]bool{}
	for _, id := range ids {
		seen[id] = true
	}
	// Rules come after their sources' rules: walking them backwards adds
	// a source before its own rule is visited.
	for i := len(d.rules) - 1; i >= 0; i-- {
		r := d.rules[i]
		if !seen[r.ind.ID] {
			continue
		}
		for _, s := range r.sources() {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out
}

// Dependents returns the derived indicators computed (transitively) from
// any of ids.
func (d *Rules) Dependents(ids map[string]bool) []string {
	if d == nil {
		return nil
	}
	in := map[string]bool{}
	for id := range ids {
		in[id] = true
	}
	var out []string
	for _, r := range d.rules {
		for _, s := range r.sources() {
			if in[s] && !in[r.ind.ID] {
				in[r.ind.ID] = true
				out = append(out, r.ind.ID)
			}
		}
	}
	return out
}

// Daily reports whether the rules roll up indicator's daily values: a
// reader keeps them day by day (Days).
func (d *Rules) Daily(indicator string) bool { return d != nil && d.daily[indicator] }

// Held is what the rules read: the figures held, with those derived so far.
type Held interface {
	// Value is the figure of a key.
	Value(k observation.Key) (float64, bool)
	// Each calls fn with every figure of indicator.
	Each(indicator string, fn func(region string, p period.Period, v float64))
	// EachDays calls fn with the daily values of indicator, per region and
	// year (only indicators for which Daily is true).
	EachDays(indicator string, fn func(region string, year int, days *Days))
}

// Derive computes every derived figure from h, rule after rule: add is
// called with each figure whose key h does not hold (a reported figure
// wins) and must make it visible to h for the rules after; skip with each
// figure that does not count.
func (d *Rules) Derive(h Held, add func(Figure), skip func(Skipped)) {
	if d == nil {
		return
	}
	for _, r := range d.rules {
		var figs []Figure
		r.derive(h, func(f Figure) { figs = append(figs, f) }, skip)
		// A stable order, whatever the maps' order.
		slices.SortFunc(figs, func(a, b Figure) int {
			return cmp.Or(cmp.Compare(a.Region, b.Region), a.Period.Start().Compare(b.Period.Start()))
		})
		for _, f := range figs {
			if _, held := h.Value(f.Key()); held {
				continue
			}
			if !r.ind.InRange(f.Value) {
				if skip != nil {
					skip(Skipped{Indicator: f.Indicator, Region: f.Region, Year: f.Period.Year,
						Zh: fmt.Sprintf("%s年%s计算值 %v 超出有效范围(%s),不予采用。", yearOf(f.Period), r.ind.NameZh, f.Value, r.ind.RangeString()),
						En: fmt.Sprintf("the %s value of %s computed for %s, %v, is outside its valid range (%s) and is not used.", f.Period, r.ind.ID, f.Region, f.Value, r.ind.RangeString())})
				}
				continue
			}
			add(f)
		}
	}
}

func yearOf(p period.Period) string { return fmt.Sprint(p.Year) }

// Batch derives from the figures of one batch only (the ingest pipeline's
// check): every derived figure, in a stable order, including those outside
// their indicator's valid range (which the caller refuses). Rollups are not
// computed (a share of days is always in range).
func (d *Rules) Batch(batch []observation.Observation) (figs []Figure, outOfRange []Figure) {
	if d == nil || len(d.rules) == 0 || len(batch) == 0 {
		return nil, nil
	}
	involved := map[string]bool{}
	for _, id := range d.Involved() {
		involved[id] = true
	}
	m := batchHeld{}
	for i := range batch {
		if involved[batch[i].Indicator] {
			m[batch[i].Key()] = batch[i].Value
		}
	}
	if len(m) == 0 {
		return nil, nil
	}
	for _, r := range d.rules {
		if r.kind == rollup {
			continue
		}
		var got []Figure
		r.derive(m, func(f Figure) { got = append(got, f) }, nil)
		slices.SortFunc(got, func(a, b Figure) int {
			return cmp.Or(cmp.Compare(a.Region, b.Region), a.Period.Start().Compare(b.Period.Start()))
		})
		for _, f := range got {
			if _, held := m[f.Key()]; held {
				continue
			}
			m[f.Key()] = f.Value
			figs = append(figs, f)
			if !r.ind.InRange(f.Value) {
				outOfRange = append(outOfRange, f)
			}
		}
	}
	return figs, outOfRange
}

// batchHeld is a batch as Held.
type batchHeld map[observation.Key]float64

func (m batchHeld) Value(k observation.Key) (float64, bool) { v, ok := m[k]; return v, ok }
func (m batchHeld) Each(ind string, fn func(string, period.Period, float64)) {
	for k, v := range m {
		if k.Indicator == ind {
			fn(k.Region, k.Period, v)
		}
	}
}
func (m batchHeld) EachDays(string, func(string, int, *Days)) {}

// derive computes the rule's figures from h.
func (r *rule) derive(h Held, emit func(Figure), skip func(Skipped)) {
	fig := func(reg string, p period.Period, v float64, note, zh string, from [][2]string) {
		emit(Figure{Observation: observation.Observation{Indicator: r.ind.ID, Region: reg, Period: p, Value: roundDerived(v),
			Source: "derived", Note: note}, Zh: zh, From: from})
	}
	switch r.kind {
	case complement:
		h.Each(r.src, func(reg string, p period.Period, v float64) {
			fig(reg, p, r.max-v, fmt.Sprintf("%v − %s", trimNum(r.max), r.src),
				fmt.Sprintf("由%s计算(%v − %s)", r.srcName, trimNum(r.max), r.srcName), [][2]string{{r.src, reg}})
		})
	case ratio:
		h.Each(r.num, func(reg string, p period.Period, v float64) {
			den, ok := h.Value(observation.Key{Indicator: r.den, Region: reg, Period: p})
			if !ok || den == 0 {
				return
			}
			fig(reg, p, 100*v/den, fmt.Sprintf("100 × %s / %s", r.num, r.den),
				fmt.Sprintf("由%s和%s计算(100 × %s / %s)", r.numName, r.denName, r.numName, r.denName), [][2]string{{r.num, reg}, {r.den, reg}})
		})
	case average:
		periods := map[period.Period]bool{}
		h.Each(r.src, func(_ string, p period.Period, _ float64) { periods[p] = true })
		for _, g := range r.groups {
			from := make([][2]string, len(g.members))
			for i, m := range g.members {
				from[i] = [2]string{r.src, m}
			}
			for p := range periods {
				sum, n := 0.0, 0
				for _, m := range g.members {
					v, ok := h.Value(observation.Key{Indicator: r.src, Region: m, Period: p})
					if !ok {
						break
					}
					sum += v
					n++
				}
				if n == len(g.members) {
					fig(g.parent, p, sum/float64(n), fmt.Sprintf("mean of %s over %d regions", r.src, n),
						fmt.Sprintf("%d个%s平均,由各%s数据计算", n, g.what, g.what), from)
				}
			}
		}
	case rollup:
		latest := map[string]int{}
		h.EachDays(r.src, func(reg string, year int, _ *Days) {
			latest[reg] = max(latest[reg], year)
		})
		h.EachDays(r.src, func(reg string, year int, days *Days) {
			s := days.sum(year, r.atMost)
			if s.covered == 0 {
				return
			}
			from := [][2]string{{r.src, reg}}
			p := period.OfYear(year)
			switch r.measure {
			case "days":
				fig(reg, p, float64(s.covered), "distinct days with a "+r.src,
					fmt.Sprintf("由%s计算:有日值的天数", r.srcName), from)
			case "missing_days":
				expected := s.length
				note := fmt.Sprintf("days of %d without a %s", year, r.src)
				if year == latest[reg] {
					expected = s.through + 1 // year to date: up to the latest value
					note += " up to the latest"
				}
				fig(reg, p, float64(expected-s.covered), note, fmt.Sprintf("由%s计算:缺少日值的天数", r.srcName), from)
			case "share_at_most":
				if zh, en, ok := r.valid(year, s); !ok {
					if skip != nil {
						skip(Skipped{Indicator: r.ind.ID, Region: reg, Year: year, Zh: zh, En: en})
					}
					return
				}
				fig(reg, p, 100*float64(s.atMost)/float64(s.covered),
					fmt.Sprintf("%d of %d days with %s ≤ %v", s.atMost, s.covered, r.src, trimNum(r.atMost)),
					fmt.Sprintf("由%s计算:%d 天有效日值中 %d 天 ≤ %v", r.srcName, s.covered, s.atMost, trimNum(r.atMost)), from)
			}
		})
	}
}

// valid applies the rollup's completeness rule to a year.
func (r *rule) valid(year int, s daySum) (zh, en string, ok bool) {
	v := r.validity
	if v == nil {
		return "", "", true
	}
	if s.covered < v.MinDays {
		return fmt.Sprintf("%d年仅有 %d 天有效日值,不足 %s 要求的 %d 天,该年%s不予计算。", year, s.covered, v.Rule, v.MinDays, r.ind.NameZh),
			fmt.Sprintf("%d has only %d valid daily values, short of the %d that %s requires; %s is not computed for it.", year, s.covered, v.MinDays, v.Rule, r.ind.ID), false
	}
	for m := time.January; m <= time.December; m++ {
		need := v.MinMonthDays
		if m == time.February && v.MinFebruary > 0 {
			need = v.MinFebruary
		}
		if s.month[m-1] < need {
			return fmt.Sprintf("%d年%d月仅有 %d 天有效日值,不足 %s 要求的每月 %d 天(2月 %d 天),该年%s不予计算。", year, int(m), s.month[m-1], v.Rule, v.MinMonthDays, v.MinFebruary, r.ind.NameZh),
				fmt.Sprintf("%d-%02d has only %d valid daily values, short of the %d a month (%d in February) that %s requires; %s is not computed for the year.", year, int(m), s.month[m-1], v.MinMonthDays, v.MinFebruary, v.Rule, r.ind.ID), false
		}
	}
	return "", "", true
}

// Days holds one region's daily values of one year, by day of the year.
type Days struct {
	v   [366]float32
	has [6]uint64
}

// Set records the value of the day of t's date (a later value for the
// same day replaces it).
func (d *Days) Set(t time.Time, v float64) {
	i := t.YearDay() - 1
	d.v[i] = float32(v)
	d.has[i/64] |= 1 << (i % 64)
}

// Each calls fn with each day's value, by day of the year (0: 1 January).
func (d *Days) Each(fn func(day int, v float64)) {
	for i := 0; i < 366; i++ {
		if d.has[i/64]&(1<<(i%64)) != 0 {
			fn(i, float64(d.v[i]))
		}
	}
}

// Len counts the days with a value.
func (d *Days) Len() int {
	n := 0
	for i := 0; i < 366; i++ {
		if d.has[i/64]&(1<<(i%64)) != 0 {
			n++
		}
	}
	return n
}

type daySum struct {
	covered, atMost int
	month           [12]int
	length, through int // days of the year; index of the latest day with a value
}

func (d *Days) sum(year int, atMost float64) daySum {
	start := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
	s := daySum{length: int(start.AddDate(1, 0, 0).Sub(start).Hours() / 24)}
	for i := 0; i < s.length; i++ {
		if d.has[i/64]&(1<<(i%64)) == 0 {
			continue
		}
		s.covered++
		s.through = i
		s.month[start.AddDate(0, 0, i).Month()-1]++
		if float64(d.v[i]) <= atMost {
			s.atMost++
		}
	}
	return s
}

// roundDerived drops floating-point noise (100 − 97.1 = 2.9000000000000057).
func roundDerived(v float64) float64 { return math.Round(v*1e9) / 1e9 }

func trimNum(f float64) string { return fmt.Sprint(roundDerived(f)) }

// At returns the value of the day of t's date and whether it has one
// (held at float32 precision, as Set keeps it).
func (d *Days) At(t time.Time) (float32, bool) {
	i := t.YearDay() - 1
	return d.v[i], d.has[i/64]&(1<<(i%64)) != 0
}
