package reporting

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/plan"
)

// Item is one figure the plans need: an indicator for a region and a
// period, due at Due (catalog Indicator.Due: the period's end on the
// calendar of the config's timezone, plus the indicator's publication lag).
type Item struct {
	Indicator *catalog.Indicator
	Region    string
	Period    period.Period
	Due       time.Time
	// Targets are the targets that need the figure (for context).
	Targets []*plan.Target
}

// Key is the item's observation key.
func (it *Item) Key() observation.Key {
	return observation.Key{Indicator: it.Indicator.ID, Region: it.Region, Period: it.Period}
}

// Expected lists every item the tracked targets of the plans (of planKey
// only, when set) need, for the periods that have ended by now, sorted by
// indicator, region and period. See the package comment for which regions
// and years a target needs. Periods end, and figures fall due, on the
// calendar of now's location (serve's clock runs in the config's timezone).
func Expected(set *plan.Set, planKey string, now time.Time) []Item {
	// Every (target, region, period) once in a slice sized for them all,
	// sorted, and the items of one key merged: at national scale millions
	// of items, with no map of every key and no growth of the slice.
	var (
		years []int           // one target's years, sorted
		pers  []period.Period // one year's periods
	)
	each := func(fn func(t *plan.Target, reg string, p period.Period)) {
		for _, t := range set.Tracked(planKey) {
			if t.Ind == nil {
				continue
			}
			regions := t.Units
			if t.Average != nil && len(t.AverageOf) > 0 {
				regions = t.AverageOf
			}
			// (a slice, not a map a target: at 300,000 targets the maps
			// and the periods' slices were 70 MB of garbage a listing)
			years = years[:0]
			for y := t.Plan.Start - 1; y <= t.Due(); y++ {
				years = append(years, y)
			}
			if t.MultipleOf != nil && !slices.Contains(years, t.MultipleOf.Year) {
				years = append(years, t.MultipleOf.Year)
				slices.Sort(years)
			}
			for _, y := range years {
				pers = periodsOf(t.Ind.Freq(), y, pers[:0])
				for _, p := range pers {
					if !p.Ended(now) {
						continue
					}
					for _, r := range regions {
						fn(t, r, p)
					}
				}
			}
		}
	}
	n := 0
	each(func(*plan.Target, string, period.Period) { n++ })
	out := make([]Item, 0, n)
	one := make([]*plan.Target, n) // each item's first target, in one array
	each(func(t *plan.Target, reg string, p period.Period) {
		i := len(out)
		one[i] = t
		out = append(out, Item{Indicator: t.Ind, Region: reg, Period: p, Due: t.Ind.Due(p, now.Location()), Targets: one[i : i+1 : i+1]})
	})
	// Stable: the targets of a key stay in the order they came.
	sort.SliceStable(out, func(i, j int) bool { return itemLess(&out[i], &out[j]) })
	kept := out[:0]
	for i := range out {
		it := out[i]
		if k := len(kept) - 1; k >= 0 && kept[k].Indicator.ID == it.Indicator.ID && kept[k].Region == it.Region && kept[k].Period == it.Period {
			if last := kept[k].Targets; last[len(last)-1] != it.Targets[0] {
				kept[k].Targets = append(kept[k].Targets, it.Targets[0])
			}
			continue
		}
		kept = append(kept, it)
	}
	clear(out[len(kept):])
	return kept
}

func itemLess(a, b *Item) bool {
	if a.Indicator.ID != b.Indicator.ID {
		return a.Indicator.ID < b.Indicator.ID
	}
	if a.Region != b.Region {
		return a.Region < b.Region
	}
	if sa, sb := a.Period.Start(), b.Period.Start(); !sa.Equal(sb) {
		return sa.Before(sb)
	}
	return a.Period.Kind < b.Period.Kind // one indicator has one frequency: never, in fact
}

// periodsOf appends the periods of kind k in year y to out.
func periodsOf(k period.Kind, y int, out []period.Period) []period.Period {
	n := 0
	switch k {
	case period.Half:
		n = 2
	case period.Quarter:
		n = 4
	case period.Month:
		n = 12
	case period.Day:
		for d := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() == y; d = d.AddDate(0, 0, 1) {
			out = append(out, period.OfDay(d))
		}
		return out
	default:
		return append(out, period.OfYear(y))
	}
	for i := 1; i <= n; i++ {
		out = append(out, period.Period{Kind: k, Year: y, N: i})
	}
	return out
}

