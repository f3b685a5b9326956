package web

import (
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qualitymon/qualitymon/internal/evalcache"
)

// A page for a moment while web.moments.concurrent evaluations run is a
// 503 page with Retry-After that says, in Chinese, to retry; a page for the
// same moment as a running evaluation waits for it instead (one
// evaluation); the export for a moment goes through the same cache.
func TestMomentPagesBounded(t *testing.T) {
	s, mux := newSite(t)
	reg := prometheus.NewRegistry()
	s.Moments = evalcache.New(s.Store, s.Evaluator, evalcache.Options{Concurrent: 1, Registerer: reg})
	release := make(chan struct{})
	started := make(chan struct{})
	s.Moments.BeforeEvaluate = func() { close(started); <-release }
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if rec := get(t, mux, "/plans/shandong-2018?at=2020-12-31"); rec.Code != 200 {
			t.Errorf("the page being evaluated: %d", rec.Code)
		}
	}()
	<-started
	rec := get(t, mux, "/?at=2019-12-31")
	if rec.Code != 503 || rec.Header().Get("Retry-After") != "5" || !strings.Contains(rec.Body.String(), "服务器繁忙") {
		t.Errorf("a page for another moment while one evaluates: %d, Retry-After %q, want 503, 5 and 服务器繁忙 in %q",
			rec.Code, rec.Header().Get("Retry-After"), rec.Body.String())
	}
	close(release)
	wg.Wait()
	s.Moments.BeforeEvaluate = nil
	if rec := get(t, mux, "/export/status.csv?plan=shandong-2018&at=2020-12-31"); rec.Code != 200 {
		t.Fatalf("export: %d %s", rec.Code, rec.Body.String())
	}
	if rec := get(t, mux, "/plans/shandong-2018/targets/food-sampling-pass-rate?region=370000&at=2020-12-31"); rec.Code != 200 {
		t.Fatalf("target page: %d", rec.Code)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "qualitymon_moment_evaluations_total" {
			if got := mf.GetMetric()[0].GetCounter().GetValue(); got != 1 {
				t.Errorf("the plan page, its export and a target page of one moment: %v evaluations, want 1", got)
			}
		}
	}
}
