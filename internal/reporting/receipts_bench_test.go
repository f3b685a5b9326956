package reporting

import (
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
)

// BenchmarkReceiptsIndex prints the live heap the receipts index holds for
// one receipt of 690,000 keys (issue 19's limit-sized workbook), read from
// the log as serve reads it, beside the 132 MB that serve's heap profile
// showed for the index keyed by the keys' text (before issue 19's fix).
func BenchmarkReceiptsIndex(b *testing.B) {
	const n = 690_000
	batch := make([]observation.Observation, 0, n)
	for i := range n {
		batch = append(batch, observation.Observation{Indicator: "aqi", Region: fmt.Sprint(110000 + i%3000),
			Period: period.OfDay(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i/3000)), Value: 1})
	}
	path := filepath.Join(b.TempDir(), "receipts.jsonl")
	w, err := OpenReceipts(path)
	if err != nil {
		b.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	if err := w.Record(&Receipt{ReportedAt: at, Bureau: "甲"}, batch); err != nil {
		b.Fatal(err)
	}
	w.Close()
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		r, err := OpenReceipts(path)
		if err != nil {
			b.Fatal(err)
		}
		found := 0
		r.Lookups(func(lookup func(observation.Key, time.Time) (*Receipt, bool)) {
			for i := range batch {
				if _, ok := lookup(batch[i].Key(), at); ok {
					found++
				}
			}
		})
		runtime.GC()
		runtime.ReadMemStats(&after)
		fmt.Printf("receipts index: %d of %d keys found, live heap %.1f MB (%.0f bytes a key; keyed by text: 132 MB)\n",
			found, n, float64(after.HeapAlloc-before.HeapAlloc)/1e6, float64(after.HeapAlloc-before.HeapAlloc)/n)
		runtime.KeepAlive(r)
		r.Close()
	}
}
