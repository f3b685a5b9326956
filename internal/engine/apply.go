package engine

import (
	"slices"

	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/plan"
)

// applyIndex is what Apply needs of a plan set, built once per set rather
// than per upload (at 300,000 targets a scan of every target and a map of
// every evaluation cost more than judging the few thousand an upload
// touches): the tracked targets, in the evaluator's order, by the
// indicators they read, and where each one's evaluations begin in a full
// evaluation (Evaluator.Evaluate with every plan: the targets' Units in
// order).
type applyIndex struct {
	set     *plan.Set
	tracked []*plan.Target
	offset  []int            // of tracked[i]'s first evaluation
	byInd   map[string][]int // indicator → indices into tracked, ascending
}

// applyIndexLocked returns the index of the evaluator's plan set, building
// it when the set is another than the last one's. The caller holds e.run.
func (e *Engine) applyIndexLocked() *applyIndex {
	set := e.Evaluator.Set
	if e.applyIdx != nil && e.applyIdx.set == set {
		return e.applyIdx
	}
	x := &applyIndex{set: set, tracked: set.Tracked(""), byInd: map[string][]int{}}
	x.offset = make([]int, len(x.tracked))
	n := 0
	for i, t := range x.tracked {
		x.offset[i] = n
		n += len(t.Units)
		add := func(id string) {
			if ids := x.byInd[id]; len(ids) == 0 || ids[len(ids)-1] != i {
				x.byInd[id] = append(ids, i)
			}
		}
		add(t.Indicator)
		if t.Average != nil {
			add(t.Average.Reported)
		}
	}
	e.applyIdx = x
	return x
}

// judge returns the tracked targets reading any of the changed indicators
// (their own, or the one their average is reported under), in the
// evaluator's order, and the position in a full evaluation of each
// evaluation EvaluateTargets gives for them.
func (x *applyIndex) judge(changed map[string]bool) ([]*plan.Target, []int) {
	var idx []int
	for id := range changed {
		idx = append(idx, x.byInd[id]...)
	}
	slices.Sort(idx)
	idx = slices.Compact(idx)
	targets := make([]*plan.Target, len(idx))
	var pos []int
	for k, i := range idx {
		targets[k] = x.tracked[i]
		for u := range x.tracked[i].Units {
			pos = append(pos, x.offset[i]+u)
		}
	}
	return targets, pos
}

// samePositions reports whether fresh[j] is the evaluation of the same
// plan, target and region as last[pos[j]] for every j: last is a full
// evaluation of the plan set the positions were taken from.
func samePositions(last, fresh []evaluate.Evaluation, pos []int) bool {
	if len(pos) != len(fresh) {
		return false
	}
	for j, i := range pos {
		if i >= len(last) || last[i].Plan != fresh[j].Plan || last[i].Target != fresh[j].Target || last[i].Region != fresh[j].Region {
			return false
		}
	}
	return true
}

// positionsByKey finds the evaluation of the same plan, target and region
// as each of fresh in last (-1: none).
func positionsByKey(last, fresh []evaluate.Evaluation) []int {
	type key struct{ plan, target, region string }
	at := make(map[key]int, len(fresh))
	for j := range fresh {
		at[key{fresh[j].Plan, fresh[j].Target, fresh[j].Region}] = j
	}
	pos := make([]int, len(fresh))
	for j := range pos {
		pos[j] = -1
	}
	for i := range last {
		if j, ok := at[key{last[i].Plan, last[i].Target, last[i].Region}]; ok {
			pos[j] = i
		}
	}
	return pos
}
