package reporting

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
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
func CompletenessHandler(g *Grid, dir *Directory, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		cq, err := completenessQuery(g, dir, q.Get("region"), q.Get("bureau"), q.Get("plan"))
		if err != nil {
			http.Error(w, err.Error(), param.Status)
			return
		}
		c, err := g.Completeness(r.Context(), dir.Reporters(), cq, now())
		if err != nil {
			http.Error(w, "reading figures: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		enc.Encode(c)
	})
}

// completenessQuery checks the parameters of CompletenessHandler: the
// region against the region table (a code or a name), the bureau against
// the directory's bureaus (or Unassigned), the plan against the loaded plans.
func completenessQuery(g *Grid, dir *Directory, region, bureau, plan string) (CompletenessQuery, error) {
	var cq CompletenessQuery
	if region != "" {
		reg, ok := g.Set.Regions.Resolve(region)
		if !ok || strings.TrimSpace(region) != region {
			return cq, param.Invalid("region", region, "GB/T 2260 地区代码或地区名称")
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
// (0 when none), computed at most once per TTL (a scrape finds the last
// result when InfluxDB does not answer).
type Collector struct {
	Grid *Grid
	Dir  *Directory
	Now  func() time.Time
	// TTL between recomputations (default 1 minute).
	TTL    time.Duration
	Logger *slog.Logger

	mu    sync.Mutex
	at    time.Time
	last  []OverdueCount
	total int
}

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

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	counts, total := c.counts()
	for _, o := range counts {
		ch <- prometheus.MustNewConstMetric(overdueDesc, prometheus.GaugeValue, float64(o.Overdue), o.Bureau, o.Indicator, o.Region)
	}
	ch <- prometheus.MustNewConstMetric(overdueFiguresDesc, prometheus.GaugeValue, float64(total))
}

func (c *Collector) counts() ([]OverdueCount, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ttl := c.TTL
	if ttl == 0 {
		ttl = time.Minute
	}
	now := c.Now()
	if !c.at.IsZero() && now.Sub(c.at) < ttl {
		return c.last, c.total
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	comp, err := c.Grid.Completeness(ctx, c.Dir.Reporters(), CompletenessQuery{}, now)
	if err != nil {
		if c.Logger != nil {
			c.Logger.Warn("qualitymon_report_overdue: reading figures", "err", err)
		}
		return c.last, c.total
	}
	c.at, c.last, c.total = now, comp.Overdue(), comp.Summary.Overdue
	return c.last, c.total
}
