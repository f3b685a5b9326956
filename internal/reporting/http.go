package reporting

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qualitymon/qualitymon/internal/param"
)

// CompletenessPath is where CompletenessHandler is mounted.
const CompletenessPath = "/api/v1/completeness"

// CompletenessHandler serves GET /api/v1/completeness?region=&bureau=&plan=
// as JSON (Completeness): region a code or name, bureau a bureau's name (or
// "-" for what no bureau reports), plan a plan key. 400 for an unknown
// region or plan, 503 when InfluxDB does not answer.
//
// The answer is a page of the listing's cells (?limit=, 1 to 50,000,
// default 10,000, every bureau's cells one after the other) with every
// bureau and the summaries of the whole listing; page.next links to the
// next page (?cursor=, which names the listing it pages: 409 once a
// refresh has replaced it). So an unfiltered request at national scale
// (millions of cells) costs one page.
//
// With latest (serve: the Collector's), it answers from the listing the
// last background refresh computed (its "now" says when), narrowed in
// memory, and never reads the store: 503 with Retry-After until the first
// refresh has completed. Without it, it computes the listing afresh (at
// the cursor's "now" for a following page).
func CompletenessHandler(g *Grid, dir *Directory, now func() time.Time, latest func() *Completeness) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		cq, err := completenessQuery(g, dir, q.Get("region"), q.Get("bureau"), q.Get("plan"))
		if err != nil {
			http.Error(w, err.Error(), param.Status)
			return
		}
		limit, err := param.Int("limit", q.Get("limit"), 1, maxListingPage, listingPage)
		if err != nil {
			http.Error(w, err.Error(), param.Status)
			return
		}
		at, from, err := parseCursor(q.Get("cursor"))
		if err != nil {
			http.Error(w, err.Error(), param.Status)
			return
		}
		var c *Completeness
		if latest != nil {
			if c = latest(); c == nil {
				w.Header().Set("Retry-After", "10")
				http.Error(w, "the completeness listing is being computed (after the first evaluation); try again shortly", http.StatusServiceUnavailable)
				return
			}
			c = c.Only(cq)
		} else {
			when := now()
			if !at.IsZero() {
				when = at
			}
			if c, err = g.Completeness(r.Context(), dir.Reporters(), cq, when); err != nil {
				http.Error(w, "reading figures: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		if !at.IsZero() && !at.Equal(c.Now) {
			http.Error(w, "完成情况清单已更新(now "+c.Now.Format(time.RFC3339)+"),cursor 属于之前的清单:请从第一页重新读取", http.StatusConflict)
			return
		}
		c = c.Part(from, limit)
		if next := from + limit; next < c.Page.Cells {
			q.Set("cursor", formatCursor(c.Now, next))
			c.Page.Next = CompletenessPath + "?" + q.Encode()
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		enc.Encode(c)
	})
}

// listingPage and maxListingPage are the default and the largest number of
// cells in one answer of CompletenessHandler (?limit=): 10,000 cells are
// about 3 MB of JSON.
const (
	listingPage    = 10000
	maxListingPage = 50000
)

// formatCursor and parseCursor write and read ?cursor=: the listing's
// "now" (Unix nanoseconds) and the position of the page's first cell,
// "1717200000000000000.10000". An empty cursor is the first page.
func formatCursor(now time.Time, from int) string {
	return strconv.FormatInt(now.UnixNano(), 10) + "." + strconv.Itoa(from)
}

func parseCursor(v string) (time.Time, int, error) {
	if v == "" {
		return time.Time{}, 0, nil
	}
	ns, pos, ok := strings.Cut(v, ".")
	n, err1 := strconv.ParseInt(ns, 10, 64)
	from, err2 := strconv.Atoi(pos)
	if !ok || err1 != nil || err2 != nil || n <= 0 || from < 0 {
		return time.Time{}, 0, param.Invalid("cursor", v, "上一页答复中 page.next 的 cursor")
	}
	return time.Unix(0, n).UTC(), from, nil
}

// completenessQuery checks the parameters of CompletenessHandler: the
// region against the region table (a code or a name), the bureau against
// the directory's bureaus (or Unassigned), the plan against the loaded plans.
func completenessQuery(g *Grid, dir *Directory, region, bureau, plan string) (CompletenessQuery, error) {
	var cq CompletenessQuery
	if region != "" {
		reg, err := param.Region("region", region, g.Set.Regions)
		if err != nil {
			return cq, err
		}
		cq.Region = reg.Code
	}
	names := []string{Unassigned}
	for _, b := range dir.Reporters() {
		names = append(names, b.Name)
	}
	var err error
	if cq.Bureau, err = param.OneOf("bureau", bureau, names); err != nil {
		return cq, err
	}
	cq.Plan, err = param.OneOf("plan", plan, g.Set.Keys())
	return cq, err
}

