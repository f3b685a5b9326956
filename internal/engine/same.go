package engine

import (
	"slices"
	"time"

	"github.com/qualitymon/qualitymon/internal/evaluate"
)

// changedIndices lists the indices at which next differs from prev, the
// evaluation last published, for the exporter to encode again only the
// blocks holding them; nil (everything) when the two are not the same
// list of targets (the first run, a reloaded plan).
func changedIndices(prev, next []evaluate.Evaluation) []int {
	if prev == nil || len(prev) != len(next) {
		return nil
	}
	out := []int{}
	for i := range next {
		if !sameEvaluation(&prev[i], &next[i]) {
			out = append(out, i)
		}
	}
	return out
}

// sameEvaluation reports whether a and b are equal in every field
// (TestSameEvaluationEveryField keeps it so when fields are added).
func sameEvaluation(a, b *evaluate.Evaluation) bool {
	return a.Plan == b.Plan && a.Target == b.Target && a.Indicator == b.Indicator && a.NameZh == b.NameZh &&
		a.Wording == b.Wording && a.Region == b.Region && a.RegionName == b.RegionName && a.Unit == b.Unit &&
		a.Comparator == b.Comparator && a.Modality == b.Modality && a.Clause == b.Clause && a.Quote == b.Quote &&
		slices.Equal(a.LeadAgencies, b.LeadAgencies) && slices.Equal(a.ResponsibleAgencies, b.ResponsibleAgencies) &&
		a.LeadAgency == b.LeadAgency && sameFloat(a.TargetValue, b.TargetValue) &&
		samePtr(a.Deadline, b.Deadline, func(x, y int) bool { return x == y }) &&
		a.DeadlineFromHorizon == b.DeadlineFromHorizon && sameFloat(a.Actual, b.Actual) && a.Period == b.Period &&
		sameFloat(a.Gap, b.Gap) && sameFloat(a.Baseline, b.Baseline) && sameFloat(a.Projected, b.Projected) &&
		sameFloat(a.Progress, b.Progress) && a.Status == b.Status && a.Basis == b.Basis && a.Settled == b.Settled &&
		a.SettlesAt.Equal(b.SettlesAt) && a.Stale == b.Stale &&
		samePtr(a.LastObservation, b.LastObservation, time.Time.Equal) && a.LastObservationDay == b.LastObservationDay &&
		slices.EqualFunc(a.Years, b.Years, func(x, y evaluate.YearJudgement) bool {
			return x.Year == y.Year && x.State == y.State && sameFloat(x.Target, y.Target) && sameFloat(x.Actual, y.Actual)
		}) &&
		slices.EqualFunc(a.Coverage, b.Coverage, func(x, y evaluate.YearCoverage) bool {
			return x.Year == y.Year && x.Used == y.Used && x.Reported == y.Reported && x.Of == y.Of &&
				slices.Equal(x.Missing, y.Missing) && x.Source == y.Source && sameFloat(x.Value, y.Value)
		}) &&
		a.Derived == b.Derived && slices.Equal(a.Later, b.Later)
}

// sameFloat: both nil, or both the same number (NaN never is: encoded again).
func sameFloat(a, b *float64) bool {
	return samePtr(a, b, func(x, y float64) bool { return x == y })
}

// samePtr: both nil, or both pointing at values eq calls equal.
func samePtr[T any](a, b *T, eq func(T, T) bool) bool {
	if a == nil || b == nil {
		return a == b
	}
	return eq(*a, *b)
}
