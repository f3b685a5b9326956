package store

import (
	"math"
	"strconv"
	"strings"
)

// escapeTag escapes a tag value for line protocol (commas, spaces, equals signs).
func escapeTag(b *strings.Builder, s string) {
	if !strings.ContainsAny(s, ", =\\\n") {
		b.WriteString(s)
		return
	}
	for _, r := range s {
		switch r {
		case ',', ' ', '=', '\\':
			b.WriteByte('\\')
		case '\n':
			b.WriteString("\\n")
			continue
		}
		b.WriteRune(r)
	}
}

// quoteField writes a string field value in double quotes.
func quoteField(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
		case '\n':
			b.WriteString("\\n")
			continue
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
}

func formatFloat(f float64) string {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return "0"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
