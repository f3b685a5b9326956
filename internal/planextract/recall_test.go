package planextract

import (
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

// score matches the shipped targets of one plan with the drafts from its
// text, one to one: first on indicator and value, then on value and a
// shared quote. A shipped target counts for value when a draft has its value
// (with a suggested correction applied), for deadline and indicator when that
// draft also has the same deadline / indicator.
type score struct {
	total, value, deadline, indicator, comparator, all int
	drafts, falsePos                                   int
	missed                                             []string
	extra                                              []string
}

func (s *score) add(o score) {
	s.total += o.total
	s.value += o.value
	s.deadline += o.deadline
	s.indicator += o.indicator
	s.comparator += o.comparator
	s.all += o.all
	s.drafts += o.drafts
	s.falsePos += o.falsePos
	s.missed = append(s.missed, o.missed...)
	s.extra = append(s.extra, o.extra...)
}

func pct(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return 100 * float64(n) / float64(d)
}

func (s score) String() string {
	return fmt.Sprintf("%d targets: value %d (%.1f%%), deadline %d (%.1f%%), indicator %d (%.1f%%), comparator %d (%.1f%%), all four %d (%.1f%%); %d drafts, %d false positives",
		s.total, s.value, pct(s.value, s.total), s.deadline, pct(s.deadline, s.total), s.indicator, pct(s.indicator, s.total),
		s.comparator, pct(s.comparator, s.total), s.all, pct(s.all, s.total), s.drafts, s.falsePos)
}

func matchesValue(d *Draft, t *plan.Target) bool {
	if t.MultipleOf != nil {
		return d.MultipleOf != nil && d.MultipleOf.Factor == t.MultipleOf.Factor
	}
	return t.Value != nil && sameValue(d, *t.Value)
}

func sameValue(d *Draft, v float64) bool {
	for _, c := range []*float64{d.Corrected(), d.Value} {
		if c != nil && math.Abs(*c-v) < 1e-6 {
			return true
		}
	}
	return false
}

func valueOf(t *plan.Target) any {
	if t.Value != nil {
		return *t.Value
	}
	return t.MultipleOf
}

func scorePlan(p *plan.Plan, drafts []*Draft) score {
	var ts []*plan.Target
	for _, t := range p.Targets {
		if t.Value != nil || t.MultipleOf != nil {
			ts = append(ts, t)
		}
	}
	s := score{total: len(ts), drafts: len(drafts)}
	used := make([]bool, len(drafts))
	match := make([]int, len(ts))
	for i := range match {
		match[i] = -1
	}
	passes := []func(t *plan.Target, d *Draft) bool{
		func(t *plan.Target, d *Draft) bool {
			return d.Indicator != nil && *d.Indicator == t.Indicator && matchesValue(d, t) && quoteOverlap(d.Quote, t.Quote)
		},
		func(t *plan.Target, d *Draft) bool {
			return d.Indicator != nil && *d.Indicator == t.Indicator && matchesValue(d, t)
		},
		func(t *plan.Target, d *Draft) bool { return matchesValue(d, t) && quoteOverlap(d.Quote, t.Quote) },
	}
	for _, ok := range passes {
		for i, t := range ts {
			if match[i] >= 0 {
				continue
			}
			for j, d := range drafts {
				if !used[j] && ok(t, d) {
					match[i], used[j] = j, true
					break
				}
			}
		}
	}
	for i, t := range ts {
		if match[i] < 0 {
			s.missed = append(s.missed, fmt.Sprintf("%s/%s %v: %s", p.Key, t.ID, valueOf(t), t.Quote))
			continue
		}
		d := drafts[match[i]]
		s.value++
		dl := 0
		if d.Deadline != nil {
			dl = *d.Deadline
		}
		okD := dl == t.Due()
		okI := d.Indicator != nil && *d.Indicator == t.Indicator
		okC := d.Comparator == t.Comparator
		if okC {
			s.comparator++
		} else {
			s.missed = append(s.missed, fmt.Sprintf("%s/%s comparator %s, drafted %s", p.Key, t.ID, t.Comparator, d.Comparator))
		}
		if okD {
			s.deadline++
		} else {
			s.missed = append(s.missed, fmt.Sprintf("%s/%s deadline %d, drafted %d", p.Key, t.ID, t.Due(), dl))
		}
		if okI {
			s.indicator++
		} else {
			got := "null"
			if d.Indicator != nil {
				got = *d.Indicator
			}
			s.missed = append(s.missed, fmt.Sprintf("%s/%s indicator %s, drafted %s (%q)", p.Key, t.ID, t.Indicator, got, d.NameZh))
		}
		if okD && okI && okC {
			s.all++
		}
	}
	for j, d := range drafts {
		if !used[j] {
			s.falsePos++
			v := "null"
			if d.Value != nil {
				v = trimFloat(*d.Value)
			}
			s.extra = append(s.extra, fmt.Sprintf("%s %s: %s = %s (%s)", p.Key, d.Clause, d.NameZh, v, d.Quote))
		}
	}
	return s
}

func shippedSet(t *testing.T) *plan.Set {
	t.Helper()
	return testenv.Plans(t)
}

func extractFile(t *testing.T, path string, opt Options) *Result {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text, _ := Decode(data)
	return Extract(text, opt)
}

// The five seed texts against the shipped plan files: recall of value,
// deadline, indicator and comparator, each and all four together, must be at
// least 97 %, and both garbled numbers must be flagged with the right
// correction.
func TestSeedRecall(t *testing.T) {
	set := shippedSet(t)
	var total score
	var garbles []string
	for _, p := range set.Plans {
		path := filepath.Join("testdata", "seeds", p.Source)
		if _, err := os.Stat(path); err != nil {
			continue // a plan without a seed text (national-2023 has its own test)
		}
		res := extractFile(t, path, Options{Catalog: set.Catalog, Regions: set.Regions, Region: p.Region, Start: p.Start, Horizon: p.Horizon})
		s := scorePlan(p, res.Drafts)
		t.Logf("%s: %s", p.Key, s)
		total.add(s)
		for _, d := range res.Drafts {
			if d.Suspicious() {
				garbles = append(garbles, fmt.Sprintf("%s %s %q", p.Key, d.Clause, d.Printed))
				for _, f := range d.Flags {
					if f.Suggested != nil {
						garbles = append(garbles, fmt.Sprintf("  %s %s -> %v: %s", f.Code, f.Field, *f.Suggested, f.Reason))
					}
				}
			}
		}
	}
	t.Logf("ALL SEEDS: %s", total)
	for _, m := range total.missed {
		t.Logf("  missed: %s", m)
	}
	for _, e := range total.extra {
		t.Logf("  extra: %s", e)
	}
	for _, g := range garbles {
		t.Logf("  flagged: %s", g)
	}
	// issue 21: at least 97 % of the shipped targets with value, deadline,
	// indicator and comparator all right
	for name, n := range map[string]int{"value": total.value, "deadline": total.deadline, "indicator": total.indicator,
		"comparator": total.comparator, "all four": total.all} {
		if pct(n, total.total) < 97 {
			t.Errorf("%s recall %.1f%% < 97%%", name, pct(n, total.total))
		}
	}
	fmt.Fprintf(os.Stderr, "seed recall: %s\n", total)
}

// The agencies drafted for the seed targets against the shipped plan files:
// a target counts when the drafted lead and responsible agencies are those
// of the file. Targets whose own clause names its agencies must all agree;
// goals that take the agencies of a task clause (agencies_from in the file)
// are drafted by a weaker rule and only reported.
func TestSeedAgencies(t *testing.T) {
	set := shippedSet(t)
	var own, ownOK, inferred, inferredOK int
	for _, p := range set.Plans {
		path := filepath.Join("testdata", "seeds", p.Source)
		if _, err := os.Stat(path); err != nil {
			continue
		}
		res := extractFile(t, path, Options{Catalog: set.Catalog, Regions: set.Regions, Region: p.Region, Start: p.Start, Horizon: p.Horizon})
		used := map[*Draft]bool{}
		for _, tg := range p.Targets {
			if !tg.IsTracked() || len(tg.LeadAgencies)+len(tg.Agencies) == 0 {
				continue
			}
			var d *Draft
			for _, c := range res.Drafts {
				if !used[c] && matchesValue(c, tg) && quoteOverlap(c.Quote, tg.Quote) {
					d = c
					break
				}
			}
			fromTask := strings.Contains(tg.AgenciesFrom, "(") || tg.AgenciesFrom != "" && !strings.HasPrefix(tg.AgenciesFrom, tg.Clause)
			ok := d != nil && slices.Equal(d.Lead, tg.LeadAgencies) && slices.Equal(d.Agencies, tg.Agencies)
			if d != nil {
				used[d] = true
			}
			if fromTask && !strings.HasPrefix(tg.AgenciesFrom, tg.Clause+";") {
				inferred++
				if ok {
					inferredOK++
				}
				continue
			}
			own++
			if ok {
				ownOK++
			} else if d == nil {
				t.Errorf("%s/%s: no draft", p.Key, tg.ID)
			} else {
				t.Errorf("%s/%s: drafted lead %v agencies %v, the file has %v %v", p.Key, tg.ID, d.Lead, d.Agencies, tg.LeadAgencies, tg.Agencies)
			}
		}
	}
	summary := fmt.Sprintf("seed agencies: %d of %d targets whose clause names its agencies drafted with them; %d of %d goals given a task clause's agencies",
		ownOK, own, inferredOK, inferred)
	t.Log(summary)
	fmt.Fprintln(os.Stderr, summary)
}

// The texts under testdata/collected and testdata/unseen were labelled by
// hand before the extractor first ran on them: expected.yaml maps each
// file to what it states. Both tests read them the same way.

// readLabels reads testdata/dir/expected.yaml: what each file states, and
// the file names, sorted.
func readLabels[T any](t *testing.T, dir string) (map[string]T, []string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", dir, "expected.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]T
	if err := yaml.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	return want, slices.Sorted(maps.Keys(want))
}

