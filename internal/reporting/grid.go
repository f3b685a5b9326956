package reporting

import (
	"context"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/internal/store"
)

// Grid computes what is due and what has been reported, from the plans and
// the store (figures), the receipts (who) and the review queue (held).
type Grid struct {
	Set   *plan.Set
	Store Reader
	// Receipts and Queue may be nil.
	Receipts *Receipts
	Queue    *Queue
}

// Query narrows a grid: to a plan, a region, a reporter's scope (nil: all).
type Query struct {
	Plan   string
	Region string
	Scope  *ingest.Scope
}

// Report is one bureau's grid (报送情况).
type Report struct {
	Bureau  string    `json:"bureau,omitempty"`
	Now     time.Time `json:"now"`
	Summary Summary   `json:"summary"`
	Cells   []Cell    `json:"cells"`
}

// Cells returns the classified items of the query at now.
func (g *Grid) Cells(ctx context.Context, q Query, now time.Time) ([]Cell, error) {
	return g.cells(ctx, q, now, nil)
}

// cells is Cells, with the figures of the indicators unchanged since the
// last read taken from cu's cache when cu is not nil.
func (g *Grid) cells(ctx context.Context, q Query, now time.Time, cu *cacheUse) ([]Cell, error) {
	var items []Item
	if cu != nil {
		cu.cache.mu.Lock()
		defer cu.cache.mu.Unlock()
		if q == (Query{}) {
			items = cu.cache.sameItems(g.Set, now)
		}
	}
	if items == nil {
		items = slices.DeleteFunc(Expected(g.Set, q.Plan, now), func(it Item) bool {
			return !(q.Region == "" || it.Region == q.Region) || !InScope(q.Scope, g.Set.Catalog, it.Indicator, it.Region)
		})
	}
	figs, err := g.figures(ctx, items, cu)
	if err != nil {
		return nil, err
	}
	if cu != nil && cu.cache.items != nil && q == (Query{}) {
		cu.cache.set, cu.cache.now = g.Set, now
	}
	var held map[observation.Key]string
	if g.Queue != nil && len(g.Queue.List(nil)) > 0 { // the keys are asked for only when some upload is held
		want := make(map[observation.Key]bool, len(items))
		for _, it := range items {
			want[it.Key()] = true
		}
		if held, err = g.Queue.Held(want); err != nil {
			return nil, err
		}
	}
	// One catch-up with the receipts log for all the figures.
	var cells []Cell
	g.Receipts.Lookups(func(receipt func(observation.Key, time.Time) (*Receipt, bool)) {
		cells = classify(items, func(i int) bool { return figs.figs[i].found }, func(i int) Figure {
			f, _ := figs.figure(i)
			return withReceipts(f, items[i].Key(), receipt)
		}, held, now)
	})
	return cells, nil
}

// For returns a bureau's grid (its merged scope) of one plan or all.
func (g *Grid) For(ctx context.Context, b *Bureau, planKey string, now time.Time) (*Report, error) {
	cells, err := g.Cells(ctx, Query{Plan: planKey, Scope: b.Scope}, now)
	if err != nil {
		return nil, err
	}
	for i := range cells {
		cells[i].Bureau = b.Name
	}
	return &Report{Bureau: b.Name, Now: now, Summary: Summarize(cells), Cells: cells}, nil
}

