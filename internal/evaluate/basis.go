package evaluate

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/qualitymon/qualitymon/internal/plan"
)

// Basis says how a status was reached: a stable code for machines and a
// sentence in Chinese and English for people.
type Basis struct {
	Code string `json:"code"`
	Zh   string `json:"zh"`
	En   string `json:"en"`
}

// Basis codes.
const (
	BasisDeadlineFigure     = "deadline_figure"      // the deadline year's figure decides
	BasisLastBeforeDeadline = "last_before_deadline" // settled without a deadline-year figure
	BasisMetEarly           = "met_before_deadline"  // a plan-period figure already meets it
	BasisPrePlan            = "pre_plan_figure"      // only figures from before the plan
	BasisOneFigure          = "one_figure"           // one figure short of the target, no trend yet
	BasisProjection         = "projection"           // trend projected to the deadline
	BasisHoldBreach         = "hold_breach"          // a plan year below a hold level
	BasisHoldYears          = "hold_years"           // every plan year reported holds
	BasisQuotaYears         = "quota_years"          // per-year quotas judged year by year
	BasisSumReached         = "sum_reached"          // additions since the plan start reach it
	BasisSumAtDeadline      = "sum_at_deadline"      // additions fell short by the deadline
	BasisSumProjection      = "sum_projection"       // yearly additions projected to the deadline
	BasisIncompleteCoverage = "incomplete_coverage"  // no year of an average has every region
	BasisNoFigure           = "no_figure"            // nothing reported
	BasisNoPlanFigure       = "no_plan_period_figure"
	BasisNoReference        = "no_reference_figure" // the figure a multiple refers to is missing
)

func basis(code, zh, en string) Basis { return Basis{Code: code, Zh: zh, En: en} }

// basisLabels are short names of the basis codes, for tables: Chinese,
// English.
var basisLabels = map[string][2]string{
	BasisDeadlineFigure:     {"截止年数据", "deadline-year figure"},
	BasisLastBeforeDeadline: {"截止前最后数据", "last figure before the deadline"},
	BasisMetEarly:           {"提前达标", "met early"},
	BasisPrePlan:            {"仅规划前数据", "pre-plan figures only"},
	BasisOneFigure:          {"仅一个数据", "one figure only"},
	BasisProjection:         {"趋势推算", "trend projection"},
	BasisHoldBreach:         {"某年低于保持水平", "a year below the level held"},
	BasisHoldYears:          {"各年保持", "held every year"},
	BasisQuotaYears:         {"逐年定额", "yearly quotas"},
	BasisSumReached:         {"累计已达", "cumulative total reached"},
	BasisSumAtDeadline:      {"截止累计", "cumulative total at the deadline"},
	BasisSumProjection:      {"累计推算", "cumulative projection"},
	BasisIncompleteCoverage: {"地区报送不全", "regions' figures incomplete"},
	BasisNoFigure:           {"无数据", "no figure"},
	BasisNoPlanFigure:       {"无规划期数据", "no plan-period figure"},
	BasisNoReference:        {"缺基准数据", "reference figure missing"},
}

// Label names the basis for a table: a short name in lang (zh or en),
// else the code.
func (b Basis) Label(lang string) string {
	if l, ok := basisLabels[b.Code]; ok {
		return inLang(l, lang)
	}
	return b.Code
}

// Sentence is the basis in words, in lang.
func (b Basis) Sentence(lang string) string { return inLang([2]string{b.Zh, b.En}, lang) }

// inLang is the Chinese (lang zh) or else the English of a pair [zh, en].
func inLang(l [2]string, lang string) string {
	if lang == "zh" {
		return l[0]
	}
	return l[1]
}

// years lists years as "2018、2019" (zh) and "2018, 2019" (en).
func years(ys []int) (zh, en string) {
	parts := make([]string, len(ys))
	for i, y := range ys {
		parts[i] = strconv.Itoa(y)
	}
	return strings.Join(parts, "、"), strings.Join(parts, ", ")
}

// fmtNum prints a figure with the indicator's precision, without trailing zeros.
func fmtNum(v float64, decimals int) string {
	s := strconv.FormatFloat(roundTo(v, decimals), 'f', decimals, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// describe helps the judge phrase its sentences.
type describe struct {
	decimals int
	cmp      string
	value    float64
	unit     string
}

func (d describe) n(v float64) string { return fmtNum(v, d.decimals) + d.unit }
func (d describe) target() string     { return plan.ComparatorZh[d.cmp] + " " + d.n(d.value) }

func (d describe) metZh(met bool) string {
	if met {
		return "达到"
	}
	return "未达到"
}

func (d describe) metEn(met bool) string {
	if met {
		return "meets"
	}
	return "does not meet"
}

func (d describe) figure(code string, year int, v float64, met bool, zhLead, enLead string) Basis {
	return basis(code,
		fmt.Sprintf("%s%d年数据 %s %s目标(%s)。", zhLead, year, d.n(v), d.metZh(met), d.target()),
		fmt.Sprintf("%sthe %d figure, %s, %s the target (%s).", enLead, year, d.n(v), d.metEn(met), d.target()))
}
