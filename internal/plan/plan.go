// Package plan models quality plans and their targets as stored in
// targets/<plan>.yaml, loads them strictly and validates every field against
// the indicator catalogue and the region table.
package plan

import (
	"fmt"
	"sort"

	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/region"
)

// Modalities of a target.
const (
	Reach = "reach" // meet the value by the deadline
	Hold  = "hold"  // meet it every year from the plan's start to the deadline
	Quota = "quota" // meet a per-year quota, judged each year
	New   = "new"   // the sum of the indicator's yearly flow since the start meets it
)

// ModalityZh names each modality in Chinese, as the CLI and the web show it.
var ModalityZh = map[string]string{Reach: "到期达到", Hold: "每年保持", Quota: "年度定额", New: "累计新增"}

// Plan is one published plan.
type Plan struct {
	Key    string `yaml:"key" json:"key"`
	NameZh string `yaml:"name_zh" json:"name_zh"`
	// NameEn and ShortEn are the plan's name in English and its short
	// English label ("Shandong 2018"), for the pages' second language.
	NameEn    string `yaml:"name_en" json:"name_en,omitempty"`
	ShortEn   string `yaml:"short_en" json:"short_en,omitempty"`
	Issuer    string `yaml:"issuer" json:"issuer"`
	Published string `yaml:"published" json:"published"`
	Region    string `yaml:"region" json:"region"`
	Start     int    `yaml:"start" json:"start"`
	// Horizon is the year the plan's text aims at ("到2020年"): the deadline
	// of every target that prints none, after which the plan settles.
	Horizon int    `yaml:"horizon" json:"horizon"`
	Source  string `yaml:"source" json:"source"`

	Targets []*Target `yaml:"-" json:"-"`
	File    string    `yaml:"-" json:"-"`
}

// Baseline is the stated starting point of a target.
type Baseline struct {
	Year  int     `yaml:"year" json:"year"`
	Value float64 `yaml:"value" json:"value"`
}

// RegionGroup selects the prefecture-level divisions of a province.
type RegionGroup struct {
	Parent string   `yaml:"parent" json:"parent"`
	Level  string   `yaml:"level" json:"level"`
	Except []string `yaml:"except" json:"except,omitempty"`
}

// Average is a target on the mean over a set of regions.
type Average struct {
	Parent  string   `yaml:"parent" json:"parent,omitempty"`
	Level   string   `yaml:"level" json:"level,omitempty"`
	Regions []string `yaml:"regions" json:"regions,omitempty"`
	// MinCoverage is how many of the regions must report a year for its
	// computed mean to count (default: all of them).
	MinCoverage int `yaml:"min_coverage" json:"min_coverage,omitempty"`
	// Reported is the catalogue indicator under which the average itself is
	// reported for the plan's region (甘肃 "14市州平均"); it is used for the
	// years it covers, computed means for the others.
	Reported string `yaml:"reported" json:"reported,omitempty"`
}

// MultipleOf sets a target relative to a reported figure: Factor times the
// figure of Year ("数量翻一番": twice the count of 2017).
type MultipleOf struct {
	Year   int     `yaml:"year" json:"year"`
	Factor float64 `yaml:"factor" json:"factor"`
}

