package web

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/param"
	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/internal/web/shell"
)

// page is what every page template gets besides its own data.
type page struct {
	Title string
	M     Moment
	Plans []*plan.Plan
	// Nav are the plans' links in the header: the region and year, the
	// full name as the link's title.
	Nav []NavLink
	// Path is the page's path, for the date form and the language of links.
	Path string
	// Hidden are the page's other parameters, kept by the date form.
	Hidden map[string]string
	// Lang is the page's language; Other the link to the page in the
	// other one, and OtherName that language's name.
	Lang             shell.Lang
	Other, OtherName string
	// NoMoment: the page has its own dates (/changes), not the date form.
	NoMoment bool
}

// T is a phrase in the page's language (shell.Lang.T).
func (p page) T(zh string) string { return p.Lang.T(zh) }

func (s *Site) page(r *http.Request, m Moment, title string) page {
	hidden := map[string]string{}
	for k, v := range r.URL.Query() {
		if k != "at" && k != "known_at" && k != "lang" && len(v) > 0 && v[0] != "" {
			hidden[k] = v[0]
		}
	}
	l := shell.LangOf(r)
	other, otherName := shell.En, "English"
	if l == shell.En {
		other, otherName = shell.Zh, "中文"
	}
	q := r.URL.Query()
	q.Set("lang", string(other))
	return page{Title: l.T(title), M: m, Plans: s.Evaluator.Set.Plans, Nav: s.nav(m, l), Path: r.URL.Path, Hidden: hidden,
		Lang: l, Other: r.URL.Path + "?" + q.Encode(), OtherName: otherName}
}

// NavLink is one plan in the header's navigation.
type NavLink struct{ Href, Short, Name string }

func (s *Site) nav(m Moment, l shell.Lang) []NavLink {
	var out []NavLink
	for _, p := range s.Evaluator.Set.Plans {
		short := s.regionName(p.Region)
		if len(p.Published) >= 4 {
			short += " " + p.Published[:4]
		}
		link := NavLink{Href: m.Link("/plans/" + p.Key), Short: short, Name: p.NameZh}
		if l == shell.En {
			link.Short, link.Name = or(p.ShortEn, short), planName(p, l)
		}
		out = append(out, link)
	}
	return out
}

// PlanSummary is one plan on the overview.
type PlanSummary struct {
	Plan   *plan.Plan
	Region string
	Counts Counts
	Href   string
	Report string
}

func (s *Site) overview(w http.ResponseWriter, r *http.Request) error {
	m, e, err := s.evaluated(r, "")
	if err != nil {
		return err
	}
	od, err := s.overdue(r.Context(), m)
	if err != nil {
		return err
	}
	var sums []PlanSummary
	all := Counts{By: map[evaluate.Status]int{}, Overdue: od.Total}
	for _, p := range s.Evaluator.Set.Plans {
		var evs []evaluate.Evaluation
		for _, ev := range e.evals {
			if ev.Plan == p.Key {
				evs = append(evs, ev)
			}
		}
		c := count(evs, len(p.Targets)-len(s.Evaluator.Set.Tracked(p.Key)))
		for st, n := range c.By {
			all.By[st] += n
		}
		all.Total += c.Total
		all.Untracked += c.Untracked
		all.Stale += c.Stale
		c.Overdue = od.ByPlan[p.Key]
		sums = append(sums, PlanSummary{Plan: p, Region: s.regionName(p.Region), Counts: c,
			Href: m.Link("/plans/" + p.Key), Report: m.Link("/report/" + p.Key)})
	}
	return s.render(w, r, "overview.html", map[string]any{
		"Page": s.page(r, m, "质量目标看板"), "Plans": sums, "All": all, "Statuses": evaluate.Statuses,
	})
}

func (s *Site) regionName(code string) string {
	if reg, ok := s.Evaluator.Set.Regions.Get(code); ok {
		return reg.Name
	}
	return code
}

// planOf finds the plan with the key (404 when there is none).
func (s *Site) planOf(key string) (*plan.Plan, error) {
	p, ok := s.Evaluator.Set.Plan(key)
	if !ok {
		return nil, shell.NotFoundValue("没有这个规划", key)
	}
	return p, nil
}

