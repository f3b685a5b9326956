package engine

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
)

// TestRecentKeepsNoRoom: after a burst of stored figures that a run then
// holds, the plausibility lookup of an upload's one key costs what that
// key costs, not the room the burst left in the map of recent figures
// (before, each upload copied that room whole: a fifth of serve's CPU under
// 50 uploading clients). Counted in bytes allocated, not in time.
func TestRecentKeepsNoRoom(t *testing.T) {
	e := &Engine{data: &evaluate.Data{}}
	burst := make([]observation.Observation, 50000)
	for i := range burst {
		burst[i] = observation.Observation{Indicator: "aqi", Region: fmt.Sprint(370000 + i), Period: period.OfYear(2020), Value: 1}
	}
	e.Stored(burst)
	left := []observation.Observation{{Indicator: "aqi", Region: "370200", Period: period.OfYear(2024), Value: 7}}
	e.Stored(left)
	e.settled(1, nil) // a run holds the burst, not the figure stored after it
	keys := []observation.Key{left[0].Key(), {Indicator: "aqi", Region: "370300", Period: period.OfYear(2024)}}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	got, err := e.CurrentValues(context.Background(), keys)
	runtime.ReadMemStats(&after)
	if err != nil || len(got) != 1 || got[left[0].Key()] != 7 {
		t.Fatalf("CurrentValues = %v, %v; want 7 for the figure stored after the burst", got, err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 64<<10 {
		t.Errorf("one lookup of %d keys allocated %d bytes, want the cost of its keys (under 64 KiB), not of the room the burst left", len(keys), n)
	}
	e.settled(2, nil)
	if e.recent != nil {
		t.Errorf("every recent figure held by the data: the map is kept (%d entries), want it let go", len(e.recent))
	}
	runtime.ReadMemStats(&before)
	if got, err := e.CurrentValues(context.Background(), keys[:1]); err != nil || len(got) != 0 {
		t.Fatalf("CurrentValues = %v, %v; want nothing (the data holds no such figure)", got, err)
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 64<<10 {
		t.Errorf("a lookup with no recent figures allocated %d bytes", n)
	}
}
