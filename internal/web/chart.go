package web

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/web/shell"
)

// Chart is the geometry of one SVG chart, computed here and drawn by the
// "chart" template: lines, dots, bars, rules and text, in the SVG's own
// coordinates. Labels are text the template escapes.
type Chart struct {
	W, H   float64
	Class  string
	Title  string
	Grid   []Seg
	Lines  []Line
	Dots   []Dot
	Bars   []Bar
	Rules  []Seg
	Texts  []Text
	Legend []LegendItem
	// Empty says why nothing is drawn ("" when something is).
	Empty string
}

// Seg is a straight line (grid, axis, target or deadline rule).
type Seg struct {
	X1, Y1, X2, Y2 float64
	Class          string
}

// Line is a polyline through points.
type Line struct {
	D     string
	Class string
	Title string
}

// Dot is a marker with a tooltip.
type Dot struct {
	X, Y  float64
	R     float64
	Class string
	Title string
}

// Bar is a rectangle with a tooltip.
type Bar struct {
	X, Y, W, H float64
	Class      string
	Title      string
}

// Text is a label; Anchor is start, middle or end.
type Text struct {
	X, Y   float64
	Anchor string
	Class  string
	Label  string
}

// LegendItem names a class of marks below the plot.
type LegendItem struct {
	// X..X2 is the sample mark (CX its middle), TX where the label starts.
	X, X2, CX, TX, Y float64
	Kind             string // line, dash, dot, hollow, bar
	Class            string
	Label            string
}

// xy is a point in data units (x in fractional years).
type xy struct {
	X, Y  float64
	Title string
}

// lineChart collects marks in data units and lays them out.
type lineChart struct {
	w, h    float64
	axes    bool
	title   string
	class   string
	xLabel  func(float64) string
	yFormat func(float64) string
	lines   []struct {
		pts   []xy
		class string
		title string
	}
	dots []struct {
		pts   []xy
		class string
	}
	hrules []struct {
		y            float64
		label, class string
	}
	vrules []struct {
		x            float64
		label, class string
	}
	legend []LegendItem
	extraY []float64
}

func newLineChart(w, h float64, title string) *lineChart {
	return &lineChart{w: w, h: h, axes: true, title: title, class: "line-chart",
		xLabel:  func(x float64) string { return strconv.Itoa(int(x)) },
		yFormat: func(y float64) string { return strconv.FormatFloat(y, 'f', -1, 64) }}
}

func (c *lineChart) line(pts []xy, class, title string) {
	if len(pts) == 0 {
		return
	}
	c.lines = append(c.lines, struct {
		pts   []xy
		class string
		title string
	}{pts, class, title})
}

func (c *lineChart) points(pts []xy, class string) {
	if len(pts) == 0 {
		return
	}
	c.dots = append(c.dots, struct {
		pts   []xy
		class string
	}{pts, class})
}

func (c *lineChart) hrule(y float64, label, class string) {
	c.hrules = append(c.hrules, struct {
		y            float64
		label, class string
	}{y, label, class})
}

func (c *lineChart) vrule(x float64, label, class string) {
	c.vrules = append(c.vrules, struct {
		x            float64
		label, class string
	}{x, label, class})
}

func (c *lineChart) key(kind, class, label string) {
	c.legend = append(c.legend, LegendItem{Kind: kind, Class: class, Label: label})
}

// bounds are the data ranges covering every mark.
func (c *lineChart) bounds() (x0, x1, y0, y1 float64, ok bool) {
	x0, y0 = math.Inf(1), math.Inf(1)
	x1, y1 = math.Inf(-1), math.Inf(-1)
	add := func(x, y float64) {
		x0, x1 = math.Min(x0, x), math.Max(x1, x)
		y0, y1 = math.Min(y0, y), math.Max(y1, y)
	}
	for _, l := range c.lines {
		for _, p := range l.pts {
			add(p.X, p.Y)
		}
	}
	for _, d := range c.dots {
		for _, p := range d.pts {
			add(p.X, p.Y)
		}
	}
	if math.IsInf(x0, 1) {
		return 0, 0, 0, 0, false
	}
	// Figures that cannot be negative (counts, rates, every figure of the
	// catalogue so far) never get an axis below zero from the padding.
	floor := math.Inf(-1)
	if y0 >= 0 {
		floor = 0
	}
	for _, r := range c.hrules {
		y0, y1 = math.Min(y0, r.y), math.Max(y1, r.y)
	}
	for _, y := range c.extraY {
		y0, y1 = math.Min(y0, y), math.Max(y1, y)
	}
	for _, r := range c.vrules {
		x0, x1 = math.Min(x0, r.x), math.Max(x1, r.x)
	}
	if x1-x0 < 1 {
		x0, x1 = x0-1, x1+1
	}
	if y1-y0 < 1e-9 {
		pad := math.Max(math.Abs(y0)*0.05, 1)
		y0, y1 = y0-pad, y1+pad
	} else {
		pad := (y1 - y0) * 0.08
		y0, y1 = y0-pad, y1+pad
	}
	return x0, x1, math.Max(y0, floor), y1, true
}

