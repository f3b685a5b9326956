package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/internal/planextract"
)

type plansCmd struct {
	Extract plansExtractCmd `cmd:"" help:"Draft a plan's quantitative targets from its text (UTF-8 or GBK) as a plan file (yaml) or JSON."`
	Diff    plansDiffCmd    `cmd:"" help:"What a plan's text states that the plan file lacks or contradicts."`
}

type plansExtractCmd struct {
	File    string `arg:"" help:"The plan's text (UTF-8 or GBK/GB18030)." type:"existingfile"`
	Plan    string `help:"Plan key for the file (e.g. zhejiang-2022); TODO when not given."`
	Region  string `help:"The plan's region: code or name (370200, 青岛); guessed from the issuer when not given."`
	Horizon int    `help:"Deadline of targets whose text names no year (the plan's 到20XX年)."`
	Start   int    `help:"First year of the plan (default: the publication year), for per-year quotas."`
	Format  string `help:"yaml (a plan file to review) or json (the drafts with flags)." default:"yaml" enum:"yaml,json"`
}

// readPlanText reads and extracts a plan text with the catalogue and
// regions of set.
func readPlanText(set *plan.Set, file, regionArg string, horizon, start int) (*planextract.Result, planextract.Options, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, planextract.Options{}, err
	}
	opt := planextract.Options{Catalog: set.Catalog, Regions: set.Regions, Horizon: horizon, Start: start}
	if regionArg != "" {
		r, err := set.Regions.Lookup(regionArg)
		if err != nil {
			return nil, opt, fmt.Errorf("--region: %w (a GB/T 2260 code or name)", err)
		}
		opt.Region = r.Code
	}
	text, _ := planextract.Decode(data)
	res := planextract.Extract(text, opt)
	return res, opt, nil
}

func (c *plansExtractCmd) Run(g *globals, env *Env) error {
	set, err := g.loadTargets(nil)
	if err != nil {
		return err
	}
	res, opt, err := readPlanText(set, c.File, c.Region, c.Horizon, c.Start)
	if err != nil {
		return err
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(env.Stderr, "%s: warning: %s\n", c.File, w)
	}
	if c.Format == "json" {
		enc := newJSONEncoder(env.Stdout)
		drafts := res.Drafts
		if drafts == nil {
			drafts = []*planextract.Draft{}
		}
		return enc.Encode(drafts)
	}
	return planextract.Render(env.Stdout, res.Info(c.Plan, filepath.Base(c.File), opt), res.Drafts)
}

type plansDiffCmd struct {
	File     string `arg:"" help:"The plan's text." type:"existingfile"`
	PlanFile string `arg:"" name:"plan.yaml" help:"The plan file to compare with." type:"existingfile"`
	Format   string `help:"text or json." default:"text" enum:"text,json"`
}

func (c *plansDiffCmd) Run(g *globals, env *Env) error {
	data, err := os.ReadFile(c.PlanFile)
	if err != nil {
		return err
	}
	set, err := g.loadTargets(nil)
	if err != nil {
		return err
	}
	p, err := plan.Parse(c.PlanFile, data, set.Catalog, set.Regions)
	if err != nil {
		return err
	}
	res, _, err := readPlanText(set, c.File, p.Region, p.Horizon, p.Start)
	if err != nil {
		return err
	}
	diffs := planextract.Diff(res.Drafts, p)
	if c.Format == "json" {
		enc := newJSONEncoder(env.Stdout)
		if diffs == nil {
			diffs = []planextract.Difference{}
		}
		return enc.Encode(diffs)
	}
	n := map[string]int{}
	for _, d := range diffs {
		n[d.Kind]++
		fmt.Fprintln(env.Stdout, d)
	}
	fmt.Fprintf(env.Stdout, "%s: %d targets in the file, %d read from the text; %d missing, %d contradicting, %d not found in the text\n",
		p.Key, len(p.Targets), len(res.Drafts), n["missing"], n["contradicts"], n["absent"])
	if n["missing"]+n["contradicts"] > 0 {
		return exitError{1}
	}
	return nil
}
