package shell

import (
	"html/template"
	"strconv"
	"strings"
	"time"

	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/evaluate"
)

// Funcs are the templates' formatting functions, shared by every page:
// formatting only, no rule.
var Funcs = template.FuncMap{
	"num":      Num,
	"val":      WithUnit,
	"unit":     UnitSymbol,
	"cmp":      CmpSymbol,
	"date":     Date,
	"datetime": func(t time.Time) string { return t.Local().Format("2006-01-02 15:04") },
	"join":     func(s []string) string { return strings.Join(s, "、") },
	"pct":      Pct,
	"inc":      func(i int) int { return i + 1 },
	"signed":   func(p *float64) string { return Signed(*p) },
}

// Date is the day of t (2006-01-02), "" for the zero time.
func Date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02")
}

// Num formats a figure as evaluated (already rounded to the indicator's
// precision); "—" when there is none.
func Num(p *float64) string {
	if p == nil {
		return "—"
	}
	return Float(*p)
}

// Float is a figure rounded as evaluated, without trailing zeros.
func Float(f float64) string { return strconv.FormatFloat(evaluate.Round(f), 'f', -1, 64) }

// UnitSymbol is a catalogue unit as shown after a number.
func UnitSymbol(unit string) string {
	if s, ok := catalog.Units[unit]; ok {
		return s
	}
	return unit
}

// WithUnit is a figure with its unit: 98.5%, 1482万亩.
func WithUnit(p *float64, unit string) string {
	if p == nil {
		return "—"
	}
	return Float(*p) + UnitSymbol(unit)
}

// CmpSymbol is a comparator as printed: ≥, ≤.
func CmpSymbol(c string) string {
	switch c {
	case ">=":
		return "≥"
	case "<=":
		return "≤"
	}
	return c
}

// Pct is part/whole as a percentage with one decimal.
func Pct(part, whole int) string {
	if whole == 0 {
		return "—"
	}
	return strconv.FormatFloat(float64(part)*100/float64(whole), 'f', 1, 64) + "%"
}

// Signed is a difference between two figures with its sign: +0.6, -1.2, 0.
func Signed(d float64) string {
	s := Float(d)
	if evaluate.Round(d) > 0 {
		s = "+" + s
	}
	return s
}
