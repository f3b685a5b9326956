package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
)

// Several writers. InfluxDB has no transaction and no compare-and-set: two
// processes (serve replicas, qualitymon import beside serve) that read the
// current value of a key and then write a new one can overwrite each
// other, and the value overwritten would be lost. So a new or revised
// value that may race is also written, as a report, to observation_report
// at a point no other report can take: the period start plus a slot of
// nanoseconds (1–999,999,999) derived from the report itself (key, value,
// source, revision, reported_at), so a replay of the same report lands on
// the same point and two different reports practically never share one.
// A value of an indicator another write is active on when the write begins
// (activity.go) is reported before its current value (observation) is
// written; a value of any other indicator is written as the current value
// alone, and reported afterwards only if another write turns out, at the
// check after the current values, to have been active on its indicator
// meanwhile. That loses nothing: a write that started after the check read
// these current values (it supersedes them, keeping them in
// observation_revision), and a write that started before it is seen at the
// check, so the value is reported before its writer reconciles — which is
// all the argument below needs of a report (each writer reports, then
// reconciles; of two writers of a key, the one whose report came last
// sees both). Afterwards the writer runs reconcile: it reads the revision of every report of the keys it wrote
// (one field, unpivoted) and, for the keys where another writer's report
// has the same or a higher revision than its own — the keys that raced —
// reads their reports and current values in full and, where the current
// value is not the latest report, writes the latest report as the current
// value, until it reads no difference. The last writer of a current value
// always reconciles after its write and sees every report written before
// it, so the current value ends as the latest report whatever the
// interleaving; a key without a competing report holds the writer's own
// report when the writer wrote it last, and needs nothing. "Latest" orders
// reports by revision (a writer that saw revision n writes n+1), then
// reported_at, then value and source (a fixed rule, so that every writer
// picks the same one).

// measReport is the measurement of every report (see reconcile).
const measReport = "observation_report"

// slot is the nanosecond offset of a report's point in observation_report.
func slot(o *observation.Observation, revision, reportedAt int64) int64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%s\x00%d\x00%d\x00%d\x00%d\x00%s", o.Indicator, o.Region, o.Period.Start().Unix(),
		math.Float64bits(o.Value), revision, reportedAt, o.Source)
	return 1 + int64(h.Sum64()%999_999_999)
}

// appendReport appends the observation_report point of a report (no
// newline); its time is in nanoseconds (write it with precision ns).
func appendReport(b []byte, o *observation.Observation, revision, reportedAt int64) []byte {
	b = append(b, measReport...)
	b = appendSeriesTags(b, o.Period.Kind, o.Indicator, o.Region)
	b = append(b, " value="...)
	b = appendFloat(b, o.Value)
	b = appendRevisionFields(b, revision, reportedAt, o.Source, o.Note)
	return strconv.AppendInt(b, o.Period.Start().Unix()*1e9+slot(o, revision, reportedAt), 10)
}

// writeReports writes observation_report lines (precision ns).
func (s *Store) writeReports(ctx context.Context, lines []string) error {
	return s.writeNs(ctx, "reports", lines)
}

// writeNs writes lines whose times are in nanoseconds (observation_report,
// evaluation); what names them in an error.
func (s *Store) writeNs(ctx context.Context, what string, lines []string) error {
	if len(lines) == 0 {
		return nil
	}
	var body []byte
	for _, l := range lines {
		body = append(append(body, l...), '\n')
	}
	return s.post(ctx, body, len(lines), "ns", what)
}

// later reports whether report a comes after report b: higher revision,
// then later reported_at, then (a tie of two writers in one second) the
// larger value, then the larger source.
func later(a, b *observation.Stored) bool {
	if a.Revision != b.Revision {
		return a.Revision > b.Revision
	}
	if !a.ReportedAt.Equal(b.ReportedAt) {
		return a.ReportedAt.After(b.ReportedAt)
	}
	if a.Value != b.Value {
		return a.Value > b.Value
	}
	return a.Source > b.Source
}

// sameReport reports whether a and b are the same report.
func sameReport(a, b *observation.Stored) bool {
	return a.Revision == b.Revision && a.ReportedAt.Equal(b.ReportedAt) && a.Value == b.Value && a.Source == b.Source
}

// maxReconcileRounds bounds reconcile: each round that writes follows a
// report written by another process meanwhile.
const maxReconcileRounds = 20

// mark is what a writer knows of the report it wrote of a key: its
// revision and its point's time (period start + slot, in ns).
type mark struct {
	revision int
	at       int64
}

// markOf is the mark of a report.
func markOf(o *observation.Observation, revision int, reportedAt int64) mark {
	return mark{revision: revision, at: o.Period.Start().Unix()*1e9 + slot(o, int64(revision), reportedAt)}
}

