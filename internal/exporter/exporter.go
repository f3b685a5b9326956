// Package exporter turns the latest evaluation into Prometheus metrics. The
// target series (tens of thousands of targets give hundreds of thousands of
// series) are encoded once per evaluation, plain and gzipped, and every
// scrape copies them after the registry's own metrics: a scrape costs a copy,
// not a rebuild.
package exporter

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/period"
)

// Exporter serves the latest evaluation.
type Exporter struct {
	mu     sync.RWMutex
	plain  []byte
	gzip   []byte // nil while being compressed
	gen    int
	zipper *time.Timer // compresses the latest page once updates pause

	cat   *catalog.Catalog
	grace map[period.Kind]time.Duration
	// Detailed adds every per-target family (metrics.detailed_targets);
	// set before the first Update.
	Detailed bool

	lastRun     prometheus.Gauge
	lastSuccess prometheus.Gauge
	duration    prometheus.Gauge
	errors      prometheus.Counter
	count       prometheus.Gauge
}

// New registers the exporter's own metrics with reg.
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
	reg.MustRegister(e.lastRun, e.lastSuccess, e.duration, e.errors, e.count)
	return e
}

// Failed records a failed evaluation run.
func (e *Exporter) Failed(start time.Time, took time.Duration) {
	e.lastRun.Set(float64(start.Unix()))
	e.duration.Set(took.Seconds())
	e.errors.Inc()
}

// Update replaces the served target metrics with those of a successful run.
func (e *Exporter) Update(evals []evaluate.Evaluation, data *evaluate.Data, start time.Time, took time.Duration) {
	plain := Encode(evals, data, e.cat, e.grace, e.Detailed)
	e.mu.Lock()
	e.plain, e.gzip = plain, nil
	e.gen++
	// Compressing tens of megabytes takes a while: scrapes get the plain
	// text until the gzipped copy of this generation is ready. It is made
	// once updates pause (gzipQuiet), so a burst of ingests (one update
	// each) compresses once, not once per update.
	if e.zipper == nil {
		e.zipper = time.AfterFunc(gzipQuiet, e.compress)
	} else {
		e.zipper.Reset(gzipQuiet)
	}
	e.mu.Unlock()
	e.lastRun.Set(float64(start.Unix()))
	e.lastSuccess.Set(float64(start.Unix()))
	e.duration.Set(took.Seconds())
	e.count.Set(float64(len(evals)))
}

// gzipQuiet is how long updates must pause before the page is compressed.
const gzipQuiet = 200 * time.Millisecond

// compress gzips the current page, unless a newer one came meanwhile (its
// own timer then compresses that one).
func (e *Exporter) compress() {
	e.mu.RLock()
	plain, gen := e.plain, e.gen
	e.mu.RUnlock()
	zipped := gz(plain)
	e.mu.Lock()
	if e.gen == gen {
		e.gzip = zipped
	}
	e.mu.Unlock()
}

