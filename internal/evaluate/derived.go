package evaluate

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/qualitymon/qualitymon/internal/derive"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
)

// Derived figures (internal/derive) are computed when a Data is built, from
// the members it holds, never read from the store: a corrected member moves
// the derived figure, and a Data of a vintage (Store.KnownAt) gives it as it
// would have been computed then. A reported figure for the same key wins.

// derivedInfo says how a derived yearly figure was computed.
type derivedInfo struct{ zh, en string }

type dkey struct {
	indicator, region string
	year              int
}

// Rules returns the catalogue's derivation rules (built once from Set; nil
// when the catalogue declares none or they are invalid, which loading the
// configuration refuses first: ingest.NewPipeline).
func (e *Evaluator) Rules() *derive.Rules {
	e.rulesOnce.Do(func() {
		if e.Set != nil && e.Set.Catalog != nil && e.Set.Regions != nil {
			e.rules, _ = derive.New(e.Set.Catalog, e.Set.Regions)
		}
	})
	return e.rules
}

// NewDataBuilder starts an empty Data that derives the catalogue's derived
// indicators when built.
func (e *Evaluator) NewDataBuilder() *DataBuilder {
	b := NewDataBuilder()
	b.d.rules = e.Rules()
	return b
}

// NewData indexes observations, with the derived indicators computed from
// them.
func (e *Evaluator) NewData(rows []observation.Stored) *Data {
	b := e.NewDataBuilder()
	for i := range rows {
		b.Add(rows[i].Indicator, rows[i].Region, rows[i].Period, rows[i].Value)
	}
	return b.Data()
}

// Indicators returns ids with the indicators their derived ones are computed
// from: what a reader of ids must read.
func (e *Evaluator) Indicators(ids []string) []string { return e.Rules().Sources(ids) }

// Dependents lists the derived indicators computed from any of ids.
func (e *Evaluator) Dependents(ids map[string]bool) []string { return e.Rules().Dependents(ids) }

// addDay keeps a daily value of a rolled-up indicator.
func (d *Data) addDay(indicator, region string, p period.Period, v float64) {
	if d.days == nil {
		d.days = map[string]map[string]map[int]*derive.Days{}
	}
	m := d.days[indicator]
	if m == nil {
		m = map[string]map[int]*derive.Days{}
		d.days[indicator] = m
	}
	ys := m[region]
	if ys == nil {
		ys = map[int]*derive.Days{}
		m[region] = ys
	}
	days := ys[p.Year]
	if days == nil {
		days = &derive.Days{}
		ys[p.Year] = days
	}
	days.Set(p.Start(), v)
}

// derive computes the derived figures afresh.
func (d *Data) derive() {
	d.derived, d.info, d.skipped = nil, nil, nil
	if d.rules == nil {
		return
	}
	d.rules.Derive(held{d}, func(f derive.Figure) {
		if f.Period.Kind != period.Year {
			return
		}
		if d.derived == nil {
			d.derived = map[string]map[string]Series{}
			d.info = map[dkey]derivedInfo{}
		}
		m := d.derived[f.Indicator]
		if m == nil {
			m = map[string]Series{}
			d.derived[f.Indicator] = m
		}
		s := m[f.Region]
		i, _ := slices.BinarySearchFunc(s, f.Period.Year, func(p Point, y int) int { return p.Year - y })
		m[f.Region] = slices.Insert(s, i, Point{f.Period.Year, f.Value})
		d.info[dkey{f.Indicator, f.Region, f.Period.Year}] = derivedInfo{zh: f.Zh, en: f.Note}
		// The derived figure dates from its latest member.
		var last time.Time
		for _, src := range f.From {
			if t := d.last[src[0]][src[1]]; t.After(last) {
				last = t
			}
		}
		if last.IsZero() {
			last = f.Period.End()
		}
		l := d.last[f.Indicator]
		if l == nil {
			l = map[string]time.Time{}
			d.last[f.Indicator] = l
		}
		if last.After(l[f.Region]) {
			l[f.Region] = last
		}
	}, func(s derive.Skipped) {
		if d.skipped == nil {
			d.skipped = map[[2]string][]derive.Skipped{}
		}
		k := [2]string{s.Indicator, s.Region}
		d.skipped[k] = append(d.skipped[k], s)
	})
	for _, s := range d.skipped {
		slices.SortFunc(s, func(a, b derive.Skipped) int { return a.Year - b.Year })
	}
}

