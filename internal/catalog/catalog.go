// Package catalog holds the indicator catalogue: what is measured, in which
// unit, within which valid range, which direction is better and how often it
// is reported. It loads targets/catalogue/*.yaml and resolves ids, Chinese
// names and aliases to one indicator.
package catalog

import (
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/yamlfile"
)

// Units lists the units an indicator may have, with the symbol shown to people.
var Units = map[string]string{
	"percent": "%",
	"index":   "",
	"score":   "分",
	"count":   "个",
	"10k_mu":  "万亩",
	"ug_m3":   "µg/m³",
	"days":    "天",
}

// Indicator is one measured quantity.
type Indicator struct {
	ID        string   `yaml:"id" json:"id"`
	NameZh    string   `yaml:"name_zh" json:"name_zh"`
	NameEn    string   `yaml:"name_en" json:"name_en"`
	Unit      string   `yaml:"unit" json:"unit"`
	Min       *float64 `yaml:"min" json:"min"`
	Max       *float64 `yaml:"max" json:"max"`
	Better    string   `yaml:"better" json:"better"`
	Frequency string   `yaml:"frequency" json:"frequency"`
	Kind      string   `yaml:"kind" json:"kind"`
	Aliases   []string `yaml:"aliases" json:"aliases,omitempty"`
	// Decimals is how many decimals figures are shown with (default by
	// unit: see Precision).
	Decimals *int     `yaml:"decimals" json:"decimals,omitempty"`
	Note     string   `yaml:"note" json:"note,omitempty"`
	Derived  *Derived `yaml:"derived" json:"derived,omitempty"`
	// Lag is publication_lag: how long after a period ends its figure is
	// due ("90d", "20d", "36h"); empty: DefaultLag of the frequency. A
	// period whose end plus lag has passed without a figure is overdue
	// (internal/reporting).
	Lag string `yaml:"publication_lag" json:"publication_lag,omitempty"`
	// Definition (口径), Method (计算方法) and Source (数据来源单位) say
	// what the figure means, how it is computed and which agency compiles
	// it, in Chinese, as the indicator pages show them; Reference names
	// the document they follow, or says the definition is qualitymon's
	// reading of the plan texts where no published one was found. Every
	// indicator a tracked target uses must have the first three
	// (Described; plan.LoadDir).
	Definition string `yaml:"definition" json:"definition,omitempty"`
	Method     string `yaml:"method" json:"method,omitempty"`
	Source     string `yaml:"source" json:"source,omitempty"`
	Reference  string `yaml:"reference" json:"reference,omitempty"`

	File string        `yaml:"-" json:"-"`
	lag  time.Duration // parsed Lag
}

// DefaultLag is the publication lag of a frequency when the catalogue gives
// none: a year's figures are due by the end of March (the statistical
// bulletins, 统计公报, appear in February–March), a half-year's and a
// quarter's within 60 and 30 days, a month's within 20 days (as the monthly
// releases of the statistics bureaus), a day's within 2 days.
var DefaultLag = map[string]time.Duration{
	"yearly":      90 * 24 * time.Hour,
	"half-yearly": 60 * 24 * time.Hour,
	"quarterly":   30 * 24 * time.Hour,
	"monthly":     20 * 24 * time.Hour,
	"daily":       2 * 24 * time.Hour,
}

// MaxLag bounds publication_lag.
const MaxLag = 730 * 24 * time.Hour

// PublicationLag is how long after a period ends its figure is due.
func (i *Indicator) PublicationLag() time.Duration {
	if i.lag > 0 || i.Lag != "" {
		return i.lag
	}
	return DefaultLag[i.Frequency]
}

// Due is when the figure of the indicator for period p is due: the end of
// p on the calendar of loc (the config's timezone; nil: UTC) plus the
// publication lag. It is qualitymon's one rule of lateness: a figure a plan
// needs that is missing after its due date is overdue (internal/reporting,
// qualitymon_report_overdue), and a target's data is stale once the figure
// of the period after its latest is missing a grace after its due date
// (internal/evaluate, qualitymon_target_stale).
func (i *Indicator) Due(p period.Period, loc *time.Location) time.Time {
	return p.EndIn(loc).Add(i.PublicationLag())
}