// Encode renders the target and indicator metrics in the text format.
//
// Every target and region has three series (the compact set, the default):
// qualitymon_target_status_code, whose labels also describe the target,
// qualitymon_target_gap and qualitymon_target_settled_timestamp_seconds;
// qualitymon_targets counts the targets per plan, region and status. With
// detailed set (metrics.detailed_targets) the per-target families of
// METRICS.md's detailed table are added (about 18 series per target) and
// the freshness of every indicator and region.
func Encode(evals []evaluate.Evaluation, data *evaluate.Data, cat *catalog.Catalog, grace map[period.Kind]time.Duration, detailed bool) []byte {
	var b bytes.Buffer
	per := 450
	if detailed {
		per = 2000
	}
	b.Grow(len(evals) * per)
	f := newFamily(&b, "qualitymon_target_status_code", "The target's status as a code (0 achieved, 1 on_track, 2 at_risk, 3 off_track, 4 missed, 5 no_data); labels name the status, how it was reached (basis), whether its data is stale, the actual and target value judged, and describe the target.")
	var year [8]byte
	for i := range evals {
		ev := &evals[i]
		dl := ""
		if ev.Deadline != nil {
			dl = string(strconv.AppendInt(year[:0], int64(*ev.Deadline), 10))
		}
		f.sample(float64(ev.Status.Code()), "actual", num(ev.Actual), "basis", ev.Basis.Code, "comparator", ev.Comparator, "deadline", dl, "indicator", ev.Indicator,
			"lead_agency", ev.LeadAgency, "modality", ev.Modality, "name_zh", ev.NameZh, "plan", ev.Plan, "region", ev.Region,
			"region_name", ev.RegionName, "stale", strconv.FormatBool(ev.Stale), "status", string(ev.Status), "target", ev.Target,
			"target_value", num(ev.TargetValue), "unit", ev.Unit)
	}
	type getter func(ev *evaluate.Evaluation) (float64, bool)
	type simple struct {
		name, help string
		get        getter
	}
	gap := simple{"qualitymon_target_gap", "Shortfall against the target in the indicator's unit; <= 0 means met.", opt(func(ev *evaluate.Evaluation) *float64 { return ev.Gap })}
	settles := simple{"qualitymon_target_settled_timestamp_seconds", "When the target settles or settled: the end of its deadline year plus the grace (settled once this is past).",
		func(ev *evaluate.Evaluation) (float64, bool) { return float64(ev.SettlesAt.Unix()), true }}
	families := []simple{gap, settles}
	if detailed {
		families = append(families, []simple{
			{"qualitymon_target_value", "The target value (the current quota for quota targets), in the indicator's unit.", opt(func(ev *evaluate.Evaluation) *float64 { return ev.TargetValue })},
			{"qualitymon_target_actual", "The latest actual figure judged, in the indicator's unit.", opt(func(ev *evaluate.Evaluation) *float64 { return ev.Actual })},
			{"qualitymon_target_progress_ratio", "Projected progress to the deadline divided by the progress required.", opt(func(ev *evaluate.Evaluation) *float64 { return ev.Progress })},
			{"qualitymon_target_projected", "The figure projected to the deadline from the observed trend.", opt(func(ev *evaluate.Evaluation) *float64 { return ev.Projected })},
			{"qualitymon_target_stale", "1 when the figure after the latest behind the evaluation is overdue (period end + publication lag) by more than the grace (never for a settled target).",
				func(ev *evaluate.Evaluation) (float64, bool) { return b2f(ev.Stale), true }},
			{"qualitymon_target_settled", "1 when the target's verdict is final: its deadline year closed and the grace passed.",
				func(ev *evaluate.Evaluation) (float64, bool) { return b2f(ev.Settled), true }},
			{"qualitymon_target_deadline_timestamp_seconds", "The first instant after the deadline year (UTC): 2021-01-01 for a 2020 deadline.", func(ev *evaluate.Evaluation) (float64, bool) {
				if ev.Deadline == nil {
					return 0, false
				}
				return float64(period.OfYear(*ev.Deadline).End().Unix()), true
			}},
			{"qualitymon_target_last_observation_timestamp_seconds", "End of the latest period behind the evaluation (for averages, of any region averaged).", func(ev *evaluate.Evaluation) (float64, bool) {
				if ev.LastObservation == nil {
					return 0, false
				}
				return float64(ev.LastObservation.Unix()), true
			}},
			{"qualitymon_target_hold", "1 for a target that must hold every year (稳定在…以上).",
				func(ev *evaluate.Evaluation) (float64, bool) { return b2f(ev.Modality == "hold"), true }},
		}...)
	}
	for _, m := range families {
		f := newFamily(&b, m.name, m.help)
		for i := range evals {
			ev := &evals[i]
			if v, ok := m.get(ev); ok {
				f.sample(v, "indicator", ev.Indicator, "plan", ev.Plan, "region", ev.Region, "target", ev.Target)
			}
		}
	}
	encodeCounts(&b, evals)
	if detailed {
		f := newFamily(&b, "qualitymon_target_info", "Descriptive labels of a target (1).")
		for i := range evals {
			ev := &evals[i]
			f.sample(1, "comparator", ev.Comparator, "indicator", ev.Indicator, "lead_agency", ev.LeadAgency, "modality", ev.Modality,
				"name_zh", ev.NameZh, "plan", ev.Plan, "region", ev.Region, "region_name", ev.RegionName, "target", ev.Target, "unit", ev.Unit)
		}
		f = newFamily(&b, "qualitymon_target_status", "1 for the target's current status, 0 for the others.")
		for i := range evals {
			ev := &evals[i]
			for _, s := range evaluate.Statuses {
				f.sample(b2f(s == ev.Status), "indicator", ev.Indicator, "plan", ev.Plan, "region", ev.Region, "status", string(s), "target", ev.Target)
			}
		}
		f = newFamily(&b, "qualitymon_target_basis", "1 for how the status was reached (basis code: deadline_figure, projection, quota_years, hold_breach, …).")
		for i := range evals {
			ev := &evals[i]
			f.sample(1, "basis", ev.Basis.Code, "indicator", ev.Indicator, "plan", ev.Plan, "region", ev.Region, "target", ev.Target)
		}
	}
	f = newFamily(&b, "qualitymon_indicator_info", "Descriptive labels of an indicator (1).")
	for _, ind := range cat.All() {
		f.sample(1, "frequency", ind.Frequency, "indicator", ind.ID, "name_en", ind.NameEn, "name_zh", ind.NameZh, "unit", ind.Unit)
	}
	f = newFamily(&b, "qualitymon_indicator_stale_after_seconds", "Age of the latest period's end after which the indicator's data is stale (one interval, the publication lag and grace).")
	for _, ind := range cat.All() {
		f.sample(evaluate.Options{Grace: grace}.StaleAfter(ind).Seconds(), "indicator", ind.ID)
	}
	if detailed && data != nil {
		f = newFamily(&b, "qualitymon_indicator_last_observation_timestamp_seconds", "End of the latest period observed for the indicator in the region.")
		data.LastEnds(func(ind, reg string, end time.Time) {
			f.sample(float64(end.Unix()), "indicator", ind, "region", reg)
		})
	}
	return b.Bytes()
}

