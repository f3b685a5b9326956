package cli

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/qualitymon/qualitymon/internal/plan"
)

// planInfo is qualitymon_plan_info{plan,name_zh,region,region_name,title}:
// the plans' Chinese names, for the dashboards' plan variable (title is
// what it shows: 山东省《关于开展质量提升行动的实施方案》). The plans are
// loaded once, at start, so the series are constant.
func planInfo(set *plan.Set) prometheus.Collector {
	v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "qualitymon_plan_info",
		Help: "Descriptive labels of a plan (1): Chinese name, region, and the title dashboards show."},
		[]string{"plan", "name_zh", "region", "region_name", "title"})
	for _, p := range set.Plans {
		name := p.Region
		if r, ok := set.Regions.Get(p.Region); ok {
			name = r.Name
		}
		v.WithLabelValues(p.Key, p.NameZh, p.Region, name, name+"《"+p.NameZh+"》").Set(1)
	}
	return v
}
