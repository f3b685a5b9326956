package store

import (
	"context"
	"fmt"
	"time"

	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
)

// FirstReports returns, for every revised observation matching f, when its
// first value (revision 0) was reported: the timeliness of a figure
// (internal/reporting) is judged by its first report, not by a later
// correction. Keys never revised are absent (their current reported_at is
// the first report).
func (s *Store) FirstReports(ctx context.Context, f Filter) (map[observation.Key]time.Time, error) {
	q := f.flux(s.cfg.Bucket, measRevision) + `  |> filter(fn: (r) => r.revision == "0" and r._field == "reported_at")
  |> group()
  |> keep(columns: ["_time", "_value", "indicator", "region", "freq"])
`
	rows, err := s.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("querying first reports in %s: %w", s.cfg.Bucket, err)
	}
	out := make(map[observation.Key]time.Time, len(rows))
	for _, v := range rows {
		freq, _ := v["freq"].(string)
		k, err := period.ParseKind(freq)
		if err != nil {
			return nil, fmt.Errorf("stored point with bad freq tag: %w", err)
		}
		t, _ := v["_time"].(time.Time)
		ind, _ := v["indicator"].(string)
		reg, _ := v["region"].(string)
		out[observation.Key{Indicator: ind, Region: reg, Period: period.FromStart(k, t)}] = time.Unix(int64(toFloat(v["_value"])), 0).UTC()
	}
	return out, nil
}
