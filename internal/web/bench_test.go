package web

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkPages serves every kind of page for the five plans (and the
// national one) with the SAMPLE data from the real InfluxDB, in process, and
// reports the time per page against the 300 ms goal:
//
//	go test -run '^$' -bench Pages -benchtime 20x ./internal/web/
func BenchmarkPages(b *testing.B) {
	s, mux := newSite(b)
	paths := []string{"/", "/indicators/food_sampling_pass_rate", "/indicators/prefab_building_share", "/export/status.csv", "/export/status.xlsx"}
	for _, p := range s.Evaluator.Set.Plans {
		paths = append(paths, "/plans/"+p.Key, "/report/"+p.Key)
		for _, t := range p.Targets {
			if t.IsTracked() {
				paths = append(paths, fmt.Sprintf("/plans/%s/targets/%s?region=%s", p.Key, t.ID, t.Units[0]))
				break
			}
		}
	}
	benchPaths(b, mux, paths)
}

// BenchmarkPagesScale serves the pages over one plan of REGIONS regions
// (the table's county-level divisions first) × INDICATORS indicators,
// judged in process from ten years of figures and shown from the latest
// evaluation as serve shows it, and reports each page's time against the
// 300 ms goal (the first request also builds the index). The national case,
// 3,000 × 100 = 300,000 targets (a few GB of memory, minutes to judge):
//
//	SCALE_REGIONS=3000 SCALE_INDICATORS=100 go test -run '^$' -bench PagesScale -benchtime 5x ./internal/web/
func BenchmarkPagesScale(b *testing.B) {
	n, k := envInt(b, "SCALE_REGIONS", 300), envInt(b, "SCALE_INDICATORS", 100)
	start := time.Now()
	_, mux, evals := scaleSiteOf(b, n, k)
	b.Logf("%d targets judged in %s", len(evals), time.Since(start).Round(time.Millisecond))
	paths := []string{"/", "/?region=130000", "/plans/scale-2021", "/plans/scale-2021?page=2", "/plans/scale-2021?sort=gap&page=2",
		"/plans/scale-2021?region=130000", "/plans/scale-2021?region=130100&indicator=scale_b", "/plans/scale-2021?status=achieved",
		"/indicators/scale_a", "/indicators/scale_a?page=2"}
	benchPaths(b, mux, paths)
	// The exports' first byte and the whole file, beside the same goal for
	// the first byte.
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, path := range []string{"/export/status.csv?plan=scale-2021", "/export/status.xlsx?plan=scale-2021"} {
		b.Run(strings.NewReplacer("/", "_", "?", "_").Replace(path), func(b *testing.B) {
			var first, whole time.Duration
			for i := 0; i < b.N; i++ {
				start := time.Now()
				resp, err := http.Get(srv.URL + path)
				if err != nil {
					b.Fatal(err)
				}
				if resp.StatusCode != 200 {
					b.Fatalf("%s: %d", path, resp.StatusCode)
				}
				buf := make([]byte, 1)
				io.ReadFull(resp.Body, buf)
				first += time.Since(start)
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				whole += time.Since(start)
			}
			ms := float64(first.Microseconds()) / 1000 / float64(b.N)
			b.ReportMetric(ms, "ms_first_byte")
			b.ReportMetric(ms/300*100, "%_of_300ms_goal")
			b.ReportMetric(float64(whole.Microseconds())/1000/float64(b.N), "ms_whole")
		})
	}
}

// BenchmarkPagesManyPlans is BenchmarkPagesScale with a plan for every
// region (a county's 质量强县规划 each): the overview pages, narrowed to a
// province and found by name, and a county's scorecard, against 300 ms:
//
//	SCALE_REGIONS=3000 SCALE_INDICATORS=100 go test -run '^$' -bench PagesManyPlans -benchtime 5x ./internal/web/
func BenchmarkPagesManyPlans(b *testing.B) {
	n, k := envInt(b, "SCALE_REGIONS", 300), envInt(b, "SCALE_INDICATORS", 100)
	s, mux, evals := scaleSiteWith(b, n, k, true)
	b.Logf("%d plans, %d targets", len(s.Evaluator.Set.Plans), len(evals))
	p := s.Evaluator.Set.Plans[len(s.Evaluator.Set.Plans)/2]
	benchPaths(b, mux, []string{"/", "/?page=2", "/?region=130000", "/?plan=" + url.QueryEscape(p.NameZh), "/plans/" + p.Key, "/indicators/scale_a"})
}

func envInt(tb testing.TB, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		tb.Fatalf("%s=%q: not a number", name, v)
	}
	return n
}

// benchPaths times each page of paths, reporting ms a page beside the
// 300 ms goal.
func benchPaths(b *testing.B, mux http.Handler, paths []string) {
	for _, path := range paths {
		b.Run(strings.NewReplacer("/", "_", "?", "_").Replace(path), func(b *testing.B) {
			start := time.Now()
			for i := 0; i < b.N; i++ {
				if rec := get(b, mux, path); rec.Code != 200 {
					b.Fatalf("%s: %d", path, rec.Code)
				}
			}
			ms := float64(time.Since(start).Microseconds()) / 1000 / float64(b.N)
			b.ReportMetric(ms, "ms/page")
			b.ReportMetric(ms/300*100, "%_of_300ms_goal")
		})
	}
}