// build lays the chart out.
func (c *lineChart) build(empty string) *Chart {
	out := &Chart{W: c.w, H: c.h, Title: c.title, Class: c.class}
	x0, x1, y0, y1, ok := c.bounds()
	if !ok {
		out.Empty = empty
		return out
	}
	left, right, top, bottom := 56.0, 16.0, 14.0, 32.0
	legend, rows := layLegend(c.legend, left, c.w-right)
	if rows > 0 {
		out.H += legendRowH * float64(rows)
		bottom += legendRowH*float64(rows) + 4
		for i := range legend {
			legend[i].Y += out.H - legendRowH*float64(rows) - 4
		}
	}
	c.h = out.H
	if !c.axes {
		left, right, top, bottom = 2, 2, 3, 3
	}
	ticks := niceTicks(y0, y1, 5)
	if y0 >= 0 && len(ticks) > 0 && ticks[0] < 0 {
		ticks[0] = 0
	}
	if c.axes && len(ticks) > 1 {
		y0, y1 = math.Min(y0, ticks[0]), math.Max(y1, ticks[len(ticks)-1])
	}
	pw, ph := c.w-left-right, c.h-top-bottom
	sx := func(x float64) float64 { return round1(left + (x-x0)/(x1-x0)*pw) }
	sy := func(y float64) float64 { return round1(top + (y1-y)/(y1-y0)*ph) }
	if c.axes {
		for _, t := range ticks {
			out.Grid = append(out.Grid, Seg{left, sy(t), left + pw, sy(t), "grid"})
			out.Texts = append(out.Texts, Text{left - 6, sy(t) + 4, "end", "tick", c.yFormat(t)})
		}
		step := math.Max(1, math.Ceil((x1-x0)/10))
		for x := math.Ceil(x0); x <= x1; x += step {
			out.Grid = append(out.Grid, Seg{sx(x), top + ph, sx(x), top + ph + 4, "axis"})
			out.Texts = append(out.Texts, Text{sx(x), top + ph + 20, "middle", "tick", c.xLabel(x)})
		}
		out.Grid = append(out.Grid, Seg{left, top + ph, left + pw, top + ph, "axis"})
	}
	// Rule labels are placed where they overlap no other label: moved
	// down a line at a time while they would.
	var placed []box
	for _, r := range c.hrules {
		out.Rules = append(out.Rules, Seg{left, sy(r.y), left + pw, sy(r.y), r.class})
		if r.label != "" && c.axes {
			out.Texts = append(out.Texts, placeText(&placed, Text{left + pw - 2, sy(r.y) - 4, "end", r.class, r.label}, top+ph))
		}
	}
	for _, r := range c.vrules {
		out.Rules = append(out.Rules, Seg{sx(r.x), top, sx(r.x), top + ph, r.class})
		if r.label != "" && c.axes {
			out.Texts = append(out.Texts, placeText(&placed, Text{sx(r.x) - 3, top + 10, "end", r.class, r.label}, top+ph))
		}
	}
	for _, l := range c.lines {
		var d strings.Builder
		for i, p := range l.pts {
			if i == 0 {
				d.WriteString("M")
			} else {
				d.WriteString(" L")
			}
			fmt.Fprintf(&d, "%g %g", sx(p.X), sy(p.Y))
		}
		out.Lines = append(out.Lines, Line{D: d.String(), Class: l.class, Title: l.title})
	}
	r := 4.0
	if !c.axes {
		r = 1.8
	}
	for _, ds := range c.dots {
		for _, p := range ds.pts {
			out.Dots = append(out.Dots, Dot{X: sx(p.X), Y: sy(p.Y), R: r, Class: ds.class, Title: p.Title})
		}
	}
	out.Legend = legend
	return out
}