// evaluated reads the request's moment and evaluates the plan (every plan
// when planKey is empty) as of it.
func (s *Site) evaluated(r *http.Request, planKey string) (Moment, *evaluation, error) {
	m, err := s.moment(r)
	if err != nil {
		return m, nil, err
	}
	e, err := s.load(r.Context(), planKey, m)
	return m, e, err
}

// targetAt finds the target of the plan with the key (404 when either is
// unknown), then reads the request's moment.
func (s *Site) targetAt(r *http.Request, planKey, id string) (*plan.Target, Moment, error) {
	p, err := s.planOf(planKey)
	if err != nil {
		return nil, Moment{}, err
	}
	t, err := findTarget(p, id)
	if err != nil {
		return nil, Moment{}, err
	}
	m, err := s.moment(r)
	return t, m, err
}

// Option is one choice of a filter.
type Option struct {
	Value, Label string
	Selected     bool
}

// rowAgencies are the agencies a row answers to, lead (牵头) and
// responsible (按职责分工负责) alike: the scorecard's agency filter.
func rowAgencies(row Row) []string {
	return append(slices.Clip(row.LeadAgencies), row.ResponsibleAgencies...)
}

// SortLink is a sortable column header.
type SortLink struct {
	Href  string
	Arrow string
}

func (s *Site) plan(w http.ResponseWriter, r *http.Request) error {
	p, err := s.planOf(r.PathValue("plan"))
	if err != nil {
		return err
	}
	m, e, err := s.evaluated(r, p.Key)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	l := shell.LangOf(r)
	fStatus, fAgency, fRegion := q.Get("status"), q.Get("agency"), q.Get("region")
	sortKey, dir := q.Get("sort"), q.Get("dir")
	all := s.rows(e, nil)
	var statuses, agencies, regions []Option
	seenA, seenR := map[string]bool{}, map[string]bool{}
	for _, st := range evaluate.Statuses {
		statuses = append(statuses, Option{string(st), st.Label(string(l)), fStatus == string(st)})
	}
	for _, row := range all {
		for _, a := range rowAgencies(row) {
			if !seenA[a] {
				seenA[a] = true
				agencies = append(agencies, Option{a, a, fAgency == a})
			}
		}
		if !seenR[row.Region] {
			seenR[row.Region] = true
			regions = append(regions, Option{row.Region, row.RegionName, fRegion == row.Region})
		}
	}
	slices.SortFunc(agencies, func(a, b Option) int { return cmp.Compare(a.Value, b.Value) })
	slices.SortFunc(regions, func(a, b Option) int { return cmp.Compare(a.Value, b.Value) })
	for _, c := range []struct {
		name, value string
		opts        []Option
	}{{"status", fStatus, statuses}, {"agency", fAgency, agencies}, {"region", fRegion, regions}} {
		if _, err := param.OneOf(c.name, c.value, optionValues(c.opts)); err != nil {
			return err
		}
	}
	if _, err := param.OneOf("sort", sortKey, sortKeys); err != nil {
		return err
	}
	if _, err := param.OneOf("dir", dir, []string{"asc", "desc"}); err != nil {
		return err
	}
	var rows []Row
	for _, row := range all {
		if fStatus != "" && string(row.Status) != fStatus || fRegion != "" && row.Region != fRegion ||
			fAgency != "" && !slices.Contains(rowAgencies(row), fAgency) {
			continue
		}
		rows = append(rows, row)
	}
	sortRows(rows, sortKey, dir == "desc")
	od, err := s.overdue(r.Context(), m)
	if err != nil {
		return err
	}

	e.sparks(rows, l)
	sorts := map[string]SortLink{}
	for _, k := range sortKeys {
		d, arrow := "asc", ""
		if k == sortKey {
			if dir != "desc" {
				d, arrow = "desc", "▲"
			} else {
				arrow = "▼"
			}
		}
		sorts[k] = SortLink{Href: m.Link(r.URL.Path, "status", fStatus, "agency", fAgency, "region", fRegion, "sort", k, "dir", d), Arrow: arrow}
	}
	var untracked []*plan.Target
	for _, t := range p.Targets {
		if !t.IsTracked() {
			untracked = append(untracked, t)
		}
	}
	counts := count(e.evals, len(untracked))
	counts.Overdue = od.ByPlan[p.Key]
	return s.render(w, r, "plan.html", map[string]any{
		"Page": s.page(r, m, planName(p, l)), "Plan": p, "Region": s.regionName(p.Region), "Rows": rows, "Total": len(all),
		"Counts": counts, "Untracked": untracked,
		"Statuses": statuses, "Agencies": agencies, "Regions": regions, "Sorts": sorts,
		"Filtered": fStatus != "" || fAgency != "" || fRegion != "",
		"Clear":    m.Link(r.URL.Path),
		"CSV":      m.Link("/export/status.csv", "plan", p.Key), "XLSX": m.Link("/export/status.xlsx", "plan", p.Key),
		"Report": m.Link("/report/" + p.Key),
	})
}

