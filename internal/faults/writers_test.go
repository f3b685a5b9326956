package faults

import (
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/qualitymon/qualitymon/internal/spool"
	"github.com/qualitymon/qualitymon/internal/testenv"
	"github.com/qualitymon/qualitymon/internal/upload"
)

// Several writers (issue 17 item 4): two real `qualitymon serve` replicas
// on one InfluxDB, and `qualitymon import` beside them, write Qingdao's food
// sampling pass rate (qingdao-2023, target food-sampling-pass-rate). Each
// scenario reports one year of it.

const writerToken = "writers-test-qingdao-0123456789abcdef"

// writers is two serve replicas on one bucket of the shared InfluxDB.
type writers struct {
	a, b   *serve
	env    []string // the InfluxDB variables
	bin    string   // the qualitymon binary
	influx *testenv.Influx
	db     string
}

// replicas starts two serve processes of one binary on one bucket, each
// with its own spool, archive, audit log and review queue.
func replicas(t *testing.T) *writers {
	t.Helper()
	influx := testenv.SharedInflux(t)
	bucket := influx.NewBucket(t)
	bin := testenv.BuildQualitymon(t, t.TempDir())
	env := []string{"QUALITYMON_INFLUX_URL=" + influx.URL, "QUALITYMON_INFLUX_BUCKET=" + bucket,
		"QUALITYMON_INFLUX_ORG=" + influx.Org, "QUALITYMON_INFLUX_TOKEN=" + influx.Token}
	var out [2]*serve
	for i := range out {
		dir := t.TempDir()
		s := &serve{bin: bin, dir: dir, cfg: filepath.Join(dir, "qualitymon.yaml"), addr: testenv.FreeAddr(t), env: env}
		cfg := fmt.Sprintf(`influx: {url: %q, org: %q, bucket: %q}
listen: %s
evaluation: {schedule: "@every 1h"}
spool_dir: %s
uploads:
  archive_dir: %s
  audit_log: %s
  review_dir: %s
  tokens:
    - {bureau: 青岛市统计局, token_sha256: %s, regions: ["370200"]}
`, influx.URL, influx.Org, bucket, s.addr, filepath.Join(dir, "spool"), filepath.Join(dir, "archive"), s.auditLog(),
			filepath.Join(dir, "review"), upload.HashToken(writerToken))
		if err := os.WriteFile(s.cfg, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		out[i] = s
	}
	var wg sync.WaitGroup
	for _, s := range out {
		wg.Add(1)
		go func() { defer wg.Done(); s.start(t) }()
	}
	wg.Wait()
	db, _, _ := strings.Cut(bucket, "/")
	return &writers{a: out[0], b: out[1], env: env, bin: bin, influx: influx, db: db}
}

func figureCSV(year int, v float64) []byte {
	return []byte(fmt.Sprintf("indicator,region,period,value\nfood_sampling_pass_rate,370200,%d,%s\n", year, strconv.FormatFloat(v, 'f', -1, 64)))
}

// tryUpload posts one figure and returns the answer, which must be stored
// (200, not pending).
func tryUpload(s *serve, year int, v float64) (answer, error) {
	code, a, err := post(&http.Client{Timeout: bound}, s.uploadURL(), writerToken, figureCSV(year, v))
	if err != nil || code != http.StatusOK || a.Pending || a.Accepted != 1 {
		return a, fmt.Errorf("upload of %v for %d to %s: %d %+v %v", v, year, s.addr, code, a, err)
	}
	return a, nil
}

func uploadTo(t *testing.T, s *serve, year int, v float64) answer {
	t.Helper()
	a, err := tryUpload(s, year, v)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func verdict(a answer) string {
	switch {
	case a.New == 1:
		return "new"
	case a.Revised == 1:
		return "revised"
	case a.Unchanged == 1:
		return "unchanged"
	}
	return fmt.Sprintf("%+v", a)
}

// figure is one row of /export/figures.csv.
type figure struct {
	value    float64
	revision int
}

// figures reads the values of a year from the target page's export of s:
// every value reported, oldest first.
func figures(t *testing.T, s *serve, year int) []figure {
	t.Helper()
	code, body := testenv.Get("http://" + s.addr + "/export/figures.csv?plan=qingdao-2023&target=food-sampling-pass-rate&region=370200")
	if code != http.StatusOK {
		t.Fatalf("figures.csv: %d %.300s", code, body)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []figure
	for _, r := range rows[1:] {
		if r[3] != strconv.Itoa(year) {
			continue
		}
		v, _ := strconv.ParseFloat(r[4], 64)
		rev, _ := strconv.Atoi(r[6])
		out = append(out, figure{v, rev})
	}
	return out
}

// current is the current value of a year as InfluxDB holds it (the point
// of observation) and its revision.
func (w *writers) current(t *testing.T, year int) (float64, int) {
	t.Helper()
	q := fmt.Sprintf(`SELECT "value", "revision" FROM "observation" WHERE "indicator" = 'food_sampling_pass_rate' AND "region" = '370200' AND time = '%d-01-01T00:00:00Z'`, year)
	series := w.influx.QueryDB(t, w.db, q)
	if len(series) != 1 || len(series[0].Values) != 1 {
		t.Fatalf("%d: InfluxDB holds %+v, want one current point", year, series)
	}
	row := series[0].Values[0]
	return num(row, column(series[0].Columns, "value")), int(num(row, column(series[0].Columns, "revision")))
}

func values(fs []figure) []float64 {
	var out []float64
	for _, f := range fs {
		out = append(out, f.value)
	}
	return out
}

// checkHistory asserts that the history of a year holds exactly want (in
// any order when ordered is false), that both replicas show the same, and
// that the value InfluxDB holds as current is the history's last (the
// latest report).
func (w *writers) checkHistory(t *testing.T, year int, want []float64, ordered bool) []figure {
	t.Helper()
	fa, fb := figures(t, w.a, year), figures(t, w.b, year)
	if !slices.Equal(fa, fb) {
		t.Errorf("%d: replicas disagree:\n A %+v\n B %+v", year, fa, fb)
	}
	got := values(fa)
	if !ordered {
		got, want = slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
	}
	if !slices.Equal(got, want) {
		t.Errorf("%d: values reported %v, want %v", year, values(fa), want)
	}
	v, rev := w.current(t, year)
	if n := len(fa); n > 0 && (fa[n-1].value != v || fa[n-1].revision != rev) {
		t.Errorf("%d: InfluxDB's current value is %v (revision %d), the latest report %+v", year, v, rev, fa[n-1])
	}
	return fa
}

// TestTwoReplicas: 97.1 through A, 95.0 through B, 97.1 through A again →
// new, revised, revised, and 97.1 current (with serve's old one-minute
// index of current values A answered "unchanged" and 95.0 stayed current);
// then a burst of different values through both at once: every one stored
// and retrievable, none answered unchanged, the current value the latest
// report.
func TestTwoReplicas(t *testing.T) {
	w := replicas(t)
	a, b := w.a, w.b
	var got []string
	for _, c := range []struct {
		s *serve
		v float64
	}{{a, 97.1}, {b, 95.0}, {a, 97.1}, {b, 97.1}} {
		got = append(got, verdict(uploadTo(t, c.s, 2022, c.v)))
	}
	if want := []string{"new", "revised", "revised", "unchanged"}; !slices.Equal(got, want) {
		t.Errorf("answers %v, want %v", got, want)
	}
	fs := w.checkHistory(t, 2022, []float64{97.1, 95.0, 97.1}, true)
	if len(fs) == 3 && fs[2].revision != 2 {
		t.Errorf("current %+v, want revision 2", fs[2])
	}

	// As many at once as wait for InfluxDB's answer on the two replicas
	// (more would be answered pending, without a verdict to check).
	const burst = 2 * spool.DefaultMaxWaiting
	var wg sync.WaitGroup
	answers := make([]answer, burst)
	errs := make([]error, burst)
	for i := range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i], errs[i] = tryUpload([]*serve{a, b}[i%2], 2023, 90+float64(i)/10)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	var want []float64
	news := 0
	for i, ans := range answers {
		want = append(want, 90+float64(i)/10)
		switch verdict(ans) {
		case "new":
			news++
		case "unchanged":
			t.Errorf("burst upload %d answered unchanged: every value differs", i)
		}
	}
	if news == 0 {
		t.Error("no upload of the burst was answered new")
	}
	w.checkHistory(t, 2023, want, false)
}

// TestImportBesideServe: 97.1 through serve, 95.0 by `qualitymon import`,
// 97.1 through serve again → revised, 97.1 current; then imports and
// uploads of different values at once: every value retrievable, the
// latest report current.
func TestImportBesideServe(t *testing.T) {
	w := replicas(t)
	a, b := w.a, w.b
	dir := t.TempDir()
	imp := func(v float64, year int) (string, error) {
		f := filepath.Join(dir, fmt.Sprintf("import-%d-%v.csv", year, v))
		if err := os.WriteFile(f, figureCSV(year, v), 0o644); err != nil {
			return "", err
		}
		cmd := exec.Command(w.bin, "import", "--config", a.cfg, f)
		cmd.Env = append(os.Environ(), w.env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("import %v: %w\n%s", v, err, out)
		}
		return string(out), nil
	}
	if v := verdict(uploadTo(t, a, 2021, 97.1)); v != "new" {
		t.Errorf("first upload: %s, want new", v)
	}
	if out, err := imp(95.0, 2021); err != nil || !strings.Contains(out, "1 revised") {
		t.Errorf("import of 95.0: %s %v, want 1 revised", out, err)
	}
	if v := verdict(uploadTo(t, a, 2021, 97.1)); v != "revised" {
		t.Errorf("second upload of 97.1: %s, want revised", v)
	}
	w.checkHistory(t, 2021, []float64{97.1, 95.0, 97.1}, true)

	var wg sync.WaitGroup
	var want []float64
	errs := make([]error, 6)
	for i := range errs {
		v := 80 + float64(i)
		want = append(want, v)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%3 == 0 {
				_, errs[i] = imp(v, 2020)
			} else {
				_, errs[i] = tryUpload([]*serve{a, b}[i%2], 2020, v)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	w.checkHistory(t, 2020, want, false)
}
