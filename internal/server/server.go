// Package server is the HTTP side of `qualitymon serve`: it runs the
// evaluation engine on a cron schedule (in full) and after ingest (only the
// targets whose indicators changed, coalesced: many uploads, one run, at most
// one running), and serves /metrics, /healthz, /readyz and the JSON status API
// (/api/v1/status, with ?at= and ?known_at= evaluated through Moments, the
// bounded cache of internal/evalcache that the pages share). /readyz answers
// from the last check of InfluxDB, refreshed in the background at most every
// few seconds, so that it never waits behind the queries of expensive reads.
// Every route is
// registered on its Mux with an access class, and Handler puts the access
// guard (internal/access) in front of all of them.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"github.com/qualitymon/qualitymon/internal/access"
	"github.com/qualitymon/qualitymon/internal/config"
	"github.com/qualitymon/qualitymon/internal/engine"
	"github.com/qualitymon/qualitymon/internal/evalcache"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/param"
)

// Server is the running service.
type Server struct {
	Engine   *engine.Engine
	Gatherer prometheus.Gatherer
	Logger   *slog.Logger
	Mux      *Mux
	// Guard, when set, controls access to every route (Handler).
	Guard *access.Guard
	// ReadyChecks are what else /readyz requires, each returning why it
	// does not hold (serve adds the spool's Writable: not ready while
	// uploads are refused for a full spool disk).
	ReadyChecks []func() error
	// Moments evaluates ?at= and ?known_at= for the status API and the
	// pages: cached, computed once for concurrent requests, bounded in
	// number; Ingested invalidates it.
	Moments *evalcache.Cache

	trigger chan struct{}
	// pmu guards what the next run is to do: a full evaluation, or the
	// rows written since the last one (coalesced across uploads).
	pmu     sync.Mutex
	full    bool
	pending []observation.Observation
	cron    *cron.Cron
	sched   cron.Schedule

	storeUp prometheus.Gauge
	nextRun prometheus.Gauge
	runs    *prometheus.CounterVec
	// evaluated is closed when the first evaluation has completed: /readyz
	// answers 503 before that.
	evaluated chan struct{}
	firstOnce sync.Once

	// The last check of InfluxDB that /readyz answers from (storeErr,
	// storeAt), and whether one is running.
	smu       sync.Mutex
	storeErr  error
	storeAt   time.Time
	storeBusy bool
	storeDone chan struct{} // closed when the running check ends
}

// Readiness checks of InfluxDB: /readyz answers from a check at most
// readyFresh old, starting a new one (in the background, with its own
// timeout) when it is older; it waits for one only when none has completed.
const (
	readyFresh   = 5 * time.Second
	readyTimeout = 10 * time.Second
)

// New builds the server and registers its metrics with reg; routes can be
// added to Mux before Run.
func New(eng *engine.Engine, reg *prometheus.Registry, logger *slog.Logger) *Server {
	s := &Server{Engine: eng, Gatherer: reg, Logger: logger, Mux: NewMux(), trigger: make(chan struct{}, 1),
		storeUp: prometheus.NewGauge(prometheus.GaugeOpts{Name: "qualitymon_store_up",
			Help: "1 when InfluxDB answered the last readiness check (each evaluation and each /readyz)."}),
		nextRun: prometheus.NewGauge(prometheus.GaugeOpts{Name: "qualitymon_evaluation_next_run_timestamp_seconds",
			Help: "When the next scheduled evaluation is due."}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "qualitymon_evaluation_runs_total",
			Help: "Evaluation runs by result (success, failure)."}, []string{"result"}),
		evaluated: make(chan struct{}),
	}
	s.Moments = evalcache.New(eng.Store, eng.Evaluator, evalcache.Options{Registerer: reg})
	for _, r := range []string{"success", "failure"} {
		s.runs.WithLabelValues(r) // both series from the start, so increase() sees the first run
	}
	reg.MustRegister(s.storeUp, s.nextRun, s.runs)
	g := prometheus.Gatherer(reg)
	s.Mux.Handle(MetricsPattern, eng.Exporter.Handler(g))
	probes := s.Mux.As(access.Public)
	probes.Handle("GET /healthz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) }))
	probes.Handle("GET /readyz", http.HandlerFunc(s.ready))
	s.Mux.HandleFunc("GET /api/v1/status", s.status)
	return s
}

// MetricsPattern is the route of /metrics.
const MetricsPattern = "GET /metrics"

