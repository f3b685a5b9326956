package reporting

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/internal/store"
)

// figureTable is the figures of a listing's items, compactly: by the index
// of the items, 32 bytes each (a Figure is 104), their sources interned,
// as the store answered them (before the receipts are looked up). The
// pages of a read fill it at once (add); at 300,000 targets a Figure an
// item was 300 MB more at the refresh's peak.
type figureTable struct {
	figs    []cachedFigure
	mu      sync.Mutex // guards the interning while pages fill it
	sources []string   // cachedFigure.source → the source
	srcIdx  map[string]uint32
}

// cachedFigure is one item's figure: times in Unix nanoseconds, UTC.
type cachedFigure struct {
	value               float64
	reported, submitted int64
	revision            int32
	source              uint32
	found               bool
}

// newFigureTable is a table for n items, with the sources of from (whose
// figures it may take, by their source index) when from is not nil.
func newFigureTable(n int, from *figureTable) *figureTable {
	t := &figureTable{figs: make([]cachedFigure, n), srcIdx: map[string]uint32{}}
	if from != nil {
		t.sources, t.srcIdx = slices.Clone(from.sources), maps.Clone(from.srcIdx)
	}
	return t
}

// intern returns the index of src; local caches a page's lookups.
func (t *figureTable) intern(src string, local map[string]uint32) uint32 {
	if i, ok := local[src]; ok {
		return i
	}
	t.mu.Lock()
	i, ok := t.srcIdx[src]
	if !ok {
		i = uint32(len(t.sources))
		t.sources = append(t.sources, src)
		t.srcIdx[src] = i
	}
	t.mu.Unlock()
	local[src] = i
	return i
}

// figure is the figure of item i, if one was found.
func (t *figureTable) figure(i int) (Figure, bool) {
	f := &t.figs[i]
	if !f.found {
		return Figure{}, false
	}
	return Figure{Value: f.value, Revision: int(f.revision), Source: t.sources[f.source],
		ReportedAt: time.Unix(0, f.reported).UTC(), Submitted: time.Unix(0, f.submitted).UTC()}, true
}

// figureCache keeps what the last read of a whole listing found, so that
// the next refresh re-reads only the indicators written since
// (store.ChangedSince): at 300,000 targets reading every figure took 36-42 s
// and most of serve's peak heap. It holds the items of that read (the
// listing's own, which the listing keeps alive anyway: no key is copied)
// and their figureTable. An indicator is taken from it only when no write
// may have changed it and the items now ask for exactly the keys it was
// read for (a plan change or a period falling due re-reads the
// indicator). Every full read starts again.
type figureCache struct {
	mu    sync.Mutex
	items []Item            // the items of the read the figures are of
	table *figureTable      // their figures
	spans map[string][2]int // indicator → its items items[lo:hi]
	// marks: the last read's (ReadAt zero when InfluxDB's time was not
	// known: nothing kept).
	marks store.ReadMarks
	// set and now are those items were listed for (Expected) when they are
	// every item of the plans (the Collector's whole listing).
	set *plan.Set
	now time.Time
}

// sameItems returns the items of the last read when they are what
// Expected(set, "", now) would list again (nil otherwise): the same plans
// and no period ended since, which periods only do at a midnight of now's
// location (period.Ended), so within the same day. Listing them afresh at
// 300,000 targets made 3 million items (300 MB) a refresh, beside the
// listing's own. The caller holds c.mu.
func (c *figureCache) sameItems(set *plan.Set, now time.Time) []Item {
	if c.items == nil || c.set != set || c.now.Location() != now.Location() || now.Before(c.now) {
		return nil
	}
	y1, m1, d1 := c.now.Date()
	y2, m2, d2 := now.Date()
	if y1 != y2 || m1 != m2 || d1 != d2 {
		return nil
	}
	return c.items
}

// reuse returns, for a refresh, the indicators whose figures can be taken
// from the cache (nil: none, read everything) and the time to keep as
// readAt after the read (zero: not known). full says whether the read
// that follows reads every indicator. The caller holds c.mu.
func (c *figureCache) reuse(ctx context.Context, st Reader, fullRead time.Duration, logger *slog.Logger) (keep map[string]bool, at time.Time, full bool) {
	cr, ok := st.(store.ChangeReader)
	if !ok || fullRead <= 0 {
		return nil, time.Time{}, true
	}
	changed, full, at, why := c.marks.Next(ctx, cr, c.items != nil && !c.marks.FullDue(fullRead))
	if why != nil {
		logWarn(logger, "the completeness refresh reads every figure", "err", why)
	}
	if full {
		return nil, at, true
	}
	keep = make(map[string]bool, len(c.spans))
	for ind := range c.spans {
		if _, hit := slices.BinarySearch(changed, ind); !hit {
			keep[ind] = true
		}
	}
	return keep, at, false
}

// take fills t's figures of items[idx] (the items of ind) from the cache
// when it holds the same keys for ind, in the same order; false when it
// does not. t has the cache's sources (newFigureTable).
func (c *figureCache) take(ind string, items []Item, idx []int, t *figureTable) bool {
	sp, ok := c.spans[ind]
	if !ok || sp[1]-sp[0] != len(idx) {
		return false
	}
	for j, i := range idx {
		if c.items[sp[0]+j].Key() != items[i].Key() {
			return false
		}
	}
	for j, i := range idx {
		t.figs[i] = c.table.figs[sp[0]+j]
	}
	return true
}

// store makes the figures of items the cache, read at at; full: every
// indicator was read, starting at fullStart.
func (c *figureCache) store(items []Item, byInd map[string][]int, t *figureTable, at time.Time, full bool, fullStart time.Time) {
	spans := make(map[string][2]int, len(byInd))
	for ind, idx := range byInd {
		if idx[len(idx)-1]-idx[0] == len(idx)-1 { // contiguous (Expected sorts by indicator)
			spans[ind] = [2]int{idx[0], idx[len(idx)-1] + 1}
		}
	}
	c.items, c.table, c.spans, c.marks.ReadAt = items, t, spans, at
	if full {
		c.marks.FullAt = fullStart
	}
}

// clear forgets every figure (the next read is a full one).
func (c *figureCache) clear() {
	c.items, c.table, c.spans, c.marks.ReadAt, c.set = nil, nil, nil, time.Time{}, nil
}

// cacheUse is a read of figures through a cache: how old its full read may
// be (as evaluation.full_read), where to warn, and what it read (the
// indicators asked of the store, sorted).
type cacheUse struct {
	cache    *figureCache
	fullRead time.Duration
	logger   *slog.Logger
	read     []string
	full     bool
}

func logWarn(logger *slog.Logger, msg string, args ...any) {
	if logger != nil {
		logger.Warn(msg, args...)
	}
}
