package bulk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/derive"
	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/store"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

type fixture struct {
	im *Importer
	st *store.Store
	v  *ingest.Validator
}

func newFixture(t *testing.T, srv *testenv.Influx, bucket string, opts Options) *fixture {
	t.Helper()
	v := validatorT(t)
	opts.Validator = v
	opts.Influx = store.Config{URL: srv.URL, Org: srv.Org, Bucket: bucket, Token: srv.Token}
	im, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(im.Close)
	st := store.Open(store.Config{URL: srv.URL, Bucket: bucket, Org: srv.Org})
	t.Cleanup(st.Close)
	return &fixture{im: im, st: st, v: v}
}

// stored renders every current value in the bucket, sorted.
func stored(t *testing.T, st *store.Store) []string {
	t.Helper()
	rows, err := st.Values(context.Background(), store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return keyValues(rows, func(r *observation.Stored) *observation.Observation { return &r.Observation })
}

// expected renders what a valid file holds, in the same form.
func expected(t *testing.T, v *ingest.Validator, data []byte) []string {
	t.Helper()
	all, err := readAll(v, parseCSV(v), "x", data)
	if err != nil {
		t.Fatal(err)
	}
	return keyValues(all, func(o *observation.Observation) *observation.Observation { return o })
}

// keyValues renders each row's observation (obs) as
// "indicator|region|period|value", sorted.
func keyValues[R any](rows []R, obs func(*R) *observation.Observation) []string {
	out := make([]string, len(rows))
	for i := range rows {
		o := obs(&rows[i])
		out[i] = fmt.Sprintf("%s|%s|%s|%v", o.Indicator, o.Region, o.Period, o.Value)
	}
	sort.Strings(out)
	return out
}

func sameLines(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d values stored, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("stored %s, want %s", got[i], want[i])
		}
	}
}

func TestImportRealInflux(t *testing.T) {
	srv := testenv.SharedInflux(t)
	fx := newFixture(t, srv, srv.NewBucket(t), Options{BatchSize: 7000})
	ctx := context.Background()
	var buf bytes.Buffer
	n := generate(t, &buf, fx.v, genSpec{rows: 40000, years: 1})
	path := writeFile(t, "big.csv", buf.Bytes())
	at := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)

	res, err := fx.im.ImportFile(ctx, path, at)
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary != (observation.Summary{Accepted: n, New: n}) || res.Written != n {
		t.Fatalf("first import: %+v, want %d new", res, n)
	}
	sameLines(t, stored(t, fx.st), expected(t, fx.v, buf.Bytes()))

	// The same file again: nothing changes, nothing is written.
	res, err = fx.im.ImportFile(ctx, path, at.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary != (observation.Summary{Accepted: n, Unchanged: n}) || res.Written != 0 {
		t.Fatalf("re-import: %+v", res)
	}

	// A file revising two values and adding one; its other rows unchanged.
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	rev := []string{lines[0], lines[1], lines[2], lines[3]}
	f1 := strings.Split(lines[1], ",")
	f1[3] = "12.5"
	rev[1] = strings.Join(f1, ",")
	f2 := strings.Split(lines[2], ",")
	f2[4] = "another source" // same value, new source: a revision
	rev[2] = strings.Join(f2, ",")
	rev = append(rev, "food_sampling_pass_rate,370000,1999,50")
	revAt := at.Add(48 * time.Hour)
	res, err = fx.im.ImportFile(ctx, writeFile(t, "rev.csv", []byte(strings.Join(rev, "\n")+"\n")), revAt)
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary != (observation.Summary{Accepted: 4, New: 1, Revised: 2, Unchanged: 1}) || res.Written != 5 {
		t.Fatalf("revision import: %+v", res)
	}
	k := observation.Key{Indicator: f1[0], Region: f1[1], Period: period.OfYear(2024)}
	hist, err := fx.st.History(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0].Revision != 0 || hist[1].Revision != 1 || hist[1].Value != 12.5 ||
		!hist[0].ReportedAt.Equal(at) || !hist[1].ReportedAt.Equal(revAt) || hist[0].Source != strings.Split(lines[1], ",")[4] {
		t.Fatalf("history of %v: %+v", k, hist)
	}
	hist, err = fx.st.History(ctx, observation.Key{Indicator: f2[0], Region: f2[1], Period: period.OfYear(2024)})
	if err != nil || len(hist) != 2 || hist[1].Source != "another source" || hist[1].Value != hist[0].Value {
		t.Fatalf("source revision: %+v %v", hist, err)
	}
	// Upsert agrees with what the import stored: re-reporting is unchanged.
	sum, err := fx.st.Upsert(ctx, []observation.Observation{{Indicator: f1[0], Region: f1[1], Period: period.OfYear(2024), Value: 12.5}}, revAt)
	if err != nil || sum.Unchanged != 1 {
		t.Fatalf("upsert after import: %+v %v", sum, err)
	}
}

