package ingest

import (
	"errors"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/width"
)

// ParseNumber reads a reported figure. Accepted: 98.5, 98.5%, -1.2, 1,482 and
// 1,482.5 (thousands separators in groups of three), full-width digits
// (１２３, ９８．５％), and surrounding spaces. The bool reports a percent sign.
// Anything else is an error saying what was expected.
func ParseNumber(s string) (float64, bool, error) {
	t := strings.TrimSpace(width.Narrow.String(s))
	t = strings.ReplaceAll(t, "。", ".")
	if t == "" {
		return 0, false, errors.New("empty value")
	}
	pct := false
	if rest, ok := strings.CutSuffix(t, "%"); ok {
		pct = true
		t = strings.TrimSpace(rest)
	}
	if strings.Contains(t, ",") {
		if !thousands(t) {
			return 0, pct, errors.New("misplaced comma (thousands separators go every three digits; use . for decimals)")
		}
		t = strings.ReplaceAll(t, ",", "")
	}
	for _, r := range t {
		if !(unicode.IsDigit(r) && r < 128) && r != '.' && r != '-' && r != '+' {
			return 0, pct, errors.New("not a number")
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil {
		return 0, pct, errors.New("not a number")
	}
	return v, pct, nil
}

// thousands reports whether s groups its integer digits by threes.
func thousands(s string) bool {
	s = strings.TrimLeft(s, "+-")
	intPart, _, _ := strings.Cut(s, ".")
	groups := strings.Split(intPart, ",")
	if len(groups[0]) < 1 || len(groups[0]) > 3 {
		return false
	}
	for _, g := range groups[1:] {
		if len(g) != 3 {
			return false
		}
	}
	return true
}
