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

// Plan is one published plan.
type Plan struct {
	Key       string `yaml:"key" json:"key"`
	NameZh    string `yaml:"name_zh" json:"name_zh"`
	Issuer    string `yaml:"issuer" json:"issuer"`
	Published string `yaml:"published" json:"published"`
	Region    string `yaml:"region" json:"region"`
	Start     int    `yaml:"start" json:"start"`
	Source    string `yaml:"source" json:"source"`

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
	Modality     string          `yaml:"modality"`
	Quotas       map[int]float64 `yaml:"quotas"`
	LeadAgencies []string        `yaml:"lead_agencies"`
	Agencies     []string        `yaml:"agencies"`
	Clause       string          `yaml:"clause"`
	Quote        string          `yaml:"quote"`
	Printed      string          `yaml:"printed"`
	Note         string          `yaml:"note"`

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

// Targets returns every target of every plan, or of one plan when key is set.
func (s *Set) Targets(key string) []*Target {
	var out []*Target
	for _, p := range s.Plans {
		if key == "" || p.Key == key {
			out = append(out, p.Targets...)
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
