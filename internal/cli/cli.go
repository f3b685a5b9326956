// Package cli implements the qualitymon command line: serve, import, status,
// targets, upload and check. main only calls Main.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/alecthomas/kong"

	"github.com/qualitymon/qualitymon/collectors"
	"github.com/qualitymon/qualitymon/collectors/all"
	"github.com/qualitymon/qualitymon/internal/config"
	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/internal/store"
	"github.com/qualitymon/qualitymon/internal/upload"
	"github.com/qualitymon/qualitymon/targets"
)

// Env is what a command sees of the world; tests pass their own.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	Now            func() time.Time
	Ctx            context.Context
}

type globals struct {
	Config     string `help:"Config file (qualitymon.yaml). InfluxDB settings can be overridden by QUALITYMON_INFLUX_URL/_TOKEN/_ORG/_BUCKET." short:"c" type:"path" env:"QUALITYMON_CONFIG"`
	TargetsDir string `help:"Directory of plan files to use instead of the built-in targets/." type:"path"`
	LogLevel   string `help:"Log level: debug, info, warn, error." default:"info" enum:"debug,info,warn,error"`

	Version versionFlag `help:"Print the version and exit."`
}

type app struct {
	globals
	Serve    serveCmd    `cmd:"" help:"Evaluate on a schedule and after imports; serve /metrics, /healthz, /readyz and the API."`
	Import   importCmd   `cmd:"" help:"Validate files and write their observations to InfluxDB (a file is accepted or rejected whole)."`
	Status   statusCmd   `cmd:"" help:"Evaluate every target from what InfluxDB holds and print the scorecard."`
	Report   reportCmd   `cmd:"" help:"Write a plan's quality-status report (质量状况分析报告) as HTML or Markdown."`
	Targets  targetsCmd  `cmd:"" help:"List the targets of every plan."`
	Upload   uploadCmd   `cmd:"" help:"Upload a CSV or XLSX file to a qualitymon server as a statistics bureau."`
	Token    tokenCmd    `cmd:"" help:"Make or hash upload tokens."`
	Archive  archiveCmd  `cmd:"" help:"Read the upload archive: extract the originals bureaus uploaded."`
	Password passwordCmd `cmd:"" help:"Hash a web user's password (web.auth.users[].password_bcrypt)."`
	Check    checkCmd    `cmd:"" help:"Validate targets, config or dashboards; exit 1 when invalid."`
	Sample   sampleCmd   `cmd:"" help:"Write the SAMPLE dataset (synthetic figures for every target) as canonical CSV."`
	Plans    plansCmd    `cmd:"" help:"Draft a plan file from a plan's text (extract), or compare a text with a plan file (diff)."`
	Ver      versionCmd  `cmd:"" name:"version" help:"Print the version, revision, build date and Go version."`

	Generate generateCmd `cmd:"" help:"Generate configuration from the plans: the Alertmanager routes."`

	Completeness completenessCmd `cmd:"" help:"Which figures each reporting bureau owes: expected, received and overdue per indicator, region and period."`
	Changes      changesCmd      `cmd:"" help:"What changed between two moments: status changes, new figures and revisions, by plan and region, with who reported, when and the note."`

	Backup  backupCmd  `cmd:"" help:"Back up InfluxDB and the spool consistently, while serve runs: every acknowledged row in one of them (docs/operations.md)."`
	Restore restoreCmd `cmd:"" help:"Restore a backup: InfluxDB, then the spool into an empty spool_dir; serve replays the rest."`
}

// stdin is bound separately so commands that read it say so.
type stdin struct{ r io.Reader }

// exitError carries an exit code without printing more.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// Main runs the command line and returns the exit code.
func Main(args []string, env Env) int {
	if env.Now == nil {
		env.Now = time.Now
	}
	if env.Ctx == nil {
		env.Ctx = context.Background()
	}
	if env.Stdin == nil {
		env.Stdin = strings.NewReader("")
	}
	var a app
	parser, err := newParser(&a, &env)
	if err != nil {
		fmt.Fprintln(env.Stderr, err)
		return 2
	}
	kctx, code, err := parse(parser, args)
	if err != nil {
		var pe *kong.ParseError
		if errors.As(err, &pe) {
			fmt.Fprintln(env.Stderr, "qualitymon:", err)
			return 2
		}
		fmt.Fprintln(env.Stderr, "qualitymon:", err)
		return 1
	}
	if kctx == nil { // --help or --version: printed, nothing run
		return code
	}
	if err := kctx.Run(&a.globals, &env); err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			return ee.code
		}
		fmt.Fprintln(env.Stderr, "qualitymon:", err)
		return 1
	}
	return 0
}

