package ingest

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/region"
)

// Columns of the canonical layout.
const (
	ColIndicator = "indicator"
	ColRegion    = "region"
	ColPeriod    = "period"
	ColValue     = "value"
	ColUnit      = "unit"
	ColSource    = "source"
	ColNote      = "note"
)

// Raw is one reported row before validation: cells by canonical column name.
type Raw struct {
	File  string
	Row   int
	Cells map[string]string
	// Columns maps a canonical column to the header the file used, for
	// errors (readers may share it between the rows of a file: read only).
	Columns map[string]string
}

// Scope limits what a reporter may report; nil fields allow everything.
type Scope struct {
	// Who is the reporter (a bureau), named in the errors.
	Who        string
	Regions    map[string]bool
	Indicators map[string]bool
	// RegionList describes Regions for people ("370200 青岛市").
	RegionList string
}

// AllowsIndicator reports whether the scope lets its reporter report the
// indicator id; a nil scope, or one without indicators, allows every one.
func (s *Scope) AllowsIndicator(id string) bool {
	return s == nil || s.Indicators == nil || s.Indicators[id]
}

// AllowsRegion reports whether the scope lets its reporter report for the
// region code; a nil scope, or one without regions, allows every one.
func (s *Scope) AllowsRegion(code string) bool {
	return s == nil || s.Regions == nil || s.Regions[code]
}

// outside names a reporter's scope error.
func (s *Scope) outside(what string) string {
	who := s.Who
	if who == "" {
		who = "this reporter"
	}
	return fmt.Sprintf("%s is not allowed to report %s (outside its 报送范围)", who, what)
}

// Validator checks rows against the catalogue and the region table.
type Validator struct {
	Catalog *catalog.Catalog
	Regions *region.Table
	// Now bounds periods: a period that has not begun at Now, on the
	// calendar of Now's location (the config's timezone), is in the future.
	Now func() time.Time
	// Scope, when set, rejects rows outside it (uploads by a bureau).
	Scope *Scope
	// Limits bound what one input may cost (zero: DefaultLimits).
	Limits Limits
	// Gate, when set, bounds how many large files are read at once: the
	// paths of serve take a slot before reading a file (nil: no bound).
	Gate *Gate

	memo memo // see Memoised (nil maps: nothing kept)
}

// memo holds what Row looked up for a cell text: a large file repeats the
// same few hundred indicator, region and period cells on every row.
type memo struct {
	inds map[string]*catalog.Indicator // nil: unknown
	regs map[string]memoRegion
	pers map[string]memoPeriod
}

type memoRegion struct {
	r   *region.Region
	err error
}

type memoPeriod struct {
	p   period.Period
	err error
}

// memoLimit bounds each of a memo's maps; past it lookups are not kept.
const memoLimit = 1 << 16

// Memoised is a copy of v whose Row looks each distinct indicator, region
// and period cell up once (the catalogue, the region table and the period
// parser are pure; the scope, the clock and every message are still
// applied per row, so Row's verdicts do not change). For one input read by
// one goroutine: the copy is not safe for concurrent use.
func (v *Validator) Memoised() *Validator {
	c := *v
	c.memo = memo{inds: map[string]*catalog.Indicator{}, regs: map[string]memoRegion{}, pers: map[string]memoPeriod{}}
	return &c
}

// remember looks key up in m, or resolves it and keeps the answer (a nil
// m keeps nothing).
func remember[V any](m map[string]V, key string, resolve func(string) V) V {
	if v, ok := m[key]; ok {
		return v
	}
	v := resolve(key)
	if m != nil && len(m) < memoLimit {
		m[key] = v
	}
	return v
}

// indicator resolves an indicator cell (nil: unknown).
func (v *Validator) indicator(cell string) *catalog.Indicator {
	return remember(v.memo.inds, cell, func(s string) *catalog.Indicator { ind, _ := v.Catalog.Resolve(s); return ind })
}

