package store

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

// TestRacedIndicators: a write that ended before this one started does not
// count, one still going (or started meanwhile) does, on the indicators the
// two share only; without its own start mark a write counts every
// indicator as raced.
func TestRacedIndicators(t *testing.T) {
	s, mark := marker(t)
	ctx := context.Background()
	mark([]string{"x", "y"}, "start", "ended")
	mark([]string{"x", "y"}, "done", "ended")
	mark([]string{"x", "y", "w"}, "start", "me")
	mark([]string{"y", "z"}, "start", "going")
	mark([]string{"w"}, "start", "later")
	mark([]string{"w"}, "done", "later")
	got, err := s.racedIndicators(ctx, []string{"w", "x", "y"}, "me")
	if err != nil {
		t.Fatal(err)
	}
	if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, []string{"w", "y"}) {
		t.Errorf("raced %v, want [w y]", keys)
	}
	got, err = s.racedIndicators(ctx, []string{"v", "x"}, "unknown")
	if err != nil {
		t.Fatal(err)
	}
	if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, []string{"v", "x"}) {
		t.Errorf("raced without a start mark %v, want [v x]", keys)
	}
}

// A write no other write is active on stores one point per new row (the
// current value) and no report.
func TestUncontestedWriteOnePointPerRow(t *testing.T) {
	srv := testenv.SharedInflux(t)
	bucket := srv.NewBucket(t)
	s := openIn(t, srv, bucket)
	var obs []observation.Observation
	for _, y := range []string{"2022", "2023", "2024"} {
		obs = append(obs, testenv.Obs("food_sampling_pass_rate", "370200", y, 97.1, ""))
	}
	if sum, err := s.Upsert(context.Background(), obs, time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)); err != nil || sum.New != 3 {
		t.Fatalf("write: %+v %v", sum, err)
	}
	if got := countPoints(t, srv, bucket, measObservation); got != 3 {
		t.Errorf("%d current values, want 3", got)
	}
	if got := countPoints(t, srv, bucket, measReport); got != 0 {
		t.Errorf("%d reports of an uncontested write, want none", got)
	}
}

// openIn opens a store on bucket, closed with the test.
func openIn(t *testing.T, srv *testenv.Influx, bucket string) *Store {
	s := Open(Config{URL: srv.URL, Org: srv.Org, Token: srv.Token, Bucket: bucket})
	t.Cleanup(s.Close)
	return s
}

// countPoints counts the points of measurement m in bucket.
func countPoints(t *testing.T, srv *testenv.Influx, bucket, m string) int {
	t.Helper()
	ser := srv.QueryDB(t, strings.Split(bucket, "/")[0], `SELECT count("value") FROM "`+m+`"`)
	if len(ser) != 1 || len(ser[0].Values) != 1 {
		return 0
	}
	n, _ := ser[0].Values[0][1].(float64)
	return int(n)
}

// Two group writes of one Store at once (an import's chunks) on the same
// indicator: with no key in common neither counts the other as active, so
// each row is one point and nothing is reported; with a key in common they
// race as writes of two processes do (reports, reconcile: the latest
// report is current). Without the store knowing its own writes the first
// case wrote a report of every row.
func TestOwnWritesAtOnce(t *testing.T) {
	srv := testenv.SharedInflux(t)
	at := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name          string
		otherRegion   string
		reports, want int // reports written; current values
	}{
		{"no key in common", "370100", 0, 2},
		{"a key in common", "370200", 2, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			bucket := srv.NewBucket(t)
			s := openIn(t, srv, bucket)
			ctx := context.Background()
			o := testenv.Obs("food_sampling_pass_rate", "370200", "2024", 97.1, "")
			other := testenv.Obs(o.Indicator, c.otherRegion, "2024", 95, "")
			s.afterCurrent = func() {
				s.afterCurrent = nil // the other write runs inside this one's, after its current values
				if _, err := s.Upsert(ctx, []observation.Observation{other}, at.Add(time.Hour)); err != nil {
					t.Error(err)
				}
			}
			if _, err := s.Upsert(ctx, []observation.Observation{o}, at); err != nil {
				t.Fatal(err)
			}
			if got := countPoints(t, srv, bucket, measReport); got != c.reports {
				t.Errorf("%d reports, want %d", got, c.reports)
			}
			cur, err := s.Current(ctx, Filter{Indicators: []string{o.Indicator}})
			if err != nil || len(cur) != c.want {
				t.Fatalf("current %+v %v, want %d values", cur, err, c.want)
			}
			for _, st := range cur {
				if st.Region == other.Region && st.Value != other.Value {
					t.Errorf("current %+v, want the later report %v", st, other.Value)
				}
			}
		})
	}
}