// sortKeys are the columns the plan page sorts by (?sort=).
var sortKeys = []string{"status", "gap", "progress", "deadline", "region", "name"}

func optionValues(opts []Option) []string {
	out := make([]string, len(opts))
	for i, o := range opts {
		out[i] = o.Value
	}
	return out
}

// Figure is one reported value of a target page's table.
type Figure struct {
	Region     string
	Period     string
	Value      string
	Revision   int
	ReportedAt time.Time
	Source     string
	// Note is the 备注 reported with the figure.
	Note string
	// Current: the value in force (as known at the page's moment);
	// otherwise superseded by a later revision.
	Current bool
}

// Coverage is one year of an average with the names of the regions that
// have not reported it.
type Coverage struct {
	evaluate.YearCoverage
	MissingNames []string
}

// HistoryEntry is one line of the status history.
type HistoryEntry struct {
	At      string
	Status  evaluate.Status
	Basis   string
	Settled bool
}

func (s *Site) target(w http.ResponseWriter, r *http.Request) error {
	t, m, err := s.targetAt(r, r.PathValue("plan"), r.PathValue("target"))
	if err != nil {
		return err
	}
	p := t.Plan
	data := map[string]any{"Plan": p, "T": t, "Indicator": t.Ind,
		"Compare": m.Link("/indicators/" + t.Indicator), "PlanHref": m.Link("/plans/" + p.Key)}
	if !t.IsTracked() {
		data["Page"] = s.page(r, m, targetName(t, shell.LangOf(r)))
		return s.render(w, r, "target.html", data)
	}
	region, err := unitOf(t, r.URL.Query().Get("region"))
	if err != nil {
		return err
	}
	if region == "" {
		region = t.Units[0]
	}
	e, err := s.load(r.Context(), p.Key, m)
	if err != nil {
		return err
	}
	var ev *evaluate.Evaluation
	for i := range e.evals {
		if e.evals[i].Target == t.ID && e.evals[i].Region == region {
			ev = &e.evals[i]
		}
	}
	if ev == nil {
		return shell.NotFound("目标 %s 在 %s 没有评估", t.ID, region)
	}
	regions := []string{region}
	if len(t.AverageOf) > 0 {
		regions = t.AverageOf
	}
	hist, err := s.Store.SeriesHistory(r.Context(), t.Indicator, regions)
	if err != nil {
		return err
	}
	hist = asKnown(hist, m)
	changes, err := s.Store.StatusHistory(r.Context(), p.Key, t.ID, region)
	if err != nil {
		return err
	}
	l := shell.LangOf(r)
	var recorded []HistoryEntry
	for _, c := range changes {
		if !m.KnownAt.IsZero() && c.At.After(m.KnownAt) {
			continue
		}
		recorded = append(recorded, HistoryEntry{At: c.At.Local().Format("2006-01-02 15:04"), Status: evaluate.Status(c.Status), Basis: evaluate.Basis{Code: c.Basis}.Label(string(l)), Settled: c.Settled})
	}
	var units []Option
	for _, u := range t.Units {
		units = append(units, Option{m.Link(r.URL.Path, "region", u), s.regionName(u), u == region})
	}
	data["Page"] = s.page(r, m, targetName(t, l)+" · "+ev.RegionName)
	data["Ev"] = ev
	data["Units"] = units
	data["Chart"] = targetChart(ev, t, figuresOf(ev, t, e.data, m.At), hist, 320, l)
	data["Figures"] = s.figureRows(hist, t.Ind, l)
	data["Recorded"] = recorded
	data["YearEnds"] = s.yearEnds(e, ev, t, l)
	data["FiguresCSV"] = m.Link("/export/figures.csv", "plan", p.Key, "target", t.ID, "region", region)
	data["Averaged"] = len(t.AverageOf)
	var cov []Coverage
	for _, c := range ev.Coverage {
		var names []string
		for _, code := range c.Missing {
			names = append(names, s.regionName(code))
		}
		cov = append(cov, Coverage{YearCoverage: c, MissingNames: names})
	}
	data["Coverage"] = cov
	return s.render(w, r, "target.html", data)
}

