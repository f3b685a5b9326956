package bulk

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
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

// filterLimit: with more distinct indicators (or regions) than this the
// query does not filter on them (a long chain of comparisons is slower than
// dropping the extra rows here), as store.Upsert does.
const filterLimit = 50

// existingFlux selects the current points of the file's indicators, regions
// and time range, one table per series and field, without pivoting.
func existingFlux(bucket string, t *tables, p *validator) string {
	var b strings.Builder
	from := time.Unix(startOf(p.minDay), 0).UTC().Format(time.RFC3339)
	to := time.Unix(startOf(p.maxDay)+1, 0).UTC().Format(time.RFC3339)
	fmt.Fprintf(&b, "from(bucket: %q)\n  |> range(start: %s, stop: %s)\n", bucket, from, to)
	fmt.Fprintf(&b, "  |> filter(fn: (r) => r._measurement == %q)\n", store.MeasObservation)
	b.WriteString(`  |> filter(fn: (r) => r._field == "value" or r._field == "revision" or r._field == "reported_at" or r._field == "source")` + "\n")
	in := func(tag string, used []bool, name func(int) string) {
		var parts []string
		for i, u := range used {
			if u {
				parts = append(parts, fmt.Sprintf("r.%s == %q", tag, name(i)))
			}
		}
		if len(parts) <= filterLimit {
			fmt.Fprintf(&b, "  |> filter(fn: (r) => %s)\n", strings.Join(parts, " or "))
		}
	}
	in("indicator", p.indUsed, func(i int) string { return t.inds[i].ID })
	in("region", p.regUsed, func(i int) string { return t.regs[i].Code })
	b.WriteString(`  |> keep(columns: ["_time", "_value", "_field", "indicator", "region", "freq"])` + "\n")
	return b.String()
}

// loadExisting runs the one query of stored values and keeps those of keys
// the file holds.
func loadExisting(ctx context.Context, c *client, bucket string, t *tables, p *validator) (map[uint64]current, error) {
	out := map[uint64]current{}
	err := c.query(ctx, existingFlux(bucket, t, p), func(body io.Reader) error {
		clear(out)
		return readExisting(body, t, p.seen, out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// readExisting parses the CSV answer of existingFlux.
func readExisting(body io.Reader, t *tables, seen *seen, out map[uint64]current) error {
	r := csv.NewReader(body)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	col := map[string]int{}
	var iTime, iValue, iField, iInd, iReg, iFreq int
	kinds := map[string]period.Kind{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return &store.RetryableError{Err: fmt.Errorf("reading stored values: %w", err)}
		}
		if len(rec) > 1 && rec[1] == "error" {
			msg, err := r.Read()
			if err != nil || len(msg) < 2 {
				return errors.New("query of stored values failed (error table without a message)")
			}
			return fmt.Errorf("query of stored values failed: %s", msg[1])
		}
		if slices.Contains(rec, "_value") && slices.Contains(rec, "_time") {
			clear(col)
			for i, name := range rec {
				col[name] = i
			}
			get := func(n string) int {
				if i, ok := col[n]; ok {
					return i
				}
				return -1
			}
			iTime, iValue, iField, iInd, iReg, iFreq = get("_time"), get("_value"), get("_field"), get("indicator"), get("region"), get("freq")
			continue
		}
		if len(col) == 0 {
			return fmt.Errorf("query of stored values: %s", strings.Join(rec, ","))
		}
		f := func(i int) string {
			if i >= 0 && i < len(rec) {
				return rec[i]
			}
			return ""
		}
		ii, ok := t.indByID[f(iInd)]
		if !ok {
			continue
		}
		ri, ok := t.regByCode[f(iReg)]
		if !ok {
			continue
		}
		freq := f(iFreq)
		k, ok := kinds[freq]
		if !ok {
			k, _ = period.ParseKind(freq)
			kinds[freq] = k
		}
		if k != t.indKind[ii] {
			continue // another series (the catalogue changed the frequency)
		}
		ts, err := time.Parse(time.RFC3339Nano, f(iTime))
		if err != nil {
			return fmt.Errorf("query of stored values: bad _time %q", f(iTime))
		}
		day, ok := dayOf(ts)
		if !ok {
			continue
		}
		per := period.FromStart(k, ts)
		if !per.Start().Equal(ts) || !seen.has(t.series(ii, ri), ordinal(per)) {
			continue // not a key of the file
		}
		kk := key(ii, ri, day)
		cur, ok := out[kk]
		if !ok {
			cur = current{src: t.source("")}
		}
		v := f(iValue)
		switch f(iField) {
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
	}
}

// parseInt reads an integer field, also when a float was stored.
func parseInt(s string) int64 {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n
	}
	f, _ := strconv.ParseFloat(s, 64)
	return int64(f)
}
