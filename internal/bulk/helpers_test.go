package bulk

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var testNow = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

func validatorT(tb testing.TB) *ingest.Validator {
	tb.Helper()
	set := testenv.Plans(tb)
	return &ingest.Validator{Catalog: set.Catalog, Regions: set.Regions, Now: func() time.Time { return testNow }}
}

// genSpec describes a generated canonical CSV: yearly indicators × regions
// × years (the newest years first), then daily AQI per region, until rows.
type genSpec struct {
	rows    int
	years   int // yearly periods per series (ending 2024)
	variant int // changes every value
}

// generate writes a valid canonical CSV and returns the number of rows.
func generate(tb testing.TB, w io.Writer, v *ingest.Validator, g genSpec) int {
	tb.Helper()
	bw := bufio.NewWriterSize(w, 1<<20)
	defer bw.Flush()
	fmt.Fprintln(bw, "indicator,region,period,value,source")
	var yearly []*catalog.Indicator
	var daily *catalog.Indicator
	for _, ind := range v.Catalog.All() {
		if ind.Frequency == "daily" {
			daily = ind
		} else if ind.Frequency == "yearly" || ind.Frequency == "" {
			yearly = append(yearly, ind)
		}
	}
	regs := v.Regions.All()
	n := 0
	value := func(ind *catalog.Indicator, i int) float64 {
		lo, hi := 0.0, 1000.0
		if ind.Min != nil {
			lo = *ind.Min
		}
		if ind.Max != nil {
			hi = *ind.Max
		}
		x := float64((i*7919+g.variant*104729)%10000) / 10000
		return float64(int((lo+(hi-lo)*x)*10)) / 10
	}
	sources := []string{"", "国家统计局", "SAMPLE DATA"}
	for y := 0; y < g.years && n < g.rows; y++ {
		for _, ind := range yearly {
			for _, r := range regs {
				if n == g.rows {
					return n
				}
				fmt.Fprintf(bw, "%s,%s,%d,%s,%s\n", ind.ID, r.Code, 2024-y, strconv.FormatFloat(value(ind, n), 'f', -1, 64), sources[n%3])
				n++
			}
		}
	}
	day := time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC)
	for n < g.rows {
		for _, r := range regs {
			if n == g.rows {
				break
			}
			fmt.Fprintf(bw, "%s,%s,%s,%s,%s\n", daily.ID, r.Code, day.Format("2006-01-02"), strconv.FormatFloat(value(daily, n), 'f', -1, 64), sources[n%3])
			n++
		}
		day = day.AddDate(0, 0, -1)
	}
	return n
}

func writeFile(tb testing.TB, name string, data []byte) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}
