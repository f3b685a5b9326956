package ingest

// Derive: the indicators the catalogue declares as derived
// (catalog.Derived) are computed from the observations of one accepted batch: a
// complement (a pass rate from a reported non-pass rate), a ratio (a share
// from two counts) and an average over a set of regions stored for their
// parent (甘肃 "14个市州平均"). Nothing is coded per indicator: the rules come
// from the catalogue. A value reported in the batch always wins over the
// same key derived.

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/region"
)

// Deriver applies the catalogue's derivation rules.
type Deriver struct {
	rules []rule
}

type ruleKind int

const (
	complement ruleKind = iota + 1
	ratio
	average
)

type rule struct {
	ind  *catalog.Indicator
	kind ruleKind
	// src is the complement or average source; num/den the ratio's.
	src, num, den string
	max           float64
	groups        []group
}

// group is a set of regions averaged into parent.
type group struct {
	parent  string
	members []string
}

// New reads every derived indicator of cat and checks what the catalogue
// cannot: frequencies agree, a complement's source has a maximum, and the
// regions of an average exist.
func NewDeriver(cat *catalog.Catalog, regs *region.Table) (*Deriver, error) {
	d := &Deriver{}
	var errs []string
	bad := func(ind *catalog.Indicator, format string, args ...any) {
		errs = append(errs, fmt.Sprintf("indicator %q: derived: %s", ind.ID, fmt.Sprintf(format, args...)))
	}
	for _, ind := range cat.All() {
		dv := ind.Derived
		if dv == nil {
			continue
		}
		r := rule{ind: ind}
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
		default:
			bad(ind, "no rule")
			continue
		}
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
		d.rules = append(d.rules, r)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return d, nil
}

func groups(regs *region.Table, dv *catalog.Derived) ([]group, error) {
	codes := func(rs []*region.Region) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = r.Code
		}
		return out
	}
	if dv.Parent == "" {
		var out []group
		for _, r := range regs.All() {
			if r.Level == region.Province {
				if kids := regs.Children(r.Code); len(kids) > 0 {
					out = append(out, group{parent: r.Code, members: codes(kids)})
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
		return []group{{parent: dv.Parent, members: codes(kids)}}, nil
	}
	g := group{parent: dv.Parent}
	for _, c := range dv.Regions {
		r, ok := regs.Resolve(c)
		if !ok {
			return nil, fmt.Errorf("unknown region %q", c)
		}
		g.members = append(g.members, r.Code)
	}
	return []group{g}, nil
}

// Involved lists the indicators the rules read or write: a batch's
// observations of other indicators neither give a derived one nor stop one
// being derived (a reported value wins over the derived one).
func (d *Deriver) Involved() []string {
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

// Apply returns batch with the derived observations appended (in a stable
// order). A derived value outside its indicator's valid range is an error
// naming the batch; the batch should then be rejected, as its figures
// contradict each other (e.g. a numerator above its denominator).
func (d *Deriver) Apply(name string, batch []observation.Observation) ([]observation.Observation, error) {
	if d == nil || len(d.rules) == 0 || len(batch) == 0 {
		return batch, nil
	}
	// Only the indicators the rules read or write matter: a batch of
	// others (a year of daily AQI) costs no map.
	involved := map[string]bool{}
	for _, id := range d.Involved() {
		involved[id] = true
	}
	have := map[observation.Key]float64{}
	for i := range batch {
		if involved[batch[i].Indicator] {
			have[batch[i].Key()] = batch[i].Value
		}
	}
	if len(have) == 0 {
		return batch, nil
	}
	var errs Errors
	out := batch
	// Rules may build on each other (an average of a derived rate): repeat
	// until nothing new appears.
	for pass := 0; pass <= len(d.rules); pass++ {
		var added []observation.Observation
		for _, r := range d.rules {
			for _, o := range r.derive(have) {
				k := o.Key()
				if _, dup := have[k]; dup {
					continue
				}
				if !r.ind.InRange(o.Value) {
					errs = append(errs, &Error{File: name, Column: "derived " + r.ind.ID, Value: fmt.Sprint(o.Value),
						Message:  fmt.Sprintf("%s for %s %s is %v, outside its valid range (%s)", r.ind.ID, o.Region, o.Period, o.Value, o.Note),
						Expected: r.ind.RangeString()})
				}
				have[k] = o.Value
				added = append(added, o)
			}
		}
		if len(added) == 0 {
			break
		}
		slices.SortFunc(added, func(a, b observation.Observation) int {
			return cmp.Or(cmp.Compare(a.Indicator, b.Indicator), cmp.Compare(a.Region, b.Region), a.Period.Start().Compare(b.Period.Start()))
		})
		out = append(out, added...)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// derive computes the rule's observations from the values known so far.
func (r *rule) derive(have map[observation.Key]float64) []observation.Observation {
	var out []observation.Observation
	emit := func(reg string, p period.Period, v float64, note string) {
		out = append(out, observation.Observation{Indicator: r.ind.ID, Region: reg, Period: p, Value: roundDerived(v),
			Source: "derived", Note: note})
	}
	switch r.kind {
	case complement:
		for k, v := range have {
			if k.Indicator == r.src {
				emit(k.Region, k.Period, r.max-v, fmt.Sprintf("%v − %s", trimNum(r.max), r.src))
			}
		}
	case ratio:
		for k, v := range have {
			if k.Indicator != r.num {
				continue
			}
			den, ok := have[observation.Key{Indicator: r.den, Region: k.Region, Period: k.Period}]
			if !ok || den == 0 {
				continue
			}
			emit(k.Region, k.Period, 100*v/den, fmt.Sprintf("100 × %s / %s", r.num, r.den))
		}
	case average:
		periods := map[period.Period]bool{}
		for k := range have {
			if k.Indicator == r.src {
				periods[k.Period] = true
			}
		}
		for _, g := range r.groups {
			for p := range periods {
				sum, n := 0.0, 0
				for _, m := range g.members {
					v, ok := have[observation.Key{Indicator: r.src, Region: m, Period: p}]
					if !ok {
						break
					}
					sum += v
					n++
				}
				if n == len(g.members) {
					emit(g.parent, p, sum/float64(n), fmt.Sprintf("mean of %s over %d regions", r.src, n))
				}
			}
		}
	}
	return out
}

// round drops floating-point noise (100 − 97.1 = 2.9000000000000057).
func roundDerived(v float64) float64 { return math.Round(v*1e9) / 1e9 }

func trimNum(f float64) string { return fmt.Sprint(roundDerived(f)) }
