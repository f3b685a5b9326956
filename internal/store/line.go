package store

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
)

// The line-protocol encoder: every point qualitymon writes is rendered by
// these functions (the store's writes, the spool's replays, the fast
// importer's batches, which cache the constant parts they return).

// AppendTag appends a tag value, escaping commas, spaces, equals signs,
// backslashes and newlines.
func AppendTag(b []byte, s string) []byte {
	if !strings.ContainsAny(s, ", =\\\n") {
		return append(b, s...)
	}
	for _, c := range s {
		switch c {
		case ',', ' ', '=', '\\':
			b = append(b, '\\')
		case '\n':
			b = append(b, `\n`...)
			continue
		}
		b = utf8.AppendRune(b, c)
	}
	return b
}

// AppendString appends a string field value in double quotes.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	for _, c := range s {
		switch c {
		case '"', '\\':
			b = append(b, '\\')
		case '\n':
			b = append(b, `\n`...)
			continue
		}
		b = utf8.AppendRune(b, c)
	}
	return append(b, '"')
}

// AppendFloat appends a float field value (0 for Inf and NaN, which line
// protocol cannot carry).
func AppendFloat(b []byte, f float64) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return append(b, '0')
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

// AppendSeriesTags appends the tags of an observation series:
// ",freq=…,indicator=…,region=…".
func AppendSeriesTags(b []byte, k period.Kind, indicator, region string) []byte {
	b = append(b, ",freq="...)
	b = append(b, k.String()...)
	b = append(b, ",indicator="...)
	b = AppendTag(b, indicator)
	b = append(b, ",region="...)
	return AppendTag(b, region)
}

// AppendObservation appends the current-value point of an observation at a
// revision (no newline). The source is always written, even empty: a point
// rewritten at the same series and time keeps the fields it does not
// overwrite.
func AppendObservation(b []byte, o *observation.Observation, revision int64, reportedAt int64) []byte {
	b = append(b, MeasObservation...)
	b = AppendSeriesTags(b, o.Period.Kind, o.Indicator, o.Region)
	b = append(b, " value="...)
	b = AppendFloat(b, o.Value)
	b = AppendRevisionFields(b, revision, reportedAt, o.Source)
	return strconv.AppendInt(b, o.Period.Start().Unix(), 10)
}

// AppendRevisionFields appends ",revision=…i,reported_at=…i,source=\"…\" ",
// the fields after value of a current-value point, and the space before its
// time.
func AppendRevisionFields(b []byte, revision, reportedAt int64, source string) []byte {
	b = append(b, ",revision="...)
	b = strconv.AppendInt(b, revision, 10)
	b = append(b, "i,reported_at="...)
	b = strconv.AppendInt(b, reportedAt, 10)
	b = append(b, "i,source="...)
	b = AppendString(b, source)
	return append(b, ' ')
}

// AppendSuperseded appends the point that keeps a value a revision
// superseded (no newline).
func AppendSuperseded(b []byte, k period.Kind, indicator, region string, revision int64, value float64, reportedAt int64, source string, start int64) []byte {
	b = append(b, MeasRevision...)
	b = AppendSeriesTags(b, k, indicator, region)
	b = append(b, ",revision="...)
	b = strconv.AppendInt(b, revision, 10)
	b = append(b, " value="...)
	b = AppendFloat(b, value)
	b = append(b, ",reported_at="...)
	b = strconv.AppendInt(b, reportedAt, 10)
	b = append(b, "i,source="...)
	b = AppendString(b, source)
	b = append(b, ' ')
	return strconv.AppendInt(b, start, 10)
}

// ObservationLine renders the current-value point of an observation.
func ObservationLine(b *strings.Builder, o *observation.Observation, revision int, reportedAt time.Time) {
	b.Write(AppendObservation(nil, o, int64(revision), reportedAt.Unix()))
}
