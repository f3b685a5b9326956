package period

import (
	"encoding/json"
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

func TestTextRoundTrip(t *testing.T) {
	for _, in := range []string{"2020", "2020-H1", "2020-H2", "2020-Q3", "2020-07", "2020-12", "2020-07-15", "2024-02-29", "1900", "2999-12-31"} {
		var p Period
		if err := p.UnmarshalText([]byte(in)); err != nil {
			t.Errorf("UnmarshalText(%q): %v", in, err)
			continue
		}
		if want, _ := Parse(in); p != want {
			t.Errorf("UnmarshalText(%q) = %+v, want %+v", in, p, want)
		}
		out, err := p.MarshalText()
		if err != nil || string(out) != in {
			t.Errorf("MarshalText(%+v) = %q, %v; want %q", p, out, err, in)
		}
	}
	// Only the canonical forms: what people type goes through Parse.
	for _, in := range []string{"", "2020年", "2020-q3", "2020-7", "20200715", " 2020", "2020/07/15", "2023-02-29", "2020-H3", "invalid"} {
		var p Period
		if err := p.UnmarshalText([]byte(in)); err == nil {
			t.Errorf("UnmarshalText(%q) = %+v, want error", in, p)
		}
	}
	for _, p := range []Period{{}, {Kind: Quarter, Year: 2020, N: 5}, {Kind: Day, Year: 2023, N: 2, D: 29}, {Kind: Year, Year: 2020, N: 1}, {Kind: 9, Year: 2020}, {Kind: Month, Year: 10000, N: 1}} {
		if out, err := p.MarshalText(); err == nil {
			t.Errorf("MarshalText(%+v) = %q, want error", p, out)
		}
	}
}

func TestJSON(t *testing.T) {
	type row struct {
		P Period `json:"p"`
	}
	b, err := json.Marshal(row{Period{Kind: Quarter, Year: 2020, N: 3}})
	if err != nil || string(b) != `{"p":"2020-Q3"}` {
		t.Fatalf("json.Marshal = %s, %v", b, err)
	}
	var back row
	if err := json.Unmarshal([]byte(`{"p":"2020-07-15"}`), &back); err != nil || back.P != (Period{Kind: Day, Year: 2020, N: 7, D: 15}) {
		t.Fatalf("json.Unmarshal = %+v, %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"p":"2020年"}`), &back); err == nil {
		t.Fatal("json.Unmarshal of a non-canonical period: no error")
	}
}

// FuzzText: whatever text UnmarshalText accepts, MarshalText writes back
// byte for byte; whatever Parse accepts is valid and survives the round trip.
func FuzzText(f *testing.F) {
	for _, s := range []string{"2020", "2020-H1", "2020-Q3", "2020-07", "2020-07-15", "2020年第3季度", "20200715", "2023-02-29", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var p Period
		if err := p.UnmarshalText([]byte(s)); err == nil {
			out, err := p.MarshalText()
			if err != nil || string(out) != s {
				t.Fatalf("UnmarshalText(%q) = %+v, which marshals to %q, %v", s, p, out, err)
			}
		}
		q, err := Parse(s)
		if err != nil {
			return
		}
		if !q.Valid() {
			t.Fatalf("Parse(%q) = %+v, not Valid", s, q)
		}
		out, err := q.MarshalText()
		if err != nil {
			t.Fatalf("MarshalText(Parse(%q)): %v", s, err)
		}
		var back Period
		if err := back.UnmarshalText(out); err != nil || back != q {
			t.Fatalf("round trip of %q: %q → %+v, %v", s, out, back, err)
		}
	})
}
