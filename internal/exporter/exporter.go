// Package exporter turns the latest evaluation into Prometheus metrics. The
// target series (tens of thousands of targets give hundreds of thousands of
// series) are encoded once per evaluation and kept gzipped, in blocks (at
// 300,000 targets the plain text is some 200 MB, gzipped a tenth), and
// every scrape copies them after the registry's own metrics (Prometheus asks
// for gzip; a client that does not gets them inflated as they are sent): a
// scrape costs a copy, not a rebuild.
package exporter

import (
	"bytes"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/period"
)

// Exporter serves the latest evaluation.
type Exporter struct {
	mu   sync.RWMutex
	page *page

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
	e.UpdateChanged(evals, nil, data, start, took)
}

// UpdateChanged is Update for an evaluation that differs from the one
// last served only at the indices changed (an ingest's re-judged
// targets, in the same order as before): only the blocks of samples
// holding those are encoded again, the others are kept (at 300,000
// targets encoding everything takes seconds; the blocks of one upload's
// targets, milliseconds). A nil changed, or evals of another length than
// the last, encodes everything.
func (e *Exporter) UpdateChanged(evals []evaluate.Evaluation, changed []int, data *evaluate.Data, start time.Time, took time.Duration) {
	e.mu.RLock()
	prev := e.page
	e.mu.RUnlock()
	if changed == nil {
		prev = nil
	}
	pg := encode(evals, prev, changed, data, e.cat, e.grace, e.Detailed)
	e.mu.Lock()
	e.page = pg
	e.mu.Unlock()
	e.lastRun.Set(float64(start.Unix()))
	e.lastSuccess.Set(float64(start.Unix()))
	e.duration.Set(took.Seconds())
	e.count.Set(float64(len(evals)))
}

// page is the encoded target and indicator metrics: parts, compressed
// segments of the text (writeGzip sends them as one gzip member), and the
// blocks of per-target samples among them, kept for the next
// UpdateChanged.
type page struct {
	parts    []segment
	n        int         // evaluations encoded
	detailed bool        // with the detailed families
	blocks   [][]segment // per target family (targetFamilies), per block of blockSize evaluations
}

// blockSize is how many evaluations' samples of one family are encoded
// together (and again when one of them changed).
const blockSize = 2048

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
	encode(evals, nil, nil, data, cat, grace, detailed).writePlain(&b)
	return b.Bytes()
}

// writePlain writes the page's text, inflated.
func (pg *page) writePlain(w io.Writer) error {
	zr := inflate(pg.parts)
	defer zr.Close()
	_, err := io.Copy(w, zr)
	return err
}

