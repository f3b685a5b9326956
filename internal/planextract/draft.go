package planextract

// Draft is one target as read from a plan's text, before review.
type Draft struct {
	NameZh     string          `json:"name_zh"`                // the indicator phrase as written
	Indicator  *string         `json:"indicator"`              // catalogue id, or null
	Suggested  string          `json:"suggested_id,omitempty"` // a new id when Indicator is null
	Match      float64         `json:"match"`                  // how well NameZh matched the catalogue (1 = a name or alias)
	Value      *float64        `json:"value"`                  // as printed; see Flags for suggested corrections
	Unit       string          `json:"unit"`                   // catalogue unit (percent, count, index, score, 10k_mu, days) or "" when unknown
	Comparator string          `json:"comparator"`             // >=, <=, == (左右: about)
	Strive     bool            `json:"strive,omitempty"`       // 力争/争取: a strive target
	Deadline   *int            `json:"deadline"`               // the 到20XX年 in force, else --horizon, else null
	DeadlineBy string          `json:"deadline_from"`          // sentence, paragraph, horizon or none
	Modality   string          `json:"modality"`               // reach, hold, new, quota
	Cumulative bool            `json:"cumulative,omitempty"`   // 累计/总数: a stock, not additions
	Quotas     map[int]float64 `json:"quotas,omitempty"`
	Increment  *float64        `json:"increment,omitempty"` // 提高N(个百分点)
	Baseline   *Baseline       `json:"baseline,omitempty"`
	MultipleOf *MultipleOf     `json:"multiple_of,omitempty"` // 翻一番: Factor times the figure of Year
	Region     string          `json:"region,omitempty"`
	Regions    []string        `json:"regions,omitempty"` // regions named in the subject ("济南、青岛市")
	Group      string          `json:"group,omitempty"`   // a group of regions named in words ("其他设区的市")
	Average    bool            `json:"average,omitempty"` // 平均达到: a mean over regions
	Clause     string          `json:"clause"`
	Lead       []string        `json:"lead_agencies"`
	Agencies   []string        `json:"agencies"`
	// AgenciesFrom names the clause the agencies were read from when it is
	// not the draft's own (a goal takes those of the task clause that names
	// its measure; a closing "…牵头" leads the whole plan).
	AgenciesFrom string `json:"agencies_from,omitempty"`
	Quote        string `json:"quote"`
	Printed      string `json:"printed,omitempty"` // the number as printed, where a flag suggests another
	Line         int    `json:"line"`
	Flags        []Flag `json:"flags"`

	measure     string // the phrase the indicator was resolved from
	explicitNew bool   // 新增/新建…: new items, never a level to reach
	incVerb     string // 提高, 下降 … for the printed text of a rise
}

// Baseline is a starting point stated in the text.
type Baseline struct {
	Year  int     `json:"year,omitempty"`
	Value float64 `json:"value"`
}

// MultipleOf is a target set as a multiple of a year's figure.
type MultipleOf struct {
	Year   int     `json:"year"`
	Factor float64 `json:"factor"`
}

// Flag says why a number or a reading needs a person's eye.
type Flag struct {
	Code      string   `json:"code"`
	Reason    string   `json:"reason"`
	Suggested *float64 `json:"suggested,omitempty"` // a corrected value, for Field
	Field     string   `json:"field,omitempty"`     // value or increment
}

// Flag codes.
const (
	FlagOver100       = "percent_over_100"
	FlagPrivateChar   = "private_use_char"
	FlagStrayChar     = "stray_char"
	FlagIncrement     = "increment_too_large"
	FlagRange         = "range"
	FlagNoDeadline    = "no_deadline"
	FlagHorizon       = "deadline_from_horizon"
	FlagUnresolved    = "indicator_unresolved"
	FlagWeakMatch     = "indicator_weak_match"
	FlagUnit          = "unit_unknown"
	FlagDoubling      = "doubling"
	FlagAllCovered    = "full_coverage"
	FlagIncrementOnly = "increment_only"
	FlagRelative      = "relative_change"
	FlagRegionGroup   = "region_group"
	FlagAverage       = "average"
	FlagApprox        = "approximate"
	FlagAgencies      = "agencies_inferred"
)

// Corrected is the value with a suggested correction applied, if any.
func (d *Draft) Corrected() *float64 {
	for _, f := range d.Flags {
		if f.Suggested != nil && f.Field == "value" {
			return f.Suggested
		}
	}
	return d.Value
}

// CorrectedIncrement is the increment with a suggested correction applied.
func (d *Draft) CorrectedIncrement() *float64 {
	for _, f := range d.Flags {
		if f.Suggested != nil && f.Field == "increment" {
			return f.Suggested
		}
	}
	return d.Increment
}

// Suspicious reports whether a flag questions a printed number.
func (d *Draft) Suspicious() bool {
	for _, f := range d.Flags {
		switch f.Code {
		case FlagOver100, FlagPrivateChar, FlagStrayChar, FlagIncrement:
			return true
		}
	}
	return false
}

func (d *Draft) flag(code, reason string) {
	d.Flags = append(d.Flags, Flag{Code: code, Reason: reason})
}

func (d *Draft) hasFlag(code string) bool {
	for _, f := range d.Flags {
		if f.Code == code {
			return true
		}
	}
	return false
}