// Target is one quantitative commitment of a plan.
type Target struct {
	ID           string          `yaml:"id"`
	Indicator    string          `yaml:"indicator"`
	Region       string          `yaml:"region"`
	Regions      []string        `yaml:"regions"`
	RegionGroup  *RegionGroup    `yaml:"region_group"`
	Average      *Average        `yaml:"average"`
	Comparator   string          `yaml:"comparator"`
	Value        *float64        `yaml:"value"`
	Deadline     int             `yaml:"deadline"`
	Baseline     *Baseline       `yaml:"baseline"`
	Increment    *float64        `yaml:"increment"`
	MultipleOf   *MultipleOf     `yaml:"multiple_of"`
	Modality     string          `yaml:"modality"`
	Quotas       map[int]float64 `yaml:"quotas"`
	LeadAgencies []string        `yaml:"lead_agencies"`
	Agencies     []string        `yaml:"agencies"`
	// AgenciesFrom names the clause whose agencies bracket the agencies were
	// read from when it is not the target's own: a goal of 主要目标 takes
	// the bracket of the task clause that carries it out ("二(四)"), and a
	// plan-wide "牵头" is cited as "牵头: 五 (…)".
	AgenciesFrom string `yaml:"agencies_from"`
	// Wording is the plan's own name for what is measured, as printed
	// ("制造业产品质量抽查合格率"); the catalogue name is shown when empty.
	Wording string `yaml:"wording"`
	Clause  string `yaml:"clause"`
	Quote   string `yaml:"quote"`
	Printed string `yaml:"printed"`
	Note    string `yaml:"note"`
	// NoteZh and ReasonZh are Note and Reason in Chinese, for the pages
	// (NoteText, ReasonText).
	NoteZh   string `yaml:"note_zh"`
	ReasonZh string `yaml:"reason_zh"`
	// Tracked is false for a numbered commitment that no statistic can
	// follow; Reason says why. Such a target is listed but never judged.
	Tracked *bool  `yaml:"tracked"`
	Reason  string `yaml:"reason"`

	// Resolved at load time.
	Plan *Plan              `yaml:"-"`
	Ind  *catalog.Indicator `yaml:"-"`
	// Units are the regions evaluated separately (one for a single region,
	// several for a group); for an average target, AverageOf holds the
	// regions averaged and Units holds the one region the mean is reported for.
	Units     []string `yaml:"-"`
	AverageOf []string `yaml:"-"`
}

// Key is "plan/target".
func (t *Target) Key() string { return t.Plan.Key + "/" + t.ID }

// IsTracked reports whether the target is judged (tracked is true unless
// the plan file says false).
func (t *Target) IsTracked() bool { return t.Tracked == nil || *t.Tracked }

// Due is the deadline year in force: the printed deadline, else the plan's
// horizon.
func (t *Target) Due() int {
	if t.Deadline != 0 {
		return t.Deadline
	}
	return t.Plan.Horizon
}

// Name is the plan's wording of what is measured, else the catalogue name.
func (t *Target) Name() string {
	if t.Wording != "" {
		return t.Wording
	}
	if t.Ind != nil {
		return t.Ind.NameZh
	}
	return ""
}

// Met reports whether v satisfies the comparator against the target value.
func (t *Target) Met(v float64) bool { return Compare(t.Comparator, v, *t.Value) }

// Compare applies a comparator.
func Compare(cmp string, v, target float64) bool {
	const eps = 1e-9
	switch cmp {
	case ">=":
		return v >= target-eps
	case ">":
		return v > target+eps
	case "<=":
		return v <= target+eps
	case "<":
		return v < target-eps
	case "==":
		return v >= target-eps && v <= target+eps
	}
	return false
}

// Set is every plan, in key order.
type Set struct {
	Plans   []*Plan
	Catalog *catalog.Catalog
	Regions *region.Table
}

// Targets returns every target of every plan, or of one plan when key is
// set, tracked or not.
func (s *Set) Targets(key string) []*Target {
	var out []*Target
	for _, p := range s.Plans {
		if key == "" || p.Key == key {
			out = append(out, p.Targets...)
		}
	}
	return out
}

// Tracked returns the targets that are judged (see Targets).
func (s *Set) Tracked(key string) []*Target {
	var out []*Target
	for _, t := range s.Targets(key) {
		if t.IsTracked() {
			out = append(out, t)
		}
	}
	return out
}

// Plan returns the plan with the key.
func (s *Set) Plan(key string) (*Plan, bool) {
	for _, p := range s.Plans {
		if p.Key == key {
			return p, true
		}
	}
	return nil, false
}

// Keys lists the plan keys.
func (s *Set) Keys() []string {
	var out []string
	for _, p := range s.Plans {
		out = append(out, p.Key)
	}
	sort.Strings(out)
	return out
}

// CheckPlan returns an error naming the known plans when key is unknown.
func (s *Set) CheckPlan(key string) error {
	if key == "" {
		return nil
	}
	if _, ok := s.Plan(key); !ok {
		return fmt.Errorf("unknown plan %q (known: %v)", key, s.Keys())
	}
	return nil
}

// NoteText is the note as the Chinese pages show it: NoteZh, else Note.
func (t *Target) NoteText() string {
	if t.NoteZh != "" {
		return t.NoteZh
	}
	return t.Note
}

// ReasonText is why the commitment is untracked, as the Chinese pages show
// it: ReasonZh, else Reason.
func (t *Target) ReasonText() string {
	if t.ReasonZh != "" {
		return t.ReasonZh
	}
	return t.Reason
}
