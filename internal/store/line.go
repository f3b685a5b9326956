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

// appendTag appends a tag value, escaping commas, spaces, equals signs,
// backslashes and newlines.
func appendTag(b []byte, s string) []byte {
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

// appendString appends a string field value in double quotes.
func appendString(b []byte, s string) []byte {
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

// appendFloat appends a float field value (0 for Inf and NaN, which line
// protocol cannot carry).
func appendFloat(b []byte, f float64) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return append(b, '0')
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

// appendSeriesTags appends the tags of an observation series:
// ",freq=…,indicator=…,region=…".
func appendSeriesTags(b []byte, k period.Kind, indicator, region string) []byte {
	b = append(b, ",freq="...)
	b = append(b, k.String()...)
	b = append(b, ",indicator="...)
	b = appendTag(b, indicator)
	b = append(b, ",region="...)
	return appendTag(b, region)
}

// appendObservation appends the current-value point of an observation at a
// revision (no newline). The source is always written, even empty: a point
// rewritten at the same series and time keeps the fields it does not
// overwrite.
func appendObservation(b []byte, o *observation.Observation, revision int64, reportedAt int64) []byte {
	b = append(b, measObservation...)
	b = appendSeriesTags(b, o.Period.Kind, o.Indicator, o.Region)
	b = append(b, " value="...)
	b = appendFloat(b, o.Value)
	b = appendRevisionFields(b, revision, reportedAt, o.Source, o.Note)
	return strconv.AppendInt(b, o.Period.Start().Unix(), 10)
}

// appendRevisionFields appends ",revision=…i,reported_at=…i,source=\"…\",
// note=\"…\" ", the fields after value of a current-value point, and the
// space before its time. The note (备注, the reason a bureau gave) is
// always written, even empty, so that a revision without one does not keep
// the note of the value it replaced.
func appendRevisionFields(b []byte, revision, reportedAt int64, source, note string) []byte {
	b = append(b, ",revision="...)
	b = strconv.AppendInt(b, revision, 10)
	b = append(b, "i,reported_at="...)
	b = strconv.AppendInt(b, reportedAt, 10)
	b = append(b, "i,source="...)
	b = appendString(b, source)
	b = append(b, ",note="...)
	b = appendString(b, note)
	return append(b, ' ')
}

// appendSuperseded appends the point that keeps a value a revision
// superseded (no newline).
func appendSuperseded(b []byte, k period.Kind, indicator, region string, revision int64, value float64, reportedAt int64, source, note string, start int64) []byte {
	b = append(b, measRevision...)
	b = appendSeriesTags(b, k, indicator, region)
	b = append(b, ",revision="...)
	b = strconv.AppendInt(b, revision, 10)
	b = append(b, " value="...)
	b = appendFloat(b, value)
	b = append(b, ",reported_at="...)
	b = strconv.AppendInt(b, reportedAt, 10)
	b = append(b, "i,source="...)
	b = appendString(b, source)
	b = append(b, ",note="...)
	b = appendString(b, note)
	b = append(b, ' ')
	return strconv.AppendInt(b, start, 10)
}

// ObservationLine renders the current-value point of an observation.
func ObservationLine(b *strings.Builder, o *observation.Observation, revision int, reportedAt time.Time) {
	b.Write(appendObservation(nil, o, int64(revision), reportedAt.Unix()))
}
