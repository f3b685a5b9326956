package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/qualitymon/qualitymon/internal/bulk"
	"github.com/qualitymon/qualitymon/internal/derive"
	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/observation"
)

type importCmd struct {
	DryRun    bool     `help:"Validate only; write nothing."`
	BatchSize int      `help:"Rows written at once (one lookup, classification and reconcile per chunk)." default:"50000"`
	Files     []string `arg:"" help:"Files to import: CSV or XLSX, canonical layout (indicator,region,period,value[,unit,source,note], English or Chinese headers) or the 国家统计局 export layout; UTF-8 or GBK." type:"existingfile"`
}

// importMemoryLimit is the soft memory limit of an import (Go's
// runtime/debug.SetMemoryLimit): near it the collector runs more often, so
// that a limit-sized file stays within the memory budget of one file
// (docs/operations.md); a larger live heap is slower, never refused.
// GOMEMLIMIT, when set, wins.
const importMemoryLimit = 192 << 20

func (c *importCmd) Run(g *globals, env *Env) error {
	softMemoryLimit(importMemoryLimit)
	cfg, set, err := g.loadPlan(env, "")
	if err != nil {
		return err
	}
	if !c.DryRun {
		st := openStore(cfg)
		err := st.Ready(env.Ctx)
		st.Close()
		if err != nil {
			return err
		}
	}
	log := g.logger(env)
	deriver, err := derive.New(set.Catalog, set.Regions)
	if err != nil {
		return err
	}
	v := &ingest.Validator{Catalog: set.Catalog, Regions: set.Regions, Now: env.Now, Limits: cfg.Limits}
	opts := bulk.Options{
		Validator: v,
		Deriver:   deriver,
		Influx:    storeConfig(cfg),
		BatchSize: c.BatchSize,
		DryRun:    c.DryRun,
		OnRetry: func(err error, wait time.Duration) {
			log.Warn("write failed, retrying", "wait", wait, "err", err)
		},
	}
	if isTerminal(env.Stderr) {
		opts.Progress = env.Stderr
	}
	im, err := bulk.New(opts)
	if err != nil {
		return err
	}
	defer im.Close()
	failed := 0
	var total observation.Summary
	for _, path := range c.Files {
		res, err := im.ImportFile(env.Ctx, path, env.Now())
		var errs ingest.Errors
		if errors.As(err, &errs) {
			failed++
			fmt.Fprintln(env.Stderr, err)
			fmt.Fprintf(env.Stderr, "%s: rejected: %d errors, nothing written\n", path, len(errs))
			continue
		}
		if err != nil {
			return err
		}
		if c.DryRun {
			fmt.Fprintf(env.Stdout, "%s: valid, %d rows (dry run, nothing written)\n", path, res.Accepted)
			continue
		}
		total.Add(res.Summary)
		fmt.Fprintf(env.Stdout, "%s: %d rows accepted (%d new, %d revised, %d unchanged)\n", path, res.Accepted, res.New, res.Revised, res.Unchanged)
		log.Debug("file imported", "file", path, "points_written", res.Written,
			"validate_seconds", res.Validate.Seconds(), "write_seconds", res.Write.Seconds())
	}
	if len(c.Files) > 1 {
		fmt.Fprintf(env.Stdout, "total: %d rows accepted (%d new, %d revised, %d unchanged), %d files rejected\n", total.Accepted, total.New, total.Revised, total.Unchanged, failed)
	}
	if failed > 0 {
		return exitError{1}
	}
	return nil
}

// isTerminal reports whether w is a terminal (progress is shown only there).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
