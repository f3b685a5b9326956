package reporting

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/qualitymon/qualitymon/internal/store"
)

// ChangeReader is what an incremental refresh (Collector.FullRead) asks the
// store besides the figures (*store.Store): InfluxDB's time before a read,
// and later the indicators written since (store.ChangedSince, as the
// engine's incremental read).
type ChangeReader interface {
	ServerTime(ctx context.Context) (time.Time, error)
	ChangedSince(ctx context.Context, t, now time.Time) ([]string, bool, error)
}

// figureCache keeps what the last read of a whole listing found, so that
// the next refresh re-reads only the indicators written since
// (store.ChangedSince): at 300,000 targets reading every figure took 36-42 s
// and most of serve's peak heap. It is compact: the figures by the index of
// the items of that read (the listing's own items, which the listing keeps
// alive anyway: no key is copied), 32 bytes each, their sources interned.
// An indicator is taken from it only when no write may have changed it and
// the items now ask for exactly the keys it was read for (a plan change or a
// period falling due re-reads the indicator). Every full read starts again.
type figureCache struct {
	mu      sync.Mutex
	items   []Item            // the items of the read the figures are of
	figs    []cachedFigure    // by index of items
	spans   map[string][2]int // indicator → its items items[lo:hi]
	sources []string          // cachedFigure.source → the source
	srcIdx  map[string]uint32
	// readAt is InfluxDB's time (less store.ChangeSlack) taken before the
	// last read, zero when not known; fullAt when the last full read began.
	readAt, fullAt time.Time
}

// cachedFigure is one item's figure as the store answered it (before the
// receipts are looked up): times in Unix nanoseconds, UTC.
type cachedFigure struct {
	value               float64
	reported, submitted int64
	revision            int32
	source              uint32
	found               bool
}

// reuse returns, for a refresh of items, the indicators whose figures can
// be taken from the cache (nil: none, read everything) and the time to
// keep as readAt after the read. full says whether the read that follows
// reads every indicator. The caller holds c.mu.
func (c *figureCache) reuse(ctx context.Context, st Reader, fullRead time.Duration, logger *slog.Logger) (keep map[string]bool, at time.Time, full bool) {
	cr, ok := st.(ChangeReader)
	if !ok || fullRead <= 0 {
		return nil, time.Time{}, true
	}
	now, err := cr.ServerTime(ctx)
	if err != nil {
		logWarn(logger, "InfluxDB's time is not known: the completeness refresh reads every figure", "err", err)
		return nil, time.Time{}, true
	}
	at = now.Add(-store.ChangeSlack)
	if c.items == nil || c.readAt.IsZero() || time.Since(c.fullAt) >= fullRead {
		return nil, at, true
	}
	changed, ok, err := cr.ChangedSince(ctx, c.readAt, now)
	if err != nil {
		logWarn(logger, "reading the writer marks failed: the completeness refresh reads every figure", "err", err)
	}
	if err != nil || !ok {
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

// take fills out[idx] from the cached figures of ind when the cache holds
// the same keys for it, in the same order; false when it does not.
func (c *figureCache) take(ind string, items []Item, idx []int, out []foundFigure) bool {
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
		f := c.figs[sp[0]+j]
		if !f.found {
			out[i] = foundFigure{}
			continue
		}
		rep := time.Unix(0, f.reported).UTC()
		out[i] = foundFigure{Figure{Value: f.value, Revision: int(f.revision), Source: c.sources[f.source],
			ReportedAt: rep, Submitted: time.Unix(0, f.submitted).UTC()}, true}
	}
	return true
}

// store replaces the cache with the figures of items (as the store
// answered them, before the receipts), read at at; full: every indicator
// was read.
func (c *figureCache) store(items []Item, byInd map[string][]int, out []foundFigure, at time.Time, full bool, fullStart time.Time) {
	figs := make([]cachedFigure, len(items))
	if c.srcIdx == nil || full {
		c.sources, c.srcIdx = nil, map[string]uint32{}
	}
	for i := range out {
		if !out[i].found {
			continue
		}
		f := &out[i].Figure
		si, ok := c.srcIdx[f.Source]
		if !ok {
			si = uint32(len(c.sources))
			c.sources = append(c.sources, f.Source)
			c.srcIdx[f.Source] = si
		}
		figs[i] = cachedFigure{value: f.Value, reported: f.ReportedAt.UnixNano(), submitted: f.Submitted.UnixNano(),
			revision: int32(f.Revision), source: si, found: true}
	}
	spans := make(map[string][2]int, len(byInd))
	for ind, idx := range byInd {
		if idx[len(idx)-1]-idx[0] == len(idx)-1 { // contiguous (Expected sorts by indicator)
			spans[ind] = [2]int{idx[0], idx[len(idx)-1] + 1}
		}
	}
	c.items, c.figs, c.spans, c.readAt = items, figs, spans, at
	if full {
		c.fullAt = fullStart
	}
}

// clear forgets every figure (the next read is a full one).
func (c *figureCache) clear() {
	c.items, c.figs, c.spans, c.sources, c.srcIdx, c.readAt = nil, nil, nil, nil, nil, time.Time{}
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