// ParseDuration reads "90d", "36h" or any Go duration: the durations of the
// catalogue (publication lag) and of qualitymon.yaml.
func ParseDuration(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(d, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration (want e.g. 90d, 20d, 36h)", s)
		}
		return time.Duration(n * 24 * float64(time.Hour)), nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (want e.g. 90d, 20d, 36h)", s)
	}
	return v, nil
}

// Derived declares how an indicator is computed from others (internal/derive
// computes it when the figures are read, never storing it); the catalogue
// only validates its shape. Exactly one of complement, numerator with
// denominator, average_of or rollup_of is given.
type Derived struct {
	// Complement: value = Max(of the source) - source value, e.g. a pass
	// rate from a reported non-pass rate.
	Complement string `yaml:"complement" json:"complement,omitempty"`
	// Ratio: value = 100 * numerator / denominator.
	Numerator   string `yaml:"numerator" json:"numerator,omitempty"`
	Denominator string `yaml:"denominator" json:"denominator,omitempty"`
	// AverageOf: value = mean of the source over a set of regions, stored
	// for the parent region: Regions when given (Parent then required),
	// otherwise every prefecture of Parent, otherwise (no Parent) every
	// prefecture of each province.
	AverageOf string   `yaml:"average_of" json:"average_of,omitempty"`
	Parent    string   `yaml:"parent" json:"parent,omitempty"`
	Regions   []string `yaml:"regions" json:"regions,omitempty"`
	// RollupOf: a yearly figure per region from the daily figures of the
	// source: Measure "share_at_most" (the percentage of valid days with a
	// value at most AtMost), "days" (distinct days with a value) or
	// "missing_days" (days of the year without one; for the year of the
	// latest value, up to that day). Validity, when given, is the rule a
	// year must meet for a share to count.
	RollupOf string    `yaml:"rollup_of" json:"rollup_of,omitempty"`
	Measure  string    `yaml:"measure" json:"measure,omitempty"`
	AtMost   *float64  `yaml:"at_most" json:"at_most,omitempty"`
	Validity *Validity `yaml:"validity" json:"validity,omitempty"`
}

// Validity is a completeness rule for a yearly rollup of daily values (GB
// 3095-2012 §7.3: a year counts with at least 324 daily values, at least 27
// in each month, 25 in February).
type Validity struct {
	// Rule names the rule in the basis (GB 3095-2012).
	Rule         string `yaml:"rule" json:"rule"`
	MinDays      int    `yaml:"min_days" json:"min_days"`
	MinMonthDays int    `yaml:"min_month_days" json:"min_month_days"`
	MinFebruary  int    `yaml:"min_february_days" json:"min_february_days"`
}

// Described reports which of the description fields the indicator lacks
// (definition, method, source): what the indicator pages show an official.
func (i *Indicator) Described() (missing []string) {
	for _, f := range []struct{ name, v string }{{"definition", i.Definition}, {"method", i.Method}, {"source", i.Source}} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, f.name)
		}
	}
	return missing
}

// LagText is the publication lag as pages print it: "90天" (the days,
// with "(按频率默认)" when the catalogue gives none), or hours below a day.
func (i *Indicator) LagText(zh bool) string {
	d := i.PublicationLag()
	var s string
	switch {
	case d%(24*time.Hour) == 0 && zh:
		s = strconv.Itoa(int(d/(24*time.Hour))) + "天"
	case d%(24*time.Hour) == 0:
		s = strconv.Itoa(int(d/(24*time.Hour))) + " days"
	case zh:
		s = strconv.FormatFloat(d.Hours(), 'f', -1, 64) + "小时"
	default:
		s = strconv.FormatFloat(d.Hours(), 'f', -1, 64) + " hours"
	}
	if i.Lag == "" {
		if zh {
			s += "(按频率默认)"
		} else {
			s += " (the frequency's default)"
		}
	}
	return s
}

// HigherIsBetter reports the better direction.
func (i *Indicator) HigherIsBetter() bool { return i.Better != "lower" }

