package period

import (
	"testing"
	"time"
)

func TestParseRoundTrip(t *testing.T) {
	cases := []struct {
		in, want string
		start    string
		end      string
	}{
		{"2020", "2020", "2020-01-01", "2021-01-01"},
		{"2020-H2", "2020-H2", "2020-07-01", "2021-01-01"},
		{"2020-q3", "2020-Q3", "2020-07-01", "2020-10-01"},
		{"2020-07", "2020-07", "2020-07-01", "2020-08-01"},
		{"2020-7", "2020-07", "2020-07-01", "2020-08-01"},
		{"2020-07-15", "2020-07-15", "2020-07-15", "2020-07-16"},
		{"2024-02-29", "2024-02-29", "2024-02-29", "2024-03-01"},
		{"2020年", "2020", "2020-01-01", "2021-01-01"},
		{"2020年7月", "2020-07", "2020-07-01", "2020-08-01"},
		{"2020年第3季度", "2020-Q3", "2020-07-01", "2020-10-01"},
		{"2020/07/15", "2020-07-15", "2020-07-15", "2020-07-16"},
		{"20200715", "2020-07-15", "2020-07-15", "2020-07-16"},
		{" 2021 ", "2021", "2021-01-01", "2022-01-01"},
	}
	for _, c := range cases {
		p, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if p.String() != c.want {
			t.Errorf("Parse(%q) = %s, want %s", c.in, p, c.want)
		}
		if got := p.Start().Format("2006-01-02"); got != c.start {
			t.Errorf("%s start = %s, want %s", c.in, got, c.start)
		}
		if got := p.End().Format("2006-01-02"); got != c.end {
			t.Errorf("%s end = %s, want %s", c.in, got, c.end)
		}
		if back := FromStart(p.Kind, p.Start()); back != p {
			t.Errorf("FromStart(%s) = %s", p, back)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, in := range []string{"", "20", "abcd", "2020-13", "2020-00", "2020-H3", "2020-Q5", "2023-02-29", "2020-07-32", "1800", "2020-07-15-01", "985", "２０２０"} {
		if p, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %v, want error", in, p)
		}
	}
}

func TestKindNames(t *testing.T) {
	for _, k := range []Kind{Year, Half, Quarter, Month, Day} {
		back, err := ParseKind(k.String())
		if err != nil || back != k {
			t.Errorf("ParseKind(%s) = %v, %v", k, back, err)
		}
	}
	if _, err := ParseKind("week"); err == nil {
		t.Error("ParseKind(week) succeeded")
	}
	if OfDay(time.Date(2021, 3, 4, 23, 0, 0, 0, time.UTC)).String() != "2021-03-04" {
		t.Error("OfDay")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"2020", "2020-H1", "2020-Q3", "2020-07", "2020-07-15", "2020年第3季度", "20200715"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			return
		}
		again, err := Parse(p.String())
		if err != nil || again != p {
			t.Fatalf("%q -> %s does not round-trip: %v %v", s, p, again, err)
		}
		if !p.End().After(p.Start()) {
			t.Fatalf("%s: end not after start", p)
		}
	})
}

func TestBegunOnTheZonesCalendar(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	d := Period{Kind: Day, Year: 2026, N: 12, D: 7}
	at := time.Date(2026, 12, 6, 17, 0, 0, 0, time.UTC) // 01:00 on 7 December in Beijing
	if !d.Begun(at.In(shanghai)) || d.Begun(at) {
		t.Errorf("2026-12-07 at 2026-12-06T17:00Z: begun in Shanghai %v, in UTC %v; want true, false", d.Begun(at.In(shanghai)), d.Begun(at))
	}
	if got := d.StartIn(shanghai); !got.Equal(time.Date(2026, 12, 6, 16, 0, 0, 0, time.UTC)) {
		t.Errorf("StartIn = %v", got)
	}
	y := OfYear(2026)
	end := time.Date(2026, 12, 31, 16, 0, 0, 0, time.UTC) // 2027-01-01 00:00 in Beijing
	if y.Ended(end.Add(-time.Second).In(shanghai)) || !y.Ended(end.In(shanghai)) || y.Ended(end) {
		t.Error("2026 does not end at midnight Beijing time in Shanghai, or ends then in UTC")
	}
	if !y.Start().Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Error("Start (what a period is stored as) changed")
	}
}
