package bulk

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
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

// cacheLimit bounds each lookup cache; past it lookups still work, uncached.
const cacheLimit = 1 << 16

// perInfo is a period cell resolved once.
type perInfo struct {
	ok     bool
	kind   period.Kind
	ord    int32
	day    uint32
	future bool
}

// validator is pass 1 for one file: it validates rows, detects duplicate
// keys and appends valid rows to the spill file.
type validator struct {
	v    *ingest.Validator
	t    *tables
	file string
	now  time.Time

	inds   map[string]int32 // cell → indicator number, -1 unknown
	regs   map[string]int32
	pers   map[string]perInfo
	unitOK map[string]map[string]bool // unit → cell → matches
	indOK  []bool                     // allowed by the scope
	regOK  []bool
	seen   *seen
	dups   []dupRef
	errs   ingest.Errors
	out    *bufio.Writer
	buf    [recordSize]byte
	rows   int // valid rows

	// deriver and the rows it involves (by indicator number).
	deriver   *ingest.Deriver
	deriveIn  []bool
	deriveObs []observation.Observation

	// The previous row's cells: files come grouped by indicator and period.
	lastInd lastCell[int32]
	lastPer lastCell[perInfo]
	lastSrc lastCell[uint32]
	codes   map[uint32]int32 // six-digit region code → number
}

// lastCell remembers one column's previous cell and what it resolved to.
type lastCell[V any] struct {
	cell []byte
	v    V
}

// get resolves cell, calling resolve only when cell differs from the
// previous one.
func (c *lastCell[V]) get(cell []byte, resolve func([]byte) V) V {
	if c.cell == nil || !bytes.Equal(cell, c.cell) {
		c.cell, c.v = append(c.cell[:0], cell...), resolve(cell)
	}
	return c.v
}

// dupRef is a duplicate-key error whose first row is looked up after pass 1.
type dupRef struct {
	err *ingest.Error
	key uint64
	o   observation.Observation
}

func newValidator(v *ingest.Validator, t *tables, file string, out io.Writer, d *ingest.Deriver) *validator {
	p := &validator{
		v: v, t: t, file: file,
		inds: map[string]int32{}, regs: map[string]int32{}, pers: map[string]perInfo{}, unitOK: map[string]map[string]bool{},
		indOK: make([]bool, len(t.inds)), regOK: make([]bool, len(t.regs)),
		seen: newSeen(t), out: bufio.NewWriterSize(out, 1<<20),
		deriver: d, deriveIn: make([]bool, len(t.inds)),
	}
	for _, id := range d.Involved() {
		if i, ok := t.indByID[id]; ok {
			p.deriveIn[i] = true
		}
	}
	if v.Now != nil {
		p.now = v.Now()
	}
	for i, ind := range t.inds {
		p.indOK[i] = v.Scope.AllowsIndicator(ind.ID)
	}
	p.codes = map[uint32]int32{}
	for i, r := range t.regs {
		p.regOK[i] = v.Scope.AllowsRegion(r.Code)
		if n, err := strconv.ParseUint(r.Code, 10, 32); err == nil && len(r.Code) == 6 && strconv.FormatUint(n, 10) == r.Code {
			if got, ok := v.Regions.Resolve(r.Code); ok && got == r {
				p.codes[uint32(n)] = int32(i)
			}
		}
	}
	return p
}

// full reports that no more errors are collected.
func (p *validator) full() bool { return len(p.errs) >= ingest.MaxErrors }

func (p *validator) indicator(cell []byte) int32 {
	return cached(p.inds, cell, func(s string) int32 {
		if ind, ok := p.v.Catalog.Resolve(s); ok {
			return int32(p.t.indByID[ind.ID])
		}
		return -1
	})
}

// cached looks a cell up in a bounded cache in front of resolve.
func cached[V any](cache map[string]V, cell []byte, resolve func(string) V) V {
	if v, ok := cache[string(cell)]; ok {
		return v
	}
	s := string(cell)
	v := resolve(s)
	if len(cache) < cacheLimit {
		cache[s] = v
	}
	return v
}

func (p *validator) region(cell []byte) int32 {
	if len(cell) == 6 {
		n, digits := uint32(0), true
		for _, c := range cell {
			n = n*10 + uint32(c-'0')
			digits = digits && c >= '0' && c <= '9'
		}
		if i, ok := p.codes[n]; ok && digits {
			return i
		}
	}
	return cached(p.regs, cell, func(s string) int32 {
		if r, ok := p.v.Regions.Resolve(s); ok {
			return int32(p.t.regByCode[r.Code])
		}
		return -1
	})
}

func (p *validator) period(cell []byte) perInfo {
	return cached(p.pers, cell, func(s string) perInfo {
		if per, err := period.Parse(s); err == nil {
			if day, ok := dayOf(per.Start()); ok {
				return perInfo{ok: true, kind: per.Kind, ord: ordinal(per), day: day, future: p.v.Now != nil && !per.Begun(p.now)}
			}
		}
		return perInfo{}
	})
}

// number parses a value cell with ingest.ParseNumber, the one number
// parser, without copying the cell.
func number(cell []byte) (float64, bool, error) {
	if len(cell) == 0 {
		return ingest.ParseNumber("")
	}
	return ingest.ParseNumber(unsafe.String(&cell[0], len(cell)))
}

