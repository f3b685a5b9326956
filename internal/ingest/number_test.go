package ingest

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/text/width"
)

func TestParseNumber(t *testing.T) {
	ok := []struct {
		in   string
		want float64
		pct  bool
	}{
		{"98.5", 98.5, false}, {"98.5%", 98.5, true}, {"98.5 %", 98.5, true}, {" 96 ", 96, false},
		{"-3.2", -3.2, false}, {"+3", 3, false}, {"0", 0, false}, {"0.5", 0.5, false}, {"007", 7, false},
		{"1,482", 1482, false}, {"12,345.6", 12345.6, false}, {"1,482.5", 1482.5, false},
		{"12,345,678", 12345678, false}, {"-1,000", -1000, false}, {"1,000%", 1000, true},
		{"１２３", 123, false}, {"９８．５", 98.5, false}, {"１，４８２", 1482, false}, {"９８．５％", 98.5, true},
		{"－３．２", -3.2, false}, {"\u3000９８．５\u3000", 98.5, false},
		{"0.98456", 0.98456, false}, {"98.456", 98.456, false},
		{"12345678901234567890", 12345678901234567890, false},
		{"0.1000000000000000055511151231257827", 0.1, false},
	}
	for _, c := range ok {
		got, pct, err := ParseNumber(c.in)
		if err != nil || got != c.want || pct != c.pct {
			t.Errorf("ParseNumber(%q) = %v, %v, %v; want %v, %v", c.in, got, pct, err, c.want, c.pct)
		}
	}
	refused := []struct{ in, msg string }{
		{"", "empty"}, {"  ", "empty"},
		{"1.234,5", "comma"}, {"0.9,999", "comma"}, {"1,23", "comma"}, {"1,2345", "comma"}, {"0,999", "comma"},
		{"98,5", "comma"}, {"1,48", "comma"}, {"12,34,567", "comma"}, {"1234,567", "comma"}, {",123", "comma"},
		{"1,,234", "comma"}, {"1,234,", "comma"}, {"1,23.5", "comma"}, {"-,123", "comma"}, {"１，２３", "comma"},
		{"abc", "not a number"}, {"98.5.1", "not a number"}, {"1e3", "not a number"}, {"1E-3", "not a number"},
		{"—", "not a number"}, {"N/A", "not a number"}, {"98.5%%", "not a number"}, {"%98.5", "not a number"},
		{"NaN", "not a number"}, {"Inf", "not a number"}, {"-Inf", "not a number"}, {".5", "not a number"},
		{"5.", "not a number"}, {"-", "not a number"}, {"+-5", "not a number"}, {"--5", "not a number"},
		{"1 482", "not a number"}, {"98.5%5", "not a number"}, {"98.5 x", "not a number"}, {"0x1p3", "not a number"},
		{"1_000", "not a number"}, {"98。5", "not a number"}, {"\u22123.2", "not a number"}, {"(3)", "not a number"},
		{"3-", "not a number"}, {"98.5\x00", "not a number"}, {"9\u200b8", "not a number"}, {"９８．５．", "not a number"},
		{"1" + strings.Repeat("0", 400), "too large"},
	}
	for _, c := range refused {
		v, _, err := ParseNumber(c.in)
		if err == nil {
			t.Errorf("ParseNumber(%q) = %v, want an error", c.in, v)
		} else if !strings.Contains(err.Error(), c.msg) {
			t.Errorf("ParseNumber(%q): %v, want it to say %q", c.in, err, c.msg)
		}
	}
}

// numberOracle is the grammar of ParseNumber as a regular expression over
// the narrowed, trimmed cell: accepted exactly when it matches.
var numberOracle = regexp.MustCompile(`^[+-]?([1-9][0-9]{0,2}(,[0-9]{3})+|[0-9]+)(\.[0-9]+)?[\t\n\v\f\r \x{85}\x{A0}\p{Z}]*%?$`)

// canonicalOracle is what the digits as written say: narrowed, trimmed,
// without separators and the percent sign.
func canonicalOracle(s string) string {
	t := strings.TrimSpace(width.Narrow.String(s))
	t = strings.TrimRightFunc(strings.TrimSuffix(t, "%"), unicode.IsSpace)
	return strings.ReplaceAll(t, ",", "")
}

// FuzzParseNumber: an accepted cell has exactly the value of its digits as
// written (strconv.ParseFloat of the canonical digits) and matches the
// grammar; a refused cell does not match the grammar, and the validator
// refuses its row with an error naming the file, row and value column.
func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"98.5", "98.5%", "-3.2", "１２３", "９８．５％", "１，４８２", "1,482", "12,345.6", "-0",
		"1,,2", "1.234,5", "0.9,999", "1,23", "1,2345", "0,999", "1e5", ".5", "5.", "98.5 %", " 1 ", "NaN",
		"12345678901234567890.123456789", "0.1000000000000000055511151231257827"} {
		f.Add(s)
	}
	v := validator(f)
	f.Fuzz(func(t *testing.T, s string) {
		got, pct, err := ParseNumber(s)
		narrowed := strings.TrimSpace(width.Narrow.String(s))
		matches := numberOracle.MatchString(narrowed)
		if err == nil {
			if !matches {
				t.Fatalf("ParseNumber(%q) accepted %v, outside the grammar", s, got)
			}
			if pct != strings.HasSuffix(narrowed, "%") {
				t.Fatalf("ParseNumber(%q) percent = %v", s, pct)
			}
			want, perr := strconv.ParseFloat(canonicalOracle(s), 64)
			if perr != nil || math.Float64bits(got) != math.Float64bits(want) {
				t.Fatalf("ParseNumber(%q) = %v, the digits as written say %v (%v)", s, got, want, perr)
			}
			return
		}
		if matches && !strings.Contains(err.Error(), "too large") {
			t.Fatalf("ParseNumber(%q) refused a number of the grammar: %v", s, err)
		}
		raw := &Raw{File: "fuzz.csv", Row: 7, Cells: map[string]string{ColIndicator: "food_sampling_pass_rate", ColRegion: "370000", ColPeriod: "2020", ColValue: s}}
		_, errs := v.Row(raw)
		for _, e := range errs {
			if e.File == "fuzz.csv" && e.Row == 7 && e.Column == ColValue && e.Value == s && e.Expected != "" {
				return
			}
		}
		t.Fatalf("row with value %q refused by ParseNumber (%v) but the validator said %v", s, err, errs)
	})
}
