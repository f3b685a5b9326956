package plan

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/region"
	"github.com/qualitymon/qualitymon/internal/yamlfile"
)

// maxPlanKey is the longest plan key (it names a file, a URL and a label).
const maxPlanKey = 64

var (
	targetID   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	planKey    = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*-[0-9]{4}$`)
	published  = regexp.MustCompile(`^[0-9]{4}(-[0-9]{2}-[0-9]{2})?$`)
	comparator = map[string]bool{">=": true, ">": true, "<=": true, "<": true, "==": true}
)

type planFile struct {
	Plan    Plan      `yaml:"plan"`
	Targets []*Target `yaml:"targets"`
}

// LoadDir loads targets/: the catalogue from catalogue/*.yaml, the region
// table from regions.yaml and every other *.yaml as a plan. All problems are
// reported together.
func LoadDir(fsys fs.FS, dir string) (*Set, error) {
	cat, err := catalog.Load(fsys, path.Join(dir, "catalogue"))
	if err != nil {
		return nil, err
	}
	regions, err := region.Load(fsys, path.Join(dir, "regions.yaml"))
	if err != nil {
		return nil, err
	}
	files, err := yamlfile.ReadDir(fsys, dir, "regions.yaml")
	if err != nil {
		return nil, err
	}
	set := &Set{Catalog: cat, Regions: regions}
	// The files are parsed on every CPU (every county's plan is some 3,000
	// files); the results are taken in name order.
	parsed := make([]*Plan, len(files))
	parseErrs := make([]error, len(files))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(files)) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(files); i = int(next.Add(1)) - 1 {
				parsed[i], parseErrs[i] = Parse(files[i].Path, files[i].Data, cat, regions)
			}
		})
	}
	wg.Wait()
	var errs []error
	for i, f := range files {
		p := f.Path
		pl, err := parsed[i], parseErrs[i]
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if want := strings.TrimSuffix(path.Base(p), ".yaml"); want != pl.Key {
			errs = append(errs, fmt.Errorf("%s: plan.key: %q must match the file name %q", p, pl.Key, want))
			continue
		}
		set.Plans = append(set.Plans, pl)
	}
	seen := map[string]string{}
	for _, pl := range set.Plans {
		if prev, ok := seen[pl.Key]; ok {
			errs = append(errs, fmt.Errorf("%s: plan.key: %q already used by %s", pl.File, pl.Key, prev))
		}
		seen[pl.Key] = pl.File
	}
	errs = append(errs, undescribed(set)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	sort.Slice(set.Plans, func(i, j int) bool { return set.Plans[i].Key < set.Plans[j].Key })
	return set, nil
}

// undescribed names every catalogue indicator a tracked target uses (its
// own, or the average it reports) that lacks a definition, method or source:
// the indicator pages explain each figure a plan is judged by.
func undescribed(set *Set) []error {
	var errs []error
	seen := map[string]bool{}
	for _, pl := range set.Plans {
		for _, t := range pl.Targets {
			if !t.IsTracked() {
				continue
			}
			ids := []string{t.Indicator}
			if t.Average != nil && t.Average.Reported != "" {
				ids = append(ids, t.Average.Reported)
			}
			for _, id := range ids {
				ind, ok := set.Catalog.Get(id)
				if !ok || seen[id] {
					continue
				}
				seen[id] = true
				if miss := ind.Described(); len(miss) > 0 {
					errs = append(errs, fmt.Errorf("%s: indicator %q: %s required (tracked by %s target %q): say what the figure means, how it is computed and who compiles it",
						ind.File, id, strings.Join(miss, ", "), pl.File, t.ID))
				}
			}
		}
	}
	return errs
}

// Parse decodes and validates one plan file.
func Parse(file string, data []byte, cat *catalog.Catalog, regions *region.Table) (*Plan, error) {
	var f planFile
	if err := yamlfile.Decode(data, &f); err != nil {
		// a draft's TODO in a number field breaks the decode: name it too
		return nil, errors.Join(append(todos(file, data), fmt.Errorf("%s: %w", file, err))...)
	}
	pl := &f.Plan
	pl.File = file
	v := &validator{file: file, cat: cat, regions: regions, errs: todos(file, data)}
	v.plan(pl)
	ids := map[string]bool{}
	for _, t := range f.Targets {
		t.Plan = pl
		if ids[t.ID] {
			v.bad(t, "id", "duplicate target id")
		}
		ids[t.ID] = true
		v.target(t)
	}
	v.errs = append(v.errs, contradictions(file, f.Targets)...)
	if len(f.Targets) == 0 {
		v.errs = append(v.errs, fmt.Errorf("%s: targets: a plan needs at least one target", file))
	}
	if len(v.errs) > 0 {
		return nil, errors.Join(v.errs...)
	}
	pl.Targets = f.Targets
	return pl, nil
}

type validator struct {
	file    string
	cat     *catalog.Catalog
	regions *region.Table
	errs    []error
}

func (v *validator) bad(t *Target, field, format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf("%s: target %q: %s: %s", v.file, t.ID, field, fmt.Sprintf(format, args...)))
}

func (v *validator) plan(p *Plan) {
	bad := func(field, format string, args ...any) {
		v.errs = append(v.errs, fmt.Errorf("%s: plan.%s: %s", v.file, field, fmt.Sprintf(format, args...)))
	}
	if !planKey.MatchString(p.Key) || len(p.Key) > maxPlanKey {
		bad("key", "%q must look like shandong-2018 or qingdao-huangdao-2021 (lower-case letters and digits in parts joined by -, the year last, at most %d characters)", p.Key, maxPlanKey)
	}
	if p.NameZh == "" {
		bad("name_zh", "required")
	}
	if p.Issuer == "" {
		bad("issuer", "required")
	}
	if !published.MatchString(p.Published) {
		bad("published", "%q must be YYYY or YYYY-MM-DD", p.Published)
	}
	if _, ok := v.regions.Get(p.Region); !ok {
		bad("region", "%s", v.regions.Unknown(p.Region))
	}
	if p.Start < 1990 || p.Start > 2100 {
		bad("start", "year %d out of range 1990..2100", p.Start)
	}
	if p.Horizon == 0 {
		bad("horizon", "required: the year the plan's text aims at (到2020年), the deadline of targets that print none")
	} else if p.Horizon < p.Start || p.Horizon > 2100 {
		bad("horizon", "year %d is outside start %d..2100", p.Horizon, p.Start)
	}
}

func (v *validator) target(t *Target) {
	if !targetID.MatchString(t.ID) {
		v.bad(t, "id", "%q must be kebab-case ([a-z0-9-])", t.ID)
	}
	if !t.IsTracked() {
		v.untracked(t)
		return
	}
	if t.Reason != "" {
		v.bad(t, "reason", "only an untracked target (tracked: false) gives a reason")
	}
	ind, ok := v.cat.Get(t.Indicator)
	if !ok {
		v.bad(t, "indicator", "unknown indicator %q (not in the catalogue)", t.Indicator)
	}
	t.Ind = ind
	v.where(t)
	if !comparator[t.Comparator] {
		v.bad(t, "comparator", "%q is not one of >=, >, <=, <, ==", t.Comparator)
	}
	switch t.Modality {
	case Reach, Hold, New:
		if len(t.Quotas) > 0 {
			v.bad(t, "quotas", "only a quota target has quotas (modality is %q)", t.Modality)
		}
		switch {
		case t.MultipleOf != nil:
			v.multipleOf(t)
		case t.Value == nil:
			v.bad(t, "value", "required")
		}
	case Quota:
		if len(t.Quotas) == 0 {
			v.bad(t, "quotas", "a quota target needs per-year quotas")
		}
		if t.Value == nil {
			// The value shown for a quota target is its latest quota.
			y := 0
			for year := range t.Quotas {
				y = max(y, year)
			}
			q := t.Quotas[y]
			t.Value = &q
		}
	default:
		v.bad(t, "modality", "%q is not one of reach, hold, quota, new", t.Modality)
	}
	if t.Modality == New && ind != nil && ind.Kind != "flow" {
		v.bad(t, "modality", "new counts additions, but indicator %q is a level, not a flow", ind.ID)
	}
	if t.Deadline != 0 && (t.Deadline < t.Plan.Start || t.Deadline > 2100) {
		v.bad(t, "deadline", "year %d is outside %d..2100", t.Deadline, t.Plan.Start)
	}
	if ind != nil && t.Value != nil && !ind.InRange(*t.Value) {
		v.bad(t, "value", "%v is outside the valid range %s of %s", *t.Value, ind.RangeString(), ind.ID)
	}
	if ind != nil {
		for y, q := range t.Quotas {
			if !ind.InRange(q) {
				v.bad(t, "quotas", "%d: %v is outside the valid range %s", y, q, ind.RangeString())
			}
		}
	}
	if b := t.Baseline; b != nil {
		if ind != nil && !ind.InRange(b.Value) {
			v.bad(t, "baseline.value", "%v is outside the valid range %s", b.Value, ind.RangeString())
		}
		if t.Deadline != 0 && b.Year >= t.Deadline {
			v.bad(t, "baseline.year", "%d is not before the deadline %d", b.Year, t.Deadline)
		}
	}
	if t.Increment != nil && t.Value != nil && t.Baseline != nil {
		if got := *t.Value - t.Baseline.Value; absf(got-*t.Increment) > 1e-6 {
			v.bad(t, "increment", "%v does not equal value %v minus baseline %v", *t.Increment, *t.Value, t.Baseline.Value)
		}
	}
	if t.Increment != nil && t.Baseline == nil && t.Value != nil {
		// "提高4.7,达到89": the baseline is implied.
		t.Baseline = &Baseline{Year: t.Plan.Start - 1, Value: *t.Value - *t.Increment}
	}
	if strings.TrimSpace(t.Quote) == "" {
		v.bad(t, "quote", "required: the sentence the target comes from")
	}
	if t.Clause == "" {
		v.bad(t, "clause", "required")
	}
	if t.Printed != "" && t.Note == "" {
		v.bad(t, "note", "a corrected (printed) number needs a note explaining the correction")
	}
	if t.AgenciesFrom != "" && len(t.Agencies) == 0 && len(t.LeadAgencies) == 0 {
		v.bad(t, "agencies_from", "names a clause but the target lists no agencies")
	}
	if t.Average != nil && t.Average.MinCoverage != 0 && len(t.AverageOf) > 0 &&
		(t.Average.MinCoverage < 1 || t.Average.MinCoverage > len(t.AverageOf)) {
		v.bad(t, "average.min_coverage", "%d is outside 1..%d (the regions averaged)", t.Average.MinCoverage, len(t.AverageOf))
	}
	if t.Average != nil && t.Average.Reported != "" {
		if r, ok := v.cat.Get(t.Average.Reported); !ok {
			v.bad(t, "average.reported", "unknown indicator %q (not in the catalogue)", t.Average.Reported)
		} else if ind != nil && r.Unit != ind.Unit {
			v.bad(t, "average.reported", "%q is in %s, the target's indicator in %s", r.ID, r.Unit, ind.Unit)
		}
	}
}

// untracked checks a commitment no statistic can follow: it needs the reason,
// its quote and clause; an indicator, when named, must exist.
func (v *validator) untracked(t *Target) {
	if strings.TrimSpace(t.Reason) == "" {
		v.bad(t, "reason", "required for an untracked target: why no statistic can follow it")
	}
	if t.Indicator != "" {
		ind, ok := v.cat.Get(t.Indicator)
		if !ok {
			v.bad(t, "indicator", "unknown indicator %q (not in the catalogue)", t.Indicator)
		}
		t.Ind = ind
	}
	if strings.TrimSpace(t.Quote) == "" {
		v.bad(t, "quote", "required: the sentence the target comes from")
	}
	if t.Clause == "" {
		v.bad(t, "clause", "required")
	}
	if t.Comparator != "" && !comparator[t.Comparator] {
		v.bad(t, "comparator", "%q is not one of >=, >, <=, <, ==", t.Comparator)
	}
}

// multipleOf checks a target set relative to a reported figure.
func (v *validator) multipleOf(t *Target) {
	m := t.MultipleOf
	if t.Value != nil {
		v.bad(t, "value", "give either value or multiple_of, not both")
	}
	if t.Baseline != nil || t.Increment != nil {
		v.bad(t, "multiple_of", "the reported figure of multiple_of.year is the baseline: drop baseline and increment")
	}
	if m.Factor <= 0 {
		v.bad(t, "multiple_of.factor", "%v must be positive", m.Factor)
	}
	if m.Year < 1990 || m.Year >= t.Due() {
		v.bad(t, "multiple_of.year", "%d must lie before the deadline %d", m.Year, t.Due())
	}
	if t.Ind != nil && t.Ind.Kind != "level" {
		v.bad(t, "multiple_of", "indicator %q counts additions (flow); a multiple needs a level", t.Ind.ID)
	}
}

// where validates the region fields and resolves Units/AverageOf.
func (v *validator) where(t *Target) {
	n := 0
	if t.Region != "" {
		n++
	}
	if len(t.Regions) > 0 {
		n++
	}
	if t.RegionGroup != nil {
		n++
	}
	if t.Average != nil {
		n++
	}
	if n != 1 {
		v.bad(t, "region", "give exactly one of region, regions, region_group, average (got %d)", n)
		return
	}
	known := func(field, code string) bool {
		if _, ok := v.regions.Get(code); !ok {
			v.bad(t, field, "%s", v.regions.Unknown(code))
			return false
		}
		return true
	}
	group := func(field, parent, level string, except []string) []string {
		r, ok := v.regions.Get(parent)
		var members []*region.Region
		switch {
		case level == region.Prefecture && (!ok || r.Level != region.Province):
			v.bad(t, field+".parent", "%q is not a province code", parent)
			return nil
		case level == region.Prefecture:
			members = v.regions.Children(parent)
		case level == region.County && (!ok || r.Level == region.County):
			v.bad(t, field+".parent", "%q is not a province or prefecture code", parent)
			return nil
		case level == region.County:
			members = v.regions.Within(parent)
		default:
			v.bad(t, field+".level", "%q: only prefecture and county groups are supported", level)
			return nil
		}
		skip := map[string]bool{}
		for _, e := range except {
			if known(field+".except", e) {
				skip[e] = true
			}
		}
		var out []string
		for _, r := range members {
			if !skip[r.Code] {
				out = append(out, r.Code)
			}
		}
		return out
	}
	switch {
	case t.Region != "":
		if known("region", t.Region) {
			t.Units = []string{t.Region}
		}
	case len(t.Regions) > 0:
		for i, c := range t.Regions {
			if known("regions["+strconv.Itoa(i)+"]", c) {
				t.Units = append(t.Units, c)
			}
		}
	case t.RegionGroup != nil:
		t.Units = group("region_group", t.RegionGroup.Parent, t.RegionGroup.Level, t.RegionGroup.Except)
	case t.Average != nil:
		a := t.Average
		if len(a.Regions) > 0 {
			if a.Parent != "" && a.Level == "" {
				v.bad(t, "average", "give regions, or parent and level")
			}
			for i, c := range a.Regions {
				if known("average.regions["+strconv.Itoa(i)+"]", c) {
					t.AverageOf = append(t.AverageOf, c)
				}
			}
		} else {
			t.AverageOf = group("average", a.Parent, a.Level, nil)
		}
		if len(t.AverageOf) < 2 && len(v.errs) == 0 {
			v.bad(t, "average", "an average needs at least two regions")
		}
		t.Units = []string{t.Plan.Region}
		if a.Parent != "" {
			t.Units = []string{a.Parent}
		}
	}
}

func absf(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}
