package web

import (
	"html/template"
	"strconv"
	"strings"
	"time"

	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/plan"
)

// funcs are the template helpers: formatting only, no rule.
var funcs = template.FuncMap{
	"label":     func(s evaluate.Status) string { return s.Label("zh") },
	"num":       num,
	"val":       withUnit,
	"unit":      unitSymbol,
	"cmp":       cmpSymbol,
	"date":      func(t time.Time) string { return dateStr(t) },
	"datetime":  func(t time.Time) string { return t.Local().Format("2006-01-02 15:04") },
	"join":      func(s []string) string { return strings.Join(s, "、") },
	"pct":       pct,
	"modality":  modalityLabel,
	"untracked": func() string { return evaluate.UntrackedLabel("zh") },
	"deadline": func(ev *evaluate.Evaluation) string {
		if ev.Deadline == nil {
			return "—"
		}
		s := strconv.Itoa(*ev.Deadline) + "年"
		if ev.DeadlineFromHorizon {
			s += "(规划期末)"
		}
		return s
	},
}

func dateStr(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02")
}

// num formats a figure as evaluated (already rounded to the indicator's
// precision); "—" when there is none.
func num(p *float64) string {
	if p == nil {
		return "—"
	}
	return fmtFloat(*p)
}

func fmtFloat(f float64) string { return strconv.FormatFloat(evaluate.Round(f), 'f', -1, 64) }

// unitSymbol is a catalogue unit as shown after a number.
func unitSymbol(unit string) string {
	if s, ok := catalog.Units[unit]; ok {
		return s
	}
	return unit
}

// withUnit is a figure with its unit: 98.5%, 1482万亩.
func withUnit(p *float64, unit string) string {
	if p == nil {
		return "—"
	}
	return fmtFloat(*p) + unitSymbol(unit)
}

func cmpSymbol(c string) string {
	switch c {
	case ">=":
		return "≥"
	case "<=":
		return "≤"
	}
	return c
}

// pct is part/whole as a percentage with one decimal.
func pct(part, whole int) string {
	if whole == 0 {
		return "—"
	}
	return strconv.FormatFloat(float64(part)*100/float64(whole), 'f', 1, 64) + "%"
}

func modalityLabel(m string) string {
	if l, ok := plan.ModalityZh[m]; ok {
		return l
	}
	return m
}

// statusClass is the CSS class of a status (its colour).
func statusClass(s evaluate.Status) string { return "st-" + string(s) }

func init() {
	funcs["stclass"] = statusClass
	funcs["inc"] = func(i int) int { return i + 1 }
	funcs["st"] = func(s string) evaluate.Status { return evaluate.Status(s) }
}