// encodeCounts writes qualitymon_targets: per plan and region, how many
// targets have each status (every status, 0 included, so that a count
// that falls to 0 shows as 0), in the order the plans and regions first
// appear in evals.
func encodeCounts(b *bytes.Buffer, evals []evaluate.Evaluation) {
	type key struct{ plan, region string }
	counts := map[key][]int{}
	var order []key
	for i := range evals {
		k := key{evals[i].Plan, evals[i].Region}
		c := counts[k]
		if c == nil {
			c = make([]int, len(evaluate.Statuses))
			counts[k] = c
			order = append(order, k)
		}
		if code := evals[i].Status.Code(); code >= 0 {
			c[code]++
		}
	}
	f := newFamily(b, "qualitymon_targets", "Targets (target × region) per plan, region and status.")
	for _, k := range order {
		for code, s := range evaluate.Statuses {
			f.sample(float64(counts[k][code]), "plan", k.plan, "region", k.region, "status", string(s))
		}
	}
}

// num formats a figure for a label ("" when unset).
func num(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'g', -1, 64)
}

func opt(p func(*evaluate.Evaluation) *float64) func(*evaluate.Evaluation) (float64, bool) {
	return func(ev *evaluate.Evaluation) (float64, bool) {
		if v := p(ev); v != nil {
			return *v, true
		}
		return 0, false
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Handler serves g's metrics followed by the cached target metrics, always
// in the text format, gzipped when the client accepts it.
func (e *Exporter) Handler(g prometheus.Gatherer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mfs, err := g.Gather()
		if err != nil {
			http.Error(w, "gathering metrics: "+err.Error(), http.StatusInternalServerError)
			return
		}
		var own bytes.Buffer
		enc := expfmt.NewEncoder(&own, expfmt.NewFormat(expfmt.TypeTextPlain))
		for _, mf := range mfs {
			if err := enc.Encode(mf); err != nil {
				http.Error(w, "encoding metrics: "+err.Error(), http.StatusInternalServerError)
				return
			}
		}
		e.mu.RLock()
		plain, zipped := e.plain, e.gzip
		e.mu.RUnlock()
		w.Header().Set("Content-Type", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
		if zipped != nil && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Header().Set("Content-Encoding", "gzip")
			zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
			zw.Write(own.Bytes())
			zw.Close()
			w.Write(zipped)
			return
		}
		w.Write(own.Bytes())
		w.Write(plain)
	})
}
