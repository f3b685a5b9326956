package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/qualitymon/qualitymon/internal/changes"
	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/param"
	"github.com/qualitymon/qualitymon/internal/web/shell"
)

// changesPage is 变化 (/changes?from=…&to=…&page=…): the status changes,
// new figures and revisions between two moments (internal/changes), one
// page of at most changes.PerPage items.
func (s *Site) changesPage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	now := s.Now()
	from, to, err := param.Window(q.Get("from"), q.Get("to"), changes.DefaultSpan, now)
	if err != nil {
		return err
	}
	page, err := param.Page(q.Get("page"))
	if err != nil {
		return err
	}
	l, err := s.Changes.Between(r.Context(), from, to, page)
	if err != nil {
		return err
	}
	// Every time on the calendar of the config's timezone (the date form's).
	loc := now.Location()
	l.From, l.To = l.From.In(loc), l.To.In(loc)
	for i := range l.Groups {
		for j := range l.Groups[i].Items {
			l.Groups[i].Items[j].At = l.Groups[i].Items[j].At.In(loc)
		}
	}
	link := func(p int) string {
		v := url.Values{}
		for _, k := range []string{"from", "to"} {
			if q.Get(k) != "" {
				v.Set(k, q.Get(k))
			}
		}
		v.Set("page", strconv.Itoa(p))
		return "/changes?" + v.Encode()
	}
	pg := s.page(r, Moment{At: now}, "变化")
	if pg.Lang == shell.En {
		s.changesInEnglish(l)
	}
	pg.NoMoment = true
	data := map[string]any{"Page": pg, "L": l, "Lang": string(pg.Lang),
		"FromDate": l.From.Format("2006-01-02"), "ToDate": l.To.Format("2006-01-02"),
		"FromParam": q.Get("from"), "ToParam": q.Get("to")}
	if l.Page > 1 {
		data["Prev"] = link(l.Page - 1)
	}
	if l.Page < l.Pages {
		data["Next"] = link(l.Page + 1)
	}
	return s.render(w, r, "changes.html", data)
}

// changesInEnglish names the plans, indicators, targets and bases of l in
// English (region names, sources, bureaus and notes stay as reported).
func (s *Site) changesInEnglish(l *changes.List) {
	set := s.Evaluator.Set
	for i := range l.Groups {
		g := &l.Groups[i]
		if p, ok := set.Plan(g.Plan); ok {
			g.PlanName = planName(p, shell.En)
			for j := range g.Items {
				if t, err := findTarget(p, g.Items[j].Target); err == nil {
					g.Items[j].Wording = targetName(t, shell.En)
				}
			}
		} else {
			g.PlanName = "Indicators in no plan"
		}
		for j := range g.Items {
			it := &g.Items[j]
			if ind, ok := set.Catalog.Get(it.Indicator); ok {
				it.IndicatorName = ind.NameEn
			}
			if it.BasisCode != "" {
				it.Basis = evaluate.Basis{Code: it.BasisCode}.Label("en")
			}
		}
	}
}