// reconcile makes the current value of each key this writer wrote (mine:
// the mark of its own report, the last it wrote of the key) the latest of
// its reports (see the comment at the top of this file). It first reads
// only the revision of each report of mine's keys (one field, not
// pivoted): a key whose reports are its writer's own and older revisions
// did not race, and its current value needs no check — if this writer
// wrote it last it holds this writer's report, the latest; if another
// writer wrote it later, that writer reconciles after its write and sees
// this report. Only the keys with a report of another writer at the same
// or a higher revision are reconciled in full (reconcileIn: every field of
// their reports and their current values). Keys are read in pieces of
// about reconcilePiece, whole indicators each: InfluxDB 1.8's Flux reads
// a large answer much more slowly per row than several small ones.
func (s *Store) reconcile(ctx context.Context, mine map[observation.Key]mark) error {
	byInd := map[string][]observation.Key{}
	for k := range mine {
		byInd[k.Indicator] = append(byInd[k.Indicator], k)
	}
	raced := map[observation.Key]bool{}
	var span KeySpan
	n := 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		err := s.reportMarks(ctx, span.Filter(), func(k observation.Key, m mark) {
			if my, ok := mine[k]; ok && m != my && m.revision >= my.revision {
				raced[k] = true
			}
		})
		span, n = KeySpan{}, 0
		return err
	}
	for _, ind := range slices.Sorted(maps.Keys(byInd)) {
		for _, k := range byInd[ind] {
			span.Add(k)
		}
		if n += len(byInd[ind]); n >= reconcilePiece {
			if err := flush(); err != nil {
				return fmt.Errorf("reconciling: %w", err)
			}
		}
	}
	if err := flush(); err != nil {
		return fmt.Errorf("reconciling: %w", err)
	}
	if len(raced) == 0 {
		return nil
	}
	for k := range raced {
		span.Add(k)
	}
	return s.reconcileIn(ctx, span.Filter(), func(k observation.Key) bool { return raced[k] })
}

// reconcilePiece is about how many keys one reconcile reads at once.
const reconcilePiece = 5000

// reportMarks calls fn with the key and mark of every report matching f:
// one field per report, read as plain CSV.
func (s *Store) reportMarks(ctx context.Context, f Filter, fn func(observation.Key, mark)) error {
	q := f.flux(s.cfg.Bucket, measReport) + `  |> filter(fn: (r) => r._field == "revision")
  |> group()
  |> keep(columns: ["_time", "_value", "indicator", "region", "freq"])
`
	ks := kinds{}
	return s.queryCSV(ctx, q, func(r fluxRow) error {
		kind, err := ks.of(r.Get("freq"))
		if err != nil {
			return err
		}
		t, err := r.Time()
		if err != nil {
			return err
		}
		rev, err := strconv.ParseInt(r.Get("_value"), 10, 64)
		if err != nil {
			return fmt.Errorf("query result: bad revision %q", r.Get("_value"))
		}
		k := observation.Key{Indicator: r.Get("indicator"), Region: r.Get("region"), Period: period.FromStart(kind, t.Truncate(time.Second))}
		fn(k, mark{revision: int(rev), at: t.UnixNano()})
		return nil
	})
}

func (s *Store) reconcileIn(ctx context.Context, f Filter, want func(observation.Key) bool) error {
	for range maxReconcileRounds {
		latest, err := s.latestReports(ctx, f, want)
		if err != nil {
			return fmt.Errorf("reconciling: %w", err)
		}
		if len(latest) == 0 {
			return nil
		}
		obs := make([]observation.Observation, 0, len(latest))
		for _, r := range latest {
			obs = append(obs, r.Observation)
		}
		cur, err := s.existing(ctx, obs)
		if err != nil {
			return fmt.Errorf("reconciling: %w", err)
		}
		var lines lineBuffer
		for k, r := range latest {
			c, ok := cur[k]
			if ok && (sameReport(&c, &r) || later(&c, &r)) {
				continue
			}
			lines.body = appendObservation(lines.body, &r.Observation, int64(r.Revision), r.ReportedAt.Unix())
			lines.end()
		}
		if len(lines.ends) == 0 {
			return nil
		}
		refused, err := s.writeBuffer(ctx, &lines)
		if err = errors.Join(append([]error{err}, refused...)...); err != nil {
			return fmt.Errorf("reconciling: %w", err)
		}
	}
	return fmt.Errorf("reconciling: current values still change after %d rounds (other writers)", maxReconcileRounds)
}

// latestReports reads the reports matching f of the keys wanted and keeps
// the latest of each.
func (s *Store) latestReports(ctx context.Context, f Filter, want func(observation.Key) bool) (map[observation.Key]observation.Stored, error) {
	all, err := s.reports(ctx, f)
	if err != nil {
		return nil, err
	}
	out := map[observation.Key]observation.Stored{}
	for _, r := range all {
		k := r.Key()
		if !want(k) {
			continue
		}
		if o, ok := out[k]; !ok || later(&r, &o) {
			out[k] = r
		}
	}
	return out, nil
}

// reports reads every report matching f, one row per report.
func (s *Store) reports(ctx context.Context, f Filter) ([]observation.Stored, error) {
	return s.readStored(ctx, f.flux(s.cfg.Bucket, measReport)+`  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> group()
`)
}
