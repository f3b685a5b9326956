//go:build linux

package dashcheck_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	promclient "github.com/prometheus/client_golang/prometheus"

	"github.com/qualitymon/qualitymon/internal/dashcheck"
	"github.com/qualitymon/qualitymon/internal/engine"
	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/exporter"
	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/internal/store"
	"github.com/qualitymon/qualitymon/internal/store/storetest"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// mayBeEmpty lists the panels allowed to return no data, and why: each is
// excused only while qualitymon's /metrics lacks every metric it names,
// that is, while `qualitymon serve` does not run the subsystem. Once the
// subsystem is wired into serve the panel must return data like any other.
var mayBeEmpty = []struct {
	dashboard, panel string
	metrics          []string
	why              string
}{
	// Every subsystem (store check, spool, collectors, uploads) runs in serve
	// now; add an entry here only for a panel whose subsystem does not, or
	// that charts figures only the detailed metrics carry (checked with
	// metrics.detailed_targets on, where they must return data).
	{"qualitymon-comparison", "各地区实际值与目标值", []string{"qualitymon_target_actual", "qualitymon_target_value"}, "actual and target value per region: detailed metrics"},
	{"qualitymon-overview", "差距最大的目标", []string{"qualitymon_target_value"}, "gap relative to the target value: detailed metrics"},
	{"qualitymon-plan", "差距(占目标值%)", []string{"qualitymon_target_value"}, "gap relative to the target value: detailed metrics"},
	{"qualitymon-plan", "最近截止年份", []string{"qualitymon_target_deadline_timestamp_seconds"}, "deadline as a number: detailed metrics"},
	{"qualitymon-indicator", "最新数据期末", []string{"qualitymon_indicator_last_observation_timestamp_seconds"}, "freshness per indicator and region: detailed metrics"},
	{"qualitymon-operations", "各指标数据新鲜度", []string{"qualitymon_indicator_last_observation_timestamp_seconds"}, "freshness per indicator and region: detailed metrics"},
}

// backfill are the dates of the evaluation history written before serve
// starts, as if qualitymon had run since the plans began: the Indicator
// dashboard's projection and the history panels need evaluations made
// before the deadlines passed.
var backfill = []string{"2018-06-30", "2018-12-31", "2019-06-30", "2019-12-31", "2020-06-30", "2020-12-31",
	"2021-12-31", "2022-12-31", "2023-06-30", "2023-12-31", "2024-06-30", "2024-12-31", "2025-06-30"}

// revised is a figure of the sample dataset reported again with another
// value, so that the revision panels have a revision to show (the
// Indicator dashboard's default indicator and region).
var revised = observation.Key{Indicator: "food_sampling_pass_rate", Region: "370000"}

// TestDashboardsReturnData is the full dashboard check: the sample dataset
// in a real InfluxDB, `qualitymon serve` writing evaluations and serving
// /metrics, the real Prometheus scraping it with the alert rules loaded;
// then every variable and panel query of every dashboard must run without
// error and return data. It runs twice: with the compact metrics (the
// default; the panels of mayBeEmpty may be empty) and with
// metrics.detailed_targets on (every panel returns data).
func TestDashboardsReturnData(t *testing.T) {
	if testing.Short() {
		t.Skip("starts InfluxDB, qualitymon and Prometheus")
	}
	root := testenv.RepoRoot(t)
	testenv.PrometheusBinary(t) // missing, the test ends before starting anything
	influx := testenv.SharedInflux(t)
	bucket := influx.NewBucket(t)
	ctx := context.Background()

	set := testenv.Plans(t)
	st := storetest.On(t, influx, bucket)
	importSample(t, ctx, st, set, filepath.Join(root, "sample", "observations.csv"))
	logger := slog.New(slog.DiscardHandler)
	for _, day := range backfill {
		at, _ := time.Parse(time.DateOnly, day)
		eng := &engine.Engine{
			Store:     st,
			Evaluator: &evaluate.Evaluator{Set: set, Opts: evaluate.Options{Grace: evaluate.DefaultGrace}},
			Exporter:  exporter.New(promclient.NewRegistry(), set.Catalog, evaluate.DefaultGrace),
			Logger:    logger,
			Now:       func() time.Time { return at },
		}
		if err := eng.Run(ctx); err != nil {
			t.Fatalf("evaluation history as of %s: %v", day, err)
		}
	}

	bin := testenv.BuildQualitymon(t, t.TempDir())
	for _, detailed := range []bool{false, true} {
		t.Run(fmt.Sprintf("detailed_targets=%v", detailed), func(t *testing.T) {
			checkDashboards(t, ctx, root, bin, influx, bucket, detailed)
		})
	}
}