// Freq is the indicator's reporting frequency as a period kind.
func (i *Indicator) Freq() period.Kind {
	switch i.Frequency {
	case "quarterly":
		return period.Quarter
	case "monthly":
		return period.Month
	case "daily":
		return period.Day
	case "half-yearly":
		return period.Half
	}
	return period.Year
}

// unitDecimals is the default precision per unit: rates and indices as
// bureaus publish them (97.12 %), counts whole.
var unitDecimals = map[string]int{"percent": 2, "index": 2, "score": 2, "count": 0, "10k_mu": 1, "ug_m3": 1, "days": 0}

// Precision is how many decimals the indicator's figures are shown with.
func (i *Indicator) Precision() int {
	if i.Decimals != nil {
		return *i.Decimals
	}
	if d, ok := unitDecimals[i.Unit]; ok {
		return d
	}
	return 2
}

// InRange reports whether v lies in the indicator's valid range.
func (i *Indicator) InRange(v float64) bool {
	return (i.Min == nil || v >= *i.Min) && (i.Max == nil || v <= *i.Max)
}

// RangeString describes the valid range for error messages.
func (i *Indicator) RangeString() string {
	lo, hi := "-∞", "+∞"
	if i.Min != nil {
		lo = trim(*i.Min)
	}
	if i.Max != nil {
		hi = trim(*i.Max)
	}
	return fmt.Sprintf("%s..%s %s", lo, hi, i.Unit)
}

func trim(f float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.6f", f), "0"), ".")
}

// Catalog is the loaded catalogue.
type Catalog struct {
	list  []*Indicator
	byID  map[string]*Indicator
	names map[string]*Indicator
}

type file struct {
	Indicators []*Indicator `yaml:"indicators"`
}

var idPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

var frequencies = map[string]bool{"yearly": true, "half-yearly": true, "quarterly": true, "monthly": true, "daily": true}

