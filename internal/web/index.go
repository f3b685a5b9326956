package web

import (
	"slices"
	"sync"

	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/region"
)

// index is one evaluation's rows arranged for the pages, built once per
// evaluation (serve: once per engine run) rather than filtering every row
// on each request: the positions of the evaluations by plan, indicator,
// target, status and region (a region holds the evaluations in it and in
// the divisions below it: 全国 → 省 → 市 → 县), and their counts by plan ×
// region. At 300,000 targets a page then costs its filters' shortest list
// and the 200 rows it shows.
type index struct {
	evals []evaluate.Evaluation
	// Positions in evals, each list in the evaluator's order.
	byPlan      map[string][]int32
	byIndicator map[string][]int32
	byTarget    map[string][]int32 // plan/target
	byStatus    map[evaluate.Status][]int32
	byRegion    map[string][]int32 // every level the evaluation's region is in
	// counts by plan ("" every plan) × region ("" everywhere, else every
	// level as byRegion).
	counts map[[2]string]*Counts
	// agencies are each plan's lead and responsible agencies, sorted.
	agencies map[string][]string
	// all is every shown evaluation; chains each region's code and the
	// divisions above it (regionChain).
	all    []int32
	chains map[string][]string

	mu sync.Mutex
	// sorted are the positions of every evaluation in a scorecard order
	// (sort key and direction), made when first asked for.
	sorted map[[2]string][]int32
}

// regionChain is the code of a region and of every division above it
// (a county, its prefecture and province), as the table knows them.
func regionChain(regs *region.Table, code string) []string {
	out := []string{code}
	r, ok := regs.Get(code)
	for ok && len(out) < 4 {
		p := r.ParentCode()
		if p == "" {
			break
		}
		out = append(out, p)
		r, ok = regs.Get(p)
	}
	return out
}

func newIndex(evals []evaluate.Evaluation, regs *region.Table, targets map[string]bool) *index {
	x := &index{evals: evals, byPlan: map[string][]int32{}, byIndicator: map[string][]int32{}, byTarget: map[string][]int32{},
		byStatus: map[evaluate.Status][]int32{}, byRegion: map[string][]int32{}, counts: map[[2]string]*Counts{},
		agencies: map[string][]string{}, sorted: map[[2]string][]int32{}}
	x.chains = map[string][]string{}
	seenAgency := map[[2]string]bool{}
	add := func(plan, reg string, ev *evaluate.Evaluation) {
		c := x.counts[[2]string{plan, reg}]
		if c == nil {
			c = &Counts{By: map[evaluate.Status]int{}}
			x.counts[[2]string{plan, reg}] = c
		}
		c.By[ev.Status]++
		c.Total++
		if ev.Stale {
			c.Stale++
		}
		if ev.Settled {
			c.Settled++
		}
	}
	for i := range evals {
		ev := &evals[i]
		if !targets[ev.Plan+"/"+ev.Target] {
			continue // a target no longer in the plans: not shown
		}
		p := int32(i)
		x.byPlan[ev.Plan] = append(x.byPlan[ev.Plan], p)
		x.byIndicator[ev.Indicator] = append(x.byIndicator[ev.Indicator], p)
		x.byTarget[ev.Plan+"/"+ev.Target] = append(x.byTarget[ev.Plan+"/"+ev.Target], p)
		x.byStatus[ev.Status] = append(x.byStatus[ev.Status], p)
		x.all = append(x.all, p)
		chain, ok := x.chains[ev.Region]
		if !ok {
			chain = regionChain(regs, ev.Region)
			x.chains[ev.Region] = chain
		}
		add("", "", ev)
		add(ev.Plan, "", ev)
		for _, c := range chain {
			x.byRegion[c] = append(x.byRegion[c], p)
			add("", c, ev)
			add(ev.Plan, c, ev)
		}
		for _, a := range ev.LeadAgencies {
			if k := [2]string{ev.Plan, a}; !seenAgency[k] {
				seenAgency[k] = true
				x.agencies[ev.Plan] = append(x.agencies[ev.Plan], a)
			}
		}
		for _, a := range ev.ResponsibleAgencies {
			if k := [2]string{ev.Plan, a}; !seenAgency[k] {
				seenAgency[k] = true
				x.agencies[ev.Plan] = append(x.agencies[ev.Plan], a)
			}
		}
	}
	for _, a := range x.agencies {
		slices.Sort(a)
	}
	return x
}

