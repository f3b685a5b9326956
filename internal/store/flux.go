package store

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The Flux writer: every value qualitymon puts into a Flux query text —
// bucket, measurement, tag values, ids, times — is written by FluxString or
// FluxTime, never by fmt's %q (whose Go escapes leave Flux's ${…}
// interpolation alive) or by concatenation.

// FluxString returns s as a Flux string literal that evaluates to exactly s,
// whatever s holds. Following the string-literal grammar of Flux 0.65 (the
// Flux of InfluxDB 1.8; docs/SPEC.md "String literals"): `"` and `\` are
// escaped with a backslash; newline, carriage return and tab become \n, \r
// and \t; every `$` is written as the byte escape \x24, so no ${…}
// interpolation can start (Flux's own \${ escape is not used: its scanner
// reads "$" followed by any byte as one character, so a "$" before an
// escape would swallow the backslash); every other control byte, DEL and
// every byte that is not part of valid UTF-8 is written as \xNN. Other
// characters (Chinese text included) are written as they are.
func FluxString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, w := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && w == 1 {
				hexByte(&b, c)
			} else {
				b.WriteString(s[i : i+w])
			}
			i += w
			continue
		}
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '$' || c < 0x20 || c == 0x7f:
			hexByte(&b, c)
		default:
			b.WriteByte(c)
		}
		i++
	}
	b.WriteByte('"')
	return b.String()
}

func hexByte(b *strings.Builder, c byte) {
	const digits = "0123456789abcdef"
	b.WriteString(`\x`)
	b.WriteByte(digits[c>>4])
	b.WriteByte(digits[c&0xf])
}

// FluxTime returns t as a Flux time literal: RFC 3339 in UTC with the
// nanoseconds it has (2024-01-01T00:00:00Z), clamped to the times InfluxDB
// can hold (1677-09-22 to 2262-04-11), so that no time.Time, whatever its
// year, makes a literal Flux cannot read.
func FluxTime(t time.Time) string {
	if t.Before(minFluxTime) {
		t = minFluxTime
	} else if t.After(maxFluxTime) {
		t = maxFluxTime
	}
	return t.UTC().Format(time.RFC3339Nano)
}

var (
	minFluxTime = time.Date(1677, 9, 22, 0, 0, 0, 0, time.UTC)
	maxFluxTime = time.Date(2262, 4, 11, 0, 0, 0, 0, time.UTC)
)

// fluxInt returns n as a Flux integer literal.
func fluxInt(n int64) string { return strconv.FormatInt(n, 10) }

// fluxAnyOf returns the predicate "r.<column> <op> v1 <join> r.<column> <op>
// v2 …" over literals of vals; column is one of qualitymon's own column
// names, never a request's text.
func fluxAnyOf(column, op, join string, vals []string) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = "r." + column + " " + op + " " + FluxString(v)
	}
	return strings.Join(parts, " "+join+" ")
}
