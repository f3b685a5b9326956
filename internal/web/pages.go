package web

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/param"
	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/internal/region"
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

// navPlans is how many plans the header lists: with more (a plan for every
// county), it lists the national and provincial plans up to that many and
// links to the overview, which finds the others by region, page and name.
const navPlans = 12

func (s *Site) nav(m Moment, l shell.Lang) []NavLink {
	var out []NavLink
	plans := s.Evaluator.Set.Plans
	for _, p := range plans {
		if len(plans) > navPlans {
			if len(out) == navPlans {
				break
			}
			if reg, ok := s.Evaluator.Set.Regions.Get(p.Region); ok && reg.Level != region.Province {
				continue
			}
		}
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
	if len(plans) > navPlans {
		all := fmt.Sprintf("%s %d %s", l.T("全部"), len(plans), l.T("个规划"))
		out = append(out, NavLink{Href: m.Link("/"), Short: all + " ›", Name: all})
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
	reg, err := s.regionParam(r.URL.Query().Get("region"))
	if err != nil {
		return err
	}
	code := ""
	if reg != nil {
		code = reg.Code
	}
	// ?plan= finds plans by a part of their name, key or issuer: printable
	// text, matched in memory.
	find := strings.TrimSpace(r.URL.Query().Get("plan"))
	if utf8.RuneCountInString(find) > maxFind || !utf8.ValidString(find) ||
		strings.ContainsFunc(find, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) {
		return param.Invalid("plan", find, fmt.Sprintf("规划名称、编号或发布机关的一部分(至多 %d 个字)", maxFind))
	}
	// The plans with evaluations in the region (every plan for 全国), a
	// page of them at a time.
	var sums []PlanSummary
	all := e.x.count("", code)
	all.Overdue = od.Total
	for _, p := range s.Evaluator.Set.Plans {
		c := e.x.count(p.Key, code)
		if code != "" && c.Total == 0 ||
			find != "" && !strings.Contains(p.NameZh, find) && !strings.Contains(p.Key, find) && !strings.Contains(p.Issuer, find) &&
				!strings.Contains(strings.ToLower(p.NameEn), strings.ToLower(find)) {
			continue
		}
		c.Untracked = s.untracked[p.Key]
		all.Untracked += c.Untracked
		c.Overdue = od.ByPlan[p.Key]
		sums = append(sums, PlanSummary{Plan: p, Region: s.regionName(p.Region), Counts: c,
			Href: m.Link("/plans/"+p.Key, "region", code), Report: m.Link("/report/" + p.Key)})
	}
	pg, err := s.listPager(r, m, len(sums), []string{"region", code, "plan", find})
	if err != nil {
		return err
	}
	return s.render(w, r, "overview.html", map[string]any{
		"Page": s.page(r, m, "质量目标看板"), "Plans": sums[max(pg.From-1, 0):pg.To], "All": all, "Statuses": evaluate.Statuses,
		"Pager": pg, "Find": find, "Region": code, "Drill": s.drill(e.x, "", code, func(c string) string { return m.Link(r.URL.Path, "region", c, "plan", find) }),
	})
}

// maxFind bounds the text searched for in the plans' names (?plan= on the
// overview), in characters.
const maxFind = 50

// listPager pages a list of n items other than a scorecard's rows (the
// overview's plans): ?page= and ?size= as pager reads them.
func (s *Site) listPager(r *http.Request, m Moment, n int, kv []string) (Pager, error) {
	page, size, err := pageParams(r)
	if err != nil {
		return Pager{}, err
	}
	return pageOf(r, m, kv, n, page, size, r.URL.Query().Get("page"))
}

// pageParams reads ?page= (from 1) and ?size= (rows a page, pageSize
// unless given, at most maxPageSize).
func pageParams(r *http.Request) (page, size int, err error) {
	q := r.URL.Query()
	if size, err = param.Int("size", q.Get("size"), 1, maxPageSize, pageSize); err != nil {
		return 0, 0, err
	}
	if page, err = param.Int("page", q.Get("page"), 1, 1<<20, 1); err != nil {
		return 0, 0, err
	}
	return page, size, nil
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
	var statuses, agencies, indicators []Option
	for _, st := range evaluate.Statuses {
		statuses = append(statuses, Option{string(st), st.Label(string(l)), q.Get("status") == string(st)})
	}
	for _, a := range e.x.agencies[p.Key] {
		agencies = append(agencies, Option{a, a, q.Get("agency") == a})
	}
	for _, ind := range s.indicators[p.Key] {
		name := ind.NameZh
		if l == shell.En {
			name = ind.NameEn
		}
		indicators = append(indicators, Option{ind.ID, name, q.Get("indicator") == ind.ID})
	}
	f := filter{Plan: p.Key}
	var fStatus string
	for _, c := range []struct {
		name string
		to   *string
		opts []Option
	}{{"status", &fStatus, statuses}, {"agency", &f.Agency, agencies}, {"indicator", &f.Indicator, indicators}} {
		if *c.to, err = param.OneOf(c.name, q.Get(c.name), optionValues(c.opts)); err != nil {
			return err
		}
	}
	f.Status = evaluate.Status(fStatus)
	reg, err := s.regionParam(q.Get("region"))
	if err != nil {
		return err
	}
	if reg != nil {
		f.Region = reg.Code
	}
	sortKey, err := param.OneOf("sort", q.Get("sort"), sortKeys)
	if err != nil {
		return err
	}
	dir, err := param.OneOf("dir", q.Get("dir"), []string{"asc", "desc"})
	if err != nil {
		return err
	}
	f.Sort, f.Desc = sortKey, dir == "desc"
	// The filters as links keep them (region as its code).
	kept := []string{"status", fStatus, "agency", f.Agency, "indicator", f.Indicator, "region", f.Region}
	pg, err := s.pager(r, e.x, f, m, kept)
	if err != nil {
		return err
	}
	od, err := s.overdue(r.Context(), m)
	if err != nil {
		return err
	}
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
		sorts[k] = SortLink{Href: m.Link(r.URL.Path, append(slices.Clip(kept), "sort", k, "dir", d)...), Arrow: arrow}
	}
	var untracked []*plan.Target
	for _, t := range p.Targets {
		if !t.IsTracked() {
			untracked = append(untracked, t)
		}
	}
	counts := e.x.count(p.Key, f.Region)
	counts.Untracked = len(untracked)
	counts.Overdue = od.ByPlan[p.Key]
	drillKeep := append([]string{"status", fStatus, "agency", f.Agency, "indicator", f.Indicator}, "sort", sortKey, "dir", dir)
	return s.render(w, r, "plan.html", map[string]any{
		"Page": s.page(r, m, planName(p, l)), "Plan": p, "Region": s.regionName(p.Region), "Rows": s.rowsAt(e, pg.pos, l), "Pager": pg,
		"Total": len(e.x.byPlan[p.Key]), "Counts": counts, "Untracked": untracked,
		"Statuses": statuses, "Agencies": agencies, "Indicators": indicators, "Sorts": sorts,
		"Drill":    s.drill(e.x, p.Key, f.Region, func(code string) string { return m.Link(r.URL.Path, append(slices.Clip(drillKeep), "region", code)...) }),
		"RegionQ":  q.Get("region"),
		"Filtered": f.Status != "" || f.Agency != "" || f.Region != "" || f.Indicator != "",
		"Clear":    m.Link(r.URL.Path),
		"CSV":      m.Link("/export/status.csv", "plan", p.Key, "region", f.Region), "XLSX": m.Link("/export/status.xlsx", "plan", p.Key, "region", f.Region),
		"Report": m.Link("/report/" + p.Key),
	})
}

// regionParam reads ?region= of a scorecard: empty (everywhere), or a
// region code or unique name (param.Region).
func (s *Site) regionParam(v string) (*region.Region, error) {
	if v == "" {
		return nil, nil
	}
	return param.Region("region", v, s.Evaluator.Set.Regions)
}

// Page sizes of the scorecards (?size=): 200 rows by default, at most 1,000.
const (
	pageSize    = 200
	maxPageSize = 1000
)

// Pager is one page of a scorecard's rows: which rows (From–To of Total,
// numbered from 1) and the links to the pages before and after.
type Pager struct {
	Page, Pages, Total, From, To int
	Prev, Next                   string
	pos                          []int32
}

// pager reads ?page= and ?size= and finds the page's rows; the links keep
// the moment, kv (the page's filters) and the sort.
func (s *Site) pager(r *http.Request, x *index, f filter, m Moment, kv []string) (Pager, error) {
	q := r.URL.Query()
	n, size, err := pageParams(r)
	if err != nil {
		return Pager{}, err
	}
	total, pos := x.find(f, (n-1)*size, size)
	pg, err := pageOf(r, m, append(slices.Clip(kv), "sort", q.Get("sort"), "dir", q.Get("dir")), total, n, size, q.Get("page"))
	pg.pos = pos
	return pg, err
}

// pageOf is page n (as given: given) of total items, size a page, with the
// links to the pages before and after (keeping the moment and kv).
func pageOf(r *http.Request, m Moment, kv []string, total, n, size int, given string) (Pager, error) {
	pg := Pager{Page: n, Pages: max(1, (total+size-1)/size), Total: total}
	if n > pg.Pages {
		return Pager{}, param.Invalid("page", given, fmt.Sprintf("1 到 %d 之间的页码", pg.Pages))
	}
	if total > 0 {
		pg.From, pg.To = (n-1)*size+1, min(n*size, total)
	}
	link := func(to int) string {
		sz := ""
		if size != pageSize {
			sz = strconv.Itoa(size)
		}
		return m.Link(r.URL.Path, append(slices.Clip(kv), "size", sz, "page", strconv.Itoa(to))...)
	}
	if n > 1 {
		pg.Prev = link(n - 1)
	}
	if n < pg.Pages {
		pg.Next = link(n + 1)
	}
	return pg, nil
}

// Drill is the region tree of a scorecard: the path from 全国 to the
// region shown (each a link) and the divisions directly below it that
// have evaluations, with their counts.
type Drill struct {
	Path     []RegionLink
	Children []RegionLink
}

// RegionLink is one region of the tree with its evaluations' counts.
type RegionLink struct {
	Code, Name, Href string
	Counts           Counts
	Current          bool
}

// drill is the region tree of plan ("" every plan) at the region code (""
// 全国); href makes a region's link.
func (s *Site) drill(x *index, plan, code string, href func(string) string) Drill {
	regs := s.Evaluator.Set.Regions
	d := Drill{Path: []RegionLink{{Name: "全国", Href: href(""), Current: code == ""}}}
	var below []*region.Region
	if code == "" {
		for _, r := range regs.All() {
			if r.Level == region.Province {
				below = append(below, r)
			}
		}
	} else {
		chain := regionChain(regs, code)
		for i := len(chain) - 1; i >= 0; i-- {
			d.Path = append(d.Path, RegionLink{Code: chain[i], Name: s.regionName(chain[i]), Href: href(chain[i]), Current: i == 0})
		}
		below = append(regs.Children(code), regs.Counties(code)...)
	}
	for _, r := range below {
		if c := x.count(plan, r.Code); c.Total > 0 && r.Code != code {
			d.Children = append(d.Children, RegionLink{Code: r.Code, Name: r.Name, Href: href(r.Code), Counts: c})
		}
	}
	return d
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
	for _, i := range e.x.byTarget[t.Key()] {
		if e.evals[i].Region == region {
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
	reg, err := s.regionParam(r.URL.Query().Get("region"))
	if err != nil {
		return err
	}
	f := filter{Indicator: ind.ID}
	if reg != nil {
		f.Region = reg.Code
	}
	pg, err := s.pager(r, e.x, f, m, []string{"region", f.Region})
	if err != nil {
		return err
	}
	rows := s.rowsAt(e, pg.pos, l)
	var groups []*Comparison
	byKey := map[string]*Comparison{}
	var bars []barRow
	lines := newLineChart(760, 320, name+l.T(" 各地区走势"))
	lines.yFormat = func(y float64) string { return shell.Float(y) }
	seen := map[string]bool{}
	cut := false
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
		if row.T.Modality != plan.New && len(row.T.AverageOf) == 0 && !seen[row.Region] && len(seen) >= maxLines {
			cut = true
		} else if row.T.Modality != plan.New && len(row.T.AverageOf) == 0 && !seen[row.Region] {
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
			g.Ranks = s.rankPage(e, g, better)
		}
	}
	return s.render(w, r, "indicator.html", map[string]any{
		"Page": s.page(r, m, name), "Ind": ind, "Groups": groups, "Rows": rows,
		"Bars":   buildBarChart(name+l.T(":各地区实际值与各自目标"), bars, shell.Float).in(l),
		"Lines":  lines.build("暂无报送数据").in(l),
		"Better": better, "Pager": pg, "Lined": len(seen), "LinesCut": cut,
		"Drill": s.drill(e.x, "", f.Region, func(c string) string { return m.Link(r.URL.Path, "region", c) }),
	})
}

// maxLines is how many regions the indicator page's line chart draws (the
// first of its page), so that its legend stays readable.
const maxLines = 12

// rankPage ranks a target's rows among all its regions (not only those of
// the page) and keeps the page's.
func (s *Site) rankPage(e *evaluation, g *Comparison, better bool) []RankGroup {
	all := e.x.byTarget[g.Plan.Key+"/"+g.T.ID]
	if len(all) == len(g.Rows) {
		return rank(g.Rows, better)
	}
	rows := make([]Row, 0, len(all))
	for _, p := range all {
		ev := &e.evals[p]
		rows = append(rows, Row{Evaluation: ev, T: g.T})
	}
	onPage := map[*evaluate.Evaluation]Row{}
	for _, r := range g.Rows {
		onPage[r.Evaluation] = r
	}
	var out []RankGroup
	for _, rg := range rank(rows, better) {
		kept := RankGroup{Period: rg.Period}
		for _, r := range rg.Rows {
			if row, ok := onPage[r.Evaluation]; ok {
				kept.Rows = append(kept.Rows, Ranked{Row: row, Rank: r.Rank})
			}
		}
		if len(kept.Rows) > 0 {
			out = append(out, kept)
		}
	}
	return out
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
