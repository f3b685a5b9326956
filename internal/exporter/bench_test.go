package exporter

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/evaluate"
)

// BenchmarkPage prints, for 300,000 evaluations (issue 20's national
// scale, compact metrics), how long the page takes to encode, how long one
// changed evaluation takes to encode again, and how many bytes the page
// keeps (gzipped blocks) beside its plain text, which it kept before.
func BenchmarkPage(b *testing.B) {
	const n = 300_000
	evals := make([]evaluate.Evaluation, n)
	for i := range evals {
		r := strconv.Itoa(110000 + i/100)
		evals[i] = evaluate.Evaluation{Plan: "bench-" + r + "-2021", Target: "t-" + strconv.Itoa(i%100) + "-" + r, Indicator: "bench_" + strconv.Itoa(i%100),
			Region: r, RegionName: "某县", NameZh: "合成指标", Unit: "percent", Comparator: ">=", Modality: "reach", LeadAgency: "县市场监管局",
			TargetValue: fp(90), Actual: fp(float64(80 + i%17)), Gap: fp(float64(10 - i%17)), Status: evaluate.OffTrack,
			Basis: evaluate.Basis{Code: evaluate.BasisProjection}, SettlesAt: time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)}
	}
	cat := &catalog.Catalog{}
	for b.Loop() {
		start := time.Now()
		pg := encode(evals, nil, nil, nil, cat, nil, false)
		full := time.Since(start)
		evals[n/2].Status = evaluate.Achieved
		start = time.Now()
		encode(evals, pg, []int{n / 2}, nil, cat, nil, false)
		one := time.Since(start)
		kept := 0
		for _, p := range pg.parts {
			kept += len(p.z)
		}
		plain := len(Encode(evals, nil, cat, nil, false))
		fmt.Printf("metrics page of %d evaluations: encoded in %.2f s, one changed in %.3f s; keeps %.1f MB gzipped (its text: %.1f MB, kept whole before)\n",
			n, full.Seconds(), one.Seconds(), float64(kept)/1e6, float64(plain)/1e6)
	}
}