// region looks a region cell up (region.Table.Lookup: an unknown,
// ambiguous or abolished name is an error).
func (v *Validator) region(cell string) (*region.Region, error) {
	r := remember(v.memo.regs, cell, func(s string) memoRegion { reg, err := v.Regions.Lookup(s); return memoRegion{reg, err} })
	return r.r, r.err
}

// period parses a period cell.
func (v *Validator) period(cell string) (period.Period, error) {
	r := remember(v.memo.pers, cell, func(s string) memoPeriod { p, err := period.Parse(s); return memoPeriod{p, err} })
	return r.p, r.err
}

// clippedErr is a parse error's message, with a long cell shown as an
// excerpt instead of the message that would quote it whole.
func clippedErr(cell string, err error, what string) string {
	if len(cell) <= excerptRunes {
		return err.Error()
	}
	return fmt.Sprintf("%q %s", clip(cell), what)
}

// unitNames are the spellings accepted in a unit column, per unit.
var unitNames = map[string][]string{
	"percent": {"%", "percent", "百分比", "％"},
	"index":   {"index", "指数", ""},
	"score":   {"score", "分"},
	"count":   {"count", "个", "项", "家", "件", "个数"},
	"10k_mu":  {"10k_mu", "万亩"},
	"ug_m3":   {"ug_m3", "µg/m³", "μg/m3", "ug/m3", "微克/立方米"},
	"days":    {"days", "天"},
}

// Row validates one raw row. Either the observation or errors are returned.
func (v *Validator) Row(r *Raw) (observation.Observation, Errors) {
	var errs Errors
	bad := func(col, val, msg, expected string) {
		name := col
		if h, ok := r.Columns[col]; ok && h != "" {
			name = h
		}
		errs = append(errs, &Error{File: r.File, Row: r.Row, Column: name, Value: val, Message: msg, Expected: expected})
	}
	outOfScope := func(col, val, msg, expected string) {
		bad(col, val, msg, expected)
		errs[len(errs)-1].OutOfScope = true
	}
	var o observation.Observation
	// Text no cell may hold: the cell is named, and not read further.
	unfit := map[string]bool{}
	for _, col := range textColumns {
		cell := r.Cells[col]
		if p := TextProblem(cell, col == ColNote); p != "" {
			unfit[col] = true
			bad(col, cell, p, textExpected(col == ColNote))
		}
	}
	indCell := strings.TrimSpace(r.Cells[ColIndicator])
	ind := v.indicator(indCell)
	switch {
	case unfit[ColIndicator]:
		ind = nil
	case ind == nil:
		bad(ColIndicator, indCell, fmt.Sprintf("unknown indicator %q", clip(indCell)), "a catalogue id, Chinese name or alias (qualitymon targets --format json lists them)")
	default:
		o.Indicator = ind.ID
		if !v.Scope.AllowsIndicator(ind.ID) {
			outOfScope(ColIndicator, indCell, v.Scope.outside("indicator "+ind.ID), "an indicator of its 报送范围")
		}
	}
	regCell := strings.TrimSpace(r.Cells[ColRegion])
	reg, regErr := v.region(regCell)
	switch {
	case unfit[ColRegion]:
	case regErr != nil:
		bad(ColRegion, regCell, regionProblem(regCell, regErr), RegionExpected)
	default:
		o.Region = reg.Code
		if !v.Scope.AllowsRegion(reg.Code) {
			expected := "a region of its 报送范围"
			if v.Scope.RegionList != "" {
				expected = v.Scope.RegionList
			}
			outOfScope(ColRegion, regCell, v.Scope.outside(fmt.Sprintf("for region %s %s", reg.Code, reg.Name)), expected)
		}
	}
	perCell := strings.TrimSpace(r.Cells[ColPeriod])
	p, err := v.period(perCell)
	switch {
	case unfit[ColPeriod]:
	case err != nil:
		bad(ColPeriod, perCell, clippedErr(perCell, err, "is not a period"), "")
	default:
		o.Period = p
		if ind != nil && p.Kind != ind.Freq() {
			bad(ColPeriod, perCell, fmt.Sprintf("a %s period for %s, which is reported %s", p.Kind, ind.ID, ind.Frequency), periodExample(ind.Freq()))
		}
		if v.Now != nil && !p.Begun(v.Now()) {
			bad(ColPeriod, perCell, "period is in the future", "a period that has begun")
		}
	}
	valCell := r.Cells[ColValue]
	val, pct, err := ParseNumber(valCell)
	switch {
	case unfit[ColValue]:
	case err != nil:
		bad(ColValue, valCell, clippedErr(valCell, err, "is not a number"), NumberForms)
	case ind != nil:
		if pct && ind.Unit != "percent" {
			bad(ColValue, valCell, fmt.Sprintf("a percentage for %s, whose unit is %s", ind.ID, ind.Unit), "a plain number")
		} else if !ind.InRange(val) {
			bad(ColValue, valCell, fmt.Sprintf("%v is outside the valid range of %s", val, ind.ID), ind.RangeString())
		} else {
			o.Value = val
		}
	}
	if u := strings.TrimSpace(r.Cells[ColUnit]); u != "" && ind != nil && !unfit[ColUnit] && !unitMatches(ind.Unit, u) {
		bad(ColUnit, u, fmt.Sprintf("unit %q does not match %s's unit %s", clip(u), ind.ID, ind.Unit), unitHint(ind.Unit))
	}
	o.Source = strings.TrimSpace(r.Cells[ColSource])
	o.Note = strings.TrimSpace(r.Cells[ColNote])
	lim := v.Limits.WithDefaults()
	for _, c := range [...]struct{ col, text string }{{ColSource, o.Source}, {ColNote, o.Note}} {
		col, text := c.col, c.text
		if len(text) > lim.TextBytes {
			e := limitError(r.File, r.Row, col, "a "+col, int64(len(text)), int64(lim.TextBytes), "source_note_bytes")
			if h := r.Columns[col]; h != "" {
				e.Column = h
			}
			e.Value = text
			errs = append(errs, e)
		}
	}
	return o, errs
}