// asKnown keeps the figures reported by the page's vintage, for periods
// begun by its evaluation date.
func asKnown(rows []observation.Stored, m Moment) []observation.Stored {
	out := rows[:0:0]
	for _, r := range rows {
		if !m.KnownAt.IsZero() && r.ReportedAt.After(m.KnownAt) || r.Period.Start().After(m.At) {
			continue
		}
		out = append(out, r)
	}
	return out
}

func (s *Site) figureRows(hist []observation.Stored, ind *catalog.Indicator, l shell.Lang) []Figure {
	var out []Figure
	for i, h := range hist {
		cur := i == len(hist)-1 || hist[i+1].Key() != h.Key()
		v := h.Value
		out = append(out, Figure{Region: s.regionName(h.Region), Period: h.Period.String(), Value: withUnit(&v, ind.Unit, l),
			Revision: h.Revision, ReportedAt: h.ReportedAt, Source: h.Source, Note: h.Note, Current: cur})
	}
	// Newest period first, each period's revisions oldest first.
	slices.SortStableFunc(out, func(a, b Figure) int {
		if c := cmp.Compare(b.Period, a.Period); c != 0 {
			return c
		}
		return cmp.Compare(a.Region, b.Region)
	})
	return out
}

// yearEnds re-judges the target at the end of each plan year with the
// figures of the page's vintage: how its status developed year by year.
func (s *Site) yearEnds(e *evaluation, ev *evaluate.Evaluation, t *plan.Target, l shell.Lang) []HistoryEntry {
	var out []HistoryEntry
	last := min(e.m.At.Year()-1, ev.SettlesAt.Year())
	for y := t.Plan.Start; y <= last; y++ {
		at := time.Date(y, 12, 31, 23, 59, 59, 0, e.m.At.Location()) // the year's end in the config's timezone
		for _, x := range s.Evaluator.EvaluateTargets(e.data, []*plan.Target{t}, at) {
			if x.Region == ev.Region {
				out = append(out, HistoryEntry{At: strconv.Itoa(y) + l.T("年末"), Status: x.Status, Basis: basisIn(x.Basis, l), Settled: x.Settled})
			}
		}
	}
	return out
}

