package cli

import (
	"bytes"
	"os"

	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/web"
)

// reportCmd writes the 质量状况分析报告 of a plan, as serve shows it at
// /report/{plan}.
type reportCmd struct {
	Plan    string `help:"The plan (its key, e.g. shandong-2018)." required:""`
	At      string `help:"Evaluate as of this moment: a date (2021-03-31, its end) or an RFC 3339 timestamp; default now, or --known-at."`
	KnownAt string `name:"known-at" help:"Use only the figures and revisions reported at or before this moment (date or RFC 3339)."`
	Format  string `help:"html (one file, prints to A4 from a browser) or md (Markdown)." default:"html" enum:"html,md"`
	Output  string `short:"o" help:"File to write; default standard output." type:"path"`
}

func (c *reportCmd) Run(g *globals, env *Env) error {
	cfg, set, err := g.loadPlan(env, c.Plan)
	if err != nil {
		return err
	}
	m, err := web.ParseMoment(c.At, c.KnownAt, env.Now())
	if err != nil {
		return momentFlagError(err)
	}
	st := openStore(cfg)
	defer st.Close()
	site, err := web.New(st, &evaluate.Evaluator{Set: set, Opts: evaluate.Options{Grace: grace(cfg)}}, env.Now, g.logger(env))
	if err != nil {
		return err
	}
	rep, err := site.BuildReport(env.Ctx, c.Plan, m)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := site.WriteReport(&b, rep, c.Format); err != nil {
		return err
	}
	if c.Output == "" {
		_, err = env.Stdout.Write(b.Bytes())
		return err
	}
	return os.WriteFile(c.Output, b.Bytes(), 0o644)
}