// textColumns are the cells whose text is checked (TextProblem), in the
// order their errors are listed.
var textColumns = [...]string{ColIndicator, ColRegion, ColPeriod, ColValue, ColUnit, ColSource, ColNote}

func unitMatches(unit, given string) bool {
	g := strings.ToLower(strings.TrimSpace(given))
	for _, n := range unitNames[unit] {
		if g == strings.ToLower(n) {
			return true
		}
	}
	return false
}

func unitHint(unit string) string {
	return strings.Join(unitNames[unit], " or ")
}

func periodExample(k period.Kind) string {
	switch k {
	case period.Half:
		return "a half year such as 2020-H1"
	case period.Quarter:
		return "a quarter such as 2020-Q3"
	case period.Month:
		return "a month such as 2020-07"
	case period.Day:
		return "a day such as 2020-07-15"
	}
	return "a year such as 2020"
}

// Dedup reports keys given twice in one input. It keeps each key in 16
// bytes (the indicator and region numbered as first seen, the period
// packed), so that the keys of a file at the limits stay small.
type Dedup struct {
	ids  map[string]uint32
	seen map[dedupKey]int32
	wide map[observation.Key]int // periods that do not pack (none valid)
}

type dedupKey struct {
	ind, reg uint32
	period   uint64
}

// Check returns an error when the key was already seen in the input.
func (d *Dedup) Check(file string, row int, o *observation.Observation) *Error {
	if d.seen == nil {
		d.ids, d.seen, d.wide = map[string]uint32{}, map[dedupKey]int32{}, map[observation.Key]int{}
	}
	first, dup := 0, false
	if p, ok := packPeriod(o.Period); ok && row <= math.MaxInt32 {
		k := dedupKey{d.id(o.Indicator), d.id(o.Region), p}
		var f int32
		if f, dup = d.seen[k]; !dup {
			d.seen[k] = int32(row)
		}
		first = int(f)
	} else {
		k := o.Key()
		if first, dup = d.wide[k]; !dup {
			d.wide[k] = row
		}
	}
	if dup {
		return DuplicateKey(file, row, o, first)
	}
	return nil
}

