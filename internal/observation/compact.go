package observation

import (
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"math"

	"github.com/qualitymon/qualitymon/internal/period"
)

// Compact is a batch of observations held compactly: each distinct
// indicator, region, source and note once, and per row their indexes, the
// period packed and the value, about 20 bytes a row where an Observation
// takes 104. The validator collects a file's rows in one (expanding them
// once, at their exact number, when the file is valid) and the spool
// writes its records in its encoding (Append, ReadCompact):
//
//	strings  uvarint count, then each string (uvarint length, bytes)
//	rows     uvarint count, then per row: uvarint indexes of its indicator,
//	         region, source and note in strings; byte period kind, varint
//	         year, uvarint N, uvarint D; float64 value (8 bytes,
//	         little-endian IEEE 754)
//
// The zero value is an empty batch.
type Compact struct {
	strs  []string
	index map[string]uint64 // while adding
	rows  []byte
	n     int
}

// Add appends an observation.
func (c *Compact) Add(o *Observation) {
	if c.index == nil {
		c.index = make(map[string]uint64, len(c.strs))
		for i, s := range c.strs {
			c.index[s] = uint64(i)
		}
	}
	for _, s := range [...]string{o.Indicator, o.Region, o.Source, o.Note} {
		i, ok := c.index[s]
		if !ok {
			i = uint64(len(c.strs))
			c.index[s] = i
			c.strs = append(c.strs, s)
		}
		c.rows = binary.AppendUvarint(c.rows, i)
	}
	c.rows = append(c.rows, byte(o.Period.Kind))
	c.rows = binary.AppendVarint(c.rows, int64(o.Period.Year))
	c.rows = binary.AppendUvarint(c.rows, uint64(o.Period.N))
	c.rows = binary.AppendUvarint(c.rows, uint64(o.Period.D))
	c.rows = binary.LittleEndian.AppendUint64(c.rows, math.Float64bits(o.Value))
	c.n++
}

// CompactOf returns batch as a Compact.
func CompactOf(batch []Observation) *Compact {
	c := &Compact{rows: make([]byte, 0, 20*len(batch))}
	for i := range batch {
		c.Add(&batch[i])
	}
	return c
}

// Len is the number of rows.
func (c *Compact) Len() int { return c.n }

// Size is at least how many bytes Append appends.
func (c *Compact) Size() int {
	n := len(c.rows) + 2*binary.MaxVarintLen64
	for _, s := range c.strs {
		n += len(s) + binary.MaxVarintLen64
	}
	return n
}

// Append appends the batch's encoding to buf.
func (c *Compact) Append(buf []byte) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(c.strs)))
	for _, s := range c.strs {
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	buf = binary.AppendUvarint(buf, uint64(c.n))
	return append(buf, c.rows...)
}

// ErrCompact is an encoding that does not read.
var ErrCompact = errors.New("bad compact batch")

// ReadCompact reads an encoding Append wrote, which must be all of b; its
// rows are checked, not decoded (Chunks does that), and b is kept.
func ReadCompact(b []byte) (*Compact, error) {
	r := &compactReader{b: b}
	ns := r.uvarint()
	if ns > uint64(len(r.b)) { // each string takes a byte at least
		return nil, fmt.Errorf("%w: %d strings in %d bytes", ErrCompact, ns, len(r.b))
	}
	c := &Compact{strs: make([]string, ns)}
	for i := range c.strs {
		c.strs[i] = string(r.bytes(r.uvarint()))
	}
	n := r.uvarint()
	if r.err != nil {
		return nil, r.err
	}
	if n > uint64(len(r.b))/minRowBytes {
		return nil, fmt.Errorf("%w: %d rows in %d bytes", ErrCompact, n, len(r.b))
	}
	c.rows, c.n = r.b, int(n)
	rest := c.rows
	for range c.n {
		if _, rest = c.row(rest); rest == nil {
			return nil, fmt.Errorf("%w: rows", ErrCompact)
		}
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the rows", ErrCompact, len(rest))
	}
	return c, nil
}

// minRowBytes is the size of the shortest row.
const minRowBytes = 4 + 1 + 3 + 8

// row decodes the row b starts with; rest is nil when it does not read.
func (c *Compact) row(b []byte) (o Observation, rest []byte) {
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
	if r.err != nil {
		return o, nil
	}
	// Every value round-trips, whatever it is: what Add wrote always reads.
	o = Observation{Indicator: c.strs[idx[0]], Region: c.strs[idx[1]], Source: c.strs[idx[2]], Note: c.strs[idx[3]],
		Period: period.Period{Kind: period.Kind(kind[0]), Year: int(year), N: int(n), D: int(d)},
		Value:  math.Float64frombits(binary.LittleEndian.Uint64(val))}
	return o, r.b
}

// Chunks decodes the rows size at a time (the last chunk may be shorter);
// each chunk is the caller's.
func (c *Compact) Chunks(size int) iter.Seq[[]Observation] {
	return func(yield func([]Observation) bool) {
		b := c.rows
		for done := 0; done < c.n; {
			chunk := make([]Observation, min(size, c.n-done))
			for i := range chunk {
				chunk[i], b = c.row(b) // checked by ReadCompact, or written by Add
			}
			done += len(chunk)
			if !yield(chunk) {
				return
			}
		}
	}
}

// Observations decodes every row, into a slice of exactly their number.
func (c *Compact) Observations() []Observation {
	out := make([]Observation, c.n)
	b := c.rows
	for i := range out {
		out[i], b = c.row(b)
	}
	return out
}

// compactReader reads an encoding; the first failure sticks.
type compactReader struct {
	b   []byte
	err error
}

func (r *compactReader) uvarint() uint64 { return readVarint(r, binary.Uvarint) }

func (r *compactReader) varint() int64 { return readVarint(r, binary.Varint) }

// readVarint takes one varint from r with decode (binary.Uvarint or
// binary.Varint); a bad or short one sets r.err.
func readVarint[T uint64 | int64](r *compactReader, decode func([]byte) (T, int)) T {
	if r.err != nil {
		return 0
	}
	v, n := decode(r.b)
	if n <= 0 {
		r.err = ErrCompact
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
		r.err = ErrCompact
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}