// held is a Data as the rules read it.
type held struct{ d *Data }

func (h held) Value(k observation.Key) (float64, bool) {
	if k.Period.Kind != period.Year {
		return 0, false
	}
	if v, ok := h.d.yearly[k.Indicator][k.Region].at(k.Period.Year); ok {
		return v, true
	}
	return h.d.derived[k.Indicator][k.Region].at(k.Period.Year)
}

func (h held) Each(indicator string, fn func(string, period.Period, float64)) {
	for _, m := range []map[string]Series{h.d.yearly[indicator], h.d.derived[indicator]} {
		for reg, s := range m {
			for _, p := range s {
				fn(reg, period.OfYear(p.Year), p.Value)
			}
		}
	}
}

func (h held) EachDays(indicator string, fn func(string, int, *derive.Days)) {
	for reg, ys := range h.d.days[indicator] {
		for y, days := range ys {
			fn(reg, y, days)
		}
	}
}

// reported is the series of figures reported (not derived).
func (d *Data) reported(indicator, region string) Series { return d.yearly[indicator][region] }

// DerivedNote says how the figure of indicator in region for year was
// computed ("14个市州平均,由各市州数据计算"), in Chinese and English; ok is
// false for a reported figure.
func (d *Data) DerivedNote(indicator, region string, year int) (zh, en string, ok bool) {
	i, ok := d.info[dkey{indicator, region, year}]
	return i.zh, i.en, ok
}

// Skipped lists the derived figures of indicator in region that do not
// count (a year short of its completeness rule), oldest first.
func (d *Data) Skipped(indicator, region string) []derive.Skipped {
	return d.skipped[[2]string{indicator, region}]
}

// withDays gives nd the day maps of d with the daily values of obs
// applied (the region-years obs touches are copied).
func (d *Data) withDays(nd *Data, obs []observation.Observation) {
	nd.days = maps.Clone(d.days)
	copied := map[[2]string]bool{}
	for i := range obs {
		o := &obs[i]
		if o.Period.Kind != period.Day || !d.rules.Daily(o.Indicator) {
			continue
		}
		if nd.days == nil {
			nd.days = map[string]map[string]map[int]*derive.Days{}
		}
		k := [2]string{o.Indicator, o.Region}
		if !copied[k] {
			copied[k] = true
			m := maps.Clone(nd.days[o.Indicator])
			if m == nil {
				m = map[string]map[int]*derive.Days{}
			}
			ys := map[int]*derive.Days{}
			for y, days := range m[o.Region] {
				c := *days
				ys[y] = &c
			}
			m[o.Region] = ys
			nd.days[o.Indicator] = m
		}
		nd.addDay(o.Indicator, o.Region, o.Period, o.Value)
	}
}

// noteDerived states in the basis that the actual is computed, and names
// the years of the target's figure that did not count.
func (j *judge) noteDerived(d *Data, t string, reg string) {
	ev := j.ev
	if ev.Actual != nil && ev.Period != "" {
		if y, err := strconv.Atoi(ev.Period); err == nil {
			if zh, en, ok := d.DerivedNote(t, reg, y); ok {
				ev.Derived = zh
				ev.Basis.Zh += fmt.Sprintf("(%d年数据为计算值:%s。)", y, zh)
				ev.Basis.En += fmt.Sprintf(" (The %d figure is computed: %s.)", y, en)
			}
		}
	}
	for _, s := range d.Skipped(t, reg) {
		if s.Year > j.due {
			continue
		}
		if _, ok := j.all.at(s.Year); ok {
			continue
		}
		ev.Basis.Zh += s.Zh
		ev.Basis.En += " " + s.En
	}
}
