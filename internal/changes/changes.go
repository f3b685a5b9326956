// Package changes says what changed between two moments (变化): the status
// changes of the targets (from the evaluation history), the new figures
// and the revisions reported in between (from the reports and their
// report times), grouped by plan and region, each with who reported it,
// when, its note (备注) and, for a revision, the value it replaced. The web
// page /changes and `qualitymon changes` both show a List.
package changes

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/internal/reporting"
	"github.com/qualitymon/qualitymon/internal/store"
)

// DefaultSpan is how far back from goes when not given: a quarter.
const DefaultSpan = 90 * 24 * time.Hour

// PerPage is how many items one page of a List holds at most.
const PerPage = 200

// Kind is what an item records.
type Kind string

// The kinds of change.
const (
	StatusChanged Kind = "status"  // a target's status changed
	NewFigure     Kind = "new"     // a figure reported for the first time
	Revised       Kind = "revised" // a figure replaced by a different value or source
)

// Label names the kind in Chinese (zh) or English.
func (k Kind) Label(lang string) string {
	zh := map[Kind]string{StatusChanged: "状态变化", NewFigure: "新数据", Revised: "修订"}
	en := map[Kind]string{StatusChanged: "status change", NewFigure: "new figure", Revised: "revision"}
	if lang == "zh" {
		return zh[k]
	}
	return en[k]
}

// Item is one change.
type Item struct {
	Kind Kind `json:"kind"`
	// At is when it happened: the report time of a figure, the evaluation
	// (window) of a status change.
	At            time.Time `json:"at"`
	Indicator     string    `json:"indicator"`
	IndicatorName string    `json:"indicator_name"`
	Unit          string    `json:"unit,omitempty"`
	// Target and Wording: a status change's target.
	Target  string `json:"target,omitempty"`
	Wording string `json:"wording,omitempty"`
	// Period, Value, Revision, Source, Bureau and Note: a figure's.
	Period   string   `json:"period,omitempty"`
	Value    *float64 `json:"value,omitempty"`
	Revision int      `json:"revision,omitempty"`
	Source   string   `json:"source,omitempty"`
	// Bureau is who sent the figure (the upload's bureau, from the
	// receipts); "" when not known (an import, a collector).
	Bureau string `json:"bureau,omitempty"`
	Note   string `json:"note,omitempty"`
	// Previous*, Difference: what a revision replaced.
	Previous           *float64   `json:"previous,omitempty"`
	Difference         *float64   `json:"difference,omitempty"`
	PreviousSource     string     `json:"previous_source,omitempty"`
	PreviousNote       string     `json:"previous_note,omitempty"`
	PreviousReportedAt *time.Time `json:"previous_reported_at,omitempty"`
	// Status, Before, Basis: a status change's.
	Status evaluate.Status `json:"status,omitempty"`
	Before evaluate.Status `json:"before,omitempty"`
	Basis  string          `json:"basis,omitempty"`
	// BasisCode is Basis's code (evaluate.Basis.Code), for other languages.
	BasisCode string `json:"basis_code,omitempty"`
}

// Who is who reported a figure: the bureau, else the source, else "".
func (it *Item) Who() string { return cmp.Or(it.Bureau, it.Source) }

// Group is the changes of one plan in one region.
type Group struct {
	Plan       string `json:"plan"` // "" for figures no plan's target uses
	PlanName   string `json:"plan_name"`
	Region     string `json:"region"`
	RegionName string `json:"region_name"`
	Items      []Item `json:"items"`
}

// Counts counts a List's items by kind.
type Counts struct {
	Status  int `json:"status"`
	New     int `json:"new"`
	Revised int `json:"revised"`
}

// List is the changes between From and To (after From, up to To), one
// page of them.
type List struct {
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Counts Counts    `json:"counts"`
	Total  int       `json:"total"`
	// Page (from 1) of Pages, each of at most PerPage items.
	Page   int     `json:"page"`
	Pages  int     `json:"pages"`
	Groups []Group `json:"groups"`
}

// Source reads changes from the store, with the plans and, when set, the
// receipts of who sent each upload.
type Source struct {
	Store    *store.Store
	Set      *plan.Set
	Receipts *reporting.Receipts
}

// Between lists the changes after from up to to, page (from 1; beyond the
// last, the last) of them.
func (s *Source) Between(ctx context.Context, from, to time.Time, page int) (*List, error) {
	groups, err := s.all(ctx, from, to)
	if err != nil {
		return nil, err
	}
	l := &List{From: from, To: to}
	for _, g := range groups {
		for _, it := range g.Items {
			switch it.Kind {
			case StatusChanged:
				l.Counts.Status++
			case NewFigure:
				l.Counts.New++
			default:
				l.Counts.Revised++
			}
		}
		l.Total += len(g.Items)
	}
	l.Pages = max(1, (l.Total+PerPage-1)/PerPage)
	l.Page = min(max(page, 1), l.Pages)
	l.Groups = paginate(groups, (l.Page-1)*PerPage, PerPage)
	return l, nil
}

