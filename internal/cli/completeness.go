package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/qualitymon/qualitymon/internal/config"
	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/internal/reporting"
)

type completenessCmd struct {
	Region      string `help:"Only this region (GB/T 2260 code or name)."`
	Bureau      string `help:"Only this reporting bureau (as uploads.tokens[].bureau names it; - for figures no bureau reports)."`
	Plan        string `help:"Only the figures this plan's targets need."`
	outputFlags `embed:""`
}

func (c *completenessCmd) Run(g *globals, env *Env) error {
	cfg, set, err := g.loadPlan(env, c.Plan)
	if err != nil {
		return err
	}
	q := reporting.CompletenessQuery{Bureau: c.Bureau, Plan: c.Plan}
	if c.Region != "" {
		reg, err := set.Regions.Lookup(c.Region)
		if err != nil {
			return fmt.Errorf("--region: %w", err)
		}
		q.Region = reg.Code
	}
	dir, err := reporting.NewDirectory(cfg.Uploads.Tokens, set.Catalog, set.Regions)
	if err != nil {
		return err
	}
	if c.Bureau != "" && c.Bureau != reporting.Unassigned {
		if _, ok := dir.Reporter(c.Bureau); !ok {
			return fmt.Errorf("--bureau: no reporting bureau %q in uploads.tokens", c.Bureau)
		}
	}
	st := openStore(cfg)
	defer st.Close()
	grid, closeGrid, err := readOnlyGrid(cfg, set, st)
	if err != nil {
		return err
	}
	defer closeGrid()
	comp, err := grid.Completeness(env.Ctx, dir.Reporters(), q, env.Now())
	if err != nil {
		return err
	}
	if c.Format == "json" {
		return newJSONEncoder(env.Stdout).Encode(comp)
	}
	var rows []reporting.Cell
	for _, b := range comp.Bureaus {
		rows = append(rows, b.Cells...)
	}
	if err := writeRows(env.Stdout, c.outputFlags, completenessColumns(set), rows); err != nil {
		return err
	}
	if c.Format == "table" {
		for _, b := range comp.Bureaus {
			fmt.Fprintln(env.Stdout, completenessSummary(b.Bureau, b.Summary, c.Lang))
		}
	}
	return nil
}

// readOnlyGrid is the grid of the one-shot commands: the receipts and the
// review queue are read when serve has created them (nothing is created).
func readOnlyGrid(cfg *config.Config, set *plan.Set, st reporting.Reader) (*reporting.Grid, func(), error) {
	g := &reporting.Grid{Set: set, Store: st}
	closers := []func() error{}
	r, err := existingReceipts(cfg)
	if err != nil {
		return nil, nil, err
	}
	if r != nil {
		g.Receipts = r
		closers = append(closers, r.Close)
	}
	if _, err := os.Stat(filepath.Join(cfg.Uploads.ReviewDir, "uploads")); err == nil {
		q, err := reporting.OpenQueue(cfg.Uploads.ReviewDir, nil, st, nil)
		if err != nil {
			return nil, nil, err
		}
		g.Queue = q
		closers = append(closers, q.Close)
	}
	return g, func() {
		for _, c := range closers {
			c()
		}
	}, nil
}

// existingReceipts opens the receipts log of who sent each upload when
// serve has created it (nil when not).
func existingReceipts(cfg *config.Config) (*reporting.Receipts, error) {
	path := filepath.Join(cfg.Uploads.ReviewDir, "receipts.jsonl")
	if _, err := os.Stat(path); err != nil {
		return nil, nil
	}
	return reporting.OpenReceipts(path)
}

func completenessSummary(bureau string, s reporting.Summary, lang string) string {
	if bureau == reporting.Unassigned {
		bureau = pick(lang, "(无报送单位)", "(no bureau)")
	}
	pct := func(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + "%" }
	if lang == "zh" {
		return fmt.Sprintf("%s:应报 %d,已报 %d,待审核 %d,逾期 %d,未到期 %d;报送率 %s,及时率 %s(按时 %d,迟报 %d)。",
			bureau, s.Expected, s.Reported, s.Held, s.Overdue, s.Open, pct(s.Rate), pct(s.Timeliness), s.OnTime, s.Late)
	}
	return fmt.Sprintf("%s: expected %d, received %d, held %d, overdue %d, not yet due %d; reporting rate %s, timeliness %s (%d on time, %d late).",
		bureau, s.Expected, s.Reported, s.Held, s.Overdue, s.Open, pct(s.Rate), pct(s.Timeliness), s.OnTime, s.Late)
}

// completenessColumns are the columns of `completeness` as a table or CSV.
func completenessColumns(set *plan.Set) []column[reporting.Cell] {
	return []column[reporting.Cell]{
		{"报送单位", "BUREAU", func(c *reporting.Cell, lang string) string {
			if c.Bureau == reporting.Unassigned {
				return pick(lang, "(无)", "(none)")
			}
			return c.Bureau
		}},
		{"指标", "INDICATOR", func(c *reporting.Cell, lang string) string { return pick(lang, c.Indicator.NameZh, c.Indicator.ID) }},
		{"地区", "REGION", func(c *reporting.Cell, lang string) string {
			if r, ok := set.Regions.Get(c.Region); ok && lang == "zh" {
				return r.Name
			}
			return c.Region
		}},
		{"时期", "PERIOD", func(c *reporting.Cell, _ string) string { return c.Period.String() }},
		{"截止日期", "DUE", func(c *reporting.Cell, _ string) string { return c.Due.Add(-time.Second).Format("2006-01-02") }},
		{"状态", "STATE", func(c *reporting.Cell, lang string) string { return reporting.StateLabel(c.State, lang) }},
		{"数值", "VALUE", func(c *reporting.Cell, _ string) string {
			if c.Value == nil {
				return "-"
			}
			return strconv.FormatFloat(*c.Value, 'f', -1, 64)
		}},
		{"报送时间", "SUBMITTED", func(c *reporting.Cell, _ string) string {
			if c.Submitted == nil {
				return "-"
			}
			return c.Submitted.Format("2006-01-02")
		}},
		{"报送方", "BY", func(c *reporting.Cell, _ string) string {
			if c.Reporter != "" {
				return c.Reporter
			}
			return orDash(c.Source)
		}},
		{"及时", "ON TIME", func(c *reporting.Cell, lang string) string {
			switch {
			case c.OnTime == nil:
				return "-"
			case *c.OnTime:
				return pick(lang, "按时", "on time")
			}
			return pick(lang, "迟报", "late")
		}},
	}
}
