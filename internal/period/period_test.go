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