// encode renders the page (Encode), keeping the blocks of prev that hold
// none of the indices changed when prev has as many evaluations and the
// same families.
func encode(evals []evaluate.Evaluation, prev *page, changed []int, data *evaluate.Data, cat *catalog.Catalog, grace map[period.Kind]time.Duration, detailed bool) *page {
	fams := targetFamilies(detailed)
	nb := (len(evals) + blockSize - 1) / blockSize
	reuse := prev != nil && prev.n == len(evals) && prev.detailed == detailed
	dirty := make([]bool, nb)
	for _, i := range changed {
		if i >= 0 && i < len(evals) {
			dirty[i/blockSize] = true
		}
	}
	pg := &page{n: len(evals), detailed: detailed, blocks: make([][]segment, len(fams))}
	// The blocks to encode, on every CPU, each into a text buffer of its
	// worker and gzipped from there (the page's text is never whole).
	type job struct{ fi, k int }
	var jobs []job
	for fi := range fams {
		pg.blocks[fi] = make([]segment, nb)
		for k := range nb {
			if reuse && !dirty[k] {
				pg.blocks[fi][k] = prev.blocks[fi][k]
			} else {
				jobs = append(jobs, job{fi, k})
			}
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(jobs)) {
		wg.Go(func() {
			var blk bytes.Buffer
			z := newZipper()
			for j := int(next.Add(1)) - 1; j < len(jobs); j = int(next.Add(1)) - 1 {
				fam, k := fams[jobs[j].fi], jobs[j].k
				blk.Reset()
				blk.Grow(min(blockSize, len(evals)-k*blockSize) * fam.per)
				f := family{b: &blk, name: fam.name}
				for i := k * blockSize; i < min((k+1)*blockSize, len(evals)); i++ {
					fam.write(f, &evals[i])
				}
				pg.blocks[jobs[j].fi][k] = z.gz(blk.Bytes())
			}
		})
	}
	wg.Wait()
	z := newZipper()
	var b bytes.Buffer
	for fi, fam := range fams {
		if fam.afterCounts {
			encodeCounts(&b, evals)
		}
		newFamily(&b, fam.name, fam.help)
		pg.parts = append(pg.parts, z.gz(b.Bytes()))
		b.Reset()
		pg.parts = append(pg.parts, pg.blocks[fi]...)
	}
	if !detailed {
		encodeCounts(&b, evals)
	}
	f := newFamily(&b, "qualitymon_indicator_info", "Descriptive labels of an indicator (1).")
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
	pg.parts = append(pg.parts, z.gz(b.Bytes()))
	return pg
}

// targetFamily is a family with samples per evaluation: write writes
// those of one; per is about how many bytes they take.
type targetFamily struct {
	name, help string
	per        int
	write      func(f family, ev *evaluate.Evaluation)
	// afterCounts: qualitymon_targets comes before this family (the
	// detailed families' order, as before).
	afterCounts bool
}

// targetFamilies lists the per-target families in the order of the page:
// the compact three, then (detailed) the other values, qualitymon_targets,
// and the info, status and basis families.
func targetFamilies(detailed bool) []targetFamily {
	value := func(name, help string, get func(ev *evaluate.Evaluation) (float64, bool)) targetFamily {
		return targetFamily{name: name, help: help, per: 120, write: func(f family, ev *evaluate.Evaluation) {
			if v, ok := get(ev); ok {
				f.sample(v, "indicator", ev.Indicator, "plan", ev.Plan, "region", ev.Region, "target", ev.Target)
			}
		}}
	}
	out := []targetFamily{
		{name: "qualitymon_target_status_code", per: 450,
			help: "The target's status as a code (0 achieved, 1 on_track, 2 at_risk, 3 off_track, 4 missed, 5 no_data); labels name the status, how it was reached (basis), whether its data is stale, the actual and target value judged, and describe the target.",
			write: func(f family, ev *evaluate.Evaluation) {
				var year [8]byte
				dl := ""
				if ev.Deadline != nil {
					dl = string(strconv.AppendInt(year[:0], int64(*ev.Deadline), 10))
				}
				f.sample(float64(ev.Status.Code()), "actual", num(ev.Actual), "basis", ev.Basis.Code, "comparator", ev.Comparator, "deadline", dl, "indicator", ev.Indicator,
					"lead_agency", ev.LeadAgency, "modality", ev.Modality, "name_zh", ev.NameZh, "plan", ev.Plan, "region", ev.Region,
					"region_name", ev.RegionName, "stale", strconv.FormatBool(ev.Stale), "status", string(ev.Status), "target", ev.Target,
					"target_value", num(ev.TargetValue), "unit", ev.Unit)
			}},
		value("qualitymon_target_gap", "Shortfall against the target in the indicator's unit; <= 0 means met.", opt(func(ev *evaluate.Evaluation) *float64 { return ev.Gap })),
		value("qualitymon_target_settled_timestamp_seconds", "When the target settles or settled: the end of its deadline year plus the grace (settled once this is past).",
			func(ev *evaluate.Evaluation) (float64, bool) { return float64(ev.SettlesAt.Unix()), true }),
	}
	if !detailed {
		return out
	}
	out = append(out,
		value("qualitymon_target_value", "The target value (the current quota for quota targets), in the indicator's unit.", opt(func(ev *evaluate.Evaluation) *float64 { return ev.TargetValue })),
		value("qualitymon_target_actual", "The latest actual figure judged, in the indicator's unit.", opt(func(ev *evaluate.Evaluation) *float64 { return ev.Actual })),
		value("qualitymon_target_progress_ratio", "Projected progress to the deadline divided by the progress required.", opt(func(ev *evaluate.Evaluation) *float64 { return ev.Progress })),
		value("qualitymon_target_projected", "The figure projected to the deadline from the observed trend.", opt(func(ev *evaluate.Evaluation) *float64 { return ev.Projected })),
		value("qualitymon_target_stale", "1 when the figure after the latest behind the evaluation is overdue (period end + publication lag) by more than the grace (never for a settled target).",
			func(ev *evaluate.Evaluation) (float64, bool) { return b2f(ev.Stale), true }),
		value("qualitymon_target_settled", "1 when the target's verdict is final: its deadline year closed and the grace passed.",
			func(ev *evaluate.Evaluation) (float64, bool) { return b2f(ev.Settled), true }),
		value("qualitymon_target_deadline_timestamp_seconds", "The first instant after the deadline year (UTC): 2021-01-01 for a 2020 deadline.", func(ev *evaluate.Evaluation) (float64, bool) {
			if ev.Deadline == nil {
				return 0, false
			}
			return float64(period.OfYear(*ev.Deadline).End().Unix()), true
		}),
		value("qualitymon_target_last_observation_timestamp_seconds", "End of the latest period behind the evaluation (for averages, of any region averaged).", func(ev *evaluate.Evaluation) (float64, bool) {
			if ev.LastObservation == nil {
				return 0, false
			}
			return float64(ev.LastObservation.Unix()), true
		}),
		value("qualitymon_target_hold", "1 for a target that must hold every year (稳定在…以上).",
			func(ev *evaluate.Evaluation) (float64, bool) { return b2f(ev.Modality == "hold"), true }),
		targetFamily{name: "qualitymon_target_info", help: "Descriptive labels of a target (1).", per: 300, afterCounts: true,
			write: func(f family, ev *evaluate.Evaluation) {
				f.sample(1, "comparator", ev.Comparator, "indicator", ev.Indicator, "lead_agency", ev.LeadAgency, "modality", ev.Modality,
					"name_zh", ev.NameZh, "plan", ev.Plan, "region", ev.Region, "region_name", ev.RegionName, "target", ev.Target, "unit", ev.Unit)
			}},
		targetFamily{name: "qualitymon_target_status", help: "1 for the target's current status, 0 for the others.", per: 800,
			write: func(f family, ev *evaluate.Evaluation) {
				for _, s := range evaluate.Statuses {
					f.sample(b2f(s == ev.Status), "indicator", ev.Indicator, "plan", ev.Plan, "region", ev.Region, "status", string(s), "target", ev.Target)
				}
			}},
		targetFamily{name: "qualitymon_target_basis", help: "1 for how the status was reached (basis code: deadline_figure, projection, quota_years, hold_breach, …).", per: 150,
			write: func(f family, ev *evaluate.Evaluation) {
				f.sample(1, "basis", ev.Basis.Code, "indicator", ev.Indicator, "plan", ev.Plan, "region", ev.Region, "target", ev.Target)
			}},
	)
	return out
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
		pg := e.page
		e.mu.RUnlock()
		w.Header().Set("Content-Type", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Header().Set("Content-Encoding", "gzip")
			var parts []segment
			if pg != nil {
				parts = pg.parts
			}
			writeGzip(w, []segment{newZipper().gz(own.Bytes())}, parts)
			return
		}
		w.Write(own.Bytes())
		if pg != nil {
			pg.writePlain(w)
		}
	})
}