// Protect puts g in front of every route; /metrics is public when g says
// so (web.auth.metrics_public).
func (s *Server) Protect(g *access.Guard) {
	s.Guard = g
	if g.MetricsPublic {
		s.Mux.SetClass(MetricsPattern, access.Public)
	}
}

// Handler is what the listener serves: the routes behind the guard.
func (s *Server) Handler() http.Handler {
	if s.Guard == nil {
		return s.Mux
	}
	return s.Guard.Wrap(s.Mux.Class, s.Mux)
}

// ready answers 200 once the first evaluation has completed (or at least
// been published: the pages and /metrics serve it), while every
// ReadyCheck holds and InfluxDB answers; 503 with the reason before and
// otherwise, so that a load balancer or a rolling update sends no traffic
// to a replica with nothing to serve yet or that refuses uploads.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	select {
	case <-s.evaluated:
	default:
		// A run whose metrics were published but whose history write failed
		// (InfluxDB timing out under load) still serves its evaluation.
		if _, at := s.Engine.Last(); at.IsZero() {
			http.Error(w, "not ready: the first evaluation has not completed", http.StatusServiceUnavailable)
			return
		}
	}
	for _, check := range s.ReadyChecks {
		if err := check(); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
	}
	if err := s.lastStoreCheck(r.Context()); err != nil {
		http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("ready\n"))
}

// lastStoreCheck is the result of the last check of InfluxDB, starting a
// fresh one in the background when it is older than readyFresh: /readyz
// thus never queues behind the queries of pages and exports (sixteen
// clients evaluating moments made it time out). Only before the first
// check has completed does it wait (until ctx ends).
func (s *Server) lastStoreCheck(ctx context.Context) error {
	s.smu.Lock()
	if !s.storeBusy && time.Since(s.storeAt) >= readyFresh {
		s.storeBusy, s.storeDone = true, make(chan struct{})
		go func(done chan struct{}) {
			cctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
			err := s.checkStore(cctx)
			cancel()
			s.smu.Lock()
			s.storeErr, s.storeAt, s.storeBusy = err, time.Now(), false
			s.smu.Unlock()
			close(done)
		}(s.storeDone)
	}
	first, done := s.storeAt.IsZero(), s.storeDone
	s.smu.Unlock()
	if first {
		select {
		case <-done:
		case <-ctx.Done():
			return errors.New("InfluxDB has not answered the first readiness check yet")
		}
	}
	s.smu.Lock()
	defer s.smu.Unlock()
	return s.storeErr
}

