package web

import (
	"fmt"
	"html/template"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/internal/web/shell"
)

// funcs are the scorecard's template helpers beside the shared formatting
// (shell.Funcs), in language l: the words and colours of statuses,
// modalities and deadlines; formatting only, no rule.
func funcs(l shell.Lang) template.FuncMap {
	zh := l == shell.Zh
	word := func(m map[string]string) func(string) string {
		return func(s string) string {
			if !zh {
				return or(englishWords[s], s)
			}
			return or(m[s], s)
		}
	}
	return template.FuncMap{
		"label":     func(s evaluate.Status) string { return s.Label(string(l)) },
		"modality":  word(plan.ModalityZh),
		"untracked": func() string { return evaluate.UntrackedLabel(string(l)) },
		"stclass":   statusClass,
		"st":        func(s string) evaluate.Status { return evaluate.Status(s) },
		"period": func(p string) string {
			if zh {
				return periodText(p)
			}
			return periodTextEn(p)
		},
		"planname": func(p *plan.Plan) string { return planName(p, l) },
		// tr is a phrase in the page's language, for blocks whose data
		// carries no page (drill, pager).
		"tr": l.T,
		"pageof": func(page, pages, total int) string {
			if zh {
				return fmt.Sprintf("第 %d / %d 页,共 %d 项", page, pages, total)
			}
			return fmt.Sprintf("page %d of %d, %d in all", page, pages, total)
		},
		// zh marks an element of an English page whose text stays Chinese
		// (a region, an agency, a quotation of the plan or the catalogue).
		"zh": func() template.HTMLAttr {
			if zh {
				return ""
			}
			return ` lang="zh-CN"`
		},
		"tname": func(t *plan.Target) template.HTML { return zhRuns(targetName(t, l), zh) },
		"basis": func(b evaluate.Basis) string { return basisIn(b, l) },
		// zhruns marks the Chinese quoted in an English text (a plan's
		// note quoting its clause) lang="zh-CN".
		"zhruns": func(s string) template.HTML { return zhRuns(s, zh) },
		"val":    func(p *float64, unit string) string { return withUnit(p, unit, l) },
		"unit": func(unit string) string {
			if zh {
				return shell.UnitSymbol(unit)
			}
			return unitSymbolEn(unit)
		},
		// clock is a time on its own location's calendar (datetime shows Local).
		"clock": func(t time.Time) string { return t.Format("2006-01-02 15:04") },
		"indname": func(ind *catalog.Indicator) string {
			if zh {
				return ind.NameZh
			}
			return ind.NameEn
		},
		"unitname": func(u string) string {
			if zh {
				return unitNameZh[u]
			}
			return unitNameEn[u]
		},
		"lag":       func(ind *catalog.Indicator) string { return ind.LagText(zh) },
		"freq":      word(frequencyZh),
		"yearstate": word(yearStateZh),
		"covsource": word(coverageSourceZh),
		"deadline": func(ev *evaluate.Evaluation) string {
			if ev.Deadline == nil {
				return "—"
			}
			s := strconv.Itoa(*ev.Deadline)
			if zh {
				s += "年"
			}
			if ev.DeadlineFromHorizon {
				s += l.T("(规划期末)")
			}
			return s
		},
	}
}

func modalityLabel(m string) string {
	if l, ok := plan.ModalityZh[m]; ok {
		return l
	}
	return m
}

// statusClass is the CSS class of a status (its colour).
func statusClass(s evaluate.Status) string { return "st-" + string(s) }

// periodText prints an evaluation's period: a span of years as
// 2018—2019年 (evaluate writes 2018..2019), a year as 2019年, any other
// period as it is written (2024-Q3).
func periodText(p string) string {
	if a, b, ok := strings.Cut(p, ".."); ok {
		return a + "—" + b + "年"
	}
	if _, err := strconv.Atoi(p); err == nil && len(p) == 4 {
		return p + "年"
	}
	return p
}

// periodTextEn is periodText in English: 2018–2019, 2019.
func periodTextEn(p string) string {
	if a, b, ok := strings.Cut(p, ".."); ok {
		return a + "–" + b
	}
	return p
}