// count is the counts of a plan ("" every plan) in a region ("" all).
func (x *index) count(plan, reg string) Counts {
	if c := x.counts[[2]string{plan, reg}]; c != nil {
		return *c
	}
	return Counts{By: map[evaluate.Status]int{}}
}

// filter is what a page asks of the index; empty fields do not filter.
type filter struct {
	Plan, Indicator, Region, Agency string
	Status                          evaluate.Status
	Sort                            string
	Desc                            bool
}

// find returns how many evaluations the filter keeps and the positions of
// those from offset on, at most limit: it walks the shortest of the
// filter's lists (sorted: the cached order of every evaluation) and checks
// the other conditions on each.
func (x *index) find(f filter, offset, limit int) (total int, page []int32) {
	if f.Plan != "" && len(x.byPlan[f.Plan]) == len(x.all) {
		f.Plan = "" // the plan is every evaluation: nothing to check
	}
	walk := x.all
	if f.Sort != "" {
		walk = x.order(f.Sort, f.Desc)
	} else {
		for _, l := range []struct {
			on   bool
			list []int32
		}{
			{f.Plan != "", x.byPlan[f.Plan]}, {f.Indicator != "", x.byIndicator[f.Indicator]},
			{f.Status != "", x.byStatus[f.Status]},
			{f.Region != "", x.byRegion[f.Region]},
		} {
			if l.on && len(l.list) < len(walk) {
				walk = l.list
			}
			if l.on && len(l.list) == 0 {
				return 0, nil
			}
		}
	}
	if f == (filter{}) || f == (filter{Sort: f.Sort, Desc: f.Desc}) {
		// Nothing to check: the page is a slice of the list walked.
		return len(walk), walk[min(offset, len(walk)):min(offset+limit, len(walk))]
	}
	if one := (filter{Plan: f.Plan, Indicator: f.Indicator, Status: f.Status, Region: f.Region}); f == one {
		n := 0
		for _, on := range []bool{f.Plan != "", f.Indicator != "", f.Status != "", f.Region != ""} {
			if on {
				n++
			}
		}
		if n == 1 { // walking that condition's own list: every position is kept
			return len(walk), walk[min(offset, len(walk)):min(offset+limit, len(walk))]
		}
	}
	for _, p := range walk {
		ev := &x.evals[p]
		if f.Plan != "" && ev.Plan != f.Plan || f.Indicator != "" && ev.Indicator != f.Indicator ||
			f.Status != "" && ev.Status != f.Status ||
			f.Region != "" && !slices.Contains(x.chains[ev.Region], f.Region) ||
			f.Agency != "" && !slices.Contains(ev.LeadAgencies, f.Agency) && !slices.Contains(ev.ResponsibleAgencies, f.Agency) {
			continue
		}
		if total >= offset && len(page) < limit {
			page = append(page, p)
		}
		total++
	}
	return total, page
}

// order is every shown evaluation in a scorecard order (sortRows), made
// once per key and direction.
func (x *index) order(key string, desc bool) []int32 {
	dir := "asc"
	if desc {
		dir = "desc"
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if o, ok := x.sorted[[2]string{key, dir}]; ok {
		return o
	}
	o := slices.Clone(x.all)
	less := rowOrder(key)
	slices.SortStableFunc(o, func(a, b int32) int {
		if desc {
			return less(&x.evals[b], &x.evals[a])
		}
		return less(&x.evals[a], &x.evals[b])
	})
	x.sorted[[2]string{key, dir}] = o
	return o
}