// paginate keeps n items from the skip-th on, in their groups.
func paginate(groups []Group, skip, n int) []Group {
	var out []Group
	for _, g := range groups {
		if skip >= len(g.Items) {
			skip -= len(g.Items)
			continue
		}
		items := g.Items[skip:min(len(g.Items), skip+n)]
		skip = 0
		n -= len(items)
		g.Items = items
		out = append(out, g)
		if n == 0 {
			break
		}
	}
	return out
}

type groupKey struct{ plan, region string }

// all reads every change, grouped by plan (in the set's order, figures of
// no plan last) and region (by code), the groups with status changes or
// revisions first; in a group, the status changes, then the revisions,
// then the new figures, each by time.
func (s *Source) all(ctx context.Context, from, to time.Time) ([]Group, error) {
	byKey := map[groupKey]*Group{}
	add := func(planKey, region string, it Item) {
		k := groupKey{planKey, region}
		g := byKey[k]
		if g == nil {
			g = &Group{Plan: planKey, PlanName: "未列入规划的指标", Region: region, RegionName: region}
			if p, ok := s.Set.Plan(planKey); ok {
				g.PlanName = p.NameZh
			}
			if r, ok := s.Set.Regions.Get(region); ok {
				g.RegionName = r.Name
			}
			byKey[k] = g
		}
		g.Items = append(g.Items, it)
	}
	targets := map[string]*plan.Target{}
	uses := map[[2]string][]string{} // indicator, region → the plans whose targets use it
	for _, t := range s.Set.Targets("") {
		targets[t.Key()] = t
		if !t.IsTracked() {
			continue
		}
		for _, r := range append(slices.Clip(t.Units), t.AverageOf...) {
			k := [2]string{t.Indicator, r}
			if !slices.Contains(uses[k], t.Plan.Key) {
				uses[k] = append(uses[k], t.Plan.Key)
			}
		}
	}
	sc, err := s.Store.StatusChanges(ctx, from, to)
	if err != nil {
		return nil, err
	}
	for _, c := range sc {
		it := Item{Kind: StatusChanged, At: c.At, Indicator: c.Indicator, Target: c.Target,
			Status: evaluate.Status(c.Status), Before: evaluate.Status(c.Before.Status), Basis: evaluate.Basis{Code: c.Basis}.Label("zh"), BasisCode: c.Basis}
		s.name(&it)
		if t := targets[c.Plan+"/"+c.Target]; t != nil {
			it.Wording = t.Name()
		}
		add(c.Plan, c.Region, it)
	}
	reps, err := s.Store.ReportedBetween(ctx, store.Filter{}, from, to)
	if err != nil {
		return nil, err
	}
	s.Receipts.Lookups(func(receipt func(observation.Key, time.Time) (*reporting.Receipt, bool)) {
		for _, r := range reps {
			v := r.Value
			it := Item{Kind: NewFigure, At: r.ReportedAt, Indicator: r.Indicator, Period: r.Period.String(), Value: &v,
				Revision: r.Revision, Source: r.Source, Note: r.Note}
			if rc, ok := receipt(r.Key(), r.ReportedAt); ok {
				it.Bureau = rc.Bureau
			}
			if p := r.Previous; p != nil {
				pv, d, at := p.Value, r.Value-p.Value, p.ReportedAt
				it.Kind, it.Previous, it.Difference = Revised, &pv, &d
				it.PreviousSource, it.PreviousNote, it.PreviousReportedAt = p.Source, p.Note, &at
			}
			s.name(&it)
			plans := uses[[2]string{r.Indicator, r.Region}]
			if len(plans) == 0 {
				plans = []string{""}
			}
			for _, pk := range plans {
				add(pk, r.Region, it)
			}
		}
	})
	order := map[string]int{}
	for i, p := range s.Set.Plans {
		order[p.Key] = i
	}
	rank := func(k string) int {
		if i, ok := order[k]; ok {
			return i
		}
		return len(order)
	}
	out := make([]Group, 0, len(byKey))
	for _, g := range byKey {
		slices.SortStableFunc(g.Items, func(a, b Item) int {
			if c := cmp.Compare(a.Kind.order(), b.Kind.order()); c != 0 {
				return c
			}
			if c := a.At.Compare(b.At); c != 0 {
				return c
			}
			return cmp.Compare(a.Indicator, b.Indicator)
		})
		out = append(out, *g)
	}
	// The groups with status changes or revisions first (the first pages),
	// then those with new figures only; each part in plan and region order.
	slices.SortFunc(out, func(a, b Group) int {
		if c := cmp.Compare(a.Items[0].Kind.order()/2, b.Items[0].Kind.order()/2); c != 0 {
			return c
		}
		if c := cmp.Compare(rank(a.Plan), rank(b.Plan)); c != 0 {
			return c
		}
		return cmp.Compare(a.Region, b.Region)
	})
	return out, nil
}

// order ranks the kinds within a group: status changes, revisions, new
// figures (order/2 is 0 for the first two).
func (k Kind) order() int {
	switch k {
	case StatusChanged:
		return 0
	case Revised:
		return 1
	}
	return 2
}

// name fills an item's indicator name and unit from the catalogue.
func (s *Source) name(it *Item) {
	it.IndicatorName = it.Indicator
	if ind, ok := s.Set.Catalog.Get(it.Indicator); ok {
		it.IndicatorName, it.Unit = ind.NameZh, ind.Unit
	}
}