// planName is the plan's name in l: its English name (the key when it has
// none) on English pages.
func planName(p *plan.Plan, l shell.Lang) string {
	if l == shell.En {
		return or(p.NameEn, p.Key)
	}
	return p.NameZh
}

// unitNameZh and unitNameEn name the catalogue's units on the indicator
// pages (the symbol alone is blank for an index).
var (
	unitNameZh = map[string]string{"percent": "百分比(%)", "index": "指数(无量纲)", "score": "分(百分制)", "count": "个(项、家)",
		"10k_mu": "万亩", "ug_m3": "微克/立方米(µg/m³)", "days": "天"}
	unitNameEn = map[string]string{"percent": "percent (%)", "index": "index (dimensionless)", "score": "score (out of 100)", "count": "count",
		"10k_mu": "10,000 mu", "ug_m3": "µg/m³", "days": "days"}
)

// frequencyZh, yearStateZh and coverageSourceZh are the Chinese words of
// the catalogue's frequencies, the year states of a hold or quota target
// and the sources of an average.
var (
	frequencyZh = map[string]string{"yearly": "年度", "half-yearly": "半年度", "quarterly": "季度", "monthly": "月度", "daily": "日度"}
	yearStateZh = map[string]string{evaluate.YearMet: "达标", evaluate.YearNotMet: "未达标",
		evaluate.YearNotReported: "未报送(按未达标计)", evaluate.YearPending: "待报送", evaluate.YearFuture: "尚未开始"}
	coverageSourceZh = map[string]string{"reported": "公布的平均值", "computed": "按各地区数据计算"}
	// englishWords are the same words on the English pages.
	englishWords = map[string]string{"yearly": "annual", "half-yearly": "half-yearly", "quarterly": "quarterly", "monthly": "monthly", "daily": "daily",
		evaluate.YearMet: "met", evaluate.YearNotMet: "not met", evaluate.YearNotReported: "not reported (counted as not met)",
		evaluate.YearPending: "due", evaluate.YearFuture: "not begun", "reported": "published mean", "computed": "computed from the regions' figures",
		plan.Reach: "reach by the deadline", plan.Hold: "hold every year", plan.Quota: "yearly quota", plan.New: "cumulative additions"}
)

// withUnit is shell.WithUnit in l.
func withUnit(p *float64, unit string, l shell.Lang) string {
	if l != shell.En || p == nil {
		return shell.WithUnit(p, unit)
	}
	return shell.Float(*p) + unitSymbolEn(unit)
}

// unitSymbolEn is a unit's symbol after a figure on the English pages
// (shell.UnitSymbol's where it is not Chinese).
func unitSymbolEn(unit string) string {
	if s, ok := unitSymbolsEn[unit]; ok {
		return s
	}
	return shell.UnitSymbol(unit)
}

var unitSymbolsEn = map[string]string{"score": " points", "count": "", "10k_mu": "×10k mu", "days": " days"}

// zhRun is a run of Chinese (with its punctuation) inside other text.
var zhRun = regexp.MustCompile(`[\p{Han}“”「」、,。:;()《》]*\p{Han}[\p{Han}\p{N}%“”「」、,。:;()《》]*`)

// zhRuns is s escaped, its Chinese runs marked lang="zh-CN" unless the
// page is Chinese (zh).
func zhRuns(s string, zh bool) template.HTML {
	if zh {
		return template.HTML(template.HTMLEscapeString(s))
	}
	var b strings.Builder
	last := 0
	for _, m := range zhRun.FindAllStringIndex(s, -1) {
		b.WriteString(template.HTMLEscapeString(s[last:m[0]]))
		b.WriteString(`<span lang="zh-CN">` + template.HTMLEscapeString(s[m[0]:m[1]]) + `</span>`)
		last = m[1]
	}
	b.WriteString(template.HTMLEscapeString(s[last:]))
	return template.HTML(b.String())
}

// or is s, else def when s is empty.
func or(s, def string) string {
	if s != "" {
		return s
	}
	return def
}
