package web

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/param"
	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/internal/web/shell"
)

// Report is the 质量状况分析报告 of one plan at one moment.
type Report struct {
	Page      page
	Plan      *plan.Plan
	Region    string
	M         Moment
	Generated time.Time
	Counts    Counts
	Targets   int
	Behind    []Row
	Charts    []*Chart
	Shared    []SharedIndicator
	Complete  []Completeness
	Missing   int
	Untracked []*plan.Target
	// Standalone: a file (qualitymon report -o), with its stylesheet inline;
	// served pages link it (the CSP allows no inline style).
	Standalone bool
	CSS        template.CSS
}

// SharedIndicator is an indicator this plan shares with other plans.
type SharedIndicator struct {
	ID, Name string
	Rows     []Row
}

// Completeness is how far the figures of one evaluation are in.
type Completeness struct {
	Row
	Expected []int
	Missing  []int
}

// MissingText lists the missing years.
func (c Completeness) MissingText() string {
	var s []string
	for _, y := range c.Missing {
		s = append(s, strconv.Itoa(y))
	}
	return strings.Join(s, "、")
}

// BuildReport gathers the report of planKey as of m.
func (s *Site) BuildReport(ctx context.Context, planKey string, m Moment) (*Report, error) {
	p, err := s.planOf(planKey)
	if err != nil {
		return nil, err
	}
	e, err := s.load(ctx, "", m)
	if err != nil {
		return nil, err
	}
	l := shell.Zh
	if m.Lang == shell.En {
		l = shell.En
	}
	rep := &Report{Plan: p, Region: s.regionName(p.Region), M: m, Generated: s.Now(), Targets: len(p.Targets)}
	rows := s.rows(e, func(ev *evaluate.Evaluation) bool { return ev.Plan == p.Key })
	var mine []evaluate.Evaluation
	for _, r := range rows {
		mine = append(mine, *r.Evaluation)
	}
	for _, t := range p.Targets {
		if !t.IsTracked() {
			rep.Untracked = append(rep.Untracked, t)
		}
	}
	rep.Counts = count(mine, len(rep.Untracked))
	od, err := s.overdue(ctx, m)
	if err != nil {
		return nil, err
	}
	rep.Counts.Overdue = od.ByPlan[p.Key]
	for _, r := range rows {
		if r.Status.Behind() {
			rep.Behind = append(rep.Behind, r)
		}
	}
	slices.SortStableFunc(rep.Behind, func(a, b Row) int { return a.Status.Severity() - b.Status.Severity() })
	for _, r := range rep.Behind {
		if len(rep.Charts) == 6 {
			break
		}
		if r.Status == evaluate.NoData {
			continue
		}
		c := targetChart(r.Evaluation, r.T, figuresOf(r.Evaluation, r.T, e.data, m.At), nil, 300, l)
		rep.Charts = append(rep.Charts, c)
	}
	// Indicators this plan shares with other plans.
	inds := map[string]bool{}
	for _, r := range rows {
		inds[r.Indicator] = true
	}
	others := s.rows(e, func(ev *evaluate.Evaluation) bool { return ev.Plan != p.Key && inds[ev.Indicator] })
	var ids []string
	for _, r := range others {
		if !slices.Contains(ids, r.Indicator) {
			ids = append(ids, r.Indicator)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		ind, _ := s.Evaluator.Set.Catalog.Get(id)
		si := SharedIndicator{ID: id, Name: ind.NameZh}
		if l == shell.En {
			si.Name = ind.NameEn
		}
		for _, r := range append(rows, others...) {
			if r.Indicator == id {
				si.Rows = append(si.Rows, r)
			}
		}
		rep.Shared = append(rep.Shared, si)
	}
	// Completeness: plan years closed by the report date without a figure.
	for _, r := range rows {
		c := Completeness{Row: r}
		have := map[int]bool{}
		for _, pt := range figuresOf(r.Evaluation, r.T, e.data, m.At) {
			have[int(pt.X)] = true
		}
		if r.T.Modality == plan.New {
			have = map[int]bool{}
			for _, pt := range e.data.Yearly(r.T.Indicator, r.Region) {
				have[pt.Year] = true
			}
		}
		for y := p.Start; y <= min(m.At.Year()-1, *r.Deadline); y++ {
			c.Expected = append(c.Expected, y)
			if !have[y] {
				c.Missing = append(c.Missing, y)
			}
		}
		if len(c.Missing) > 0 || r.Stale {
			rep.Missing++
		}
		rep.Complete = append(rep.Complete, c)
	}
	return rep, nil
}

// WriteReport writes the report as "html" (standalone, stylesheet inline)
// or "md" (Markdown).
func (s *Site) WriteReport(w io.Writer, rep *Report, format string) error {
	switch format {
	case "html":
		css, err := shell.CSS()
		if err != nil {
			return err
		}
		rep.Standalone, rep.CSS = true, css
		rep.Page = page{Title: rep.Plan.NameZh + " 质量状况分析报告", M: rep.M, Plans: s.Evaluator.Set.Plans}
		return s.tmpl.Execute(w, "report.html", rep)
	case "md":
		return mdReport.Execute(w, rep)
	}
	return fmt.Errorf("unknown report format %q (want html or md)", format)
}

func (s *Site) report(w http.ResponseWriter, r *http.Request) error {
	format, err := param.OneOf("format", r.URL.Query().Get("format"), []string{"html", "md"})
	if err != nil {
		return err
	}
	m, err := s.moment(r)
	if err != nil {
		return err
	}
	rep, err := s.BuildReport(r.Context(), r.PathValue("plan"), m)
	if err != nil {
		return err
	}
	l := shell.LangOf(r)
	rep.Page = s.page(r, m, planName(rep.Plan, l)+" "+l.T("质量状况分析报告"))
	if format == "md" {
		var b bytes.Buffer
		if err := s.WriteReport(&b, rep, "md"); err != nil {
			return err
		}
		w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
		_, err = w.Write(b.Bytes())
		return err
	}
	return s.render(w, r, "report.html", rep)
}

// mdFuncs are the page templates' functions and cell (a Markdown table cell).
var mdFuncs = func() texttemplate.FuncMap {
	f := texttemplate.FuncMap(maps.Clone(shell.Funcs))
	maps.Copy(f, funcs(shell.Zh))
	f["cell"] = func(s string) string { return strings.NewReplacer("|", "\\|", "\n", " ").Replace(s) }
	return f
}()

var mdReport = texttemplate.Must(texttemplate.New("report.md").Funcs(mdFuncs).ParseFS(files, "templates/report.md"))
