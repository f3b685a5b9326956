package bulk

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/qualitymon/qualitymon/internal/store"
)

// renderer writes line protocol byte for byte as store.ObservationLine and
// the store's revision line do, from records, with the constant parts of a
// line built once per series and per source.
type renderer struct {
	t          *tables
	reportedAt int64
	prefix     [][]byte // per series: "observation,freq=…,indicator=…,region=… value="
	tail       [][]byte // per source: ",revision=0i,reported_at=…i,source=\"…\" "
	srcQuoted  [][]byte // per source: "\"…\""
}

func newRenderer(t *tables, reportedAt int64) *renderer {
	return &renderer{t: t, reportedAt: reportedAt, prefix: make([][]byte, len(t.inds)*len(t.regs))}
}

func (r *renderer) seriesPrefix(ind, reg uint16) []byte {
	s := r.t.series(ind, reg)
	if p := r.prefix[s]; p != nil {
		return p
	}
	var b []byte
	b = append(b, store.MeasObservation...)
	b = r.tags(b, ind, reg)
	b = append(b, " value="...)
	r.prefix[s] = b
	return b
}

func (r *renderer) tags(b []byte, ind, reg uint16) []byte {
	b = append(b, ",freq="...)
	b = append(b, r.t.indKind[ind].String()...)
	b = append(b, ",indicator="...)
	b = escapeTag(b, r.t.inds[ind].ID)
	b = append(b, ",region="...)
	return escapeTag(b, r.t.regs[reg].Code)
}

func (r *renderer) quoted(src uint32) []byte {
	for int(src) >= len(r.srcQuoted) {
		r.srcQuoted = append(r.srcQuoted, quoteField(nil, r.t.sources[len(r.srcQuoted)]))
		r.tail = append(r.tail, nil)
	}
	return r.srcQuoted[src]
}

// newTail is the part of a first report's line between value and time.
func (r *renderer) newTail(src uint32) []byte {
	r.quoted(src)
	if t := r.tail[src]; t != nil {
		return t
	}
	var b []byte
	b = append(b, ",revision=0i,reported_at="...)
	b = strconv.AppendInt(b, r.reportedAt, 10)
	b = append(b, "i,source="...)
	b = append(b, r.srcQuoted[src]...)
	b = append(b, ' ')
	r.tail[src] = b
	return b
}

// line appends the current-value point of a record at revision rev.
func (r *renderer) line(b []byte, rec *record, rev int64) []byte {
	b = append(b, r.seriesPrefix(rec.ind, rec.reg)...)
	b = appendFloat(b, rec.value)
	if rev == 0 {
		b = append(b, r.newTail(rec.src)...)
	} else {
		b = append(b, ",revision="...)
		b = strconv.AppendInt(b, rev, 10)
		b = append(b, "i,reported_at="...)
		b = strconv.AppendInt(b, r.reportedAt, 10)
		b = append(b, "i,source="...)
		b = append(b, r.quoted(rec.src)...)
		b = append(b, ' ')
	}
	b = strconv.AppendInt(b, startOf(rec.day), 10)
	return append(b, '\n')
}

// revisionLine appends the point keeping a superseded value.
func (r *renderer) revisionLine(b []byte, rec *record, old *current) []byte {
	b = append(b, store.MeasRevision...)
	b = r.tags(b, rec.ind, rec.reg)
	b = append(b, ",revision="...)
	b = strconv.AppendInt(b, old.revision, 10)
	b = append(b, " value="...)
	b = appendFloat(b, old.value)
	b = append(b, ",reported_at="...)
	b = strconv.AppendInt(b, old.reportedAt, 10)
	b = append(b, "i,source="...)
	b = append(b, r.quoted(old.src)...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, startOf(rec.day), 10)
	return append(b, '\n')
}

func appendFloat(b []byte, f float64) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return append(b, '0')
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

// escapeTag escapes a tag value (commas, spaces, equals signs, backslashes,
// newlines) as the store does.
func escapeTag(b []byte, s string) []byte {
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

// quoteField writes a string field value in double quotes as the store does.
func quoteField(b []byte, s string) []byte {
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
