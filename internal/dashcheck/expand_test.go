package dashcheck

import (
	"testing"
	"time"
)

func TestInterpolate(t *testing.T) {
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	sc := &Scope{From: from, To: from.Add(6 * time.Hour), Interval: 30 * time.Second, Scrape: 15 * time.Second,
		Vars: map[string]Value{
			"plan":    {Values: []string{"shandong-2018"}},
			"region":  {All: true, AllValue: ".*", Values: []string{"370000", "370200"}},
			"regions": {All: true, Values: []string{"370000", "460000"}},
			"ind":     {Values: []string{"a.b"}},
		}}
	for _, c := range []struct{ in, want string }{
		{`x{plan="$plan"}`, `x{plan="shandong-2018"}`},
		{`x{plan="${plan}", region=~"$region"}`, `x{plan="shandong-2018", region=~".*"}`},
		{`x{region=~"${regions:regex}"}`, `x{region=~"(370000|460000)"}`},
		{`x{region=~"${regions:pipe}"}`, `x{region=~"370000|460000"}`},
		{`x{i=~"${ind:regex}"} [[plan]]`, `x{i=~"a\.b"} shandong-2018`},
		{`rate(x[$__rate_interval]) [$__interval] [$__range] $__range_s`, `rate(x[1m]) [30s] [21600s] 21600`},
		{`$__interval_ms $__from`, `30000 1767225600000`},
		{`$unknown stays`, `$unknown stays`},
		{`r.region =~ /^${regions:regex}$/`, `r.region =~ /^(370000|460000)$/`},
	} {
		if got := sc.Interpolate(c.in); got != c.want {
			t.Errorf("Interpolate(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestFluxMacros(t *testing.T) {
	from := time.Date(2016, 11, 22, 0, 0, 0, 0, time.UTC)
	sc := &Scope{From: from, To: from.AddDate(10, 0, 0), Interval: 24 * time.Hour}
	in := `from(bucket: v.defaultBucket) |> range(start: v.timeRangeStart, stop: v.timeRangeStop) |> filter(fn: (r) => r.region == "x") |> aggregateWindow(every: v.windowPeriod, fn: last) |> limit(n: $__interval_ms) // $__interval`
	want := `from(bucket: "qualitymon/autogen") |> range(start: 2016-11-22T00:00:00Z, stop: 2026-11-22T00:00:00Z) |> filter(fn: (r) => r.region == "x") |> aggregateWindow(every: 24h0m0s, fn: last) |> limit(n: 86400000) // 1d`
	if got := FluxMacros(in, sc, "qualitymon/autogen", "-"); got != want {
		t.Errorf("FluxMacros:\n got %s\nwant %s", got, want)
	}
}

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 11, 22, 13, 44, 0, 0, time.UTC)
	for _, c := range []struct {
		in   string
		want time.Time
	}{
		{"now", now},
		{"now-30d", time.Date(2026, 10, 23, 13, 44, 0, 0, time.UTC)},
		{"now-10y", time.Date(2016, 11, 22, 13, 44, 0, 0, time.UTC)},
		{"now+1y", time.Date(2027, 11, 22, 13, 44, 0, 0, time.UTC)},
		{"now-6h", now.Add(-6 * time.Hour)},
		{"now/y", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"now-1M/M", time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)},
		{"2020-01-01T00:00:00Z", time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		got, err := ParseTime(c.in, now)
		if err != nil || !got.Equal(c.want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "yesterday", "now-5x", "now-"} {
		if _, err := ParseTime(bad, now); err == nil {
			t.Errorf("ParseTime(%q): no error", bad)
		}
	}
}

func TestIntervals(t *testing.T) {
	now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		rng    time.Duration
		points int
		min    time.Duration
		want   string
	}{
		{6 * time.Hour, 1600, 15 * time.Second, "15s"}, // 13.5 s rounds to 10 s, clamped to the scrape interval
		{6 * time.Hour, 800, 0, "30s"},                 // 27 s
		{30 * 24 * time.Hour, 1600, 0, "30m"},          // 27 min
		{10 * 365 * 24 * time.Hour, 800, 0, "1d"},      // 4.6 days: Grafana rounds anything under a week to a day
		{10 * 365 * 24 * time.Hour, 100, 0, "30d"},     // 36.5 days
	} {
		got := FormatInterval(CalcInterval(now.Add(-c.rng), now, c.points, c.min))
		if got != c.want {
			t.Errorf("interval for %s over %d points (min %s) = %s, want %s", c.rng, c.points, c.min, got, c.want)
		}
	}
}