// targetChart draws the figures (revisions as hollow dots), the target, the
// required trajectory from the baseline, the projection and the deadline,
// labelled in l.
func targetChart(ev *evaluate.Evaluation, t *plan.Target, pts []xy, hist []observation.Stored, h float64, l shell.Lang) *Chart {
	title := ev.RegionName + " " + ev.Wording
	if l == shell.En {
		title = ev.RegionName + " " + targetName(t, l)
	}
	c := newLineChart(760, h, title)
	c.yFormat = func(y float64) string { return shell.Float(y) }
	due := float64(*ev.Deadline)
	c.vrule(due, fmt.Sprintf("期限 %d", *ev.Deadline), "deadline")
	if ev.TargetValue != nil && t.Modality != plan.Quota {
		c.hrule(*ev.TargetValue, "目标 "+shell.CmpSymbol(ev.Comparator)+shell.WithUnit(ev.TargetValue, ev.Unit), "target")
		c.key("dash", "target", "目标")
	}
	if t.Modality == plan.Quota {
		var q []xy
		for _, y := range ev.Years {
			if y.Target != nil {
				q = append(q, xy{float64(y.Year), *y.Target, fmt.Sprintf("%d年定额 %s", y.Year, shell.WithUnit(y.Target, ev.Unit))})
			}
		}
		c.points(q, "quota")
		c.key("dot", "quota", "年度定额")
	}
	// Required trajectory: from the baseline to the target at the deadline.
	if ev.TargetValue != nil && (t.Modality == plan.Reach || t.Modality == plan.New) {
		var base *xy
		switch {
		case t.Modality == plan.New:
			base = &xy{X: float64(t.Plan.Start - 1), Y: 0}
		case t.Baseline != nil:
			base = &xy{X: float64(t.Baseline.Year), Y: t.Baseline.Value}
		case t.MultipleOf != nil && ev.Baseline != nil:
			base = &xy{X: float64(t.MultipleOf.Year), Y: *ev.Baseline}
		default:
			for _, p := range pts {
				if int(p.X) >= t.Plan.Start-1 {
					base = &p
					break
				}
			}
		}
		if base != nil && base.X < due {
			c.line([]xy{{base.X, base.Y, "基线"}, {due, *ev.TargetValue, "目标"}}, "required", "按期达标所需路径")
			c.key("dash", "required", "所需路径")
		}
	}
	c.line(pts, "actual", "报送数据")
	c.points(pts, "actual")
	c.key("dot", "actual", "报送数据(当前值)")
	if t.Modality != plan.New && len(t.AverageOf) == 0 {
		var revs []xy
		for i, h := range hist {
			if i+1 < len(hist) && hist[i+1].Key() == h.Key() && h.Period.Kind == 1 {
				v := h.Value
				revs = append(revs, xy{float64(h.Period.Year), v, fmt.Sprintf("%s 修订前 %s(%s 报送)", h.Period, shell.WithUnit(&v, ev.Unit), shell.Date(h.ReportedAt))})
			}
		}
		if len(revs) > 0 {
			c.points(revs, "revised")
			c.key("hollow", "revised", "修订前数值")
		}
	}
	if ev.Projected != nil && len(pts) > 0 {
		var last xy
		for _, p := range pts {
			if p.X <= due {
				last = p
			}
		}
		if last.X < due {
			c.line([]xy{last, {due, *ev.Projected, "预测"}}, "projection", fmt.Sprintf("按趋势预测 %d 年 %s", *ev.Deadline, shell.WithUnit(ev.Projected, ev.Unit)))
			c.points([]xy{{due, *ev.Projected, fmt.Sprintf("预测 %d 年 %s", *ev.Deadline, shell.WithUnit(ev.Projected, ev.Unit))}}, "projection")
			c.key("dash", "projection", "趋势预测")
		}
	}
	return c.build("暂无报送数据").in(l)
}

// basisIn is the basis sentence in l, its figures in English units on
// English pages.
func basisIn(b evaluate.Basis, l shell.Lang) string {
	if l == shell.En {
		return figuresEn(b.En)
	}
	return b.Zh
}

// targetName is the target's name in l: the plan's wording, or on English
// pages the indicator's English name (the wording when untracked).
func targetName(t *plan.Target, l shell.Lang) string {
	if l == shell.En && t.Ind != nil {
		return t.Ind.NameEn
	}
	return t.Name()
}

// Comparison is one target of an indicator across its regions.
type Comparison struct {
	T       *plan.Target
	Plan    *plan.Plan
	Rows    []Row
	Ranking bool
	// Ranks are the rows ranked (Ranking), by the period of their figures.
	Ranks []RankGroup
}

// RankGroup is the rows whose figures are of one period, ranked together.
type RankGroup struct {
	Period string // as printed: 2020年; empty for the rows without a figure
	Raw    string // as evaluated: 2020, 2018..2019; empty likewise
	Rows   []Ranked
}

// Ranked is a row with its rank among the figures of its period (0: no
// figure, not ranked).
type Ranked struct {
	Row
	Rank int
}

