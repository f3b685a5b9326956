package cli

import (
	"context"
	"fmt"
	"net"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	qmcollectors "github.com/qualitymon/qualitymon/collectors"
	"github.com/qualitymon/qualitymon/internal/config"
	"github.com/qualitymon/qualitymon/internal/engine"
	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/exporter"
	"github.com/qualitymon/qualitymon/internal/server"
	"github.com/qualitymon/qualitymon/internal/spool"
	"github.com/qualitymon/qualitymon/internal/upload"
	"github.com/qualitymon/qualitymon/internal/version"
	"github.com/qualitymon/qualitymon/internal/web"
)

type serveCmd struct {
	Listen string `help:"Address to listen on (overrides the config's listen)."`
}

func (c *serveCmd) Run(g *globals, env *Env) error {
	chk, err := g.loadChecked(env)
	if err != nil {
		return err
	}
	cfg, set := chk.Config, chk.Set
	logger := g.logger(env)
	if c.Listen != "" {
		cfg.Listen = c.Listen
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), version.NewCollector())
	reg.MustRegister(alertingMetrics(cfg.Alerting)...)
	reg.MustRegister(planInfo(set))
	st := openStore(cfg)
	defer st.Close()
	gr := grace(cfg)
	engine := &engine.Engine{
		Store:     st,
		Evaluator: &evaluate.Evaluator{Set: set, Opts: evaluate.Options{Grace: gr}},
		Exporter:  exporter.New(reg, set.Catalog, gr),
		Logger:    logger,
		Now:       env.Now,
	}
	srv := server.New(engine, reg, logger)
	site, err := web.New(st, engine.Evaluator, cfg.Web, env.Now, logger)
	if err != nil {
		return err
	}
	site.Latest = engine.Snapshot // pages without a moment show what /metrics shows
	site.Register(srv.Mux)        // the scorecard pages: /, /plans/…, /export/…, /report/…

	// Every accepted batch goes through the durable spool; the rows that
	// reach InfluxDB update the evaluation (coalesced, only the targets
	// whose indicators changed). Each write is classified against the
	// current values read from InfluxDB, never a cache: other replicas and
	// qualitymon import may write the same keys.
	sp, err := spool.Open(cfg.SpoolDir, st, spool.Options{Logger: logger, Registerer: reg, OnStored: srv.Ingested})
	if err != nil {
		return err
	}
	defer sp.Close()
	// The bureaus' workspace: uploads of tokens with review: required wait
	// in the review queue (uploads.review_dir); each upload leaves a receipt
	// of who sent it; GET /api/v1/completeness, qualitymon_report_overdue.
	rep, err := openReporting(cfg, set, st, sp, reg, env.Now, logger)
	if err != nil {
		return err
	}
	defer rep.Close()
	rep.Register(srv.Mux)
	up, err := upload.NewHandler(chk.Uploads, chk.Validator, sp, reg, logger)
	if err != nil {
		return err
	}
	defer up.Close()
	up.SinkFor = rep.Sinks.For
	srv.Mux.Handle(upload.Path, up)
	// 报送工作台 (/bureau, /review): files from the browser go through the
	// upload handler; the grid, template and review through the core.
	core := site.NewCore(rep.Grid, rep.Queue)
	ws, err := site.NewWorkspace(web.WorkspaceDeps{Tokens: cfg.Uploads.Tokens, Uploads: up, Reporting: core, Review: core, Validator: chk.Validator})
	if err != nil {
		return err
	}
	ws.Register(srv.Mux)

	runner, err := qmcollectors.NewRunner(chk.Collectors, qmcollectors.Deps{Validator: chk.Validator}, sp, reg, logger, env.Now)
	if err != nil {
		return err
	}
	runner.Start()
	defer func() { <-runner.Stop().Done() }()

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	ctx, stop := signal.NotifyContext(env.Ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	logger.Info("serving", "listen", ln.Addr().String(), "influx_url", config.RedactURL(cfg.Influx.URL), "bucket", cfg.Influx.Bucket,
		"targets", len(set.Targets("")), "spool_dir", cfg.SpoolDir)
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	if err := st.Ready(rctx); err != nil {
		logger.Error("InfluxDB is not ready to store figures: /readyz answers 503 and accepted uploads wait in the spool until it is", "err", err)
	}
	cancel()
	return srv.Run(ctx, ln, cfg.Evaluation.Schedule)
}
