package plan

import (
	"bytes"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/qualitymon/qualitymon/internal/yamlfile"
)

// todos finds every value a draft left for review: `plans extract` writes
// TODO where it could not fill a field, and no such file may pass as a plan.
// Each is reported with its line and key path ("plan.name_zh",
// "targets[3].indicator").
func todos(file string, data []byte) []error {
	// Without "todo" in any case and without a backslash (an escape in a
	// quoted scalar could spell it) no value holds one: most files are
	// not parsed a second time.
	if !bytes.Contains(bytes.ToLower(data), []byte("todo")) && !bytes.Contains(data, []byte(`\`)) {
		return nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil // the strict decode reports it
	}
	var errs []error
	yamlfile.Walk(&doc, func(path yamlfile.Path, _, n *yaml.Node) {
		if n.Kind == yaml.ScalarNode && strings.Contains(strings.ToUpper(n.Value), "TODO") {
			errs = append(errs, fmt.Errorf("%s: line %d: %s: reads %q: a draft's field left for review; fill it from the text before the plan is used",
				file, n.Line, path, excerpt(n.Value)))
		}
	})
	return errs
}

func excerpt(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

// requirement is what a level target asks of one region's figure: the
// comparator and value, judged in the years from..to (a reach target only
// at its deadline, a hold target every year from the plan's start).
type requirement struct {
	t        *Target
	cmp      string
	value    float64
	from, to int
}

func requirementOf(t *Target) (requirement, bool) {
	if !t.IsTracked() || t.Value == nil || t.MultipleOf != nil || (t.Modality != "reach" && t.Modality != "hold") {
		return requirement{}, false
	}
	r := requirement{t: t, cmp: t.Comparator, value: *t.Value, from: t.Due(), to: t.Due()}
	if t.Modality == "hold" {
		r.from = t.Plan.Start
	}
	return r, true
}

// contradictions finds pairs of targets of one plan that ask different
// things of the same figure — the same indicator and region (or the same
// average) in the same year: "稳定在92%以上" beside "达到94%以上" for one
// year is a draft read twice, not two commitments. Both are named.
func contradictions(file string, targets []*Target) []error {
	type key struct{ indicator, unit string }
	seen := map[key][]requirement{}
	var errs []error
	for _, t := range targets {
		r, ok := requirementOf(t)
		if !ok {
			continue
		}
		units := t.Units
		prefix := ""
		if t.Average != nil {
			prefix = "average of " + strings.Join(t.AverageOf, ",") + " for "
		}
		reported := map[string]bool{}
		for _, u := range units {
			k := key{t.Indicator, prefix + u}
			for _, o := range seen[k] {
				if o.cmp == r.cmp && o.value == r.value {
					continue
				}
				lo, hi := max(o.from, r.from), min(o.to, r.to)
				if lo > hi || reported[o.t.ID] {
					continue
				}
				reported[o.t.ID] = true
				errs = append(errs, fmt.Errorf("%s: target %q contradicts target %q: both judge %s of region %s in %d, one asks %s %s (%s), the other %s %s (%s); keep the one the text states",
					file, t.ID, o.t.ID, t.Indicator, u, lo, r.cmp, fnum(r.value), r.t.Modality, o.cmp, fnum(o.value), o.t.Modality))
			}
			seen[k] = append(seen[k], r)
		}
	}
	return errs
}

func fnum(f float64) string { return fmt.Sprintf("%g", f) }