// falsePositives logs and counts the drafts of file f that matched no
// labelled target.
func falsePositives(t *testing.T, f string, res *Result, used []bool) int {
	extra := 0
	for j, d := range res.Drafts {
		if !used[j] {
			extra++
			t.Logf("  %s false positive: %s = %s (%s)", f, d.NameZh, numPtr(d.Value), d.Quote)
		}
	}
	return extra
}

type labelled struct {
	Phrase   string  `yaml:"phrase"`
	Value    float64 `yaml:"value"`
	Deadline int     `yaml:"deadline"`
}

// Texts collected as a user would bring them, labelled by hand before the
// extractor first ran on them (testdata/collected/README.md). Reported, not
// asserted: recall of value and deadline, and the drafts that match no
// labelled target (false positives). Indicator recall is not measured: most
// of their indicators are not in the catalogue.
func TestCollectedRecall(t *testing.T) {
	set := shippedSet(t)
	want, files := readLabels[[]labelled](t, "collected")
	var total, value, deadline, drafts, fp, resolved int
	for _, f := range files {
		res := extractFile(t, filepath.Join("testdata", "collected", f), Options{Catalog: set.Catalog, Regions: set.Regions})
		used := make([]bool, len(res.Drafts))
		v, dl := 0, 0
		for _, l := range want[f] {
			hit := -1
			for j, d := range res.Drafts {
				if used[j] {
					continue
				}
				if sameValue(d, l.Value) || d.Increment != nil && math.Abs(*d.Increment-l.Value) < 1e-6 {
					hit = j
					break
				}
			}
			if hit < 0 {
				t.Logf("  %s missed: %s %v", f, l.Phrase, l.Value)
				continue
			}
			used[hit] = true
			v++
			if d := res.Drafts[hit]; d.Deadline != nil && *d.Deadline == l.Deadline {
				dl++
			} else {
				t.Logf("  %s deadline: %s", f, l.Phrase)
			}
		}
		for _, d := range res.Drafts {
			if d.Indicator != nil {
				resolved++
			}
		}
		extra := falsePositives(t, f, res, used)
		t.Logf("%s: %d labelled, value %d, deadline %d; %d drafts, %d false positives", f, len(want[f]), v, dl, len(res.Drafts), extra)
		total += len(want[f])
		value += v
		deadline += dl
		drafts += len(res.Drafts)
		fp += extra
	}
	summary := fmt.Sprintf("collected texts: %d labelled targets: value %d (%.1f%%), deadline %d (%.1f%%); %d drafts (%d resolved to a catalogue indicator), %d false positives",
		total, value, pct(value, total), deadline, pct(deadline, total), drafts, resolved, fp)
	t.Log(summary)
	fmt.Fprintln(os.Stderr, strings.TrimSpace(summary))
}