func newParser(a *app, env *Env) (*kong.Kong, error) {
	return kong.New(a,
		kong.Name("qualitymon"),
		kong.Description("qualitymon tells whether quality plans' targets are coming true."),
		kong.Writers(env.Stdout, env.Stderr),
		kong.Exit(func(code int) { panic(exitRequest(code)) }),
		kong.UsageOnError(),
		kong.Bind(env),
		kong.Bind(&stdin{env.Stdin}),
	)
}

// exitRequest is how --help and --version stop parsing: kong calls Exit
// after printing, and parse turns the panic back into an exit code, so the
// command never runs.
type exitRequest int

func parse(parser *kong.Kong, args []string) (kctx *kong.Context, code int, err error) {
	defer func() {
		if r := recover(); r != nil {
			c, ok := r.(exitRequest)
			if !ok {
				panic(r)
			}
			kctx, code, err = nil, int(c), nil
		}
	}()
	kctx, err = parser.Parse(args)
	return kctx, 0, err
}

func (g *globals) logger(env *Env) *slog.Logger {
	var lvl slog.Level
	lvl.UnmarshalText([]byte(g.LogLevel))
	return slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: lvl}))
}

// loadConfig loads the config and sets the clock to its timezone, so that
// "today", "this year", when a period has begun and when a figure is due
// are decided on that calendar by every command (period.Begun).
func (g *globals) loadConfig(env *Env) (*config.Config, error) {
	cfg, err := config.LoadFile(g.Config, env.Getenv)
	if err != nil {
		return nil, err
	}
	now, loc := env.Now, cfg.Location
	env.Now = func() time.Time { return now().In(loc) }
	return cfg, nil
}

// checkedConfig is qualitymon.yaml as serve runs it.
type checkedConfig struct {
	Config    *config.Config
	Set       *plan.Set
	Validator *ingest.Validator
	Uploads   upload.Config
	// Collectors are built, each by its type's factory, but not started.
	Collectors []collectors.Configured
}

// loadChecked is the one check of a config, shared by check config and
// serve, so that check config accepts exactly what serve accepts.
// config.LoadFile decodes every section strictly and checks its text; then
// the targets it points to are loaded, the upload tokens' regions and
// indicators are resolved against them (upload.Config.Check), and every
// collector is built by its type's factory (collectors.Build: type and
// options). Every error names the file.
func (g *globals) loadChecked(env *Env) (*checkedConfig, error) {
	cfg, err := g.loadConfig(env)
	if err != nil {
		return nil, err
	}
	set, err := g.loadTargets(cfg)
	if err != nil {
		return nil, err
	}
	c := &checkedConfig{Config: cfg, Set: set, Uploads: upload.Config(cfg.Uploads),
		Validator: &ingest.Validator{Catalog: set.Catalog, Regions: set.Regions, Now: env.Now, Limits: cfg.Limits,
			Gate: ingest.NewGate(cfg.Limits.Parses)}}
	errs := []error{c.Uploads.Check(c.Validator)}
	c.Collectors, err = collectors.Build(cfg.Collectors, all.Registry, collectors.Deps{Validator: c.Validator, Now: env.Now, Getenv: env.Getenv})
	if err = errors.Join(append(errs, err)...); err != nil {
		if g.Config != "" {
			err = config.InFile(g.Config, err)
		}
		return nil, err
	}
	return c, nil
}

// loadTargets reads the built-in targets, or a directory given by flag or config.
func (g *globals) loadTargets(cfg *config.Config) (*plan.Set, error) {
	dir := g.TargetsDir
	if dir == "" && cfg != nil {
		dir = cfg.TargetsDir
	}
	var fsys fs.FS = targets.FS
	root := targets.Dir
	if dir != "" {
		fsys, root = os.DirFS(dir), "."
	}
	return plan.LoadDir(fsys, root)
}

func openStore(cfg *config.Config) *store.Store { return store.Open(storeConfig(cfg)) }

// storeConfig is the store's view of the config's influx: section.
func storeConfig(cfg *config.Config) store.Config {
	return store.Config{URL: cfg.Influx.URL, Token: string(cfg.Influx.Token), Org: cfg.Influx.Org, Bucket: cfg.Influx.Bucket}
}

// grace converts the configured grace periods to period kinds.
func grace(cfg *config.Config) map[period.Kind]time.Duration {
	out := map[period.Kind]time.Duration{}
	for k, v := range evaluate.DefaultGrace {
		out[k] = v
	}
	names := map[string]period.Kind{"yearly": period.Year, "half-yearly": period.Half, "quarterly": period.Quarter, "monthly": period.Month, "daily": period.Day}
	for k, v := range cfg.Evaluation.Grace {
		out[names[k]] = time.Duration(v)
	}
	return out
}