// Load reads every *.yaml file in dir of fsys. All problems are returned
// together, each naming the file, the indicator and the field.
func Load(fsys fs.FS, dir string) (*Catalog, error) {
	files, err := yamlfile.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no catalogue files (*.yaml)", dir)
	}
	var all []*Indicator
	var errs []error
	for _, fl := range files {
		var f file
		if err := yamlfile.Decode(fl.Data, &f); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", fl.Path, err))
			continue
		}
		for _, ind := range f.Indicators {
			ind.File = fl.Path
			all = append(all, ind)
		}
	}
	c, verrs := build(all)
	errs = append(errs, verrs...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// New builds a catalogue from indicators given in code (tests, benchmarks).
func New(inds ...*Indicator) (*Catalog, error) {
	c, errs := build(inds)
	return c, errors.Join(errs...)
}

func build(all []*Indicator) (*Catalog, []error) {
	c := &Catalog{byID: map[string]*Indicator{}, names: map[string]*Indicator{}}
	var errs []error
	bad := func(ind *Indicator, field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: indicator %q: %s: %s", ind.File, ind.ID, field, fmt.Sprintf(format, args...)))
	}
	for _, ind := range all {
		if !idPattern.MatchString(ind.ID) {
			bad(ind, "id", "must match %s", idPattern)
			continue
		}
		if prev, ok := c.byID[ind.ID]; ok {
			bad(ind, "id", "duplicate: already defined in %s", prev.File)
			continue
		}
		if ind.NameZh == "" {
			bad(ind, "name_zh", "required")
		}
		if ind.NameEn == "" {
			bad(ind, "name_en", "required")
		}
		if _, ok := Units[ind.Unit]; !ok {
			bad(ind, "unit", "unknown unit %q (want one of %s)", ind.Unit, strings.Join(unitNames(), ", "))
		}
		if ind.Min == nil || ind.Max == nil {
			bad(ind, "min/max", "a valid range is required")
		} else if *ind.Min >= *ind.Max {
			bad(ind, "min/max", "min %v must be below max %v", *ind.Min, *ind.Max)
		}
		if ind.Unit == "percent" && ind.Min != nil && ind.Max != nil && (*ind.Min < 0 || *ind.Max > 100) {
			bad(ind, "min/max", "a percent lies within 0..100, not %v..%v", *ind.Min, *ind.Max)
		}
		if ind.Better != "higher" && ind.Better != "lower" {
			bad(ind, "better", "must be higher or lower, not %q", ind.Better)
		}
		if !frequencies[ind.Frequency] {
			bad(ind, "frequency", "must be yearly, half-yearly, quarterly, monthly or daily, not %q", ind.Frequency)
		}
		if ind.Decimals != nil && (*ind.Decimals < 0 || *ind.Decimals > 6) {
			bad(ind, "decimals", "%d is outside 0..6", *ind.Decimals)
		}
		if ind.Lag != "" {
			if d, err := ParseDuration(ind.Lag); err != nil {
				bad(ind, "publication_lag", "%v", err)
			} else if d < 0 || d > MaxLag {
				bad(ind, "publication_lag", "%s is outside 0..730d", ind.Lag)
			} else {
				ind.lag = d
			}
		}
		if ind.Kind != "level" && ind.Kind != "flow" {
			bad(ind, "kind", "must be level or flow, not %q", ind.Kind)
		}
		c.byID[ind.ID] = ind
		c.list = append(c.list, ind)
	}
	for _, ind := range c.list {
		for _, name := range append([]string{ind.NameZh}, ind.Aliases...) {
			key := normName(name)
			if key == "" {
				continue
			}
			if other, ok := c.names[key]; ok && other != ind {
				bad(ind, "aliases", "%q already names indicator %q", name, other.ID)
				continue
			}
			if other, ok := c.byID[key]; ok && other != ind {
				bad(ind, "aliases", "%q is the id of indicator %q", name, other.ID)
				continue
			}
			c.names[key] = ind
		}
		if d := ind.Derived; d != nil {
			for _, ref := range []string{d.Complement, d.Numerator, d.Denominator, d.AverageOf, d.RollupOf} {
				if ref == ind.ID {
					bad(ind, "derived", "an indicator cannot be derived from itself")
				} else if ref != "" && c.byID[ref] == nil {
					bad(ind, "derived", "unknown source indicator %q", ref)
				}
			}
			kinds := 0
			for _, set := range []bool{d.Complement != "", d.Numerator != "" || d.Denominator != "", d.AverageOf != "", d.RollupOf != ""} {
				if set {
					kinds++
				}
			}
			if kinds != 1 || (d.Numerator == "") != (d.Denominator == "") {
				bad(ind, "derived", "give exactly one of complement, numerator and denominator, average_of or rollup_of")
			}
			switch {
			case d.RollupOf == "" && (d.Measure != "" || d.AtMost != nil || d.Validity != nil):
				bad(ind, "derived", "measure, at_most and validity go with rollup_of")
			case d.RollupOf != "" && d.Measure == "share_at_most" && d.AtMost == nil:
				bad(ind, "derived", "measure share_at_most needs at_most")
			case d.RollupOf != "" && d.Measure != "share_at_most" && d.Measure != "days" && d.Measure != "missing_days":
				bad(ind, "derived", "measure %q: want share_at_most, days or missing_days", d.Measure)
			}
			if d.AverageOf == "" && (d.Parent != "" || len(d.Regions) > 0) {
				bad(ind, "derived", "parent and regions go with average_of")
			}
			if len(d.Regions) > 0 && d.Parent == "" {
				bad(ind, "derived", "regions need the parent region the average is stored for")
			}
		}
	}
	sort.Slice(c.list, func(i, j int) bool { return c.list[i].ID < c.list[j].ID })
	return c, errs
}

func unitNames() []string {
	var out []string
	for u := range Units {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}

// normName folds a name for lookup: spaces dropped, ASCII lower-cased.
func normName(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), ""))
}

// Get returns the indicator with the given id.
func (c *Catalog) Get(id string) (*Indicator, bool) {
	ind, ok := c.byID[id]
	return ind, ok
}

// Resolve finds an indicator by id, Chinese name or alias.
func (c *Catalog) Resolve(s string) (*Indicator, bool) {
	s = strings.TrimSpace(s)
	if ind, ok := c.byID[s]; ok {
		return ind, true
	}
	ind, ok := c.names[normName(s)]
	return ind, ok
}

// All returns the indicators sorted by id.
func (c *Catalog) All() []*Indicator { return c.list }