// InScope reports whether a reporter's scope covers an indicator for a
// region: the region is the reporter's, and the indicator is, or (when the
// scope names indicators) the scope names it or an indicator it is derived
// from. A nil scope covers everything.
func InScope(s *ingest.Scope, cat *catalog.Catalog, ind *catalog.Indicator, region string) bool {
	if !s.AllowsRegion(region) {
		return false
	}
	if s.AllowsIndicator(ind.ID) {
		return true
	}
	if d := ind.Derived; d != nil {
		for _, src := range []string{d.Complement, d.Numerator, d.Denominator, d.AverageOf, d.RollupOf} {
			if src != "" && s.Indicators[src] {
				return true
			}
		}
	}
	return false
}

// States of a cell of the grid.
const (
	StateReported = "reported" // 已报送
	StateHeld     = "held"     // 待审核
	StateOpen     = "open"     // 未报送, not yet due
	StateOverdue  = "overdue"  // 逾期
)

// StateLabel is a state's label in Chinese (lang "zh") or English.
func StateLabel(state, lang string) string {
	zh := map[string]string{StateReported: "已报送", StateHeld: "待审核", StateOpen: "未报送", StateOverdue: "逾期"}
	en := map[string]string{StateReported: "reported", StateHeld: "awaiting review", StateOpen: "not yet reported", StateOverdue: "overdue"}
	if lang == "zh" {
		return zh[state]
	}
	return en[state]
}

// Figure is what the store and the receipts say of a reported item.
type Figure struct {
	Value    float64
	Revision int
	Source   string
	// ReportedAt is when the current value was stored (live).
	ReportedAt time.Time
	// Submitted is when the figure was first submitted: the first report's
	// upload time (before review), else its first reported_at.
	Submitted time.Time
	// Reporter is the bureau that sent the current value, when known.
	Reporter string
}

// Cell is one item of the grid with its state. The item is shared (the
// cells of several bureaus listing it, and the listing's pages, point to
// one): a listing at national scale holds millions of cells.
type Cell struct {
	*Item `json:"-"`
	// Bureau is the bureau responsible (completeness; "" when none is).
	Bureau string `json:"bureau"`
	State  string `json:"state"`
	// Value and the rest are set for a reported cell.
	Value      *float64   `json:"value,omitempty"`
	ReportedAt *time.Time `json:"reported_at,omitempty"`
	Submitted  *time.Time `json:"submitted_at,omitempty"`
	Reporter   string     `json:"reporter,omitempty"`
	Source     string     `json:"source,omitempty"`
	Revision   int        `json:"revision,omitempty"`
	// OnTime is set for a reported cell: first submitted by its due date.
	OnTime *bool `json:"on_time,omitempty"`
	// HeldID is the review queue's upload holding the figure (state held).
	HeldID string `json:"held_id,omitempty"`
}

// MarshalJSON writes the cell with its item flattened.
func (c Cell) MarshalJSON() ([]byte, error) {
	type plain Cell
	var targets []string
	for _, t := range c.Targets {
		targets = append(targets, t.Key())
	}
	return json.Marshal(struct {
		Indicator string    `json:"indicator"`
		Region    string    `json:"region"`
		Period    string    `json:"period"`
		Due       time.Time `json:"due"`
		Targets   []string  `json:"targets"`
		plain
	}{c.Indicator.ID, c.Region, c.Period.String(), c.Due, targets, plain(c)})
}

// Expected reports whether the cell counts towards the reporting rate: its
// due date has passed, or it was reported (or submitted) anyway.
func (c *Cell) Expected() bool { return c.State != StateOpen }

// Classify gives every item its state at now from the figures found (by
// key) and the uploads held for review (key → upload id).
//
// The cells point into items, and a reported cell's value, times and
// timeliness into slabs allocated once for all of them (not four small
// allocations a cell).
func Classify(items []Item, figs map[observation.Key]Figure, held map[observation.Key]string, now time.Time) []Cell {
	return classify(items, func(i int) bool {
		_, ok := figs[items[i].Key()]
		return ok
	}, func(i int) Figure { return figs[items[i].Key()] }, held, now)
}

