package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"math"
	"time"

	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
)

// The payload of a "QMS4" record is compact and binary, about 20 bytes a
// row where the JSON of "QMS3" took about 150, so that a large upload's
// record costs little to build and the flusher can read it in chunks
// without decoding it whole:
//
//	format   byte     compactFormat (a JSON payload starts with '{')
//	id       uvarint
//	origin, who, file  string (uvarint length, bytes)
//	reported uvarint  Unix seconds + 1<<62 (zero time: 0), uvarint nanoseconds
//	strings  uvarint count, then each string: the indicators, regions,
//	                  sources and notes of the rows, each once
//	rows     uvarint count, then per row: uvarint indexes of its indicator,
//	                  region, source and note in strings; byte period kind,
//	                  varint year, uvarint N, uvarint D; float64 value
//	                  (8 bytes, little-endian IEEE 754)
//
// Nothing may follow the last row.
const compactFormat = 0x04

// maxCompactStrings bounds the string table a payload may announce (a
// batch has at most one distinct string per field and row).
const maxCompactStrings = 1 << 26

// compactRows is the rows of a compact payload, still encoded.
type compactRows struct {
	strs []string
	rows []byte // the row section, after its count
	n    int
}

// appendCompact appends the compact payload of a batch to buf.
func appendCompact(buf []byte, id uint64, batch []observation.Observation, meta observation.Meta) []byte {
	buf = append(buf, compactFormat)
	buf = binary.AppendUvarint(buf, id)
	for _, s := range []string{meta.Origin, meta.Who, meta.File} {
		buf = appendString(buf, s)
	}
	if meta.ReportedAt.IsZero() {
		buf = binary.AppendUvarint(buf, 0)
		buf = binary.AppendUvarint(buf, 0)
	} else {
		buf = binary.AppendUvarint(buf, uint64(meta.ReportedAt.Unix())+1<<62)
		buf = binary.AppendUvarint(buf, uint64(meta.ReportedAt.Nanosecond()))
	}
	index := map[string]uint64{}
	var strs []string
	intern := func(s string) {
		if _, ok := index[s]; !ok {
			index[s] = uint64(len(strs))
			strs = append(strs, s)
		}
	}
	for i := range batch {
		o := &batch[i]
		intern(o.Indicator)
		intern(o.Region)
		intern(o.Source)
		intern(o.Note)
	}
	buf = binary.AppendUvarint(buf, uint64(len(strs)))
	for _, s := range strs {
		buf = appendString(buf, s)
	}
	buf = binary.AppendUvarint(buf, uint64(len(batch)))
	for i := range batch {
		o := &batch[i]
		buf = binary.AppendUvarint(buf, index[o.Indicator])
		buf = binary.AppendUvarint(buf, index[o.Region])
		buf = binary.AppendUvarint(buf, index[o.Source])
		buf = binary.AppendUvarint(buf, index[o.Note])
		buf = append(buf, byte(o.Period.Kind))
		buf = binary.AppendVarint(buf, int64(o.Period.Year))
		buf = binary.AppendUvarint(buf, uint64(o.Period.N))
		buf = binary.AppendUvarint(buf, uint64(o.Period.D))
		buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(o.Value))
	}
	return buf
}

func appendString(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

// errCompact is a compact payload that does not read.
var errCompact = errors.New("bad compact payload")

// compactReader reads a compact payload.
type compactReader struct {
	b   []byte
	err error
}

func (r *compactReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errCompact
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *compactReader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errCompact
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *compactReader) bytes(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = errCompact
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *compactReader) string() string { return string(r.bytes(r.uvarint())) }

// decodeCompact reads a compact payload's metadata and string table and
// checks its rows (without decoding them: see compactRows.chunks).
func decodeCompact(body []byte) (*payload, error) {
	r := &compactReader{b: body[1:]}
	p := &payload{ID: r.uvarint()}
	p.Origin, p.Who, p.File = r.string(), r.string(), r.string()
	sec, nsec := r.uvarint(), r.uvarint()
	if sec != 0 {
		if sec < 1<<61 || nsec >= 1e9 {
			return nil, fmt.Errorf("%w: reported_at", errCompact)
		}
		p.ReportedAt = time.Unix(int64(sec-1<<62), int64(nsec)).UTC()
	}
	ns := r.uvarint()
	if ns > maxCompactStrings || ns > uint64(len(r.b)) {
		return nil, fmt.Errorf("%w: %d strings", errCompact, ns)
	}
	c := &compactRows{strs: make([]string, ns)}
	for i := range c.strs {
		c.strs[i] = r.string()
	}
	n := r.uvarint()
	if r.err != nil {
		return nil, r.err
	}
	if n > uint64(len(r.b))/12 { // a row takes at least 12 bytes
		return nil, fmt.Errorf("%w: %d rows in %d bytes", errCompact, n, len(r.b))
	}
	c.rows, c.n = r.b, int(n)
	// Check every row now, so that a record that reads is read whole.
	rest := c.rows
	for range c.n {
		if _, rest = c.row(rest); rest == nil {
			return nil, fmt.Errorf("%w: rows", errCompact)
		}
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the rows", errCompact, len(rest))
	}
	p.compact = c
	return p, nil
}

// row decodes the row b starts with; rest is nil when it does not read.
func (c *compactRows) row(b []byte) (o observation.Observation, rest []byte) {
	r := &compactReader{b: b}
	var idx [4]uint64
	for i := range idx {
		if idx[i] = r.uvarint(); idx[i] >= uint64(len(c.strs)) {
			return o, nil
		}
	}
	kind := r.bytes(1)
	year, n, d := r.varint(), r.uvarint(), r.uvarint()
	val := r.bytes(8)
	if r.err != nil || kind[0] < byte(period.Year) || kind[0] > byte(period.Day) || year < math.MinInt32 || year > math.MaxInt32 || n > math.MaxInt32 || d > math.MaxInt32 {
		return o, nil
	}
	o = observation.Observation{Indicator: c.strs[idx[0]], Region: c.strs[idx[1]], Source: c.strs[idx[2]], Note: c.strs[idx[3]],
		Period: period.Period{Kind: period.Kind(kind[0]), Year: int(year), N: int(n), D: int(d)},
		Value:  math.Float64frombits(binary.LittleEndian.Uint64(val))}
	if r.b == nil {
		r.b = []byte{}
	}
	return o, r.b
}

// chunks decodes the rows size at a time (the last chunk may be shorter);
// each chunk is the caller's.
func (c *compactRows) chunks(size int) iter.Seq[[]observation.Observation] {
	return func(yield func([]observation.Observation) bool) {
		b := c.rows
		for done := 0; done < c.n; {
			chunk := make([]observation.Observation, min(size, c.n-done))
			for i := range chunk {
				chunk[i], b = c.row(b) // checked by decodeCompact
			}
			done += len(chunk)
			if !yield(chunk) {
				return
			}
		}
	}
}
