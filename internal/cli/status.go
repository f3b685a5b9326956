package cli

import (
	"encoding/json"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/server"
)

type statusCmd struct {
	Plan   string `help:"Only this plan."`
	At     string `help:"Evaluate as of this date (YYYY-MM-DD); default now."`
	Format string `help:"table or json." default:"table" enum:"table,json"`
}

func (c *statusCmd) Run(g *globals, env *Env) error {
	cfg, err := g.loadConfig(env)
	if err != nil {
		return err
	}
	set, err := g.loadTargets(cfg)
	if err != nil {
		return err
	}
	if err := set.CheckPlan(c.Plan); err != nil {
		return err
	}
	at := env.Now()
	if c.At != "" {
		d, err := time.Parse("2006-01-02", c.At)
		if err != nil {
			return fmt.Errorf("--at %q: want YYYY-MM-DD", c.At)
		}
		at = d.Add(24*time.Hour - time.Second)
	}
	st := openStore(cfg)
	defer st.Close()
	ev := &evaluate.Evaluator{Set: set, Opts: evaluate.Options{Grace: grace(cfg)}}
	evals, _, err := server.Load(env.Ctx, st, ev, c.Plan, at)
	if err != nil {
		return err
	}
	if c.Format == "json" {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(evals)
	}
	w := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "PLAN\tTARGET\tREGION\tSTATUS\tACTUAL\tPERIOD\tCMP\tTARGET\tGAP\tDEADLINE\tSTALE\tINDICATOR")
	counts := map[evaluate.Status]int{}
	for _, e := range evals {
		counts[e.Status]++
		dl := "-"
		if e.Deadline != nil {
			dl = strconv.Itoa(*e.Deadline)
		}
		stale := ""
		if e.Stale {
			stale = "stale"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%g\t%s\t%s\t%s\t%s %s\n", e.Plan, e.Target, e.Region, e.Status, num(e.Actual), orDash(e.Period), e.Comparator, e.TargetValue, num(e.Gap), dl, stale, e.RegionName, e.NameZh)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	var parts []string
	for _, s := range evaluate.Statuses {
		parts = append(parts, fmt.Sprintf("%s %d", s, counts[s]))
	}
	fmt.Fprintf(env.Stdout, "\n%d evaluations as of %s: %v\n", len(evals), at.Format("2006-01-02"), parts)
	return nil
}

func num(p *float64) string {
	if p == nil {
		return "-"
	}
	return strconv.FormatFloat(evaluate.Round(*p), 'f', -1, 64)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
