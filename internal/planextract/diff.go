package planextract

import (
	"fmt"
	"strings"

	"github.com/qualitymon/qualitymon/internal/plan"
)

// Difference is one way a plan file and its text disagree.
type Difference struct {
	Kind   string `json:"kind"` // missing (the text states it, the file lacks it), contradicts, absent (in the file, not found in the text)
	Target string `json:"target,omitempty"`
	Clause string `json:"clause,omitempty"`
	Detail string `json:"detail"`
	Quote  string `json:"quote,omitempty"`
}

func (d Difference) String() string {
	s := fmt.Sprintf("%-11s %s", d.Kind, d.Detail)
	if d.Target != "" {
		s = fmt.Sprintf("%-11s %s: %s", d.Kind, d.Target, d.Detail)
	}
	if d.Quote != "" {
		s += fmt.Sprintf("\n            %s %s", d.Clause, d.Quote)
	}
	return s
}

func squashText(s string) string { return strings.ReplaceAll(Normalize(s), " ", "") }

// quoteOverlap reports whether two quotes share a run of 8 characters.
func quoteOverlap(a, b string) bool {
	a, b = squashText(a), squashText(b)
	if strings.Contains(a, b) || strings.Contains(b, a) {
		return true
	}
	r := []rune(a)
	for i := 0; i+8 <= len(r); i++ {
		if strings.Contains(b, string(r[i:i+8])) {
			return true
		}
	}
	return false
}

func near(a, b float64) bool { return a-b < 1e-6 && b-a < 1e-6 }

// Diff compares the drafts from a plan's text with the plan file: targets
// the text states that the file lacks, targets whose value, deadline or
// comparator the text contradicts, and targets of the file the text does
// not seem to state.
func Diff(drafts []*Draft, p *plan.Plan) []Difference {
	var out []Difference
	used := map[*plan.Target]bool{}
	for _, d := range drafts {
		var best *plan.Target
		for _, t := range p.Targets {
			if used[t] {
				continue
			}
			sameInd := d.Indicator != nil && *d.Indicator == t.Indicator
			sameVal := t.Value != nil && d.Value != nil && (near(*t.Value, *d.Value) || d.Corrected() != nil && near(*t.Value, *d.Corrected()))
			if sameInd && (quoteOverlap(d.Quote, t.Quote) || sameVal) || sameVal && quoteOverlap(d.Quote, t.Quote) {
				best = t
				if sameInd && sameVal {
					break
				}
			}
		}
		if best == nil {
			out = append(out, Difference{Kind: "missing", Clause: d.Clause, Quote: d.Quote,
				Detail: fmt.Sprintf("%s %s %s (deadline %s) is not in the plan file", d.NameZh, d.Comparator, valueText(d), deadlineText(d.Deadline))})
			continue
		}
		used[best] = true
		var why []string
		if best.Value != nil && d.Corrected() != nil && !near(*best.Value, *d.Corrected()) && !(d.Value != nil && near(*best.Value, *d.Value)) {
			why = append(why, fmt.Sprintf("value %v, the text says %s", *best.Value, valueText(d)))
		}
		// only a deadline the text states can contradict the file: one
		// taken from the horizon is the extractor's guess
		if d.Deadline != nil && *d.Deadline != best.Due() && (d.DeadlineBy == "sentence" || d.DeadlineBy == "paragraph") {
			why = append(why, fmt.Sprintf("deadline %d, the text says %d", best.Due(), *d.Deadline))
		}
		if d.Comparator != "" && d.Comparator != best.Comparator {
			why = append(why, fmt.Sprintf("comparator %s, the text says %s", best.Comparator, d.Comparator))
		}
		if d.Indicator != nil && *d.Indicator != best.Indicator {
			why = append(why, fmt.Sprintf("indicator %s, the text's wording %q reads as %s", best.Indicator, d.NameZh, *d.Indicator))
		}
		if len(why) > 0 {
			out = append(out, Difference{Kind: "contradicts", Target: best.ID, Clause: d.Clause, Quote: d.Quote, Detail: strings.Join(why, "; ")})
		}
	}
	for _, t := range p.Targets {
		if !used[t] {
			out = append(out, Difference{Kind: "absent", Target: t.ID, Clause: t.Clause,
				Detail: "no sentence of the text was read as this target (check by hand: it may be worded in a way the extractor does not read)"})
		}
	}
	return out
}

func valueText(d *Draft) string {
	switch {
	case d.MultipleOf != nil:
		return fmt.Sprintf("%v × the figure of %d", d.MultipleOf.Factor, d.MultipleOf.Year)
	case d.Value == nil:
		return "a rise of " + numPtr(d.Increment)
	case d.Corrected() != nil && !near(*d.Corrected(), *d.Value):
		return fmt.Sprintf("%s (printed %s)", num(*d.Corrected()), num(*d.Value))
	}
	return num(*d.Value)
}

func deadlineText(d *int) string {
	if d == nil {
		return "none"
	}
	return fmt.Sprint(*d)
}
