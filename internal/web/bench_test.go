package web

import (
	"fmt"
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