// checkDashboards runs qualitymon serve (metrics.detailed_targets set to
// detailed) and Prometheus over the bucket and every dashboard query.
func checkDashboards(t *testing.T, ctx context.Context, root, bin string, influx *testenv.Influx, bucket string, detailed bool) {
	// qualitymon serve, built from this tree, evaluates now and serves /metrics.
	qmAddr := testenv.FreeAddr(t)
	cfgPath := filepath.Join(t.TempDir(), "qualitymon.yaml")
	state := t.TempDir()
	cfg := fmt.Sprintf("influx:\n  url: %s\n  org: %q\n  bucket: %s\nlisten: %s\nevaluation:\n  schedule: \"@every 1m\"\nspool_dir: %s\n"+
		// The sample's targets settled years ago: a long notify window keeps
		// their alerts firing, for the alert panels.
		"alerting:\n  settled_notify_window: 3650d\n"+
		fmt.Sprintf("metrics:\n  detailed_targets: %v\n", detailed)+
		"collectors:\n  - {name: drop, type: filedrop, schedule: \"@every 1s\", options: {dir: %s}}\n"+
		"uploads:\n  archive_dir: %s\n  audit_log: %s\n  tokens:\n    - {bureau: %s, token_sha256: %x, regions: [\"370000\"]}\n",
		influx.URL, influx.Org, bucket, qmAddr, filepath.Join(state, "spool"), filepath.Join(state, "drop"), filepath.Join(state, "uploads"),
		filepath.Join(state, "uploads", "audit.jsonl"), uploadBureau, sha256.Sum256([]byte(uploadToken)))
	if err := os.MkdirAll(filepath.Join(state, "drop"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	qm := testenv.StartProcess(t, state, "qualitymon", nil, bin, "serve", "--config", cfgPath)
	var metrics string
	testenv.WaitFor(t, qm, 60*time.Second, "qualitymon /metrics with targets", func() (bool, string) {
		code, body := testenv.Get("http://" + qmAddr + "/metrics")
		metrics = body
		return code == 200 && strings.Contains(body, "qualitymon_target_status_code{"), fmt.Sprint(code)
	})
	testenv.WaitFor(t, qm, 30*time.Second, "qualitymon /readyz", func() (bool, string) {
		code, body := testenv.Get("http://" + qmAddr + "/readyz")
		return code == 200, body
	})

	// One accepted upload (a sample row again: unchanged) and one with a
	// wrong token, for the Operations dashboard's uploads by bureau.
	upload(t, "http://"+qmAddr, uploadToken, sampleRow(t, filepath.Join(root, "sample", "observations.csv")), 200)
	upload(t, "http://"+qmAddr, "wrong-token", "", 401)
	metrics = waitMetrics(t, qm, "http://"+qmAddr+"/metrics", "qualitymon_uploads_total{")

	rules, _ := filepath.Glob(filepath.Join(root, "dashboards", "alerts", "*.yml"))
	prom := testenv.StartPrometheus(t, testenv.PrometheusConfig{Target: qmAddr, RuleFiles: rules})
	testenv.WaitFor(t, prom.Process, 90*time.Second, "three scrapes of qualitymon", func() (bool, string) {
		v, seen := prom.Value(`sum(count_over_time(up{job="qualitymon"}[5m])) and on () (min(up{job="qualitymon"}) == 1) and on () count(qualitymon_target_status_code) > 0`)
		return v >= 3, seen
	})
	if len(rules) > 0 {
		testenv.WaitFor(t, prom.Process, 60*time.Second, "ALERTS from the rules in dashboards/alerts", func() (bool, string) {
			v, seen := prom.Value(`count(ALERTS)`)
			return v > 0, seen
		})
	}

	dashSet, probs := dashcheck.Load(os.DirFS(filepath.Join(root, "dashboards", "grafana")))
	for _, p := range append(probs, dashSet.Check()...) {
		t.Errorf("structure: %s", p)
	}
	live := &dashcheck.Live{
		PrometheusURL: prom.URL,
		Influx:        store.Config{URL: influx.URL, Token: influx.Token, Org: influx.Org, Bucket: bucket},
	}
	results := live.Run(ctx, dashSet)
	perDashboard := map[string]int{}
	for _, r := range results {
		perDashboard[r.Dashboard]++
		switch {
		case r.Err != nil:
			t.Errorf("%s: %s error: %v\n%s", r.Where(), r.Lang, r.Err, r.Query)
		case r.Series == 0:
			if why, ok := excused(r, metrics); ok && !detailed {
				t.Logf("ALLOWED no data: %s (%s)", r.Where(), why)
				continue
			}
			t.Errorf("%s: no data\n%s", r.Where(), r.Query)
		default:
			t.Logf("ok %4d series in %s: %s", r.Series, r.Took.Round(time.Millisecond), r.Where())
		}
	}
	for _, d := range dashSet.Dashboards {
		if perDashboard[d.UID] == 0 {
			t.Errorf("%s: no query was run", d.File)
		}
	}

	if detailed {
		return
	}
	t.Run("failures are reported", func(t *testing.T) {
		bad := badDashboards()
		badSet, probs := dashcheck.Load(bad)
		if len(probs) > 0 {
			t.Fatal(probs)
		}
		got := map[string]string{}
		for _, r := range live.Run(ctx, badSet) {
			t.Logf("%s: %s, %d series, %v", r.Where(), r.Took, r.Series, r.Err)
			switch {
			case r.Err != nil:
				got[r.RefID] = "error"
			case r.Series == 0:
				got[r.RefID] = "empty"
			default:
				got[r.RefID] = "data"
			}
		}
		want := map[string]string{"promSyntax": "error", "promEmpty": "empty", "promData": "data",
			"fluxSyntax": "error", "fluxEmpty": "empty", "fluxData": "data", "fluxVar": "data"}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("query %s: got %q, want %q", k, got[k], w)
			}
		}
	})
}

