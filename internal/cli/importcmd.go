package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/sink"
	"github.com/qualitymon/qualitymon/internal/store"
)

type importCmd struct {
	DryRun bool     `help:"Validate only; write nothing."`
	Files  []string `arg:"" help:"Files to import (canonical CSV: indicator,region,period,value[,unit,source,note])." type:"existingfile"`
}

func (c *importCmd) Run(g *globals, env *Env) error {
	cfg, err := g.loadConfig(env)
	if err != nil {
		return err
	}
	set, err := g.loadTargets(cfg)
	if err != nil {
		return err
	}
	v := &ingest.Validator{Catalog: set.Catalog, Regions: set.Regions, Now: env.Now}
	var st *store.Store
	if !c.DryRun {
		st = openStore(cfg)
		defer st.Close()
		if err := st.Ready(env.Ctx); err != nil {
			return err
		}
	}
	failed := 0
	var total store.Summary
	for _, path := range c.Files {
		batch, err := readFile(v, path)
		if err != nil {
			failed++
			fmt.Fprintln(env.Stderr, err)
			var errs ingest.Errors
			if errors.As(err, &errs) {
				fmt.Fprintf(env.Stderr, "%s: rejected: %d errors, nothing written\n", path, len(errs))
			}
			continue
		}
		if c.DryRun {
			fmt.Fprintf(env.Stdout, "%s: valid, %d rows (dry run, nothing written)\n", path, len(batch))
			continue
		}
		d := &sink.Direct{Store: st}
		res, err := d.Accept(env.Ctx, batch, sink.Meta{Origin: "import", File: path, ReportedAt: env.Now()})
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		total.Add(res.Summary)
		fmt.Fprintf(env.Stdout, "%s: %d rows accepted (%d new, %d revised, %d unchanged)\n", path, res.Accepted, res.New, res.Revised, res.Unchanged)
	}
	if len(c.Files) > 1 {
		fmt.Fprintf(env.Stdout, "total: %d rows accepted (%d new, %d revised, %d unchanged), %d files rejected\n", total.Accepted, total.New, total.Revised, total.Unchanged, failed)
	}
	if failed > 0 {
		return exitError{1}
	}
	return nil
}

// readFile validates one file whole.
func readFile(v *ingest.Validator, path string) ([]ingestObs, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	src, err := ingest.NewCSV(path, f)
	if err != nil {
		return nil, err
	}
	return v.ReadAll(src)
}
