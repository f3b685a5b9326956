package ingest

import (
	"strings"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
)

// TestImplausible: the thresholds of the plausibility check — more than 10
// percentage points for a percentage, more than 50 % for a level, ×10 or
// ÷10 for any figure — and nothing below them.
func TestImplausible(t *testing.T) {
	for _, tc := range []struct {
		unit        string
		prev, value float64
		want        string // a part of the message; "" none
	}{
		{"percent", 98.99, 50.1, "下降 48.89 个百分点"},
		{"percent", 97, 98, ""},
		{"percent", 80, 90, ""}, // exactly 10 points
		{"percent", 80, 90.5, "上升 10.5 个百分点"},
		{"percent", 0.5, 6, "数量级"}, // 5.5 points, but ×12
		{"count", 10, 9999, "增大约 999.9 倍"},
		{"count", 10, 15, ""}, // exactly +50 %
		{"count", 10, 15.5, "上升 55%"},
		{"count", 1000, 99, "减小约 10.1 倍"},
		{"count", 0, 5, ""}, // no ratio from 0
		{"index", 80, 85, ""},
	} {
		got := Implausible(tc.unit, tc.prev, tc.value)
		if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
			t.Errorf("%s %v → %v: %q, want %q", tc.unit, tc.prev, tc.value, got, tc.want)
		}
	}
}

// TestWarningsBounded: a file where every figure jumps lists the first
// MaxWarnings warnings, in row order, and counts every one (an answer about
// a large file stays small; the count stays true).
func TestWarningsBounded(t *testing.T) {
	v := validator(t)
	const n = 3*MaxWarnings + 7 // days, each ×20 the day before
	var batch []observation.Observation
	var rows []int
	start := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		value := 5.0
		if i%2 == 1 {
			value = 100
		}
		batch = append(batch, observation.Observation{Indicator: "aqi", Region: "370200", Period: period.OfDay(start.AddDate(0, 0, i)), Value: value})
		rows = append(rows, i+2)
	}
	list, count := Warnings(v.Catalog, "f.csv", batch, rows, nil)
	if count != n-1 {
		t.Fatalf("count %d, want %d (every day after the first)", count, n-1)
	}
	if len(list) != MaxWarnings || list[0].Row != 3 || list[MaxWarnings-1].Row != MaxWarnings+2 {
		t.Fatalf("%d listed (rows %d…%d), want the first %d from row 3", len(list), list[0].Row, list[len(list)-1].Row, MaxWarnings)
	}
}
