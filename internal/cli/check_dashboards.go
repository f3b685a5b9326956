package cli

import (
	"fmt"
	"os"
	"time"

	"github.com/qualitymon/qualitymon/internal/dashcheck"
)

type checkDashboardsCmd struct {
	Dir         string        `help:"Grafana directory holding dashboards/ and provisioning/." default:"dashboards/grafana" type:"path"`
	Prometheus  string        `help:"Prometheus base URL. With it every variable and panel query runs against this Prometheus and the config's InfluxDB (QUALITYMON_INFLUX_*); without it only the structure is checked (offline)." placeholder:"URL"`
	RequireData bool          `help:"With --prometheus, also fail when a query returns no data."`
	Timeout     time.Duration `help:"Bound on each query." default:"30s"`
	Verbose     bool          `help:"Print every query as sent." short:"v"`
}

func (c *checkDashboardsCmd) Run(g *globals, env *Env) error {
	set, probs := dashcheck.Load(os.DirFS(c.Dir))
	probs = append(probs, set.Check()...)
	for _, p := range probs {
		fmt.Fprintf(env.Stderr, "%s/%s\n", c.Dir, p)
	}
	if len(probs) > 0 {
		fmt.Fprintf(env.Stderr, "%d problems\n", len(probs))
		return exitError{1}
	}
	panels, queries := 0, 0
	for _, d := range set.Dashboards {
		for _, p := range d.AllPanels() {
			panels++
			queries += len(p.Targets)
		}
	}
	if c.Prometheus == "" {
		fmt.Fprintf(env.Stdout, "ok: %d dashboards, %d panels, %d queries, %d datasources (offline: structure only; --prometheus URL runs the queries)\n",
			len(set.Dashboards), panels, queries, len(set.Datasources))
		return nil
	}
	cfg, err := g.loadConfig(env)
	if err != nil {
		return err
	}
	live := &dashcheck.Live{
		PrometheusURL: c.Prometheus,
		Influx:        storeConfig(cfg),
		Now:           env.Now,
		Timeout:       c.Timeout,
	}
	failed, empty := 0, 0
	results := live.Run(env.Ctx, set)
	for _, r := range results {
		switch {
		case r.Err != nil:
			failed++
			fmt.Fprintf(env.Stderr, "%s/%s: %s error: %v\n", c.Dir, r.Where(), r.Lang, r.Err)
		case r.Series == 0:
			empty++
			fmt.Fprintf(env.Stderr, "%s/%s: no data\n", c.Dir, r.Where())
		}
		if c.Verbose {
			fmt.Fprintf(env.Stdout, "%s: %d series\n%s\n\n", r.Where(), r.Series, r.Query)
		}
	}
	fmt.Fprintf(env.Stdout, "%d queries run: %d failed, %d returned no data\n", len(results), failed, empty)
	if failed > 0 || (c.RequireData && empty > 0) {
		return exitError{1}
	}
	return nil
}
