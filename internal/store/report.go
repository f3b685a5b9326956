package store

import (
	"context"
	"fmt"
	"hash/fnv"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"

	"github.com/qualitymon/qualitymon/internal/observation"
)

// Several writers. InfluxDB has no transaction and no compare-and-set: two
// processes (serve replicas, qualitymon import beside serve) that read the
// current value of a key and then write a new one can overwrite each
// other, and the value overwritten would be lost. So every new or revised
// value is first written, as a report, to observation_report at a point no
// other report can take: the period start plus a slot of nanoseconds
// (1–999,999,999) derived from the report itself (key, value, source,
// revision, reported_at), so a replay of the same report lands on the same
// point and two different reports practically never share one. Only then
// is the current value (observation) written. Afterwards the writer runs
// reconcile: it reads the reports and the current values of its keys and,
// where the current value is not the latest report, writes the latest
// report as the current value, until it reads no difference. The last
// writer of a current value always reconciles after its write and sees
// every report written before it, so the current value ends as the latest
// report whatever the interleaving. "Latest" orders reports by revision
// (a writer that saw revision n writes n+1), then reported_at, then value
// and source (a fixed rule, so that every writer picks the same one).

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
	if len(lines) == 0 {
		return nil
	}
	s.nsOnce.Do(func() {
		opts := influxdb2.DefaultOptions().SetHTTPRequestTimeout(uint(s.cfg.Timeout / time.Second)).SetPrecision(time.Nanosecond)
		s.nsClient = influxdb2.NewClientWithOptions(s.cfg.URL, s.cfg.Token, opts)
	})
	if err := s.nsClient.WriteAPIBlocking(s.cfg.Org, s.cfg.Bucket).WriteRecord(ctx, lines...); err != nil {
		return classify(fmt.Errorf("writing %d reports to %s: %w", len(lines), s.cfg.Bucket, err))
	}
	return nil
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

// reconcile makes the current value of each of obs's keys the latest of
// its reports (see the comment at the top of this file).
// Keys are reconciled in pieces of about reconcilePiece, whole indicators
// each: InfluxDB 1.8's Flux reads (and pivots) a large answer much more
// slowly per row than several small ones.
func (s *Store) reconcile(ctx context.Context, obs []observation.Observation) error {
	want := make(map[observation.Key]bool, len(obs))
	byInd := map[string][]int{}
	for i := range obs {
		want[obs[i].Key()] = true
		byInd[obs[i].Indicator] = append(byInd[obs[i].Indicator], i)
	}
	var span KeySpan
	n := 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		err := s.reconcileIn(ctx, span.Filter(), func(k observation.Key) bool { return want[k] })
		span, n = KeySpan{}, 0
		return err
	}
	for _, ind := range slices.Sorted(maps.Keys(byInd)) {
		for _, i := range byInd[ind] {
			span.Add(obs[i].Key())
		}
		if n += len(byInd[ind]); n >= reconcilePiece {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// reconcilePiece is about how many keys one reconcile reads at once.
const reconcilePiece = 5000

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
		var lines []string
		var buf []byte // each line is rendered here, then copied
		for k, r := range latest {
			c, ok := cur[k]
			if ok && (sameReport(&c, &r) || later(&c, &r)) {
				continue
			}
			buf = appendObservation(buf[:0], &r.Observation, int64(r.Revision), r.ReportedAt.Unix())
			lines = append(lines, string(buf))
		}
		if len(lines) == 0 {
			return nil
		}
		for i := 0; i < len(lines); i += BatchSize {
			if err := s.writeLines(ctx, lines[i:min(i+BatchSize, len(lines))]); err != nil {
				return fmt.Errorf("reconciling: %w", err)
			}
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
