package web

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qualitymon/qualitymon/internal/config"
	"github.com/qualitymon/qualitymon/internal/reporting"
)

// One count of overdue: for the sample data, the overview, each plan's
// scorecard, GET /api/v1/completeness (all and per plan) and the metric
// qualitymon_overdue_figures give the same number, though two bureaus'
// scopes overlap (two bureaus report for Shandong).
func TestOverdueCountAgrees(t *testing.T) {
	s, mux := newSite(t)
	tokens := []config.UploadToken{
		{Bureau: "山东省市场监管局", TokenSHA256: "1111111111111111111111111111111111111111111111111111111111111111", Regions: []string{"370000"}},
		{Bureau: "山东省统计局", TokenSHA256: "2222222222222222222222222222222222222222222222222222222222222222", Regions: []string{"370000", "370200"}},
	}
	dir, err := reporting.NewDirectory(tokens, s.Evaluator.Set.Catalog, s.Evaluator.Set.Regions)
	if err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return now }
	// serve's path: the completeness listing and the metric both come from
	// the collector's refresh after an evaluation.
	coll := &reporting.Collector{Grid: s.Grid, Dir: dir, Now: clock}
	if err := coll.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	comp := reporting.CompletenessHandler(s.Grid, dir, clock, coll.Latest)
	completeness := func(query string) int {
		t.Helper()
		rec := httptest.NewRecorder()
		comp.ServeHTTP(rec, httptest.NewRequest("GET", reporting.CompletenessPath+query, nil))
		var c struct{ Summary struct{ Overdue int } }
		if err := json.Unmarshal(rec.Body.Bytes(), &c); err != nil {
			t.Fatalf("completeness%s: %v %s", query, err, rec.Body)
		}
		return c.Summary.Overdue
	}
	total := completeness("")
	if total == 0 || completeness("?region=370000") == 0 {
		t.Fatal("the sample data has no overdue figure of Shandong's: the test shows nothing")
	}

	overview := get(t, mux, "/").Body.String()
	if m := regexp.MustCompile(`<span class="n">(\d+)</span>项数据逾期未报`).FindStringSubmatch(overview); m == nil || m[1] != strconv.Itoa(total) {
		t.Errorf("overview says %v overdue, completeness %d", m, total)
	}
	row := regexp.MustCompile(`(?s)<a href="/plans/([a-z0-9-]+)">.*?<td class="num[^"]*">(\d+)</td>\s*<td><a href="/report/`)
	perPlan := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(overview, -1) {
		perPlan[m[1]] = m[2]
	}
	for _, p := range s.Evaluator.Set.Plans {
		want := completeness("?plan=" + p.Key)
		page := get(t, mux, "/plans/"+p.Key).Body.String()
		m := regexp.MustCompile(`<span class="n">(\d+)</span>项数据逾期未报`).FindStringSubmatch(page)
		if m == nil || m[1] != strconv.Itoa(want) {
			t.Errorf("%s: scorecard says %v overdue, completeness %d", p.Key, m, want)
		}
		if perPlan[p.Key] != strconv.Itoa(want) {
			t.Errorf("%s: overview's row says %q overdue, completeness %d", p.Key, perPlan[p.Key], want)
		}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(coll)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	metric := -1.0
	for _, mf := range mfs {
		if mf.GetName() == "qualitymon_overdue_figures" {
			metric = mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	if metric != float64(total) {
		t.Errorf("qualitymon_overdue_figures = %v, completeness %d", metric, total)
	}
	t.Logf("overdue figures of the sample data at %s: %d", now.Format("2006-01-02"), total)
}
