package cli

import (
	"fmt"

	"github.com/qualitymon/qualitymon/internal/store"
)

type checkCmd struct {
	Targets    checkTargetsCmd    `cmd:"" help:"Validate the catalogue, region table and every plan file."`
	Config     checkConfigCmd     `cmd:"" help:"Validate the config file (and the targets it points to)."`
	Dashboards checkDashboardsCmd `cmd:"" help:"Check the Grafana dashboards and provisioning offline, or run every panel query with --prometheus URL."`
}

type checkTargetsCmd struct{}

func (c *checkTargetsCmd) Run(g *globals, env *Env) error {
	set, err := g.loadTargets(nil)
	if err != nil {
		fmt.Fprintln(env.Stderr, err)
		return exitError{1}
	}
	n := 0
	for _, p := range set.Plans {
		n += len(p.Targets)
		line := fmt.Sprintf("%-16s %3d targets", p.Key, len(p.Targets))
		if u := len(p.Targets) - len(set.Tracked(p.Key)); u > 0 {
			line += fmt.Sprintf(" (%d not trackable)", u)
		}
		fmt.Fprintln(env.Stdout, line)
	}
	fmt.Fprintf(env.Stdout, "ok: %d plans, %d targets (%d tracked), %d indicators, %d regions\n",
		len(set.Plans), n, len(set.Tracked("")), len(set.Catalog.All()), len(set.Regions.All()))
	return nil
}

type checkConfigCmd struct{}

func (c *checkConfigCmd) Run(g *globals, env *Env) error {
	chk, err := g.loadChecked(env)
	if err != nil {
		fmt.Fprintln(env.Stderr, err)
		return exitError{1}
	}
	cfg := chk.Config
	fmt.Fprintf(env.Stdout, "ok: influx %s bucket %s, listen %s, evaluation %q, %d upload tokens, %d collectors, timezone %s, %d web users\n",
		store.RedactURL(cfg.Influx.URL), cfg.Influx.Bucket, cfg.Listen, cfg.Evaluation.Schedule, len(chk.Uploads.Tokens), len(chk.Collectors),
		cfg.Timezone, len(cfg.Web.Auth.Users))
	return nil
}
