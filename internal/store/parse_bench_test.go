package store

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/qualitymon/qualitymon/internal/period"
)

// valueAnswer is a Flux CSV answer as InfluxDB 1.8 sends the bare read of
// EachValue: a table (with its header row) per series of ten yearly points.
func valueAnswer(series int) []byte {
	var b bytes.Buffer
	for s := 0; s < series; s++ {
		b.WriteString(",result,table,_start,_stop,_time,_value,_field,_measurement,freq,indicator,region\r\n")
		for y := 2015; y < 2025; y++ {
			fmt.Fprintf(&b, ",_result,%d,1970-01-01T00:00:00Z,2200-01-01T00:00:00Z,%d-01-01T00:00:00Z,%d.%d,value,observation,year,ind_%d,%02d%02d00\r\n",
				s, y, 50+s%50, y%10, s%100, 11+s/100%55, 1+s%99)
		}
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

// BenchmarkEachValueParse measures qualitymon's part of a full read: the
// answer of 300,000 yearly figures (30,000 series) parsed into values,
// without InfluxDB (`go test -run '^$' -bench EachValueParse ./internal/store/`).
func BenchmarkEachValueParse(b *testing.B) {
	raw := valueAnswer(30000)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		vr := newValueReader()
		n := 0
		err := readFluxCSV(bytes.NewReader(raw), func(r fluxRow) error {
			return vr.row(r, func(string, string, period.Period, float64) { n++ })
		})
		if err != nil || n != 300000 {
			b.Fatal(err, n)
		}
	}
}
