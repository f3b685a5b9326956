package reporting_test

import (
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/reporting"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

// Periods end and figures fall due on the calendar of the clock's location
// (the config's timezone): Qingdao's 2022 food sampling pass rate (yearly,
// 90 days' lag) is expected from midnight of 1 January 2023 Beijing time
// and overdue from midnight of 1 April 2023 Beijing time (16:00Z the day
// before), when in UTC it is not expected, then not due, yet.
func TestDueInTimezone(t *testing.T) {
	set := testenv.Plans(t)
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	cell := func(now time.Time) *reporting.Cell {
		for _, it := range reporting.Expected(set, "qingdao-2023", now) {
			if it.Indicator.ID == "food_sampling_pass_rate" && it.Region == "370200" && it.Period == period.OfYear(2022) {
				c := reporting.Classify([]reporting.Item{it}, nil, nil, now)[0]
				return &c
			}
		}
		return nil
	}
	yearEnd := time.Date(2022, 12, 31, 16, 0, 0, 0, time.UTC) // 2023-01-01 00:00 in Beijing
	if cell(yearEnd.Add(-time.Second).In(shanghai)) != nil {
		t.Error("2022 expected before it ended in Beijing")
	}
	if c := cell(yearEnd.In(shanghai)); c == nil || c.State != reporting.StateOpen {
		t.Errorf("2022 at its end in Beijing: %+v, want expected and open", c)
	}
	if cell(yearEnd) != nil {
		t.Error("2022 expected in UTC before it ended there")
	}
	due := time.Date(2023, 3, 31, 16, 0, 0, 0, time.UTC) // 2023-04-01 00:00 in Beijing
	for _, c := range []struct {
		now  time.Time
		want string
	}{
		{due.Add(-time.Second).In(shanghai), reporting.StateOpen},
		{due.In(shanghai), reporting.StateOpen}, // due at that instant, overdue after it
		{due.Add(time.Second).In(shanghai), reporting.StateOverdue},
		{due.Add(time.Second), reporting.StateOpen}, // UTC: due 8 hours later
		{due.Add(8*time.Hour + time.Second), reporting.StateOverdue},
	} {
		got := cell(c.now)
		if got == nil || got.State != c.want {
			t.Errorf("at %v: %+v, want %s", c.now, got, c.want)
			continue
		}
		if wantDue := due.Add(map[bool]time.Duration{true: 0, false: 8 * time.Hour}[c.now.Location() == shanghai]); !got.Due.Equal(wantDue) {
			t.Errorf("at %v: due %v, want %v", c.now, got.Due, wantDue)
		}
	}
}