const (
	uploadBureau = "山东省统计局"
	uploadToken  = "dashcheck-test-token"
)

// sampleRow is the header and a Shandong row of the sample dataset.
func sampleRow(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for _, l := range lines[1:] {
		if strings.Contains(l, ",370000,") && !strings.HasPrefix(l, revised.Indicator+",") {
			return lines[0] + "\n" + l + "\n"
		}
	}
	t.Fatal("no Shandong row in the sample dataset")
	return ""
}

// upload posts a CSV to qualitymon's upload API and checks the status.
func upload(t *testing.T, base, token, body string, want int) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/uploads", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "text/csv")
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("upload: HTTP %d, want %d: %s", resp.StatusCode, want, b)
	}
}

// waitMetrics waits until /metrics shows a series and returns the page.
func waitMetrics(t *testing.T, p *testenv.Process, u, series string) string {
	t.Helper()
	var page string
	testenv.WaitFor(t, p, 30*time.Second, series+" on /metrics", func() (bool, string) {
		code, body := testenv.Get(u)
		page = body
		return code == 200 && strings.Contains(body, series), fmt.Sprint(code)
	})
	return page
}

// excused says why a panel may be empty, when it may.
func excused(r dashcheck.Result, metrics string) (string, bool) {
	for _, a := range mayBeEmpty {
		if a.dashboard != r.Dashboard || a.panel != r.Panel {
			continue
		}
		for _, m := range a.metrics {
			if strings.Contains(metrics, "\n"+m+"{") || strings.Contains(metrics, "\n"+m+" ") {
				return "", false
			}
		}
		return a.why + "; " + strings.Join(a.metrics, ", ") + " absent from /metrics", true
	}
	return "", false
}