// cleanText reports whether a cell holds text every cell may hold
// (ingest.TextProblem), with a shortcut for printable ASCII.
func cleanText(cell []byte, multiline bool) bool {
	for _, c := range cell {
		if c < 0x20 || c >= 0x7f {
			return ingest.TextProblem(unsafe.String(&cell[0], len(cell)), multiline) == ""
		}
	}
	return true
}

// cols are the canonical columns a fast row reads, by position in the file.
type cols struct {
	ind, reg, per, val, unit, src int // -1: absent
	note                          int
	width                         int // cells of the header
	names                         map[string]string
	index                         map[string]int
}

func cell(fields [][]byte, i int) []byte {
	if i < 0 || i >= len(fields) {
		return nil
	}
	return fields[i]
}

// fastRow validates one row of the canonical CSV; rows it is not sure of
// go to ingest.Validator.Row.
func (p *validator) fastRow(row int, fields [][]byte, c *cols) {
	indCell := trimSpace(cell(fields, c.ind))
	ii := p.lastInd.get(indCell, p.indicator)
	if ii < 0 || !p.indOK[ii] {
		p.slowRow(row, fields, c)
		return
	}
	ri := p.region(trimSpace(cell(fields, c.reg)))
	if ri < 0 || !p.regOK[ri] {
		p.slowRow(row, fields, c)
		return
	}
	pi := p.lastPer.get(trimSpace(cell(fields, c.per)), p.period)
	if !pi.ok || pi.future || pi.kind != p.t.indKind[ii] {
		p.slowRow(row, fields, c)
		return
	}
	ind := p.t.inds[ii]
	val, pct, err := number(cell(fields, c.val))
	if err != nil || pct || !ind.InRange(val) || !p.cleanRow(fields, c) {
		p.slowRow(row, fields, c) // the validator's verdict and message
		return
	}
	if u := trimSpace(cell(fields, c.unit)); len(u) > 0 && !p.unitOK[ind.Unit][string(u)] {
		p.slowRow(row, fields, c)
		return
	}
	src := p.lastSrc.get(trimSpace(cell(fields, c.src)), p.t.sourceBytes)
	p.accept(row, record{ind: uint16(ii), reg: uint16(ri), src: src, day: pi.day, row: uint32(row), value: val}, pi.ord, nil)
}

// cleanRow reports whether every cell the validator reads holds text it
// accepts (the cells resolved through the caches included: they are
// trimmed before lookup, the validator checks them whole).
func (p *validator) cleanRow(fields [][]byte, c *cols) bool {
	for _, i := range [...]int{c.ind, c.reg, c.per, c.val, c.unit, c.src} {
		if !cleanText(cell(fields, i), false) {
			return false
		}
	}
	return cleanText(cell(fields, c.note), true)
}

// slowRow validates a row with ingest.Validator.Row, the authority.
func (p *validator) slowRow(row int, fields [][]byte, c *cols) {
	raw := &ingest.Raw{File: p.file, Row: row, Cells: make(map[string]string, len(c.index)), Columns: c.names}
	for col, i := range c.index {
		if i < len(fields) {
			raw.Cells[col] = string(fields[i])
		}
	}
	o, errs := p.v.Row(raw)
	if len(errs) == 0 {
		if u := strings.TrimSpace(raw.Cells[ingest.ColUnit]); u != "" {
			p.learnUnit(o.Indicator, u)
		}
	}
	p.rowResult(row, &o, errs)
}

// learnUnit remembers a unit cell the validator accepted for an indicator.
func (p *validator) learnUnit(id, u string) {
	ind, ok := p.v.Catalog.Get(id)
	if !ok {
		return
	}
	m := p.unitOK[ind.Unit]
	if m == nil {
		m = map[string]bool{}
		p.unitOK[ind.Unit] = m
	}
	if len(m) < cacheLimit {
		m[u] = true
	}
}

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
		var ob observation.Observation
		if o != nil {
			ob = *o
		} else {
			ob = p.t.observation(&r)
		}
		e := &ingest.Error{File: p.file, Row: row, Column: ingest.ColPeriod, Value: ob.Period.String()}
		p.errs = append(p.errs, e)
		p.dups = append(p.dups, dupRef{err: e, key: key(r.ind, r.reg, r.day), o: ob})
		return
	}
	if p.deriveIn[r.ind] {
		p.deriveObs = append(p.deriveObs, p.t.observation(&r))
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

// derive adds the derived observations of the file's rows, validated like
// any row, once the file itself is valid.
func (p *validator) derive() error {
	if len(p.errs) > 0 || len(p.deriveObs) == 0 {
		return nil
	}
	all, err := p.deriver.Apply(p.file, p.deriveObs)
	if err != nil {
		var errs ingest.Errors
		if errors.As(err, &errs) {
			p.errs = append(p.errs, errs...)
			return nil
		}
		return err
	}
	return p.source(ingest.Typed(p.file+" (derived)", all[len(p.deriveObs):]), nil)
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
		o := d.o
		d.err.Message = fmt.Sprintf("duplicate key %s/%s/%s, first given on row %d", o.Indicator, o.Region, o.Period, first[d.key])
	}
	return nil
}
