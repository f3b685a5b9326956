package cli

import (
	"fmt"
	"net"
	"os/signal"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/exporter"
	"github.com/qualitymon/qualitymon/internal/server"
)

type serveCmd struct {
	Listen string `help:"Address to listen on (overrides the config's listen)."`
}

func (c *serveCmd) Run(g *globals, env *Env) error {
	cfg, err := g.loadConfig(env)
	if err != nil {
		return err
	}
	set, err := g.loadTargets(cfg)
	if err != nil {
		return err
	}
	logger := g.logger(env)
	if c.Listen != "" {
		cfg.Listen = c.Listen
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	st := openStore(cfg)
	defer st.Close()
	gr := grace(cfg)
	engine := &server.Engine{
		Store:     st,
		Evaluator: &evaluate.Evaluator{Set: set, Opts: evaluate.Options{Grace: gr}},
		Exporter:  exporter.New(reg, set.Catalog, gr),
		Logger:    logger,
		Now:       env.Now,
	}
	srv := server.New(engine, reg, logger)
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	ctx, stop := signal.NotifyContext(env.Ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	logger.Info("serving", "listen", ln.Addr().String(), "influx_url", cfg.Influx.URL, "bucket", cfg.Influx.Bucket, "targets", len(set.Targets("")))
	return srv.Run(ctx, ln, cfg.Evaluation.Schedule)
}