// Collector exports qualitymon_report_overdue{bureau,indicator,region}: the
// number of overdue periods of each reporting bureau's indicator × region
// (0 when none). A scrape serves the counts of the last Refresh and never
// reads the store: serve refreshes them after each evaluation (Trigger),
// in the background, so that /metrics costs the same at any scale.
type Collector struct {
	Grid   *Grid
	Dir    *Directory
	Now    func() time.Time
	Logger *slog.Logger
	// FullRead, when above zero, makes a refresh re-read only the
	// indicators written since the last one (store.ChangedSince, when the
	// Grid's store tells) and every figure when the last full read is
	// FullRead old: serve sets evaluation.full_read, as the engine's read.
	// Zero: every refresh reads every figure.
	FullRead time.Duration

	cache figureCache // the figures of the last refresh's read
	read  LastRead

	mu   sync.Mutex
	last []OverdueCount
	done bool          // a Refresh has completed
	od   Overdue       // the one count, from the same listing
	comp *Completeness // the listing last and Latest come from
	// running: a Trigger's refresh is going; again: another was asked
	// meanwhile (one more refresh follows).
	running, again bool
}

// refreshTimeout bounds one recomputation (every figure the plans need, in
// pages of indicators, each query bounded by the store's timeout): nobody
// waits for it, and at 30,000 targets on a loaded 2-core machine 2 minutes
// were not enough; minRefresh is the least time between the starts of two
// Trigger refreshes.
const (
	refreshTimeout = 10 * time.Minute
	minRefresh     = time.Minute
)

var overdueDesc = prometheus.NewDesc("qualitymon_report_overdue",
	"Periods whose figure is overdue (the period ended and its publication lag passed without a figure), per reporting bureau, indicator and region.",
	[]string{"bureau", "indicator", "region"}, nil)

var overdueFiguresDesc = prometheus.NewDesc("qualitymon_overdue_figures",
	"Figures the plans need that are overdue, each once (whoever reports it): the count the pages and GET /api/v1/completeness show.",
	nil, nil)

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- overdueDesc
	ch <- overdueFiguresDesc
}

// Collect implements prometheus.Collector: the counts of the last Refresh.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	last, od, done := c.last, c.od, c.done
	c.mu.Unlock()
	if !done {
		return
	}
	for _, o := range last {
		ch <- prometheus.MustNewConstMetric(overdueDesc, prometheus.GaugeValue, float64(o.Overdue), o.Bureau, o.Indicator, o.Region)
	}
	ch <- prometheus.MustNewConstMetric(overdueFiguresDesc, prometheus.GaugeValue, float64(od.Total))
}

// Refresh recomputes the counts from the store; on an error the previous
// counts stay.
func (c *Collector) Refresh(ctx context.Context) error {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, refreshTimeout)
	defer cancel()
	cu := &cacheUse{cache: &c.cache, fullRead: c.FullRead, logger: c.Logger}
	comp, err := c.Grid.completeness(ctx, c.Dir.Reporters(), CompletenessQuery{}, c.Now(), cu)
	if err != nil {
		if c.Logger != nil {
			c.Logger.Warn("qualitymon_report_overdue: reading figures", "err", err)
		}
		return err
	}
	counts := comp.Overdue()
	// The overdue cells, each item once however many bureaus list it.
	var overdue []Cell
	seen := map[*Item]bool{}
	for _, r := range comp.Bureaus {
		for _, cell := range r.Cells {
			if cell.State == StateOverdue && !seen[cell.Item] {
				seen[cell.Item] = true
				overdue = append(overdue, cell)
			}
		}
	}
	od := CountOverdue(overdue)
	c.mu.Lock()
	c.last, c.done, c.comp, c.od = counts, true, comp, od
	c.read = LastRead{Indicators: cu.read, Full: cu.full, Took: time.Since(start)}
	c.mu.Unlock()
	if c.Logger != nil {
		c.Logger.Info("completeness refreshed", "full", cu.full, "indicators_read", len(cu.read), "took_s", time.Since(start).Seconds())
	}
	return nil
}

// LastRead is what the last successful Refresh read: every figure (Full),
// or the figures of Indicators only (none when no write changed any), and
// how long it took in all.
type LastRead struct {
	Indicators []string
	Full       bool
	Took       time.Duration
}

// LastRead is what the last successful Refresh read.
func (c *Collector) LastRead() LastRead {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.read
}

// OverdueCounts is the one count of overdue figures of the last Refresh
// (false before the first): what the pages show without a moment.
func (c *Collector) OverdueCounts() (Overdue, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.od, c.done
}

// Latest is the listing of every plan the last Refresh computed (nil
// before the first); it may not be changed.
func (c *Collector) Latest() *Completeness {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.comp
}

// Trigger refreshes the counts in the background: one refresh at a time,
// and the triggers that come while one runs make one more, a minRefresh
// after the start of the last.
func (c *Collector) Trigger() {
	c.mu.Lock()
	if c.running {
		c.again = true
		c.mu.Unlock()
		return
	}
	c.running = true
	c.mu.Unlock()
	go func() {
		for {
			start := time.Now()
			c.Refresh(context.Background())
			c.mu.Lock()
			if !c.again {
				c.running = false
				c.mu.Unlock()
				return
			}
			c.again = false
			c.mu.Unlock()
			// A burst of uploads (an evaluation each) reads the store at
			// most once per minRefresh.
			time.Sleep(time.Until(start.Add(minRefresh)))
		}
	}()
}
