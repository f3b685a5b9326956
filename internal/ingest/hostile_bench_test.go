package ingest

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// BenchmarkHostileInputs prints the peak heap while each hostile input is
// read, beside the budget (256 MiB over idle), measured in the same
// run:
//
//	go test -run '^$' -bench Hostile -benchtime 1x ./internal/ingest/
func BenchmarkHostileInputs(b *testing.B) {
	v := shippedValidator(b)
	inputs := []struct {
		name, file string
		data       func() []byte
	}{
		{"xlsx: one sheet inflating to 100 MiB", "bomb.xlsx", func() []byte { return bomb(b, 100<<20) }},
		{"xlsx: 1000 MiB of blanks", "bomb.xlsx", func() []byte { return bomb(b, 1000<<20) }},
		{"csv: a 9 MiB line", "long.csv", func() []byte {
			return []byte("indicator,region,period,value\nfood_sampling_pass_rate,370000,2020,97," + strings.Repeat("x", 9<<20) + "\n")
		}},
		{"csv: 10 MiB of 1,000-cell rows", "wide.csv", func() []byte {
			var h strings.Builder
			h.WriteString("indicator,region,period,value")
			for i := 4; i < 1000; i++ {
				h.WriteString(",x")
				h.WriteString(strings.Repeat("y", i%7))
			}
			return []byte(h.String() + "\n" + strings.Repeat("food_sampling_pass_rate,370000,2020,97"+strings.Repeat(",1", 996)+"\n", 5000))
		}},
		{"xlsx: 60,000 valid rows", "rows.xlsx", func() []byte { return bigWorkbook(b, 60000) }},
		{"csv: 331,000 valid rows (10 MiB)", "rows.csv", func() []byte {
			var w bytes.Buffer
			w.WriteString("indicator,region,period,value\n")
			for i := 0; i < 331_000; i++ {
				fmt.Fprintf(&w, "aqi_daily,%d,%s,%d\n", 370100+100*(i%16), time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i/16).Format("2006-01-02"), 20+i%200)
			}
			return w.Bytes()
		}},
	}
	const budget = 256 << 20
	for _, in := range inputs {
		data := in.data()
		runtime.GC()
		var idle runtime.MemStats
		runtime.ReadMemStats(&idle)
		var peak atomic.Uint64
		done := make(chan struct{})
		go func() {
			var m runtime.MemStats
			for {
				select {
				case <-done:
					return
				case <-time.After(5 * time.Millisecond):
					runtime.ReadMemStats(&m)
					if m.HeapInuse > peak.Load() {
						peak.Store(m.HeapInuse)
					}
				}
			}
		}()
		src, err := Open(in.file, bytes.NewReader(data), v.Catalog, Limits{})
		if err == nil {
			_, err = v.ReadAll(src)
			src.Close()
		}
		close(done)
		over := int64(peak.Load()) - int64(idle.HeapInuse)
		b.Logf("%-40s %8d bytes in: peak heap %6.1f MiB over idle (budget %d MiB); %s", in.name, len(data), float64(max(over, 0))/(1<<20), budget>>20, clip(errString(err)))
	}
}

// bigWorkbook is a valid canonical workbook of n rows.
func bigWorkbook(tb testing.TB, n int) []byte {
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		tb.Fatal(err)
	}
	sw.SetRow("A1", []any{"indicator", "region", "period", "value"})
	for i := 0; i < n; i++ {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		sw.SetRow(cell, []any{"aqi", "370000", time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i).Format("2006-01-02"), 50 + i%50})
	}
	sw.Flush()
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func errString(err error) string {
	if err == nil {
		return "accepted"
	}
	return err.Error()
}
