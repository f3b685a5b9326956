package cli

import (
	"cmp"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/qualitymon/qualitymon/internal/changes"
	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/param"
	"github.com/qualitymon/qualitymon/internal/web/shell"
)

type changesCmd struct {
	From        string `help:"Changes after this moment: a date (its end) or an RFC 3339 timestamp; default 90 days before --to."`
	To          string `help:"Changes up to this moment (date or RFC 3339); default now."`
	Page        int    `help:"Page of the listing (each at most 200 changes)." default:"1"`
	outputFlags `embed:""`
}

// changeRow is one change of a listing with its group.
type changeRow struct {
	changes.Item
	G *changes.Group
}

func (c *changesCmd) Run(g *globals, env *Env) error {
	cfg, set, err := g.loadPlan(env, "")
	if err != nil {
		return err
	}
	from, to, err := param.Window(c.From, c.To, changes.DefaultSpan, env.Now())
	if err != nil {
		var pe *param.Error
		if errors.As(err, &pe) {
			return fmt.Errorf("--%s: %q is not a moment before --to (a date such as 2026-03-31, or an RFC 3339 timestamp)", pe.Name, pe.Value)
		}
		return err
	}
	if c.Page < 1 {
		return fmt.Errorf("--page: %d is not a page number (1 or more)", c.Page)
	}
	st := openStore(cfg)
	defer st.Close()
	src := &changes.Source{Store: st, Set: set}
	rc, err := existingReceipts(cfg)
	if err != nil {
		return err
	}
	if rc != nil {
		defer rc.Close()
		src.Receipts = rc
	}
	l, err := src.Between(env.Ctx, from, to, c.Page)
	if err != nil {
		return err
	}
	if c.Format == "json" {
		return newJSONEncoder(env.Stdout).Encode(l)
	}
	var rows []changeRow
	for i := range l.Groups {
		for _, it := range l.Groups[i].Items {
			rows = append(rows, changeRow{it, &l.Groups[i]})
		}
	}
	if err := writeRows(env.Stdout, c.outputFlags, changeColumns(env.Now().Location()), rows); err != nil {
		return err
	}
	if c.Format == "table" {
		fmt.Fprintln(env.Stdout, pick(c.Lang,
			fmt.Sprintf("%s 之后至 %s:状态变化 %d 项,新数据 %d 条,修订 %d 条(第 %d/%d 页)。", l.From.Format(time.RFC3339), l.To.Format(time.RFC3339),
				l.Counts.Status, l.Counts.New, l.Counts.Revised, l.Page, l.Pages),
			fmt.Sprintf("After %s up to %s: %d status changes, %d new figures, %d revisions (page %d of %d).", l.From.Format(time.RFC3339), l.To.Format(time.RFC3339),
				l.Counts.Status, l.Counts.New, l.Counts.Revised, l.Page, l.Pages)))
	}
	return nil
}

// changeColumns are the columns of `changes` as a table or CSV.
// Times are shown in loc (the config's timezone).
func changeColumns(loc *time.Location) []column[changeRow] {
	status := func(s evaluate.Status, lang string) string {
		if s == "" {
			return "-"
		}
		return s.Label(lang)
	}
	at := func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04") }
	return []column[changeRow]{
		{"规划", "PLAN", func(r *changeRow, _ string) string { return orDash(r.G.Plan) }},
		{"地区", "REGION", func(r *changeRow, lang string) string { return pick(lang, r.G.RegionName, r.G.Region) }},
		{"时间", "AT", func(r *changeRow, _ string) string { return at(r.At) }},
		{"变化", "CHANGE", func(r *changeRow, lang string) string { return r.Kind.Label(lang) }},
		{"指标/目标", "INDICATOR/TARGET", func(r *changeRow, lang string) string {
			if r.Kind == changes.StatusChanged {
				return pick(lang, cmp.Or(r.Wording, r.Target), r.Target)
			}
			return pick(lang, r.IndicatorName, r.Indicator)
		}},
		{"时期", "PERIOD", func(r *changeRow, _ string) string { return orDash(r.Period) }},
		{"原值", "BEFORE", func(r *changeRow, lang string) string {
			if r.Kind == changes.StatusChanged {
				return status(r.Before, lang)
			}
			return num(r.Previous)
		}},
		{"新值", "AFTER", func(r *changeRow, lang string) string {
			if r.Kind == changes.StatusChanged {
				return status(r.Status, lang)
			}
			return num(r.Value)
		}},
		{"差额", "DIFFERENCE", func(r *changeRow, _ string) string {
			if r.Difference == nil {
				return "-"
			}
			return shell.Signed(*r.Difference)
		}},
		{"报送方", "BY", func(r *changeRow, _ string) string { return orDash(r.Who()) }},
		{"备注", "NOTE", func(r *changeRow, _ string) string {
			if r.Kind == changes.StatusChanged {
				return orDash(r.Basis)
			}
			return orDash(r.Note)
		}},
		{"修订次数", "REVISION", func(r *changeRow, _ string) string { return strconv.Itoa(r.Revision) }},
	}
}