// status serves the latest evaluation as JSON; with ?at= (the evaluation
// date) or ?known_at= (only figures and revisions reported by then), a
// fresh evaluation for that moment; ?plan= keeps one plan's. A plan that
// is not loaded or a moment that is not a date is a 400 (param).
func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	evals, at := s.Engine.Last()
	q := r.URL.Query()
	plan, err := param.OneOf("plan", q.Get("plan"), s.Engine.Evaluator.Set.Keys())
	if err != nil {
		http.Error(w, err.Error(), param.Status)
		return
	}
	var knownAt time.Time
	if q.Get("at") != "" || q.Get("known_at") != "" {
		at, knownAt, err = param.Moments(q.Get("at"), q.Get("known_at"), s.Engine.Now())
		if err != nil {
			http.Error(w, err.Error(), param.Status)
			return
		}
		evals, _, err = s.Moments.Load(r.Context(), plan, at, knownAt)
		var busy *evalcache.BusyError
		if errors.As(err, &busy) {
			w.Header().Set("Retry-After", strconv.Itoa(busy.RetryAfterSeconds()))
			http.Error(w, busy.Error(), http.StatusServiceUnavailable)
			return
		}
		if err != nil {
			http.Error(w, "evaluating: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
	}
	if plan != "" {
		kept := evals[:0:0]
		for _, ev := range evals {
			if ev.Plan == plan {
				kept = append(kept, ev)
			}
		}
		evals = kept
	}
	w.Header().Set("Content-Type", "application/json")
	out := map[string]any{"evaluated_at": at, "evaluations": evals}
	if !knownAt.IsZero() {
		out["known_at"] = knownAt
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(out)
}

// Trigger asks for a full re-evaluation soon (reading everything from
// InfluxDB); it never blocks.
func (s *Server) Trigger() {
	s.pmu.Lock()
	s.full = true
	s.pmu.Unlock()
	s.signal()
}

// maxPending: with more rows than this waiting, the next run is a full one.
const maxPending = 200000

// Ingested asks for the evaluation to be updated with rows just written to
// InfluxDB (the spool's OnStored); it never blocks. Rows arriving while a
// run is going are coalesced into the next run: many uploads, one run, at
// most one running; it re-judges only the targets whose indicators changed.
// The engine holds the rows at once for the plausibility check of the next
// uploads (engine.Engine.Stored).
func (s *Server) Ingested(obs []observation.Observation) {
	s.Engine.Stored(obs)
	s.Moments.Invalidate()
	s.pmu.Lock()
	if !s.full {
		if len(s.pending)+len(obs) > maxPending {
			s.full, s.pending = true, nil
		} else {
			s.pending = append(s.pending, obs...)
		}
	}
	s.pmu.Unlock()
	s.signal()
}

func (s *Server) signal() {
	select {
	case s.trigger <- struct{}{}:
	default:
	}
}

// next takes what the next run is to do.
func (s *Server) next() (full bool, obs []observation.Observation) {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	full, obs = s.full, s.pending
	s.full, s.pending = false, nil
	return full, obs
}

// update runs what was asked for: a full evaluation when one was asked
// for, else an incremental update with the rows written, else nothing (a
// wake-up whose rows the previous run already took: rows that arrive
// between the wake-up and next() are taken early and leave a second
// wake-up behind, which must not read everything again).
func (s *Server) update(ctx context.Context) {
	full, obs := s.next()
	if full {
		s.evaluate(ctx)
		return
	}
	if len(obs) == 0 {
		return
	}
	if err := s.Engine.Apply(ctx, obs); err != nil {
		s.runs.WithLabelValues("failure").Inc()
		s.Logger.Error("evaluation after ingest failed", "err", err)
		return
	}
	s.runs.WithLabelValues("success").Inc()
	s.firstOnce.Do(func() { close(s.evaluated) })
}

// checkStore pings InfluxDB and records the answer in qualitymon_store_up.
func (s *Server) checkStore(ctx context.Context) error {
	err := s.Engine.Store.Ready(ctx)
	if err != nil {
		s.storeUp.Set(0)
	} else {
		s.storeUp.Set(1)
	}
	return err
}

// evaluate runs one evaluation and logs its failure once.
func (s *Server) evaluate(ctx context.Context) {
	if s.sched != nil {
		// Set first, so it is there as soon as this run's metrics are.
		s.nextRun.Set(float64(s.sched.Next(s.Engine.Now()).Unix()))
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	s.checkStore(pctx)
	cancel()
	if err := s.Engine.Run(ctx); err != nil {
		s.runs.WithLabelValues("failure").Inc()
		s.Logger.Error("evaluation failed", "err", err)
		return
	}
	s.runs.WithLabelValues("success").Inc()
	s.firstOnce.Do(func() { close(s.evaluated) })
	evals, _ := s.Engine.Last()
	ph := s.Engine.LastPhases()
	// full: every figure read; else only indicators_read (those written
	// since the last read), snapshot: from the last full read's snapshot.
	s.Logger.Info("evaluated", "evaluations", len(evals), "full", ph.Full, "snapshot", ph.Snapshot, "indicators_read", len(ph.Indicators),
		"read_s", ph.Read.Seconds(), "judge_s", ph.Judge.Seconds(), "publish_s", ph.Publish.Seconds())
}

// Run evaluates once, then on the schedule and on every trigger, and serves
// HTTP on ln until ctx ends.
func (s *Server) Run(ctx context.Context, ln net.Listener, schedule string) error {
	sched, err := config.Parser.Parse(schedule)
	if err != nil {
		return err
	}
	s.sched = sched
	logger := config.CronLogger(s.Logger)
	s.cron = cron.New(cron.WithParser(config.Parser), cron.WithChain(cron.Recover(logger), cron.SkipIfStillRunning(logger)))
	s.cron.Schedule(sched, cron.FuncJob(s.Trigger))
	s.cron.Start()

	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	done := make(chan struct{})
	go func() {
		defer close(done)
		s.next() // the first run reads everything
		s.evaluate(ctx)
		for {
			select {
			case <-ctx.Done():
				return
			case <-s.trigger:
				s.update(ctx)
			}
		}
	}()
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	<-s.cron.Stop().Done()
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv.Shutdown(shut)
	<-done
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
