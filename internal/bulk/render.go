package bulk

import (
	"strconv"

	"github.com/qualitymon/qualitymon/internal/store"
)

// renderer writes records as line protocol with the store's encoder
// (store.Append*), building the constant parts of a line once per series
// and per source.
type renderer struct {
	t          *tables
	reportedAt int64
	prefix     [][]byte // per series: "observation,freq=…,indicator=…,region=… value="
	tail       [][]byte // per source: ",revision=0i,reported_at=…i,source=\"…\" "
}

func newRenderer(t *tables, reportedAt int64) *renderer {
	return &renderer{t: t, reportedAt: reportedAt, prefix: make([][]byte, len(t.inds)*len(t.regs))}
}

func (r *renderer) seriesPrefix(ind, reg uint16) []byte {
	s := r.t.series(ind, reg)
	if p := r.prefix[s]; p != nil {
		return p
	}
	b := append([]byte(store.MeasObservation), store.AppendSeriesTags(nil, r.t.indKind[ind], r.t.inds[ind].ID, r.t.regs[reg].Code)...)
	b = append(b, " value="...)
	r.prefix[s] = b
	return b
}

// newTail is the part of a first report's line between value and time.
func (r *renderer) newTail(src uint32) []byte {
	for int(src) >= len(r.tail) {
		r.tail = append(r.tail, nil)
	}
	if t := r.tail[src]; t != nil {
		return t
	}
	r.tail[src] = store.AppendRevisionFields(nil, 0, r.reportedAt, r.t.sources[src])
	return r.tail[src]
}

// line appends the current-value point of a record at revision rev.
func (r *renderer) line(b []byte, rec *record, rev int64) []byte {
	b = append(b, r.seriesPrefix(rec.ind, rec.reg)...)
	b = store.AppendFloat(b, rec.value)
	if rev == 0 {
		b = append(b, r.newTail(rec.src)...)
	} else {
		b = store.AppendRevisionFields(b, rev, r.reportedAt, r.t.sources[rec.src])
	}
	b = strconv.AppendInt(b, startOf(rec.day), 10)
	return append(b, '\n')
}

// revisionLine appends the point keeping a superseded value.
func (r *renderer) revisionLine(b []byte, rec *record, old *current) []byte {
	b = store.AppendSuperseded(b, r.t.indKind[rec.ind], r.t.inds[rec.ind].ID, r.t.regs[rec.reg].Code,
		old.revision, old.value, old.reportedAt, r.t.sources[old.src], startOf(rec.day))
	return append(b, '\n')
}

// reportLine appends the observation_report point of a record written at
// revision rev (times in nanoseconds: a batch of its own).
func (r *renderer) reportLine(b []byte, rec *record, rev int64) []byte {
	o := r.t.observation(rec)
	b = store.AppendReport(b, &o, rev, r.reportedAt)
	return append(b, '\n')
}
