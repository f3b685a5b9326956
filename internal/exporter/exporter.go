// Package exporter turns the latest evaluation into Prometheus metrics. The
// metrics are built once per evaluation and replayed on every scrape, so a
// scrape costs only the encoding.
package exporter

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/period"
)

var targetLabels = []string{"plan", "target", "indicator", "region"}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

var (
	descInfo = desc("qualitymon_target_info", "Descriptive labels of a target (1).",
		"plan", "target", "indicator", "region", "region_name", "name_zh", "unit", "comparator", "modality", "lead_agency")
	descValue     = desc("qualitymon_target_value", "The target value (the current quota for quota targets), in the indicator's unit.", targetLabels...)
	descActual    = desc("qualitymon_target_actual", "The latest actual figure judged, in the indicator's unit.", targetLabels...)
	descGap       = desc("qualitymon_target_gap", "Shortfall against the target in the indicator's unit; <= 0 means met.", targetLabels...)
	descProgress  = desc("qualitymon_target_progress_ratio", "Projected progress to the deadline divided by the progress required.", targetLabels...)
	descProjected = desc("qualitymon_target_projected", "The figure projected to the deadline from the observed trend.", targetLabels...)
	descStatus    = desc("qualitymon_target_status", "1 for the target's current status, 0 for the others.", append(append([]string{}, targetLabels...), "status")...)
	descStale     = desc("qualitymon_target_stale", "1 when the data behind the evaluation is older than the reporting interval plus grace.", targetLabels...)
	descDeadline  = desc("qualitymon_target_deadline_timestamp_seconds", "End of the target's deadline year (UTC).", targetLabels...)
	descHold      = desc("qualitymon_target_hold", "1 for a target that must hold every year (稳定在…以上).", targetLabels...)
	descIndInfo   = desc("qualitymon_indicator_info", "Descriptive labels of an indicator (1).", "indicator", "name_zh", "name_en", "unit", "frequency")
	descLastObs   = desc("qualitymon_indicator_last_observation_timestamp_seconds", "End of the latest period observed for the indicator in the region.", "indicator", "region")
	descStaleAft  = desc("qualitymon_indicator_stale_after_seconds", "Age of the latest period's end after which the indicator's data is stale (interval plus grace).", "indicator")
)

// Exporter serves the latest evaluation.
type Exporter struct {
	mu      sync.RWMutex
	metrics []prometheus.Metric

	cat   *catalog.Catalog
	grace map[period.Kind]time.Duration

	lastRun     prometheus.Gauge
	lastSuccess prometheus.Gauge
	duration    prometheus.Gauge
	errors      prometheus.Counter
	count       prometheus.Gauge
}

// New registers the exporter's metrics with reg.
func New(reg prometheus.Registerer, cat *catalog.Catalog, grace map[period.Kind]time.Duration) *Exporter {
	e := &Exporter{
		cat:   cat,
		grace: grace,
		lastRun: prometheus.NewGauge(prometheus.GaugeOpts{Name: "qualitymon_evaluation_last_run_timestamp_seconds",
			Help: "When the last evaluation ran."}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{Name: "qualitymon_evaluation_last_success_timestamp_seconds",
			Help: "When the last evaluation succeeded."}),
		duration: prometheus.NewGauge(prometheus.GaugeOpts{Name: "qualitymon_evaluation_duration_seconds",
			Help: "How long the last evaluation took."}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{Name: "qualitymon_evaluation_errors_total",
			Help: "Evaluations that failed (InfluxDB unreachable, query error)."}),
		count: prometheus.NewGauge(prometheus.GaugeOpts{Name: "qualitymon_evaluation_targets",
			Help: "Evaluations (target × region) in the last successful run."}),
	}
	reg.MustRegister(e, e.lastRun, e.lastSuccess, e.duration, e.errors, e.count)
	return e
}

// Failed records a failed evaluation run.
func (e *Exporter) Failed(start time.Time, took time.Duration) {
	e.lastRun.Set(float64(start.Unix()))
	e.duration.Set(took.Seconds())
	e.errors.Inc()
}

// Update replaces the served metrics with those of a successful run.
func (e *Exporter) Update(evals []evaluate.Evaluation, data *evaluate.Data, start time.Time, took time.Duration) {
	ms := make([]prometheus.Metric, 0, len(evals)*12+len(e.cat.All())*2)
	add := func(d *prometheus.Desc, v float64, labels ...string) {
		ms = append(ms, prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...))
	}
	for i := range evals {
		ev := &evals[i]
		l := []string{ev.Plan, ev.Target, ev.Indicator, ev.Region}
		add(descInfo, 1, ev.Plan, ev.Target, ev.Indicator, ev.Region, ev.RegionName, ev.NameZh, ev.Unit, ev.Comparator, ev.Modality, ev.LeadAgency)
		add(descValue, ev.TargetValue, l...)
		if ev.Actual != nil {
			add(descActual, *ev.Actual, l...)
		}
		if ev.Gap != nil {
			add(descGap, *ev.Gap, l...)
		}
		if ev.Progress != nil {
			add(descProgress, *ev.Progress, l...)
		}
		if ev.Projected != nil {
			add(descProjected, *ev.Projected, l...)
		}
		for _, s := range evaluate.Statuses {
			v := 0.0
			if s == ev.Status {
				v = 1
			}
			add(descStatus, v, ev.Plan, ev.Target, ev.Indicator, ev.Region, string(s))
		}
		stale := 0.0
		if ev.Stale {
			stale = 1
		}
		add(descStale, stale, l...)
		if ev.Deadline != nil {
			add(descDeadline, float64(period.OfYear(*ev.Deadline).End().Unix()), l...)
		}
		hold := 0.0
		if ev.Modality == "hold" {
			hold = 1
		}
		add(descHold, hold, l...)
	}
	for _, ind := range e.cat.All() {
		add(descIndInfo, 1, ind.ID, ind.NameZh, ind.NameEn, ind.Unit, ind.Frequency)
		g, ok := e.grace[ind.Freq()]
		if !ok {
			g = evaluate.DefaultGrace[ind.Freq()]
		}
		add(descStaleAft, (ind.Freq().Interval() + g).Seconds(), ind.ID)
	}
	if data != nil {
		data.LastEnds(func(ind, reg string, end time.Time) {
			add(descLastObs, float64(end.Unix()), ind, reg)
		})
	}
	e.mu.Lock()
	e.metrics = ms
	e.mu.Unlock()
	e.lastRun.Set(float64(start.Unix()))
	e.lastSuccess.Set(float64(start.Unix()))
	e.duration.Set(took.Seconds())
	e.count.Set(float64(len(evals)))
}

// Describe is left empty: the exporter is an unchecked collector whose series
// change with every evaluation.
func (e *Exporter) Describe(chan<- *prometheus.Desc) {}

// Collect replays the metrics of the last successful evaluation.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) {
	e.mu.RLock()
	ms := e.metrics
	e.mu.RUnlock()
	for _, m := range ms {
		ch <- m
	}
}