// TestBadRowAtEndWritesNothing: one bad cell in the last row of a large
// file rejects the file whole, and names the cell.
func TestBadRowAtEndWritesNothing(t *testing.T) {
	srv := testenv.SharedInflux(t)
	fx := newFixture(t, srv, srv.NewBucket(t), Options{BatchSize: 5000})
	var buf bytes.Buffer
	n := generate(t, &buf, fx.v, genSpec{rows: 60000, years: 2})
	buf.WriteString("food_sampling_pass_rate,370000,1990,985\n")
	path := writeFile(t, "bad-end.csv", buf.Bytes())
	_, err := fx.im.ImportFile(context.Background(), path, testNow)
	var errs ingest.Errors
	if !errors.As(err, &errs) || len(errs) != 1 {
		t.Fatalf("err %v", err)
	}
	want := fmt.Sprintf("%s:%d:value: 985 is outside the valid range of food_sampling_pass_rate", path, n+2)
	if !strings.HasPrefix(errs[0].Error(), want) {
		t.Fatalf("got %s\nwant %s", errs[0], want)
	}
	if got := stored(t, fx.st); len(got) != 0 {
		t.Fatalf("a rejected file wrote %d values", len(got))
	}
}

func TestDuplicateKeysWriteNothing(t *testing.T) {
	srv := testenv.SharedInflux(t)
	fx := newFixture(t, srv, srv.NewBucket(t), Options{})
	var buf bytes.Buffer
	generate(t, &buf, fx.v, genSpec{rows: 20000, years: 1})
	lines := strings.Split(buf.String(), "\n")
	buf.WriteString(lines[7] + "\n") // row 8 again, as row 20002
	path := writeFile(t, "dup.csv", buf.Bytes())
	_, err := fx.im.ImportFile(context.Background(), path, testNow)
	if err == nil || !strings.Contains(err.Error(), ":20002:period: duplicate key ") || !strings.Contains(err.Error(), "first given on row 8") {
		t.Fatalf("err %v", err)
	}
	if got := stored(t, fx.st); len(got) != 0 {
		t.Fatalf("a rejected file wrote %d values", len(got))
	}
}

func TestImportGBK(t *testing.T) {
	srv := testenv.SharedInflux(t)
	fx := newFixture(t, srv, srv.NewBucket(t), Options{})
	text := "指标,地区,时期,数值,来源\n食品安全抽检合格率,山东省,2020年,98.5,山东省统计局\n食品安全抽检合格率,青岛,2020,\" 10\",\n"
	path := writeFile(t, "gbk.csv", testenv.GBK(t, text))
	res, err := fx.im.ImportFile(context.Background(), path, testNow)
	if err != nil || res.New != 2 {
		t.Fatalf("%+v %v", res, err)
	}
	cur, err := fx.st.Current(context.Background(), store.Filter{})
	if err != nil || len(cur) != 2 {
		t.Fatalf("%+v %v", cur, err)
	}
	sort.Slice(cur, func(i, j int) bool { return cur[i].Region < cur[j].Region })
	if cur[0].Region != "370000" || cur[0].Value != 98.5 || cur[0].Source != "山东省统计局" || cur[1].Region != "370200" || cur[1].Value != 10 {
		t.Fatalf("stored %+v", cur)
	}
}

// TestDryRunWritesNothing counts rows without a server.
func TestDryRunWritesNothing(t *testing.T) {
	im, err := New(Options{Validator: validatorT(t), DryRun: true, Influx: store.Config{URL: "http://127.0.0.1:1"}})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n := generate(t, &buf, im.opts.Validator, genSpec{rows: 3000, years: 1})
	res, err := im.ImportFile(context.Background(), writeFile(t, "x.csv", buf.Bytes()), testNow)
	if err != nil || res.Accepted != n || res.Written != 0 {
		t.Fatalf("%+v %v", res, err)
	}
}

