package ingest

import (
	"strings"
	"testing"
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
