package bulk

import (
	"fmt"
	"time"

	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/region"
)

// epoch is day 0 of a record's day number; no period starts earlier.
var epoch = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC).Unix()

// tables numbers indicators, regions and sources so that a validated row is
// a fixed-size record and a key is one uint64.
type tables struct {
	inds      []*catalog.Indicator
	indKind   []period.Kind
	indByID   map[string]uint16
	regs      []*region.Region
	regByCode map[string]uint16
	sources   []string
	srcID     map[string]uint32
}

func newTables(cat *catalog.Catalog, regs *region.Table) (*tables, error) {
	t := &tables{inds: cat.All(), regs: regs.All(), indByID: map[string]uint16{}, regByCode: map[string]uint16{}, srcID: map[string]uint32{}}
	if len(t.inds) > 1<<16 || len(t.regs) > 1<<16 {
		return nil, fmt.Errorf("bulk: %d indicators and %d regions; at most 65536 of each", len(t.inds), len(t.regs))
	}
	for i, ind := range t.inds {
		t.indByID[ind.ID] = uint16(i)
		t.indKind = append(t.indKind, ind.Freq())
	}
	for i, r := range t.regs {
		t.regByCode[r.Code] = uint16(i)
	}
	return t, nil
}

// source interns a source string.
func (t *tables) source(s string) uint32 {
	if id, ok := t.srcID[s]; ok {
		return id
	}
	id := uint32(len(t.sources))
	t.sources = append(t.sources, s)
	t.srcID[s] = id
	return id
}

// sourceBytes interns a source given as bytes without allocating when known.
func (t *tables) sourceBytes(b []byte) uint32 {
	if id, ok := t.srcID[string(b)]; ok {
		return id
	}
	return t.source(string(b))
}

func (t *tables) series(ind, reg uint16) int { return int(ind)*len(t.regs) + int(reg) }

// key packs an observation key: the indicator fixes the period kind, so the
// period's first day identifies the period.
func key(ind, reg uint16, day uint32) uint64 {
	return uint64(ind)<<48 | uint64(reg)<<32 | uint64(day)
}

// dayOf is the day number of a period start (a midnight UTC).
func dayOf(start time.Time) (uint32, bool) {
	s := start.Unix() - epoch
	if s < 0 || s%86400 != 0 || s/86400 > 1<<31 {
		return 0, false
	}
	return uint32(s / 86400), true
}

func startOf(day uint32) int64 { return epoch + int64(day)*86400 }

// observation is the observation a record holds.
func (t *tables) observation(r *record) observation.Observation {
	return observation.Observation{Indicator: t.inds[r.ind].ID, Region: t.regs[r.reg].Code,
		Period: period.FromStart(t.indKind[r.ind], time.Unix(startOf(r.day), 0)), Value: r.value, Source: t.sources[r.src]}
}

// ordinal numbers the periods of one kind consecutively (bit positions in a
// series' bitmap of keys seen).
func ordinal(p period.Period) int32 {
	y := int32(p.Year - 1900)
	switch p.Kind {
	case period.Half:
		return y*2 + int32(p.N) - 1
	case period.Quarter:
		return y*4 + int32(p.N) - 1
	case period.Month:
		return y*12 + int32(p.N) - 1
	case period.Day:
		d, _ := dayOf(p.Start())
		return int32(d)
	}
	return y
}

// seen records the keys of one file: a bitmap of period ordinals per series.
type seen struct {
	series []*bitmap
}

type bitmap struct {
	base int32 // ordinal of bit 0 of w[0], a multiple of 64
	w    []uint64
}

func newSeen(t *tables) *seen { return &seen{series: make([]*bitmap, len(t.inds)*len(t.regs))} }

// add marks (series, ord) and reports whether it was marked already.
func (s *seen) add(series int, ord int32) bool {
	b := s.series[series]
	if b == nil {
		b = &bitmap{base: ord &^ 63, w: make([]uint64, 1)}
		s.series[series] = b
	}
	if ord < b.base {
		nb := ord &^ 63
		grow := int((b.base - nb) / 64)
		w := make([]uint64, grow+len(b.w))
		copy(w[grow:], b.w)
		b.base, b.w = nb, w
	}
	i := int((ord - b.base) / 64)
	if i >= len(b.w) {
		b.w = append(b.w, make([]uint64, i+1-len(b.w))...)
	}
	m := uint64(1) << uint((ord-b.base)%64)
	if b.w[i]&m != 0 {
		return true
	}
	b.w[i] |= m
	return false
}