// DuplicateKey is the error of a row whose key row first gave in the same
// input (Dedup, and import's check of a large file).
func DuplicateKey(file string, row int, o *observation.Observation, first int) *Error {
	return &Error{File: file, Row: row, Column: ColPeriod, Value: o.Period.String(),
		Message: fmt.Sprintf("duplicate key %s/%s/%s, first given on row %d", o.Indicator, o.Region, o.Period, first)}
}

func (d *Dedup) id(s string) uint32 {
	n, ok := d.ids[s]
	if !ok {
		n = uint32(len(d.ids))
		d.ids[s] = n
	}
	return n
}

// packPeriod packs a period into 64 bits, one to one for the periods that
// fit (every valid one: kind < 256, year < 2^24, N and D < 2^16).
func packPeriod(p period.Period) (uint64, bool) {
	if p.Kind < 0 || p.Kind > 0xff || p.Year < 0 || p.Year > 0xffffff || p.N < 0 || p.N > 0xffff || p.D < 0 || p.D > 0xffff {
		return 0, false
	}
	return uint64(p.Kind)<<56 | uint64(p.Year)<<32 | uint64(p.N)<<16 | uint64(p.D), true
}

// NewScope resolves a reporter's regions and indicators (codes, names or
// aliases, as a config lists them) into its Scope; at names the config path
// in errors ("uploads.tokens[0]"). No indicators means every indicator.
// Uploads, the bureaus' workspace and review all scope a token here.
func NewScope(who string, regions, indicators []string, cat *catalog.Catalog, regs *region.Table, at string) (*Scope, error) {
	s := &Scope{Who: who, Regions: map[string]bool{}}
	var errs []error
	var names []string
	for _, r := range regions {
		reg, err := regs.Lookup(r)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s.regions: %s", at, regionProblem(r, err)))
			continue
		}
		if !s.Regions[reg.Code] {
			s.Regions[reg.Code] = true
			names = append(names, reg.Code+" "+reg.Name)
		}
	}
	s.RegionList = strings.Join(names, ", ")
	if len(indicators) > 0 {
		s.Indicators = map[string]bool{}
		for _, id := range indicators {
			ind, ok := cat.Resolve(id)
			if !ok {
				errs = append(errs, fmt.Errorf("%s.indicators: unknown indicator %q", at, id))
				continue
			}
			s.Indicators[ind.ID] = true
		}
	}
	return s, errors.Join(errs...)
}

// RegionCodes lists the scope's regions, sorted.
func (s *Scope) RegionCodes() []string { return sortedKeys(s.Regions) }

// IndicatorIDs lists the scope's indicators, sorted (nil: every one).
func (s *Scope) IndicatorIDs() []string { return sortedKeys(s.Indicators) }

// sortedKeys lists m's keys, sorted: nil for a nil map (IndicatorIDs:
// every indicator), empty but not nil for an empty one.
func sortedKeys(m map[string]bool) []string {
	if m == nil {
		return nil
	}
	out := slices.Sorted(maps.Keys(m))
	if out == nil {
		out = []string{}
	}
	return out
}

// RegionExpected is what a region cell should hold, for errors.
const RegionExpected = "a GB/T 2260 code or a province, prefecture or county name"

// regionProblem says why a region cell names no region: the candidates of
// an ambiguous name, the successor of an abolished code (in Chinese, for the
// bureaus), or that it is unknown.
func regionProblem(cell string, err error) string {
	var amb *region.AmbiguousError
	var gone *region.AbolishedError
	if errors.As(err, &amb) || errors.As(err, &gone) {
		return err.Error()
	}
	return fmt.Sprintf("unknown region %q", clip(cell))
}
