package bulk

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"os"

	"github.com/qualitymon/qualitymon/internal/derive"
	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/observation"
)

// recordSize is the size of a validated row in the temporary file:
// indicator u16, region u16, source u32, day u32, row u32, value f64.
const recordSize = 24

type record struct {
	ind, reg uint16
	src      uint32
	day      uint32
	row      uint32
	value    float64
}

func (r *record) put(b []byte) {
	binary.LittleEndian.PutUint16(b[0:], r.ind)
	binary.LittleEndian.PutUint16(b[2:], r.reg)
	binary.LittleEndian.PutUint32(b[4:], r.src)
	binary.LittleEndian.PutUint32(b[8:], r.day)
	binary.LittleEndian.PutUint32(b[12:], r.row)
	binary.LittleEndian.PutUint64(b[16:], math.Float64bits(r.value))
}

func (r *record) get(b []byte) {
	r.ind = binary.LittleEndian.Uint16(b[0:])
	r.reg = binary.LittleEndian.Uint16(b[2:])
	r.src = binary.LittleEndian.Uint32(b[4:])
	r.day = binary.LittleEndian.Uint32(b[8:])
	r.row = binary.LittleEndian.Uint32(b[12:])
	r.value = math.Float64frombits(binary.LittleEndian.Uint64(b[16:]))
}

// records yields the records of a spill file from its current offset, up
// to the end or the first read error.
func records(spill io.Reader) iter.Seq[*record] {
	return func(yield func(*record) bool) {
		br := bufio.NewReaderSize(spill, 1<<20)
		var b [recordSize]byte
		var r record
		for {
			if _, err := io.ReadFull(br, b[:]); err != nil {
				return
			}
			r.get(b[:])
			if !yield(&r) {
				return
			}
		}
	}
}

// validator is pass 1 for one file: it validates rows with
// ingest.Validator.Row (the one set of rules), detects duplicate keys and
// appends valid rows to the spill file.
type validator struct {
	v    *ingest.Validator
	t    *tables
	file string
	seen *seen
	dups []dupRef
	errs ingest.Errors
	out  *bufio.Writer
	buf  [recordSize]byte
	rows int // valid rows

	// deriver and the rows it involves (by indicator number).
	deriver   *derive.Rules
	deriveIn  []bool
	deriveObs []observation.Observation
}

// dupRef is a duplicate-key error whose first row is looked up after pass 1.
type dupRef struct {
	err *ingest.Error
	key uint64
	o   observation.Observation
}

func newValidator(v *ingest.Validator, t *tables, file string, out io.Writer, d *derive.Rules) *validator {
	p := &validator{
		v: v, t: t, file: file,
		seen: newSeen(t), out: bufio.NewWriterSize(out, 1<<20),
		deriver: d, deriveIn: make([]bool, len(t.inds)),
	}
	for _, id := range d.Involved() {
		if i, ok := t.indByID[id]; ok {
			p.deriveIn[i] = true
		}
	}
	return p
}

// full reports that no more errors are collected.
func (p *validator) full() bool { return len(p.errs) >= ingest.MaxErrors }

// rowResult takes the validator's verdict on one row.
func (p *validator) rowResult(row int, o *observation.Observation, errs ingest.Errors) {
	if len(errs) > 0 {
		p.errs = append(p.errs, errs...)
		return
	}
	r, ord, err := p.toRecord(row, o)
	if err != nil {
		p.errs = append(p.errs, &ingest.Error{File: p.file, Row: row, Column: ingest.ColPeriod, Value: o.Period.String(), Message: err.Error()})
		return
	}
	p.accept(row, r, ord, o)
}

func (p *validator) toRecord(row int, o *observation.Observation) (record, int32, error) {
	ii, ok1 := p.t.indByID[o.Indicator]
	ri, ok2 := p.t.regByCode[o.Region]
	day, ok3 := dayOf(o.Period.Start())
	if !ok1 || !ok2 || !ok3 || o.Period.Kind != p.t.indKind[ii] {
		return record{}, 0, fmt.Errorf("cannot store %s/%s/%s", o.Indicator, o.Region, o.Period)
	}
	return record{ind: ii, reg: ri, src: p.t.source(o.Source), day: day, row: uint32(row), value: o.Value}, ordinal(o.Period), nil
}

// accept checks a valid row's key and spills it.
func (p *validator) accept(row int, r record, ord int32, o *observation.Observation) {
	if p.seen.add(p.t.series(r.ind, r.reg), ord) {
		// The first row of the key is found after pass 1 (finish).
		e := ingest.DuplicateKey(p.file, row, o, 0)
		p.errs = append(p.errs, e)
		p.dups = append(p.dups, dupRef{err: e, key: key(r.ind, r.reg, r.day), o: *o})
		return
	}
	if p.deriveIn[r.ind] {
		p.deriveObs = append(p.deriveObs, *o)
	}
	r.put(p.buf[:])
	p.out.Write(p.buf[:])
	p.rows++
}

// source reads any ingest.Source, as ingest.Validator.ReadAll does.
func (p *validator) source(src ingest.Source, tick func()) error {
	for n := 0; !p.full(); n++ {
		if n&0x3fff == 0 && tick != nil {
			tick()
		}
		raw, err := src.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			var e *ingest.Error
			if errors.As(err, &e) {
				p.errs = append(p.errs, e)
				return nil
			}
			return err
		}
		o, errs := p.v.Row(raw)
		p.rowResult(raw.Row, &o, errs)
	}
	return nil
}

// derive checks the figures derived from the file's rows once the file
// itself is valid (ingest.CheckDerived): nothing derived is stored.
func (p *validator) derive() error {
	if len(p.errs) > 0 || len(p.deriveObs) == 0 {
		return nil
	}
	err := ingest.CheckDerived(p.deriver, p.file, p.deriveObs)
	var errs ingest.Errors
	if errors.As(err, &errs) {
		p.errs = append(p.errs, errs...)
		return nil
	}
	return err
}

// finish derives, flushes the spill file and completes duplicate-key
// messages with the row that first gave the key. A file without a single
// row is an error, as everywhere.
func (p *validator) finish(spill *os.File) error {
	if len(p.errs) == 0 && p.rows == 0 {
		p.errs = append(p.errs, ingest.NoRows(p.file))
	}
	if err := p.derive(); err != nil {
		return err
	}
	if err := p.out.Flush(); err != nil {
		return fmt.Errorf("writing temporary file: %w", err)
	}
	if len(p.dups) == 0 {
		return nil
	}
	first := make(map[uint64]uint32, len(p.dups))
	for _, d := range p.dups {
		first[d.key] = 0
	}
	if _, err := spill.Seek(0, io.SeekStart); err != nil {
		return err
	}
	for r := range records(spill) {
		k := key(r.ind, r.reg, r.day)
		if f, ok := first[k]; ok && f == 0 {
			first[k] = r.row
		}
	}
	for _, d := range p.dups {
		*d.err = *ingest.DuplicateKey(p.file, d.err.Row, &d.o, int(first[d.key]))
	}
	return nil
}
