package observation

import (
	"math"
	"slices"
	"testing"

	"github.com/qualitymon/qualitymon/internal/period"
)

// TestCompact: a batch added to a Compact reads back equal (whole, in
// chunks, and after Append and ReadCompact), whatever its values (a zero
// period, NaN, text with any bytes); an encoding cut short or followed by
// a byte does not read.
func TestCompact(t *testing.T) {
	batch := []Observation{
		{Indicator: "aqi", Region: "370200", Period: period.Period{Kind: period.Day, Year: 2025, N: 12, D: 31}, Value: 1.5, Source: "青岛市统计局", Note: "说明\n\x00"},
		{Indicator: "aqi", Region: "370000", Period: period.OfYear(-3), Value: math.Inf(-1)},
		{Indicator: "aqi", Value: math.NaN()},
		{},
		{Indicator: "x", Period: period.Period{Kind: 200, Year: math.MaxInt64, N: -1, D: math.MinInt64}, Value: -0.0},
	}
	for i := range 1000 {
		batch = append(batch, Observation{Indicator: "food_sampling_pass_rate", Region: "3702" + string(rune('0'+i%10)), Period: period.OfYear(2000 + i), Value: float64(i)})
	}
	c := CompactOf(batch)
	if c.Len() != len(batch) {
		t.Fatalf("Len %d, want %d", c.Len(), len(batch))
	}
	enc := c.Append(nil)
	if len(enc) > c.Size() {
		t.Fatalf("Append wrote %d bytes, Size says at least %d", len(enc), c.Size())
	}
	if len(enc) > 20*len(batch) {
		t.Errorf("%d rows take %d bytes encoded, want at most 20 a row", len(batch), len(enc))
	}
	back, err := ReadCompact(enc)
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range [][]Observation{c.Observations(), back.Observations(), slices.Concat(slices.Collect(back.Chunks(7))...)} {
		if len(got) != len(batch) {
			t.Fatalf("%d rows, want %d", len(got), len(batch))
		}
		for i := range batch {
			if got[i] != batch[i] && !(math.IsNaN(got[i].Value) && math.IsNaN(batch[i].Value)) {
				t.Fatalf("row %d = %+v, want %+v", i, got[i], batch[i])
			}
		}
	}
	for chunk := range back.Chunks(7) {
		if len(chunk) > 7 {
			t.Fatalf("chunk of %d rows", len(chunk))
		}
	}
	if _, err := ReadCompact(enc[:len(enc)-1]); err == nil {
		t.Error("an encoding cut short reads")
	}
	if _, err := ReadCompact(append(slices.Clone(enc), 0)); err == nil {
		t.Error("an encoding with a byte after its rows reads")
	}
	var empty Compact
	if e, err := ReadCompact(empty.Append(nil)); err != nil || e.Len() != 0 || len(e.Observations()) != 0 {
		t.Fatalf("empty: %v %v", e, err)
	}
}
