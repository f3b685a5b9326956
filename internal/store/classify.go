package store

import (
	"maps"
	"time"

	"github.com/qualitymon/qualitymon/internal/observation"
)

// Change is what writing a row does to the current value of its key.
type Change string

// The changes a row can make (Classify).
const (
	New       Change = "new"       // no current value: written at revision 0
	Revised   Change = "revised"   // a different value or source: the next revision
	Unchanged Change = "unchanged" // the same value and source: not written
)

// Classify is the one rule of new, revised and unchanged, used by every
// write (the group writes of the spool and of import) and by the review
// queue's diff: cur is the current value of the row's key (nil: none). It
// returns the change and the revision the row is written at.
func Classify(cur *observation.Stored, value float64, source string) (Change, int) {
	switch {
	case cur == nil:
		return New, 0
	case cur.Value == value && cur.Source == source:
		return Unchanged, cur.Revision
	}
	return Revised, cur.Revision + 1
}

// countIn counts a row of this change in a summary (accepted and its change).
func (c Change) countIn(s *observation.Summary) {
	s.Accepted++
	switch c {
	case New:
		s.New++
	case Revised:
		s.Revised++
	default:
		s.Unchanged++
	}
}

// KeySpan collects the indicators, regions and period starts of a batch of
// keys and makes the one filter that selects them (Filter): the lookup of
// current values before a write, the review queue's diff and the grid of
// figures all read through it. The zero KeySpan is empty.
type KeySpan struct {
	inds, regs map[string]bool
	from, to   time.Time
}

// Add adds a key.
func (s *KeySpan) Add(k observation.Key) {
	if s.inds == nil {
		s.inds, s.regs = map[string]bool{}, map[string]bool{}
	}
	s.inds[k.Indicator], s.regs[k.Region] = true, true
	switch t := k.Period.Start(); {
	case s.from.IsZero():
		s.from, s.to = t, t
	case t.Before(s.from):
		s.from = t
	case t.After(s.to):
		s.to = t
	}
}

// merge adds the keys of another span.
func (s *KeySpan) merge(o *KeySpan) {
	if o.inds == nil {
		return
	}
	if s.inds == nil {
		s.inds, s.regs = map[string]bool{}, map[string]bool{}
		s.from, s.to = o.from, o.to
	}
	maps.Copy(s.inds, o.inds)
	maps.Copy(s.regs, o.regs)
	if o.from.Before(s.from) {
		s.from = o.from
	}
	if o.to.After(s.to) {
		s.to = o.to
	}
}

// Filter selects the span's indicators, regions and period range (up to
// the second after its last period start). With more than filterLimit
// distinct indicators (or regions) it does not filter on them: a long
// chain of comparisons is slower than dropping the extra rows in Go, so
// the caller keeps only the keys it wants.
func (s *KeySpan) Filter() Filter {
	return Filter{Indicators: keys(s.inds, filterLimit), Regions: keys(s.regs, filterLimit), From: s.from, To: s.to.Add(time.Second)}
}

// SpanOf is the span of a batch's keys.
func SpanOf(batch []observation.Observation) *KeySpan {
	var s KeySpan
	for i := range batch {
		s.Add(batch[i].Key())
	}
	return &s
}