func importSample(t *testing.T, ctx context.Context, st *store.Store, set *plan.Set, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	src, err := ingest.NewCSV(path, f)
	if err != nil {
		t.Fatal(err)
	}
	v := &ingest.Validator{Catalog: set.Catalog, Regions: set.Regions, Now: time.Now}
	batch, err := v.ReadAll(src)
	if err != nil {
		t.Fatalf("sample dataset: %v", err)
	}
	reported := time.Now().Add(-48 * time.Hour)
	if _, err := st.Upsert(ctx, batch, reported); err != nil {
		t.Fatal(err)
	}
	var again []observation.Observation
	for _, o := range batch {
		if o.Indicator == revised.Indicator && o.Region == revised.Region {
			o.Value -= 0.4
			o.Source += " (revised)"
			again = append(again, o)
			break
		}
	}
	if len(again) == 0 {
		t.Fatalf("the sample dataset has no %s figure for %s to revise", revised.Indicator, revised.Region)
	}
	sum, err := st.Upsert(ctx, again, reported.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Revised != 1 {
		t.Fatalf("revision: %+v, want 1 revised", sum)
	}
}

// badDashboards is a Grafana directory whose queries fail, return nothing
// or return data, to prove the checker tells them apart.
func badDashboards() fstest.MapFS {
	panel := func(id int, ds, refID, field, q string) string {
		return fmt.Sprintf(`{"id":%d,"type":"stat","title":"测试","description":"test panel","gridPos":{"x":0,"y":0,"w":6,"h":4},
			"fieldConfig":{"defaults":{"unit":"none"}},"datasource":{"type":"%s","uid":"%s"},
			"targets":[{"refId":"%s","%s":%q,"instant":true}]}`, id, ds, ds, refID, field, q)
	}
	panels := []string{
		panel(1, "prometheus", "promSyntax", "expr", "sum(("),
		panel(2, "prometheus", "promEmpty", "expr", `qualitymon_target_status_code{plan="no-such-plan"}`),
		panel(3, "prometheus", "promData", "expr", `count(qualitymon_target_status_code{plan="$plan"})`),
		panel(4, "influxdb", "fluxSyntax", "query", `from(bucket: v.defaultBucket) |> range(start: -1y) |> nosuchfunction()`),
		panel(5, "influxdb", "fluxEmpty", "query", `from(bucket: v.defaultBucket) |> range(start: v.timeRangeStart, stop: v.timeRangeStop) |> filter(fn: (r) => r._measurement == "no_such_measurement")`),
		panel(6, "influxdb", "fluxData", "query", `from(bucket: v.defaultBucket) |> range(start: v.timeRangeStart, stop: v.timeRangeStop) |> filter(fn: (r) => r._measurement == "observation" and r.indicator == "${ind}") |> limit(n: 1)`),
		panel(7, "influxdb", "fluxVar", "query", `from(bucket: v.defaultBucket) |> range(start: v.timeRangeStart) |> filter(fn: (r) => r._measurement == "evaluation" and r.plan == "${plan}") |> aggregateWindow(every: v.windowPeriod, fn: last, createEmpty: false) |> limit(n: 1)`),
	}
	dash := `{"uid":"bad","title":"测试","time":{"from":"now-10y","to":"now"},
		"templating":{"list":[
			{"name":"plan","type":"query","datasource":{"type":"prometheus","uid":"prometheus"},"query":"label_values(qualitymon_target_status_code, plan)","current":{"value":"no-such-plan"}},
			{"name":"ind","type":"query","datasource":{"type":"influxdb","uid":"influxdb"},"query":"import \"influxdata/influxdb/v1\"\nv1.tagValues(bucket: v.defaultBucket, tag: \"indicator\")"}
		]},
		"panels":[` + strings.Join(panels, ",") + `]}`
	ds := `apiVersion: 1
datasources:
  - {name: P, uid: prometheus, type: prometheus, url: http://p, jsonData: {timeInterval: 15s}}
  - {name: I, uid: influxdb, type: influxdb, url: http://i, jsonData: {version: Flux, organization: o, defaultBucket: b}, secureJsonData: {token: t}}
`
	prov := "apiVersion: 1\nproviders:\n  - {name: p, type: file, options: {path: /d}}\n"
	return fstest.MapFS{
		"dashboards/bad.json":                    {Data: []byte(dash)},
		"provisioning/datasources/ds.yml":        {Data: []byte(ds)},
		"provisioning/dashboards/dashboards.yml": {Data: []byte(prov)},
	}
}
