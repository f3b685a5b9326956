package ingest

import (
	"errors"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// NumberForms says which figures ParseNumber accepts, for errors.
const NumberForms = "a number such as 98.5, 98.5% or 1,482"

// Errors of ParseNumber: what is wrong with the cell (the caller names the
// cell and says what is expected: NumberForms).
var (
	errEmpty  = errors.New("empty value")
	errNotNum = errors.New("not a number")
	errComma  = errors.New("misplaced comma (thousands separators go between groups of three digits before the point; use . for decimals)")
	errHuge   = errors.New("number too large")
)

// ParseNumber reads a reported figure. It is the one number parser of
// every ingest path (the validator, import, the file drop, the
// export layout, the JSON feeds, XLSX cells once read as held).
//
// Accepted, with surrounding white space:
//
//	[sign] digits [. digits] [%]
//
// where sign is + or -, the integer digits may be grouped by thousands
// separators (1,482; 12,345,678.5: a first group of one to three digits not
// starting with 0, then groups of exactly three) and the percent sign may
// follow after spaces. Full-width digits and punctuation count as their
// ASCII forms (９８．５％, １，４８２, －３). Everything else is refused:
// a comma anywhere else (1.234,5; 0.9,999; 1,23; 1,2345; 0,999), an
// exponent, a point without digits on both sides (.5, 5.), two signs,
// NaN, Inf. The value is exactly the one strconv.ParseFloat gives for the
// digits as written (sign, digits and point, separators removed); the bool
// reports the percent sign.
func ParseNumber(s string) (float64, bool, error) {
	var stack [64]byte
	canon, pct, err := canonicalNumber(s, stack[:0])
	if err != nil {
		return 0, pct, err
	}
	if f, ok := simpleDecimal(canon); ok {
		return f, pct, nil
	}
	f, err := strconv.ParseFloat(string(canon), 64)
	if err != nil {
		return 0, pct, errHuge // the grammar admits nothing else ParseFloat refuses
	}
	return f, pct, nil
}

// narrow maps the full-width forms of the characters of a number to ASCII;
// other runes are returned unchanged.
func narrow(r rune) rune {
	switch {
	case r >= '０' && r <= '９':
		return '0' + (r - '０')
	case r == '．':
		return '.'
	case r == '，':
		return ','
	case r == '％':
		return '%'
	case r == '－':
		return '-'
	case r == '＋':
		return '+'
	}
	return r
}

// canonicalNumber checks s against the grammar of ParseNumber and appends
// its canonical ASCII form (sign, digits, point, digits) to buf.
func canonicalNumber(s string, buf []byte) ([]byte, bool, error) {
	// Trim white space (ASCII and Unicode, e.g. the ideographic space).
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		if !unicode.IsSpace(r) {
			break
		}
		s = s[n:]
	}
	for len(s) > 0 {
		r, n := utf8.DecodeLastRuneInString(s)
		if !unicode.IsSpace(r) {
			break
		}
		s = s[:len(s)-n]
	}
	if s == "" {
		return nil, false, errEmpty
	}
	const (
		start   = iota // before the sign
		intPart        // integer digits (and separators)
		frac           // after the point
		percent        // after the percent sign
	)
	state := start
	pct, point := false, false
	intDigits, fracDigits := 0, 0
	group := -1          // digits since the last separator; -1: no separator yet
	firstZero := false   // the integer part starts with 0
	spaceBefore := false // white space after the number, before %
	for _, r := range s {
		r = narrow(r)
		if spaceBefore && r != '%' && !unicode.IsSpace(r) {
			return nil, pct, errNotNum
		}
		switch {
		case r >= '0' && r <= '9':
			switch state {
			case start, intPart:
				if state == start {
					state = intPart
				}
				if intDigits == 0 && r == '0' {
					firstZero = true
				}
				intDigits++
				if group >= 0 {
					group++
					if group > 3 {
						return nil, pct, errComma
					}
				}
			case frac:
				fracDigits++
			default:
				return nil, pct, errNotNum
			}
			buf = append(buf, byte(r))
		case r == ',':
			switch {
			case state != intPart || intDigits == 0:
				return nil, pct, errComma
			case group >= 0 && group != 3:
				return nil, pct, errComma
			case group < 0 && (intDigits > 3 || firstZero):
				return nil, pct, errComma // 1234,5 or 0,999
			}
			group = 0
		case r == '.':
			switch {
			case state == frac:
				return nil, pct, errNotNum // a second point
			case state != intPart || intDigits == 0:
				return nil, pct, errNotNum // .5
			case group >= 0 && group != 3:
				return nil, pct, errComma // 1,23.5
			}
			state, point = frac, true
			buf = append(buf, '.')
		case (r == '-' || r == '+') && state == start && len(buf) == 0:
			if r == '-' {
				buf = append(buf, '-')
			}
			state = intPart
		case r == '%' && (state == intPart || state == frac) && !pct:
			pct = true
			spaceBefore = false
			state = percent
		case unicode.IsSpace(r) && (state == intPart || state == frac) && !pct:
			spaceBefore = true
		default:
			return nil, pct, errNotNum
		}
	}
	switch {
	case intDigits == 0:
		return nil, pct, errNotNum
	case group >= 0 && group != 3:
		return nil, pct, errComma
	case point && fracDigits == 0:
		return nil, pct, errNotNum // 5.
	case spaceBefore:
		return nil, pct, errNotNum
	}
	return buf, pct, nil
}

var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// simpleDecimal reads [-]digits[.digits] with at most 15 digits, where the
// mantissa and the power of ten are exact in a float64 and one correctly
// rounded division gives what strconv.ParseFloat gives.
func simpleDecimal(t []byte) (float64, bool) {
	neg := false
	if len(t) > 0 && t[0] == '-' {
		neg, t = true, t[1:]
	}
	if len(t) == 0 || len(t) > 16 {
		return 0, false
	}
	var mant uint64
	digits, frac, dot := 0, 0, false
	for _, c := range t {
		switch {
		case c >= '0' && c <= '9':
			mant = mant*10 + uint64(c-'0')
			digits++
			if dot {
				frac++
			}
		case c == '.' && !dot:
			dot = true
		default:
			return 0, false
		}
	}
	if digits == 0 || digits > 15 {
		return 0, false
	}
	f := float64(mant) / pow10[frac]
	if neg {
		f = -f
	}
	return f, true
}
