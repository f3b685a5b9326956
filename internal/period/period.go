// Package period parses, formats and orders the reporting periods an observation
// belongs to: a year (2020), a half (2020-H1), a quarter (2020-Q3), a month
// (2020-07) or a day (2020-07-15).
package period

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Kind is the granularity of a period.
type Kind uint8

// The period kinds, coarsest first.
const (
	Year Kind = iota + 1
	Half
	Quarter
	Month
	Day
)

var kindNames = map[Kind]string{Year: "year", Half: "half", Quarter: "quarter", Month: "month", Day: "day"}

// String returns the kind's name as used in tags and configuration.
func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// ParseKind is the inverse of Kind.String.
func ParseKind(s string) (Kind, error) {
	for k, n := range kindNames {
		if n == s {
			return k, nil
		}
	}
	return 0, fmt.Errorf("unknown period kind %q (want year, half, quarter, month or day)", s)
}

// Period is one reporting period. N is the half (1-2), quarter (1-4) or month
// (1-12); D is the day of month for Kind Day.
type Period struct {
	Kind Kind
	Year int
	N    int
	D    int
}

// OfYear returns the period for a whole year.
func OfYear(y int) Period { return Period{Kind: Year, Year: y} }

// OfDay returns the day period of t's calendar date.
func OfDay(t time.Time) Period {
	return Period{Kind: Day, Year: t.Year(), N: int(t.Month()), D: t.Day()}
}

// Parse reads the canonical forms 2020, 2020-H1, 2020-Q3, 2020-07 and 2020-07-15.
// Also accepted: 2020年, 2020年7月, 2020年第3季度, 2020/07/15 and 20200715.
func Parse(s string) (Period, error) {
	in := strings.TrimSpace(s)
	p, ok := parse(in)
	if !ok {
		return Period{}, fmt.Errorf("invalid period %q (want YYYY, YYYY-H1, YYYY-Q3, YYYY-MM or YYYY-MM-DD)", s)
	}
	return p, nil
}

// chinese rewrites the Chinese and slashed spellings to the canonical
// separators (built once: a Replacer is costly to build, cheap to use).
var chinese = strings.NewReplacer("年第", "-Q", "季度", "", "上半年", "-H1", "下半年", "-H2", "年", "-", "月", "-", "日", "", "/", "-")

func parse(s string) (Period, bool) {
	s = chinese.Replace(s)
	s = strings.TrimSuffix(s, "-")
	if len(s) == 8 && !strings.Contains(s, "-") {
		s = s[:4] + "-" + s[4:6] + "-" + s[6:]
	}
	parts := strings.Split(s, "-")
	year, ok := num(parts[0], 4)
	if !ok || year < 1900 || year > 2999 {
		return Period{}, false
	}
	switch len(parts) {
	case 1:
		return OfYear(year), true
	case 2:
		x := strings.ToUpper(parts[1])
		switch {
		case strings.HasPrefix(x, "H"):
			n, ok := num(x[1:], 1)
			return Period{Kind: Half, Year: year, N: n}, ok && n >= 1 && n <= 2
		case strings.HasPrefix(x, "Q"):
			n, ok := num(x[1:], 1)
			return Period{Kind: Quarter, Year: year, N: n}, ok && n >= 1 && n <= 4
		}
		n, ok := num(x, 0)
		return Period{Kind: Month, Year: year, N: n}, ok && n >= 1 && n <= 12
	case 3:
		m, ok1 := num(parts[1], 0)
		d, ok2 := num(parts[2], 0)
		if !ok1 || !ok2 || m < 1 || m > 12 || d < 1 {
			return Period{}, false
		}
		t := time.Date(year, time.Month(m), d, 0, 0, 0, 0, time.UTC)
		if t.Day() != d {
			return Period{}, false
		}
		return Period{Kind: Day, Year: year, N: m, D: d}, true
	}
	return Period{}, false
}