// legendRowH is the height of one row of a legend.
const legendRowH = 18.0

// layLegend places the legend's items in rows from x0, wrapping before x1;
// Y is the row's offset from the legend's first row (the caller adds where
// that is). It returns the items and the number of rows.
func layLegend(items []LegendItem, x0, x1 float64) ([]LegendItem, int) {
	if len(items) == 0 {
		return nil, 0
	}
	out := make([]LegendItem, 0, len(items))
	x, y := x0, 0.0
	for _, l := range items {
		w := 30 + labelWidth(l.Label)
		if x > x0 && x+w > x1 {
			x, y = x0, y+legendRowH
		}
		l.X, l.X2, l.CX, l.TX, l.Y = x, x+18, x+9, x+24, y
		out = append(out, l)
		x += w
	}
	return out, int(y/legendRowH) + 1
}

// box is the extent of a placed label.
type box struct{ x0, y0, x1, y1 float64 }

func (a box) overlaps(b box) bool { return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1 }

// textBox is the extent of a 12-unit label at t (its baseline at t.Y).
func textBox(t Text) box {
	w := labelWidth(t.Label)
	x0 := t.X
	switch t.Anchor {
	case "end":
		x0 -= w
	case "middle":
		x0 -= w / 2
	}
	return box{x0, t.Y - 11, x0 + w, t.Y + 3}
}

// placeText moves t down a line at a time (not below maxY) until it
// overlaps none of the placed labels, and adds it to them.
func placeText(placed *[]box, t Text, maxY float64) Text {
	for tries := 0; tries < 20; tries++ {
		b := textBox(t)
		clash := false
		for _, p := range *placed {
			if b.overlaps(p) {
				clash = true
				break
			}
		}
		if !clash || t.Y+14 > maxY {
			break
		}
		t.Y += 14
	}
	*placed = append(*placed, textBox(t))
	return t
}

// labelWidth estimates the width of a 12-unit label: a CJK character is
// about 12 wide, a Latin letter or digit about 7.
func labelWidth(s string) float64 { return float64(textWidth(s)) * 6.6 }

// barRow is one bar of a bar chart: one indicator's latest figure in a
// region (Period: the year it is of) with a tick at the region's own target.
type barRow struct {
	Label  string
	Period string
	Value  *float64
	Target *float64
	Class  string
	Title  string
}

// buildBarChart lays out one horizontal bar per row from zero, each
// labelled with its value and the period it is of, a tick at each row's
// target, a value axis with gridlines and a legend below it.
func buildBarChart(title string, rows []barRow, format func(float64) string) *Chart {
	const left, right, rowH, top = 150.0, 110.0, 26.0, 8.0
	w := 760.0
	out := &Chart{Title: title, Class: "bar-chart", W: w}
	lo, hi := 0.0, math.Inf(-1)
	for _, r := range rows {
		for _, p := range []*float64{r.Value, r.Target} {
			if p != nil {
				lo, hi = math.Min(lo, *p), math.Max(hi, *p)
			}
		}
	}
	if math.IsInf(hi, -1) {
		out.Empty = "暂无数据"
		return out
	}
	// Bars always start at zero: the length of a bar is its value.
	ticks := niceTicks(lo, math.Max(hi, lo+1e-9), 5)
	lo, hi = math.Min(lo, ticks[0]), math.Max(hi, ticks[len(ticks)-1])
	if hi == lo {
		hi = lo + 1
	}
	pw := w - left - right
	sx := func(v float64) float64 { return round1(left + (v-lo)/(hi-lo)*pw) }
	axisY := top + rowH*float64(len(rows)) + 4
	for _, t := range ticks {
		out.Grid = append(out.Grid, Seg{sx(t), top, sx(t), axisY, "grid"})
		out.Texts = append(out.Texts, Text{sx(t), axisY + 14, "middle", "tick", format(t)})
	}
	for i, r := range rows {
		y := top + float64(i)*rowH
		out.Texts = append(out.Texts, Text{left - 8, y + rowH/2 + 4, "end", "bar-label", r.Label})
		if r.Value != nil {
			x0, x1 := sx(0), sx(*r.Value)
			out.Bars = append(out.Bars, Bar{X: math.Min(x0, x1), Y: y + 5, W: math.Max(1, math.Abs(x1-x0)), H: rowH - 10, Class: r.Class, Title: r.Title})
			label := format(*r.Value)
			if r.Period != "" {
				label += "(" + r.Period + ")"
			}
			// The label starts after the bar and after the target's tick.
			end := math.Max(x0, x1)
			if r.Target != nil {
				end = math.Max(end, sx(*r.Target)+1)
			}
			out.Texts = append(out.Texts, Text{end + 4, y + rowH/2 + 4, "start", "bar-value", label})
		} else {
			out.Texts = append(out.Texts, Text{left + 4, y + rowH/2 + 4, "start", "bar-value", "无数据"})
		}
		if r.Target != nil {
			out.Rules = append(out.Rules, Seg{sx(*r.Target), y + 2, sx(*r.Target), y + rowH - 2, "target-tick"})
		}
	}
	out.Grid = append(out.Grid, Seg{left, axisY, left + pw, axisY, "axis"})
	legend, n := layLegend([]LegendItem{
		{Kind: "bar", Class: "", Label: "实际值(颜色为状态,括号内为数据年份)"},
		{Kind: "line", Class: "target-tick", Label: "该地区的目标"},
	}, left, w-8)
	for i := range legend {
		legend[i].Y += axisY + 34
	}
	out.Legend = legend
	out.H = axisY + 34 + legendRowH*float64(n)
	return out
}

