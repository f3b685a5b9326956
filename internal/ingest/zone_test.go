package ingest

import (
	"strings"
	"testing"
	"time"
)

// "Period has begun" is decided on the calendar of the clock's location
// (the config's timezone): at 2026-12-06T17:00Z, 01:00 on 7 December in
// Beijing, the daily figure of 2026-12-07 is accepted in Asia/Shanghai and
// refused in UTC, where that day has not begun.
func TestPeriodBegunInTimezone(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	instant := time.Date(2026, 12, 6, 17, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		loc  *time.Location
		ok   bool
		cell string
	}{
		{shanghai, true, "2026-12-07"}, {time.UTC, false, "2026-12-07"},
		{shanghai, false, "2026-12-08"}, {time.UTC, true, "2026-12-06"},
	} {
		v := validator(t)
		v.Now = func() time.Time { return instant.In(c.loc) }
		_, errs := v.Row(&Raw{File: "aqi.csv", Row: 2, Cells: map[string]string{ColIndicator: "aqi", ColRegion: "370200", ColPeriod: c.cell, ColValue: "42"}})
		if c.ok && len(errs) > 0 {
			t.Errorf("%s at 17:00Z in %v: refused: %v", c.cell, c.loc, errs)
		}
		if !c.ok && (len(errs) != 1 || !strings.Contains(errs[0].Error(), "aqi.csv:2:period: period is in the future")) {
			t.Errorf("%s at 17:00Z in %v: %v, want it refused as in the future", c.cell, c.loc, errs)
		}
	}
}
