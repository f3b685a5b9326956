package evaluate

import (
	"maps"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/plan"
)

// With returns the data with obs applied as current values (later rows of
// obs win), for re-judging after an ingest without reading the store
// again. d itself is not changed: the series obs touches are copied.
func (d *Data) With(obs []observation.Observation) *Data {
	nd := &Data{yearly: maps.Clone(d.yearly), last: maps.Clone(d.last), rules: d.rules}
	d.withDays(nd, obs)
	copiedY, copiedL := map[string]bool{}, map[string]bool{}
	touched := map[[2]string]bool{}
	for i := range obs {
		o := &obs[i]
		if o.Period.Kind == period.Year {
			if !copiedY[o.Indicator] {
				m := maps.Clone(nd.yearly[o.Indicator])
				if m == nil {
					m = map[string]Series{}
				}
				nd.yearly[o.Indicator], copiedY[o.Indicator] = m, true
			}
			m := nd.yearly[o.Indicator]
			k := [2]string{o.Indicator, o.Region}
			if !touched[k] {
				m[o.Region], touched[k] = append(Series(nil), m[o.Region]...), true
			}
			s := m[o.Region]
			j := sort.Search(len(s), func(j int) bool { return s[j].Year >= o.Period.Year })
			if j < len(s) && s[j].Year == o.Period.Year {
				s[j].Value = o.Value
			} else {
				s = append(s, Point{})
				copy(s[j+1:], s[j:])
				s[j] = Point{o.Period.Year, o.Value}
			}
			m[o.Region] = s
		}
		if !copiedL[o.Indicator] {
			l := maps.Clone(nd.last[o.Indicator])
			if l == nil {
				l = map[string]time.Time{}
			}
			nd.last[o.Indicator], copiedL[o.Indicator] = l, true
		}
		if end := o.Period.End(); end.After(nd.last[o.Indicator][o.Region]) {
			nd.last[o.Indicator][o.Region] = end
		}
	}
	if nd.rules != nil {
		// The derived figures are computed again; their last ends are
		// written into copies (the base's maps are not changed).
		for _, id := range nd.rules.Outputs() {
			if !copiedL[id] {
				nd.last[id] = maps.Clone(nd.last[id])
			}
		}
		nd.derive()
	}
	return nd
}

// Replace returns a Data with the figures of the indicators inds as b read
// them (all of them: an indicator b has nothing of has none) and those of
// the others as in d, the derived figures computed again; d is not changed
// and b is not used afterwards. It is how a reader that re-read only the
// indicators written since its last read (engine) updates its data.
func (d *Data) Replace(b *DataBuilder, inds []string) *Data {
	b.sort()
	nd := &Data{yearly: maps.Clone(d.yearly), last: maps.Clone(d.last), days: maps.Clone(d.days), rules: d.rules}
	for _, ind := range inds {
		replaceKey(&nd.yearly, b.d.yearly, ind)
		replaceKey(&nd.last, b.d.last, ind)
		replaceKey(&nd.days, b.d.days, ind)
	}
	if nd.rules != nil {
		// The derived figures' last ends are written into copies (the
		// base's maps are not changed).
		replaced := map[string]bool{}
		for _, ind := range inds {
			replaced[ind] = true
		}
		for _, id := range nd.rules.Outputs() {
			if !replaced[id] {
				nd.last[id] = maps.Clone(nd.last[id])
			}
		}
		nd.derive()
	}
	return nd
}

// replaceKey sets (*dst)[k] to src's, or deletes it when src has none.
func replaceKey[V any](dst *map[string]V, src map[string]V, k string) {
	v, ok := src[k]
	if !ok {
		delete(*dst, k)
		return
	}
	if *dst == nil {
		*dst = map[string]V{}
	}
	(*dst)[k] = v
}

// EvaluateTargets judges the given targets only (tracked ones; one
// evaluation per region of a group); Evaluate calls it with every tracked
// target. The judgements are independent (d is only read): with many they
// are made on every CPU, each worker a contiguous share, in the order of
// targets.
func (e *Evaluator) EvaluateTargets(d *Data, targets []*plan.Target, at time.Time) []Evaluation {
	type job struct {
		t   *plan.Target
		reg string
	}
	var jobs []job
	for _, t := range targets {
		if !t.IsTracked() {
			continue
		}
		for _, reg := range t.Units {
			jobs = append(jobs, job{t, reg})
		}
	}
	out := make([]Evaluation, len(jobs))
	workers := min(runtime.GOMAXPROCS(0), len(jobs)/parallelFrom+1)
	share := (len(jobs) + workers - 1) / max(workers, 1)
	var wg sync.WaitGroup
	for lo := 0; lo < len(jobs); lo += share {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				out[i] = e.one(d, jobs[i].t, jobs[i].reg, at)
			}
		}(lo, min(lo+share, len(jobs)))
	}
	wg.Wait()
	return out
}

// parallelFrom: below this many judgements, one goroutine judges them all
// (an upload's few targets).
const parallelFrom = 1000