// figures reads the current values of the items' keys and the first
// reports of revised ones: in pages of indicators, at most
// store.ReadConcurrency queries at once (store.IndicatorPages), so that
// the grid of every plan at national scale is no one query over every
// figure (at 30,000 targets that one query ran into the 60 s timeout).
// The figures are given by the items' index (figureTable): each page's
// answer is taken in as it comes (at 300,000 targets a map of every key,
// and every page's answer held until the last, took a gigabyte).
//
// With cu (the Collector's refresh), the indicators no write has changed
// since the last read (figureCache) are taken from what it found, and only
// the others are read.
func (g *Grid) figures(ctx context.Context, items []Item, cu *cacheUse) (*figureTable, error) {
	if len(items) == 0 || g.Store == nil {
		return newFigureTable(len(items), nil), nil
	}
	byInd := map[string][]int{} // indicator → the indices of its items
	for i := range items {
		byInd[items[i].Indicator.ID] = append(byInd[items[i].Indicator.ID], i)
	}
	var (
		keep      map[string]bool
		readAt    time.Time
		full      = true
		fullStart = time.Now()
		from      *figureTable
	)
	if cu != nil { // (the caller holds cu.cache.mu)
		if keep, readAt, full = cu.cache.reuse(ctx, g.Store, cu.fullRead, cu.logger); !full {
			from = cu.cache.table
		}
	}
	out := newFigureTable(len(items), from)
	inds := make([]string, 0, len(byInd))
	for ind, idx := range byInd {
		if !keep[ind] || !cu.cache.take(ind, items, idx, out) {
			inds = append(inds, ind)
		}
	}
	sort.Strings(inds)
	if cu != nil {
		cu.read, cu.full = inds, full
	}
	pages := store.IndicatorPages(inds)
	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(store.ReadConcurrency)
	for _, p := range pages {
		eg.Go(func() error {
			var span store.KeySpan
			at := map[observation.Key]int{} // the page's keys → the item (Expected lists a key once)
			for _, ind := range p {
				for _, i := range byInd[ind] {
					k := items[i].Key()
					if _, ok := at[k]; !ok {
						at[k] = i
						span.Add(k)
					}
				}
			}
			f := span.Filter()
			cur, err := g.Store.Current(ectx, f)
			if err != nil {
				return err
			}
			var first map[observation.Key]time.Time
			for _, s := range cur {
				if _, ok := at[s.Key()]; ok && s.Revision > 0 {
					if first, err = g.Store.FirstReports(ectx, f); err != nil {
						return err
					}
					break
				}
			}
			// The pages hold distinct indicators: each writes its own items.
			local := map[string]uint32{}
			for _, s := range cur {
				i, ok := at[s.Key()]
				if !ok {
					continue
				}
				sub := s.ReportedAt
				if t, ok := first[s.Key()]; ok {
					sub = t
				}
				out.figs[i] = cachedFigure{value: s.Value, reported: s.ReportedAt.UnixNano(), submitted: sub.UnixNano(),
					revision: int32(s.Revision), source: out.intern(s.Source, local), found: true}
			}
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	if cu != nil {
		if readAt.IsZero() { // no time to ask the marks after: nothing kept
			cu.cache.clear()
		} else {
			cu.cache.store(items, byInd, out, readAt, full, fullStart)
		}
	}
	return out, nil
}

// withReceipts is the figure of items[i] with who reported it and when it
// was first submitted, from the receipts (lookup: Receipts.Lookups).
func withReceipts(f Figure, k observation.Key, receipt func(observation.Key, time.Time) (*Receipt, bool)) Figure {
	if rc, ok := receipt(k, f.ReportedAt); ok {
		f.Reporter = rc.Bureau
		if f.Revision == 0 && !rc.SubmittedAt.IsZero() {
			f.Submitted = rc.SubmittedAt
		}
	}
	if f.Revision > 0 {
		// The first report's receipt says when it was submitted.
		if rc, ok := receipt(k, f.Submitted); ok && !rc.SubmittedAt.IsZero() {
			f.Submitted = rc.SubmittedAt
		}
	}
	return f
}

// CompletenessQuery narrows the completeness listing: a region (code), a
// bureau (name; "-" for the items no bureau reports), a plan.
type CompletenessQuery struct {
	Region, Bureau, Plan string
}

// Unassigned is the bureau of the items no configured bureau reports.
const Unassigned = "-"

// Completeness is expected, received and overdue per bureau × indicator ×
// region × period (GET /api/v1/completeness, qualitymon completeness).
type Completeness struct {
	Now     time.Time `json:"now"`
	Summary Summary   `json:"summary"`
	// Bureaus has one report per reporting bureau (and Unassigned when some
	// items have no bureau), in config order.
	Bureaus []*Report `json:"bureaus"`
	// Page is set on a page of the listing (Part): which of its cells the
	// bureaus' cells are; the summaries stay those of the whole listing.
	Page *ListingPage `json:"page,omitempty"`
}

// ListingPage says which cells a page of a completeness listing holds: the
// listing's cells, every bureau's one after the other, from From (0 the
// first) on, at most Limit; Next is the link to the following page (empty
// on the last).
type ListingPage struct {
	Cells int    `json:"cells"`
	From  int    `json:"from"`
	Limit int    `json:"limit"`
	Next  string `json:"next,omitempty"`
}

// Part is the cells from..from+limit of the listing (every bureau's cells
// one after the other, in order) with every bureau and every summary of the
// whole; c is not changed.
func (c *Completeness) Part(from, limit int) *Completeness {
	out := &Completeness{Now: c.Now, Summary: c.Summary, Bureaus: make([]*Report, 0, len(c.Bureaus))}
	at := 0 // the position of r's first cell in the listing
	for _, r := range c.Bureaus {
		lo, hi := min(max(from-at, 0), len(r.Cells)), min(max(from+limit-at, 0), len(r.Cells))
		out.Bureaus = append(out.Bureaus, &Report{Bureau: r.Bureau, Now: r.Now, Summary: r.Summary, Cells: r.Cells[lo:hi:hi]})
		at += len(r.Cells)
	}
	out.Page = &ListingPage{Cells: at, From: from, Limit: limit}
	return out
}

// Completeness classifies every item once and lists it under each reporting
// bureau whose scope covers it (Unassigned when none does).
func (g *Grid) Completeness(ctx context.Context, bureaus []*Bureau, q CompletenessQuery, now time.Time) (*Completeness, error) {
	return g.completeness(ctx, bureaus, q, now, nil)
}

// completeness is Completeness, reading the figures through cu when not nil.
func (g *Grid) completeness(ctx context.Context, bureaus []*Bureau, q CompletenessQuery, now time.Time, cu *cacheUse) (*Completeness, error) {
	cells, err := g.cells(ctx, Query{Plan: q.Plan, Region: q.Region}, now, cu)
	if err != nil {
		return nil, err
	}
	out := &Completeness{Now: now, Bureaus: []*Report{}}
	// The whole: each item once, however many bureaus list it (one count
	// of overdue, OverdueCount); taken before cells is reused below.
	whole := Summarize(cells)
	var all []Cell // the listed cells, for the summary of one bureau's listing
	for _, b := range bureaus {
		if q.Bureau != "" && q.Bureau != b.Name {
			continue
		}
		n := 0
		for i := range cells {
			if InScope(b.Scope, g.Set.Catalog, cells[i].Indicator, cells[i].Region) {
				n++
			}
		}
		r := &Report{Bureau: b.Name, Now: now, Cells: make([]Cell, 0, n)}
		for i := range cells {
			c := cells[i]
			if InScope(b.Scope, g.Set.Catalog, c.Indicator, c.Region) {
				c.Bureau = b.Name
				r.Cells = append(r.Cells, c)
			}
		}
		r.Summary = Summarize(r.Cells)
		if q.Bureau != "" {
			all = append(all, r.Cells...)
		}
		out.Bureaus = append(out.Bureaus, r)
	}
	if q.Bureau == "" || q.Bureau == Unassigned {
		// The cells no bureau covers, kept in cells' own array (the
		// bureaus' listings are copies): no second copy of every cell.
		un := &Report{Bureau: Unassigned, Now: now, Cells: cells[:0]}
		for _, c := range cells {
			if !bureauCovers(bureaus, g, &c) {
				c.Bureau = Unassigned
				un.Cells = append(un.Cells, c)
			}
		}
		if len(un.Cells) > 0 {
			un.Summary = Summarize(un.Cells)
			if q.Bureau != "" {
				all = append(all, un.Cells...)
			}
			out.Bureaus = append(out.Bureaus, un)
		}
	}
	if q.Bureau == "" {
		out.Summary = whole
	} else {
		out.Summary = Summarize(all)
	}
	return out, nil
}

// Overdue is the one count of overdue figures that every page, the
// completeness listing and the metrics show: the items the plans need
// (Expected) whose due date (catalog.Indicator.Due) has passed without a
// figure and that no upload holds for review, each once however many
// bureaus or plans it concerns, in total and per plan.
type Overdue struct {
	Total  int            `json:"total"`
	ByPlan map[string]int `json:"by_plan"`
}

// CountOverdue counts the overdue cells, in total and per plan of their
// targets.
func CountOverdue(cells []Cell) Overdue {
	o := Overdue{ByPlan: map[string]int{}}
	for i := range cells {
		if cells[i].State != StateOverdue {
			continue
		}
		o.Total++
		seen := map[string]bool{}
		for _, t := range cells[i].Targets {
			if !seen[t.Plan.Key] {
				seen[t.Plan.Key] = true
				o.ByPlan[t.Plan.Key]++
			}
		}
	}
	return o
}

// OverdueAt counts the overdue figures of every plan at now.
func (g *Grid) OverdueAt(ctx context.Context, now time.Time) (Overdue, error) {
	cells, err := g.Cells(ctx, Query{}, now)
	if err != nil {
		return Overdue{}, err
	}
	return CountOverdue(cells), nil
}

// Only narrows a listing of every plan, region and bureau to the query,
// as Completeness would have computed it: the cells of the region, the
// bureau, and the items a target of the plan needs.
func (c *Completeness) Only(q CompletenessQuery) *Completeness {
	if q == (CompletenessQuery{}) {
		return c
	}
	out := &Completeness{Now: c.Now, Bureaus: []*Report{}}
	var all []Cell
	for _, r := range c.Bureaus {
		if q.Bureau != "" && r.Bureau != q.Bureau {
			continue
		}
		kept := &Report{Bureau: r.Bureau, Now: r.Now, Cells: []Cell{}}
		for _, cell := range r.Cells {
			if q.Region != "" && cell.Region != q.Region ||
				q.Plan != "" && !slices.ContainsFunc(cell.Targets, func(t *plan.Target) bool { return t.Plan.Key == q.Plan }) {
				continue
			}
			kept.Cells = append(kept.Cells, cell)
		}
		if r.Bureau == Unassigned && len(kept.Cells) == 0 {
			continue
		}
		kept.Summary = Summarize(kept.Cells)
		all = append(all, kept.Cells...)
		out.Bureaus = append(out.Bureaus, kept)
	}
	if q.Bureau == "" {
		// The whole counts each item once, however many bureaus list it
		// (as Completeness does).
		all = uniqueCells(all)
	}
	out.Summary = Summarize(all)
	return out
}

func bureauCovers(bureaus []*Bureau, g *Grid, c *Cell) bool {
	for _, b := range bureaus {
		if InScope(b.Scope, g.Set.Catalog, c.Indicator, c.Region) {
			return true
		}
	}
	return false
}

// Overdue counts overdue periods per bureau × indicator × region, for
// every pair that has items (0 when none is overdue); Unassigned left out.
func (c *Completeness) Overdue() []OverdueCount {
	idx := map[[3]string]int{}
	var out []OverdueCount
	for _, r := range c.Bureaus {
		if r.Bureau == Unassigned {
			continue
		}
		for _, cell := range r.Cells {
			k := [3]string{r.Bureau, cell.Indicator.ID, cell.Region}
			i, ok := idx[k]
			if !ok {
				i = len(out)
				idx[k] = i
				out = append(out, OverdueCount{Bureau: k[0], Indicator: k[1], Region: k[2]})
			}
			if cell.State == StateOverdue {
				out[i].Overdue++
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		return strings.Join([]string{a.Bureau, a.Indicator, a.Region}, "\x00") < strings.Join([]string{b.Bureau, b.Indicator, b.Region}, "\x00")
	})
	return out
}

// OverdueCount is the value of qualitymon_report_overdue.
type OverdueCount struct {
	Bureau, Indicator, Region string
	Overdue                   int
}

// Sinks chooses the sink of each bureau's uploads (upload.Handler.SinkFor):
// the review queue for a token with review: required, else the real sink
// with a receipt of who sent the batch.
type Sinks struct {
	Queue    *Queue
	Receipts *Receipts
}

// For returns the sink of the uploads of b, the bureau of one token (as
// Directory.Authenticate returns it).
func (s *Sinks) For(b *Bureau, next observation.Sink) observation.Sink {
	if b != nil && b.Review && s.Queue != nil {
		return s.Queue
	}
	if s.Receipts != nil {
		return s.Receipts.Sink(next)
	}
	return next
}

// uniqueCells keeps the first cell of each item (bureaus list an item
// each; the whole counts it once).
func uniqueCells(cells []Cell) []Cell {
	// The cells of one listing share their items (one per key).
	seen := map[*Item]bool{}
	return slices.DeleteFunc(cells, func(c Cell) bool {
		dup := seen[c.Item]
		seen[c.Item] = true
		return dup
	})
}
