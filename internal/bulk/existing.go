package bulk

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/store"
)

// current is a stored current value of one of the file's keys.
type current struct {
	value      float64
	revision   int64
	reportedAt int64
	src        uint32
}

// existingFilter selects the file's indicators, regions and time range
// (store.KeySpan, the one filter of a batch's keys).
func existingFilter(t *tables, p *validator) store.Filter {
	var span store.KeySpan
	span.AddStart(time.Unix(startOf(p.minDay), 0))
	span.AddStart(time.Unix(startOf(p.maxDay), 0))
	for i, u := range p.indUsed {
		if u {
			span.AddIndicator(t.inds[i].ID)
		}
	}
	for i, u := range p.regUsed {
		if u {
			span.AddRegion(t.regs[i].Code)
		}
	}
	return span.Filter()
}

// loadExisting runs the one query of stored values and keeps those of keys
// the file holds.
func loadExisting(ctx context.Context, c *store.HTTP, bucket string, t *tables, p *validator) (map[uint64]current, error) {
	out := map[uint64]current{}
	err := c.Query(ctx, store.ExistingFlux(bucket, existingFilter(t, p)), func(body io.Reader) error {
		clear(out)
		return readExisting(body, t, p.seen, out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// readExisting keeps, from the answer of store.ExistingFlux, the fields of
// the keys the file holds.
func readExisting(body io.Reader, t *tables, seen *seen, out map[uint64]current) error {
	kinds := map[string]period.Kind{}
	return store.ReadFluxCSV(body, func(r store.FluxRow) error {
		ii, ok := t.indByID[r.Get("indicator")]
		if !ok {
			return nil
		}
		ri, ok := t.regByCode[r.Get("region")]
		if !ok {
			return nil
		}
		freq := r.Get("freq")
		k, ok := kinds[freq]
		if !ok {
			k, _ = period.ParseKind(freq)
			kinds[freq] = k
		}
		if k != t.indKind[ii] {
			return nil // another series (the catalogue changed the frequency)
		}
		ts, err := time.Parse(time.RFC3339Nano, r.Get("_time"))
		if err != nil {
			return fmt.Errorf("query of stored values: bad _time %q", r.Get("_time"))
		}
		day, ok := dayOf(ts)
		if !ok {
			return nil
		}
		per := period.FromStart(k, ts)
		if !per.Start().Equal(ts) || !seen.has(t.series(ii, ri), ordinal(per)) {
			return nil // not a key of the file
		}
		kk := key(ii, ri, day)
		cur, ok := out[kk]
		if !ok {
			cur = current{src: t.source("")}
		}
		v := r.Get("_value")
		switch r.Get("_field") {
		case "value":
			cur.value, _ = strconv.ParseFloat(v, 64)
		case "revision":
			cur.revision = parseInt(v)
		case "reported_at":
			cur.reportedAt = parseInt(v)
		case "source":
			cur.src = t.source(v)
		}
		out[kk] = cur
		return nil
	})
}

// parseInt reads an integer field, also when a float was stored.
func parseInt(s string) int64 {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n
	}
	f, _ := strconv.ParseFloat(s, 64)
	return int64(f)
}