// num parses a run of ASCII digits; width 0 accepts 1-2 digits.
func num(s string, width int) (int, bool) {
	if s == "" || (width > 0 && len(s) != width) || (width == 0 && len(s) > 2) {
		return 0, false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// String formats the period in its canonical form.
func (p Period) String() string {
	switch p.Kind {
	case Year:
		return fmt.Sprintf("%04d", p.Year)
	case Half:
		return fmt.Sprintf("%04d-H%d", p.Year, p.N)
	case Quarter:
		return fmt.Sprintf("%04d-Q%d", p.Year, p.N)
	case Month:
		return fmt.Sprintf("%04d-%02d", p.Year, p.N)
	case Day:
		return fmt.Sprintf("%04d-%02d-%02d", p.Year, p.N, p.D)
	}
	return "invalid"
}

// Valid reports whether p is a period Parse could return: a known kind, a
// year in 1900..2999, a half, quarter or month in range, a day that exists.
func (p Period) Valid() bool {
	if p.Year < 1900 || p.Year > 2999 {
		return false
	}
	switch p.Kind {
	case Year:
		return p.N == 0 && p.D == 0
	case Half:
		return p.N >= 1 && p.N <= 2 && p.D == 0
	case Quarter:
		return p.N >= 1 && p.N <= 4 && p.D == 0
	case Month:
		return p.N >= 1 && p.N <= 12 && p.D == 0
	case Day:
		return p.N >= 1 && p.N <= 12 && p.D >= 1 && time.Date(p.Year, time.Month(p.N), p.D, 0, 0, 0, 0, time.UTC).Day() == p.D
	}
	return false
}

// MarshalText writes the period in its canonical form (String), so that a
// period is stored as text wherever it is encoded (JSON: "2020-Q3"). An
// invalid period (the zero Period among them) is an error, never "invalid".
func (p Period) MarshalText() ([]byte, error) {
	if !p.Valid() {
		return nil, fmt.Errorf("period: cannot encode an invalid period %+v", struct{ Kind, Year, N, D int }{int(p.Kind), p.Year, p.N, p.D})
	}
	return []byte(p.String()), nil
}

// UnmarshalText reads a period in its canonical form only (2020, 2020-H1,
// 2020-Q3, 2020-07, 2020-07-15): what MarshalText writes. Parse is for
// what people type.
func (p *Period) UnmarshalText(b []byte) error {
	q, ok := parse(string(b))
	if !ok || q.String() != string(b) {
		return fmt.Errorf("invalid period %q (want the canonical YYYY, YYYY-H1, YYYY-Q3, YYYY-MM or YYYY-MM-DD)", b)
	}
	*p = q
	return nil
}

// Start is the first instant of the period, in UTC.
func (p Period) Start() time.Time {
	switch p.Kind {
	case Half:
		return time.Date(p.Year, time.Month(6*(p.N-1)+1), 1, 0, 0, 0, 0, time.UTC)
	case Quarter:
		return time.Date(p.Year, time.Month(3*(p.N-1)+1), 1, 0, 0, 0, 0, time.UTC)
	case Month:
		return time.Date(p.Year, time.Month(p.N), 1, 0, 0, 0, 0, time.UTC)
	case Day:
		return time.Date(p.Year, time.Month(p.N), p.D, 0, 0, 0, 0, time.UTC)
	}
	return time.Date(p.Year, 1, 1, 0, 0, 0, 0, time.UTC)
}

// End is the first instant after the period.
func (p Period) End() time.Time {
	s := p.Start()
	switch p.Kind {
	case Half:
		return s.AddDate(0, 6, 0)
	case Quarter:
		return s.AddDate(0, 3, 0)
	case Month:
		return s.AddDate(0, 1, 0)
	case Day:
		return s.AddDate(0, 0, 1)
	}
	return s.AddDate(1, 0, 0)
}

// StartIn is the first instant of the period on the calendar of loc (nil:
// UTC): the day of 2026-12-07 begins at 2026-12-07T00:00+08:00 in
// Asia/Shanghai. Start, in UTC, is what the period is stored as; StartIn and
// EndIn decide when a period has begun and ended for the people who report it.
func (p Period) StartIn(loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	s := p.Start()
	return time.Date(s.Year(), s.Month(), s.Day(), 0, 0, 0, 0, loc)
}

// EndIn is the first instant after the period on the calendar of loc (nil:
// UTC).
func (p Period) EndIn(loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	e := p.End()
	return time.Date(e.Year(), e.Month(), e.Day(), 0, 0, 0, 0, loc)
}

// Begun reports whether the period has begun at now, on the calendar of
// now's location: qualitymon's clock runs in the config's timezone
// (Asia/Shanghai unless set), so that a bureau in Beijing may report
// today's daily figure from midnight Beijing time, not from 08:00.
func (p Period) Begun(now time.Time) bool { return !p.StartIn(now.Location()).After(now) }

// Ended reports whether the period has ended at now, on the calendar of
// now's location (as Begun).
func (p Period) Ended(now time.Time) bool { return !p.EndIn(now.Location()).After(now) }

// FromStart rebuilds a period of kind k from its start instant (as stored).
func FromStart(k Kind, t time.Time) Period {
	t = t.UTC()
	switch k {
	case Half:
		return Period{Kind: Half, Year: t.Year(), N: (int(t.Month())-1)/6 + 1}
	case Quarter:
		return Period{Kind: Quarter, Year: t.Year(), N: (int(t.Month())-1)/3 + 1}
	case Month:
		return Period{Kind: Month, Year: t.Year(), N: int(t.Month())}
	case Day:
		return OfDay(t)
	}
	return OfYear(t.Year())
}

// Interval is the nominal length of one period of kind k.
func (k Kind) Interval() time.Duration {
	switch k {
	case Half:
		return 182 * 24 * time.Hour
	case Quarter:
		return 91 * 24 * time.Hour
	case Month:
		return 31 * 24 * time.Hour
	case Day:
		return 24 * time.Hour
	}
	return 366 * 24 * time.Hour
}

// Prev is the period of the same kind just before p (2023 for 2024,
// 2024-Q4 for 2025-Q1).
func (p Period) Prev() Period { return FromStart(p.Kind, p.Start().Add(-time.Second)) }