// classify is Classify with whether items[i] has a figure given by found,
// and the figure (asked once, when found) by fig.
func classify(items []Item, found func(i int) bool, fig func(i int) Figure, held map[observation.Key]string, now time.Time) []Cell {
	out := make([]Cell, len(items))
	var slab struct {
		values []float64
		times  []time.Time // two a cell: reported, submitted
		onTime []bool
	}
	n := 0 // the reported cells
	for i := range items {
		if found(i) {
			n++
		}
	}
	slab.values, slab.times, slab.onTime = make([]float64, 0, n), make([]time.Time, 0, 2*n), make([]bool, 0, n)
	for i := range items {
		it := &items[i]
		c := Cell{Item: it}
		k := it.Key()
		if found(i) {
			f := fig(i)
			c.State = StateReported
			sub := f.Submitted
			if sub.IsZero() {
				sub = f.ReportedAt
			}
			slab.values = append(slab.values, f.Value)
			slab.times = append(slab.times, f.ReportedAt, sub)
			slab.onTime = append(slab.onTime, !sub.After(it.Due))
			j := len(slab.values) - 1
			c.Value, c.ReportedAt, c.Submitted, c.OnTime = &slab.values[j], &slab.times[2*j], &slab.times[2*j+1], &slab.onTime[j]
			c.Reporter, c.Source, c.Revision = f.Reporter, f.Source, f.Revision
		} else if id, ok := held[k]; ok {
			c.State, c.HeldID = StateHeld, id
		} else if now.After(it.Due) {
			c.State = StateOverdue
		} else {
			c.State = StateOpen
		}
		out[i] = c
	}
	return out
}

// Summary counts a grid: Expected = Reported + Held + Overdue (what is due
// or in anyway); Rate = Reported / Expected (the reporting rate, DHIS2's
// "reporting rate"), Timeliness = OnTime / Reported (0 when nothing).
type Summary struct {
	Items      int     `json:"items"`
	Expected   int     `json:"expected"`
	Reported   int     `json:"received"`
	Held       int     `json:"held"`
	Open       int     `json:"open"`
	Overdue    int     `json:"overdue"`
	OnTime     int     `json:"on_time"`
	Late       int     `json:"late"`
	Rate       float64 `json:"reporting_rate"`
	Timeliness float64 `json:"timeliness"`
}

// Summarize counts cells.
func Summarize(cells []Cell) Summary {
	var s Summary
	for i := range cells {
		c := &cells[i]
		s.Items++
		switch c.State {
		case StateReported:
			s.Reported++
			if *c.OnTime {
				s.OnTime++
			} else {
				s.Late++
			}
		case StateHeld:
			s.Held++
		case StateOpen:
			s.Open++
		case StateOverdue:
			s.Overdue++
		}
	}
	s.Expected = s.Reported + s.Held + s.Overdue
	if s.Expected > 0 {
		s.Rate = float64(s.Reported) / float64(s.Expected)
	}
	if s.Reported > 0 {
		s.Timeliness = float64(s.OnTime) / float64(s.Reported)
	}
	return s
}

// TargetText describes what a target asks of a figure, for context
// ("≥96 (shandong-2018 到2020年)"), in Chinese.
func TargetText(t *plan.Target) string {
	var b strings.Builder
	cmp := plan.ComparatorZh[t.Comparator]
	switch {
	case t.Value != nil:
		fmt.Fprintf(&b, "%s%s", cmp, trimFloat(*t.Value))
	case t.MultipleOf != nil:
		fmt.Fprintf(&b, "%s%s×%d年", cmp, trimFloat(t.MultipleOf.Factor), t.MultipleOf.Year)
	}
	if t.Ind != nil {
		if u := catalog.Units[t.Ind.Unit]; u != "" && b.Len() > 0 {
			b.WriteString(u)
		}
	}
	switch t.Modality {
	case plan.Hold:
		b.WriteString(" 每年保持")
	case plan.Quota:
		b.WriteString(" 每年")
	case plan.New:
		b.WriteString(" 累计新增")
	}
	fmt.Fprintf(&b, " (%s %s, 到%d年)", t.Plan.Key, t.ID, t.Due())
	return strings.TrimSpace(b.String())
}

func trimFloat(f float64) string {
	s := fmt.Sprintf("%.6f", f)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
