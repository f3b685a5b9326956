package evaluate

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/qualitymon/qualitymon/internal/derive"
)

// The figures of a Data in binary, for the engine's snapshot of its last
// full read (a start that need not read everything again): the reported
// yearly series, the ends of the latest periods observed and the daily
// values of rolled-up indicators; the derived figures are computed again
// when it is read. Counts, years, days and times (unix ns) are varints,
// strings a length and their bytes, values the 8 bytes of a float64:
//
//	yearly  indicators, each: id, regions, each: code, points, each: year, value
//	last    indicators, each: id, regions, each: code, end
//	days    indicators, each: id, regions, each: code, years, each: year, days, each: day of the year, value
//
// It carries no checksum: the file that holds it does.

// AppendBinary appends the figures of d to b.
func (d *Data) AppendBinary(b []byte) []byte {
	b, _ = d.appendBinary(b, nil)
	return b
}

// WriteBinary writes what AppendBinary appends to w, a megabyte at a time
// (at 300,000 targets the whole is some 200 MB).
func (d *Data) WriteBinary(w io.Writer) error {
	b, err := d.appendBinary(make([]byte, 0, 2<<20), func(b []byte) ([]byte, error) {
		if len(b) < 1<<20 {
			return b, nil
		}
		_, err := w.Write(b)
		return b[:0], err
	})
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// appendBinary appends the figures of d to b, handing b to flush (when
// not nil) after each region, which returns what to append to next.
func (d *Data) appendBinary(b []byte, flush func([]byte) ([]byte, error)) ([]byte, error) {
	b, err := appendNested(b, flush, d.yearly, func(b []byte, s Series) []byte {
		b = binary.AppendUvarint(b, uint64(len(s)))
		for _, p := range s {
			b = binary.AppendVarint(b, int64(p.Year))
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p.Value))
		}
		return b
	})
	if err != nil {
		return b, err
	}
	if b, err = appendNested(b, flush, d.last, func(b []byte, t time.Time) []byte { return binary.AppendVarint(b, t.UnixNano()) }); err != nil {
		return b, err
	}
	return appendNested(b, flush, d.days, func(b []byte, ys map[int]*derive.Days) []byte {
		b = binary.AppendUvarint(b, uint64(len(ys)))
		for y, days := range ys {
			b = binary.AppendVarint(b, int64(y))
			b = binary.AppendUvarint(b, uint64(days.Len()))
			days.Each(func(day int, v float64) {
				b = binary.AppendUvarint(b, uint64(day))
				b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
			})
		}
		return b
	})
}

func appendNested[V any](b []byte, flush func([]byte) ([]byte, error), m map[string]map[string]V, val func([]byte, V) []byte) ([]byte, error) {
	b = binary.AppendUvarint(b, uint64(len(m)))
	for ind, regs := range m {
		b = appendString(b, ind)
		b = binary.AppendUvarint(b, uint64(len(regs)))
		for reg, v := range regs {
			b = appendString(b, reg)
			b = val(b, v)
			if flush != nil {
				var err error
				if b, err = flush(b); err != nil {
					return b, err
				}
			}
		}
	}
	return b, nil
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// DataFromBinary reads figures AppendBinary wrote, with the evaluator's
// derived figures computed from them.
func (e *Evaluator) DataFromBinary(b []byte) (*Data, error) {
	r := &binReader{b: b}
	d := e.NewDataBuilder().d
	d.yearly = readNested(r, func(r *binReader) Series {
		s := make(Series, r.count(9))
		for i := range s {
			s[i] = Point{Year: int(r.varint()), Value: r.float()}
		}
		return s
	})
	d.last = readNested(r, func(r *binReader) time.Time { return time.Unix(0, r.varint()).UTC() })
	days := readNested(r, func(r *binReader) map[int]*derive.Days {
		ys := make(map[int]*derive.Days)
		for range r.count(2) {
			y, days := int(r.varint()), &derive.Days{}
			start := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
			for range r.count(9) {
				day, v := r.uvarint(), r.float()
				if day >= 366 {
					r.fail()
				}
				days.Set(start.AddDate(0, 0, int(day)), v)
			}
			ys[y] = days
		}
		return ys
	})
	if len(days) > 0 {
		d.days = days
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(r.b) > 0 {
		return nil, fmt.Errorf("figures: %d bytes after the end", len(r.b))
	}
	d.derive()
	return d, nil
}

func readNested[V any](r *binReader, val func(*binReader) V) map[string]map[string]V {
	m := make(map[string]map[string]V)
	for range r.count(2) {
		ind := r.string()
		regs := make(map[string]V)
		for range r.count(2) {
			reg := r.string()
			regs[reg] = val(r)
		}
		m[ind] = regs
	}
	return m
}

var errShort = errors.New("figures: cut short or damaged")

// binReader reads AppendBinary's encoding; after the first error every
// read returns zero and r.err says what went wrong.
type binReader struct {
	b   []byte
	err error
}

func (r *binReader) fail() {
	if r.err == nil {
		r.err = errShort
	}
	r.b = nil
}

func (r *binReader) uvarint() uint64 { return binVarint(r, binary.Uvarint) }

func (r *binReader) varint() int64 { return binVarint(r, binary.Varint) }

// binVarint reads one varint with decode (binary.Uvarint or Varint); a cut
// or malformed one fails the reader.
func binVarint[T uint64 | int64](r *binReader, decode func([]byte) (T, int)) T {
	v, n := decode(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads a count of items of at least size bytes each; a count the
// rest cannot hold is damage.
func (r *binReader) count(size int) int {
	n := r.uvarint()
	if n > uint64(len(r.b)/size) {
		r.fail()
		return 0
	}
	return int(n)
}

func (r *binReader) float() float64 {
	if len(r.b) < 8 {
		r.fail()
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
	r.b = r.b[8:]
	return v
}

func (r *binReader) string() string {
	n := r.count(1)
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}