// A write that began uncontested and wrote its current value alone, raced
// by another write that started meanwhile, read the old value and wrote its
// report and current value over this one's: the first write writes its
// report late and reconciles, so its value stays in the history and the
// current value is the latest report, whichever of the two that is.
// Without the late report the first value was lost when the other was
// current, and the other stayed current when the first was later.
func TestLateReportOfRacedWrite(t *testing.T) {
	srv := testenv.SharedInflux(t)
	at := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name  string
		other time.Time // when the other write reported
		want  float64
	}{
		{"other reported later", at.Add(time.Hour), 95},
		{"other reported earlier", at.Add(-time.Hour), 97.1},
	} {
		t.Run(c.name, func(t *testing.T) {
			bucket := srv.NewBucket(t)
			s := openIn(t, srv, bucket)
			ctx := context.Background()
			o := testenv.Obs("food_sampling_pass_rate", "370200", "2024", 97.1, "")
			other := o
			other.Value = 95
			s.afterCurrent = func() {
				s.afterCurrent = nil
				srv.Write(t, bucket, "ns", "writer_activity,indicator="+o.Indicator+" start=\"other\"\n")
				srv.Write(t, bucket, "ns", string(appendReport(nil, &other, 0, c.other.Unix()))+"\n")
				srv.Write(t, bucket, "s", string(appendObservation(nil, &other, 0, c.other.Unix()))+"\n")
			}
			if sum, err := s.Upsert(ctx, []observation.Observation{o}, at); err != nil || sum.New != 1 {
				t.Fatalf("write: %+v %v", sum, err)
			}
			cur, err := s.Current(ctx, Filter{Indicators: []string{o.Indicator}})
			if err != nil || len(cur) != 1 {
				t.Fatalf("current %+v %v", cur, err)
			}
			if cur[0].Value != c.want {
				t.Errorf("current %v, want the latest report %v", cur[0].Value, c.want)
			}
			hist, err := s.History(ctx, o.Key())
			if err != nil {
				t.Fatal(err)
			}
			var vals []float64
			for _, h := range hist {
				vals = append(vals, h.Value)
			}
			if !slices.Contains(vals, 97.1) || !slices.Contains(vals, 95) {
				t.Errorf("history %v, want both 97.1 and 95", vals)
			}
		})
	}
}

// TestChangedSince: after T (InfluxDB's clock) the indicators of writes
// marked since, and of writes never marked done, are named; those of writes
// that ended before T are not.
func TestChangedSince(t *testing.T) {
	s, mark := marker(t)
	ctx := context.Background()
	mark([]string{"a"}, "start", "before")
	mark([]string{"a"}, "done", "before")
	mark([]string{"b"}, "start", "crashed") // never done
	mark([]string{"c"}, "start", "across")  // done after T
	now, err := s.ServerTime(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(now); d > time.Minute || d < -time.Minute {
		t.Fatalf("InfluxDB's time %v is not this machine's %v", now, time.Now())
	}
	// T is one second after the marks so far (the Date header has whole
	// seconds): wait until InfluxDB's clock has passed it.
	T := now.Add(time.Second)
	for now.Before(T.Add(time.Second)) {
		time.Sleep(200 * time.Millisecond)
		if now, err = s.ServerTime(ctx); err != nil {
			t.Fatal(err)
		}
	}
	mark([]string{"c"}, "done", "across")
	mark([]string{"d", "e"}, "start", "after")
	mark([]string{"d", "e"}, "done", "after")
	got, ok, err := s.ChangedSince(ctx, T, now)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if want := []string{"b", "c", "d", "e"}; !slices.Equal(got, want) {
		t.Errorf("changed since T: %v, want %v", got, want)
	}
	if _, ok, err := s.ChangedSince(ctx, now.Add(-activityWindow), now); err != nil || ok {
		t.Errorf("changed since beyond the look-back: ok %v (%v), want a full read", ok, err)
	}
}

// marker is a store on a bucket of its own and a writer of its activity
// marks (markActivity).
func marker(t *testing.T) (*Store, func(inds []string, field, id string)) {
	srv := testenv.SharedInflux(t)
	s := Open(Config{URL: srv.URL, Org: srv.Org, Token: srv.Token, Bucket: srv.NewBucket(t)})
	t.Cleanup(s.Close)
	return s, func(inds []string, field, id string) {
		t.Helper()
		if err := s.markActivity(context.Background(), inds, field, id); err != nil {
			t.Fatal(err)
		}
	}
}
