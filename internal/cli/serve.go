package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	qmcollectors "github.com/qualitymon/qualitymon/collectors"
	"github.com/qualitymon/qualitymon/internal/access"
	"github.com/qualitymon/qualitymon/internal/config"
	"github.com/qualitymon/qualitymon/internal/engine"
	"github.com/qualitymon/qualitymon/internal/evalcache"
	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/exporter"
	"github.com/qualitymon/qualitymon/internal/server"
	"github.com/qualitymon/qualitymon/internal/spool"
	"github.com/qualitymon/qualitymon/internal/store"
	"github.com/qualitymon/qualitymon/internal/upload"
	"github.com/qualitymon/qualitymon/internal/version"
	"github.com/qualitymon/qualitymon/internal/web"
	"github.com/qualitymon/qualitymon/internal/web/shell"
	"github.com/qualitymon/qualitymon/internal/workspace"
)

// debugMux serves net/http/pprof's profiles (config debug_listen).
func debugMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

type serveCmd struct {
	Listen string `help:"Address to listen on (overrides the config's listen)."`
}

func (c *serveCmd) Run(g *globals, env *Env) error {
	chk, err := g.loadChecked(env)
	if err != nil {
		return err
	}
	cfg := chk.Config
	softMemoryLimit(cfg.MemoryLimit) // memory_limit: the garbage between collections stays within the budget
	logger := g.logger(env)
	if c.Listen != "" {
		cfg.Listen = c.Listen
	}
	sv, err := buildServe(chk, env, logger)
	if err != nil {
		return err
	}
	defer sv.Close()
	sv.runner.Start()
	defer func() { <-sv.runner.Stop().Done() }()

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	ctx, stop := signal.NotifyContext(env.Ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if cfg.DebugListen != "" {
		dln, err := net.Listen("tcp", cfg.DebugListen)
		if err != nil {
			return fmt.Errorf("debug_listen: %w", err)
		}
		dbg := &http.Server{Handler: debugMux(), ReadHeaderTimeout: 10 * time.Second}
		go dbg.Serve(dln)
		defer dbg.Close()
		logger.Warn("the Go profiler answers without access control", "debug_listen", dln.Addr().String())
	}
	logger.Info("serving", "listen", ln.Addr().String(), "influx_url", store.RedactURL(cfg.Influx.URL), "bucket", cfg.Influx.Bucket,
		"targets", len(chk.Set.Targets("")), "spool_dir", cfg.SpoolDir, "timezone", cfg.Timezone, "web_users", len(cfg.Web.Auth.Users))
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	if err := sv.store.Ready(rctx); err != nil {
		logger.Error("InfluxDB is not ready to store figures: /readyz answers 503 and accepted uploads wait in the spool until it is", "err", err)
	}
	cancel()
	return sv.srv.Run(ctx, ln, cfg.Evaluation.Schedule)
}

// snapshotPath is the file of the engine's snapshot of its last full read
// (engine.Engine.SnapshotPath), in the spool directory: each replica has
// its own.
func snapshotPath(cfg *config.Config) string { return filepath.Join(cfg.SpoolDir, "figures.snapshot") }

// served is what serve runs: the server with every route registered (and
// its access guard), and what must be closed after it.
type served struct {
	srv     *server.Server
	store   *store.Store
	runner  *qmcollectors.Runner
	closers []func()
}

// Close closes what buildServe opened, the last first.
func (s *served) Close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

// buildServe builds serve's parts and registers every route on the
// server's Mux, each with its access class (internal/access): the probes
// and static assets public, the bureaus' workspace and the upload API
// checking the bureau's token themselves, everything else behind web.auth.
// The collectors' runner is built, not started.
func buildServe(chk *checkedConfig, env *Env, logger *slog.Logger) (sv *served, err error) {
	cfg, set := chk.Config, chk.Set
	sv = &served{}
	defer func() {
		if err != nil {
			sv.Close()
		}
	}()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), version.NewCollector())
	reg.MustRegister(alertingMetrics(cfg.Alerting)...)
	reg.MustRegister(planInfo(set))
	st := openStore(cfg)
	sv.store = st
	sv.closers = append(sv.closers, st.Close)
	gr := grace(cfg)
	exp := exporter.New(reg, set.Catalog, gr)
	exp.Detailed = cfg.Metrics.DetailedTargets
	engine := &engine.Engine{
		Store:     st,
		Evaluator: &evaluate.Evaluator{Set: set, Opts: evaluate.Options{Grace: gr}},
		Exporter:  exp,
		Logger:    logger,
		Now:       env.Now,
		FullRead:  time.Duration(*cfg.Evaluation.FullRead),
		// The last full read's figures: a start re-reads only what was written since.
		SnapshotPath: snapshotPath(cfg),
	}
	srv := server.New(engine, reg, logger)
	sv.srv = srv
	srv.Moments.Configure(evalcache.Options{Concurrent: cfg.Web.Moments.Concurrent, TTL: time.Duration(cfg.Web.Moments.CacheTTL),
		Entries: cfg.Web.Moments.CacheEntries})
	// web.auth: every route not public and without its own token check asks
	// for a web user (/metrics too, unless web.auth.metrics_public).
	guard, err := access.New(cfg.Web, env.Now, logger)
	if err != nil {
		return sv, err
	}
	srv.Protect(guard)
	site, err := web.New(st, engine.Evaluator, env.Now, logger)
	if err != nil {
		return sv, err
	}
	site.Latest = engine.Snapshot // pages without a moment show what /metrics shows
	site.Moments = srv.Moments    // and with one, the status API's bounded cache
	site.Register(srv.Mux)        // the scorecard pages: /, /plans/…, /export/…, /report/…
	shell.Register(srv.Mux)       // their stylesheet, script and icon (public), the workspace's too

	// Every accepted batch goes through the durable spool; the rows that
	// reach InfluxDB update the evaluation (coalesced, only the targets
	// whose indicators changed). Each write is classified against the
	// current values read from InfluxDB, never a cache: other replicas and
	// qualitymon import may write the same keys.
	sp, err := spool.Open(cfg.SpoolDir, st, spool.Options{Logger: logger, Registerer: reg, OnStored: srv.Ingested, BackupSocket: true})
	if err != nil {
		return sv, err
	}
	sv.closers = append(sv.closers, func() { sp.Close() })
	srv.ReadyChecks = append(srv.ReadyChecks, sp.Writable) // /readyz: 503 while uploads are refused for a full disk
	// The bureaus' workspace: uploads of tokens with review: required wait
	// in the review queue (uploads.review_dir); each upload leaves a receipt
	// of who sent it; GET /api/v1/completeness, qualitymon_report_overdue.
	rep, err := openReporting(cfg, set, st, sp, reg, env.Now, env.Getenv, logger)
	if err != nil {
		return sv, err
	}
	sv.closers = append(sv.closers, rep.Close)
	engine.Published = func() {
		// The pages' index of the new evaluation, before the first page
		// asks; then qualitymon_report_overdue, recomputed after each
		// evaluation, never on a scrape. One after the other: at national
		// scale each builds hundreds of megabytes.
		go func() {
			site.Prepare()
			rep.Overdue.Trigger()
		}()
	}
	rep.Register(srv.Mux)
	site.Changes.Receipts = rep.Receipts           // 变化 names the bureau of each upload
	site.Grid = rep.Grid                           // the one count of overdue: held figures are not overdue
	site.OverdueLatest = rep.Overdue.OverdueCounts // … as counted after the last evaluation
	up, err := upload.NewHandler(chk.Uploads, chk.Validator, sp, reg, logger)
	if err != nil {
		return sv, err
	}
	sv.closers = append(sv.closers, func() { up.Close() })
	up.SinkFor = rep.Sinks.For
	up.History = engine                                // plausibility warnings: the previous periods' values, as the evaluation holds them
	up.Now = env.Now                                   // audit lines and archive dates on the config's calendar
	srv.Mux.As(access.OwnAuth).Handle(upload.Path, up) // the bureau's token (Authorization: Bearer)
	// 报送工作台 (/bureau, /review): files from the browser go through the
	// upload handler; the grid, template and review through reporting.
	ws, err := workspace.New(workspace.Deps{Tokens: cfg.Uploads.Tokens, Uploads: up, Grid: rep.Grid, Queue: rep.Queue,
		Validator: chk.Validator, Dir: filepath.Join(cfg.Uploads.ReviewDir, "checked"), Web: cfg.Web, Now: env.Now, Logger: logger})
	if err != nil {
		return sv, err
	}
	ws.Register(srv.Mux)

	sv.runner, err = qmcollectors.NewRunner(chk.Collectors, qmcollectors.Deps{Validator: chk.Validator}, sp, reg, logger, env.Now)
	if err != nil {
		return sv, err
	}
	return sv, nil
}