// niceTicks are about n round values covering [lo, hi].
func niceTicks(lo, hi float64, n int) []float64 {
	if hi <= lo {
		return []float64{lo}
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var out []float64
	for v := math.Floor(lo/step) * step; v <= hi+step*1e-9; v += step {
		out = append(out, math.Round(v/step)*step)
	}
	if len(out) > 0 && out[len(out)-1] < hi-1e-9 {
		out = append(out, out[len(out)-1]+step)
	}
	return out
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// textWidth counts a CJK character as two Latin ones.
func textWidth(s string) int {
	n := 0
	for _, r := range s {
		if r > 0x2E80 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// in is the chart in language l: its fixed phrases (legend, empty note,
// the words of rule labels) from the pages' catalogue and periods without
// 年; names of regions and the values stay as they are.
func (c *Chart) in(l shell.Lang) *Chart {
	if l == shell.Zh || c == nil {
		return c
	}
	c.Empty = chartText(l, c.Empty)
	for i := range c.Texts {
		c.Texts[i].Label = chartText(l, c.Texts[i].Label)
	}
	for i := range c.Legend {
		c.Legend[i].Label = chartText(l, c.Legend[i].Label)
	}
	for i := range c.Lines {
		c.Lines[i].Title = chartText(l, c.Lines[i].Title)
	}
	for i := range c.Dots {
		c.Dots[i].Title = chartText(l, c.Dots[i].Title)
	}
	for i := range c.Bars {
		c.Bars[i].Title = chartText(l, c.Bars[i].Title)
	}
	return c
}

// chartWords are the words a chart label starts with before its value
// ("期限 2020", "目标 ≥96%"), in the second language.
var chartWords = []string{"期限 ", "目标 ", "按趋势预测 ", "预测 "}

var yearSuffix = regexp.MustCompile(`(\d{4})年`)

// unitSuffix is a figure followed by a Chinese unit symbol (12个, 1482万亩).
var unitSuffix = regexp.MustCompile(`(\d)(个|万亩|分|天)`)

// figuresEn is s with its figures in English: years without 年, units in
// their English symbols, and the words of the charts' tooltips.
func figuresEn(s string) string {
	s = yearSuffix.ReplaceAllString(tooltipWords.Replace(s), "$1")
	return unitSuffix.ReplaceAllStringFunc(s, func(m string) string {
		for code, sym := range catalog.Units {
			if sym == m[1:] {
				return m[:1] + unitSymbolEn(code)
			}
		}
		return m
	})
}

// tooltipWords are the words of the charts' tooltips (data.go, targetChart)
// in the second language.
var tooltipWords = strings.NewReplacer("年平均 ", " mean ", "年累计 ", " cumulative ", "年定额 ", " quota ", "年 ", " ", " 修订前 ", " before revision: ",
	" 报送)", " reported)", "(", " (", ")", ")", "基线", "baseline", "目标", "target", "预测", "projected")

func chartText(l shell.Lang, s string) string {
	if t := l.T(s); t != s {
		return t
	}
	for _, w := range chartWords {
		if rest, ok := strings.CutPrefix(s, w); ok {
			return l.T(strings.TrimSpace(w)) + " " + figuresEn(rest)
		}
	}
	return figuresEn(s)
}
