package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/qualitymon/qualitymon/internal/engine"
	"github.com/qualitymon/qualitymon/internal/evaluate"
)

type statusCmd struct {
	Plan        string `help:"Only this plan."`
	At          string `help:"Evaluate as of this moment: a date (2021-03-31, its end) or an RFC 3339 timestamp; default now, or --known-at."`
	KnownAt     string `name:"known-at" help:"Use only the figures and revisions reported at or before this moment (date or RFC 3339): the scorecard as it was known then."`
	outputFlags `embed:""`
}

func (c *statusCmd) Run(g *globals, env *Env) error {
	cfg, set, err := g.loadPlan(env, c.Plan)
	if err != nil {
		return err
	}
	at, knownAt, err := evaluate.Moments(c.At, c.KnownAt, env.Now())
	if err != nil {
		return momentFlagError(err)
	}
	st := openStore(cfg)
	defer st.Close()
	ev := &evaluate.Evaluator{Set: set, Opts: evaluate.Options{Grace: grace(cfg)}}
	evals, _, err := engine.Load(env.Ctx, st, ev, c.Plan, at, knownAt)
	if err != nil {
		return err
	}
	return writeStatus(env, c.outputFlags, evals, at)
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

// momentFlagError names the --at or --known-at flag a bad moment came from
// (evaluate.Moments names the API's parameters, at and known_at).
func momentFlagError(err error) error {
	return fmt.Errorf("--%s", strings.Replace(err.Error(), "known_at", "known-at", 1))
}