// rank orders rows by their figures, best first (higher or lower is
// better), grouped by the period the figures are of, newest period first:
// only figures of the same period are ranked together, and equal figures
// share a rank (1, 1, 1, 1, 5). Rows without a figure come last, unranked.
func rank(rows []Row, higherBetter bool) []RankGroup {
	byPeriod := map[string][]Row{}
	var periods []string
	var none []Row
	for _, r := range rows {
		if r.Actual == nil {
			none = append(none, r)
			continue
		}
		if _, ok := byPeriod[r.Period]; !ok {
			periods = append(periods, r.Period)
		}
		byPeriod[r.Period] = append(byPeriod[r.Period], r)
	}
	slices.SortFunc(periods, func(a, b string) int { return cmp.Compare(b, a) })
	var out []RankGroup
	for _, p := range periods {
		g := byPeriod[p]
		slices.SortStableFunc(g, func(a, b Row) int {
			if higherBetter {
				return cmp.Compare(*b.Actual, *a.Actual)
			}
			return cmp.Compare(*a.Actual, *b.Actual)
		})
		rg := RankGroup{Period: periodText(p), Raw: p}
		for i, r := range g {
			n := i + 1
			if i > 0 && *r.Actual == *g[i-1].Actual {
				n = rg.Rows[i-1].Rank
			}
			rg.Rows = append(rg.Rows, Ranked{Row: r, Rank: n})
		}
		out = append(out, rg)
	}
	if len(none) > 0 {
		rg := RankGroup{}
		for _, r := range none {
			rg.Rows = append(rg.Rows, Ranked{Row: r})
		}
		out = append(out, rg)
	}
	return out
}

func (s *Site) indicator(w http.ResponseWriter, r *http.Request) error {
	ind, ok := s.Evaluator.Set.Catalog.Get(r.PathValue("indicator"))
	if !ok {
		return shell.NotFoundValue("没有这个指标", r.PathValue("indicator"))
	}
	m, e, err := s.evaluated(r, "")
	if err != nil {
		return err
	}
	l := shell.LangOf(r)
	name, pt := ind.NameZh, periodText
	if l == shell.En {
		name, pt = ind.NameEn, periodTextEn
	}
	rows := s.rows(e, func(ev *evaluate.Evaluation) bool { return ev.Indicator == ind.ID })
	e.sparks(rows, l)
	var groups []*Comparison
	byKey := map[string]*Comparison{}
	var bars []barRow
	lines := newLineChart(760, 320, name+l.T(" 各地区走势"))
	lines.yFormat = func(y float64) string { return shell.Float(y) }
	seen := map[string]bool{}
	for _, row := range rows {
		key := row.Plan + "/" + row.Target
		g := byKey[key]
		if g == nil {
			g = &Comparison{T: row.T, Plan: row.T.Plan, Ranking: len(row.T.Units) > 1}
			byKey[key] = g
			groups = append(groups, g)
		}
		g.Rows = append(g.Rows, row)
		label := row.RegionName
		if len(row.T.AverageOf) > 0 {
			label += l.T("(平均)")
		}
		bars = append(bars, barRow{Label: label, Period: pt(row.Period), Value: row.Actual, Target: row.TargetValue, Class: statusClass(row.Status),
			Title: fmt.Sprintf("%s %s%s%s%s%s %s%s%s%s", row.RegionName, row.Plan, l.T(":"), withUnit(row.Actual, row.Unit, l), l.T(","), l.T("目标"), shell.CmpSymbol(row.Comparator), withUnit(row.TargetValue, row.Unit, l), l.T(","), row.Status.Label(string(l)))})
		if row.T.Modality != plan.New && len(row.T.AverageOf) == 0 && !seen[row.Region] {
			seen[row.Region] = true
			pts := figuresOf(row.Evaluation, row.T, e.data, m.At)
			cls := "s" + strconv.Itoa(len(seen)%10)
			lines.line(pts, "series "+cls, row.RegionName)
			lines.key("line", "series "+cls, row.RegionName)
		}
	}
	better := ind.HigherIsBetter()
	for _, g := range groups {
		if g.Ranking {
			g.Ranks = rank(g.Rows, better)
		}
	}
	return s.render(w, r, "indicator.html", map[string]any{
		"Page": s.page(r, m, name), "Ind": ind, "Groups": groups, "Rows": rows,
		"Bars":   buildBarChart(name+l.T(":各地区实际值与各自目标"), bars, shell.Float).in(l),
		"Lines":  lines.build("暂无报送数据").in(l),
		"Better": better,
	})
}

// unitOf checks ?region= of a target's page or export: empty, or a region
// (code) the target is set for.
func unitOf(t *plan.Target, region string) (string, error) {
	return param.OneOf("region", region, t.Units)
}

// findTarget finds a plan's target by id (404 when it has none).
func findTarget(p *plan.Plan, id string) (*plan.Target, error) {
	for _, t := range p.Targets {
		if t.ID == id {
			return t, nil
		}
	}
	return nil, shell.NotFoundValue("规划“"+p.NameZh+"”没有这个目标", id)
}