type unseenText struct {
	Horizon     int  `yaml:"horizon"`
	ResultsOnly bool `yaml:"results_only"`
	Targets     []struct {
		Phrase   string  `yaml:"phrase"`
		Value    float64 `yaml:"value"`
		Deadline int     `yaml:"deadline"`
		Cmp      string  `yaml:"cmp"`
		Modality string  `yaml:"modality"`
		Strive   bool    `yaml:"strive"`
	} `yaml:"targets"`
}

// Texts from provinces and cities the extractor had not met, labelled by
// hand before its first run on them (testdata/unseen/README.md). A labelled
// target is recalled when a draft has its value, deadline and comparator
// (and modality and 力争 where labelled); a draft that matches none is a
// false positive. A results-only text must yield no draft and a warning
// naming its result sentences. Goal: recall ≥ 90 %, at most one false
// positive per text.
func TestUnseenRecall(t *testing.T) {
	set := shippedSet(t)
	want, files := readLabels[unseenText](t, "unseen")
	var total, right, fps int
	var lines []string
	for _, f := range files {
		w := want[f]
		res := extractFile(t, filepath.Join("testdata", "unseen", f), Options{Catalog: set.Catalog, Regions: set.Regions, Horizon: w.Horizon})
		used := make([]bool, len(res.Drafts))
		ok := 0
		for _, l := range w.Targets {
			hit, why := -1, "no draft with its value"
			for j, d := range res.Drafts {
				if used[j] || !sameValue(d, l.Value) {
					continue
				}
				dl := 0
				if d.Deadline != nil {
					dl = *d.Deadline
				}
				switch {
				case dl != l.Deadline:
					why = fmt.Sprintf("deadline %d, drafted %d", l.Deadline, dl)
				case d.Comparator != l.Cmp:
					why = fmt.Sprintf("comparator %s, drafted %s", l.Cmp, d.Comparator)
				case l.Modality != "" && d.Modality != l.Modality:
					why = fmt.Sprintf("modality %s, drafted %s", l.Modality, d.Modality)
				case d.Strive != l.Strive:
					why = fmt.Sprintf("力争 %v, drafted %v", l.Strive, d.Strive)
				default:
					hit = j
				}
				if hit >= 0 {
					break
				}
			}
			if hit < 0 {
				t.Logf("  %s missed: %s %v (%s)", f, l.Phrase, l.Value, why)
				continue
			}
			used[hit] = true
			ok++
		}
		extra := falsePositives(t, f, res, used)
		if w.ResultsOnly && len(res.Warnings) == 0 {
			t.Errorf("%s: a results-only text gave no warning", f)
		}
		for _, wn := range res.Warnings {
			t.Logf("  %s warning: %s", f, wn)
		}
		lines = append(lines, fmt.Sprintf("%-26s %2d labelled, %2d right (%5.1f%%), %d false positives", f, len(w.Targets), ok, pct(ok, len(w.Targets)), extra))
		if extra > 1 {
			t.Errorf("%s: %d false positives, want at most 1", f, extra)
		}
		total += len(w.Targets)
		right += ok
		fps += extra
	}
	summary := fmt.Sprintf("unseen texts: %d labelled targets, %d right (%.1f%%: value, deadline and comparator), %d false positives in %d texts",
		total, right, pct(right, total), fps, len(files))
	for _, l := range lines {
		t.Log(l)
	}
	t.Log(summary)
	fmt.Fprintf(os.Stderr, "%s\n  %s\n", summary, strings.Join(lines, "\n  "))
	if pct(right, total) < 90 {
		t.Errorf("recall %.1f%% < 90%%", pct(right, total))
	}
}