// TestInfluxRestartMidImport kills InfluxDB after the first batch is
// written and restarts it; the import retries and every row arrives once
// (the points are counted).
func TestInfluxRestartMidImport(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts InfluxDB")
	}
	srv := testenv.StartInflux(t)
	var retries int
	var mu sync.Mutex
	fx := newFixture(t, srv, srv.Bucket, Options{BatchSize: 2000,
		Retry:   store.Retry{Initial: 50 * time.Millisecond, Max: time.Second},
		OnRetry: func(error, time.Duration) { mu.Lock(); retries++; mu.Unlock() }})
	var buf bytes.Buffer
	n := generate(t, &buf, fx.v, genSpec{rows: 60000, years: 2})
	restarted := make(chan struct{})
	var once sync.Once
	fx.im.afterBatch = func() {
		once.Do(func() {
			srv.Kill()
			go func() {
				defer close(restarted)
				time.Sleep(300 * time.Millisecond)
				srv.Restart(t)
			}()
		})
	}
	res, err := fx.im.ImportFile(context.Background(), writeFile(t, "restart.csv", buf.Bytes()), testNow)
	once.Do(func() { close(restarted) }) // never killed: the checks below fail
	<-restarted
	if err != nil {
		t.Fatal(err)
	}
	// A chunk in flight when InfluxDB died (two are written at once) may
	// have stored its rows before its write failed: its retry finds them
	// stored, unchanged. Every row is new or found so, none revised.
	if res.Accepted != n || res.New+res.Unchanged != n || res.Revised != 0 || res.Written != res.New || res.Unchanged > inFlight*2000 {
		t.Fatalf("%+v, want %d rows new (or stored before a failed write)", res, n)
	}
	if retries == 0 {
		t.Fatal("no write was retried: InfluxDB was not down during the import")
	}
	sameLines(t, stored(t, fx.st), expected(t, fx.v, buf.Bytes()))
	// Exactly once: no point beyond the file's, and one revision each.
	if s := srv.Query(t, `SELECT count("value") FROM "observation"`); len(s) != 1 || fmt.Sprint(s[0].Values[0][1]) != fmt.Sprint(n) {
		t.Fatalf("count: %+v", s)
	}
	if s := srv.Query(t, `SELECT count("value") FROM "observation_revision"`); len(s) != 0 {
		t.Fatalf("revisions written: %+v", s)
	}
}

// import, like every other path, stores no derived figure (a non-pass rate's
// pass rate is computed when read, internal/derive), with lines the fast CSV
// reader splits and lines it hands to encoding/csv alike.
func TestImportDerives(t *testing.T) {
	srv := testenv.SharedInflux(t)
	for _, c := range []struct{ name, csv string }{
		{"fast reader", "indicator,region,period,value\nfood_sampling_fail_rate,370000,2023,3.5\nfood_sampling_fail_rate,620000,2023,4\nfood_sampling_pass_rate,620000,2023,96.5\n"},
		// A note over two lines is beyond the fast reader: encoding/csv reads on from there.
		{"encoding/csv", "indicator,region,period,value,note\nfood_sampling_fail_rate,370000,2023,3.5,\"two\nlines\"\nfood_sampling_fail_rate,620000,2023,4,\nfood_sampling_pass_rate,620000,2023,96.5,\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, err := derive.New(validatorT(t).Catalog, validatorT(t).Regions)
			if err != nil {
				t.Fatal(err)
			}
			fx := newFixture(t, srv, srv.NewBucket(t), Options{Deriver: d})
			path := writeFile(t, "d.csv", []byte(c.csv))
			res, err := fx.im.ImportFile(context.Background(), path, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if res.Accepted != 3 {
				t.Errorf("accepted %d, want the 3 rows (nothing derived stored)", res.Accepted)
			}
			want := []string{
				"food_sampling_fail_rate|370000|2023|3.5", "food_sampling_fail_rate|620000|2023|4",
				"food_sampling_pass_rate|620000|2023|96.5",
			}
			sameLines(t, stored(t, fx.st), want)
		})
	}
}
