package collectors_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/qualitymon/qualitymon/collectors"
	"github.com/qualitymon/qualitymon/collectors/all"
	"github.com/qualitymon/qualitymon/collectors/collectortest"
	"github.com/qualitymon/qualitymon/internal/config"
	"github.com/qualitymon/qualitymon/internal/store"
	"github.com/qualitymon/qualitymon/internal/store/storetest"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	os.Chtimes(to, old, old)
}

// Every source runs on its cron schedule in the runner and its figures land
// in a real InfluxDB through store.Upsert (store.Direct).
func TestEverySourceOnScheduleIntoInfluxDB(t *testing.T) {
	srv := testenv.StartInflux(t)
	st := storetest.On(t, srv, srv.Bucket)

	drop := t.TempDir()
	copyFile(t, "filedrop/testdata/nbs-export/国家统计局导出.csv", filepath.Join(drop, "nbs.csv"))
	copyFile(t, "filedrop/testdata/xlsx-canonical/上报.xlsx", filepath.Join(drop, "upload.xlsx"))
	copyFile(t, "filedrop/testdata/bad-cell/city.csv", filepath.Join(drop, "bad.csv"))

	var requests, notModified atomic.Int32
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.Header.Get("If-None-Match") == `"v1"` {
			notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Write([]byte(`{"rows": [{"ind": "药品抽检合格率", "area": "甘肃", "year": 2022, "v": "99.4%"}]}`))
	}))
	defer feed.Close()

	aqiFile, _ := filepath.Abs("aqi/testdata/ytd-and-duplicates/haikou.csv")
	cfg, err := config.Load([]byte(fmt.Sprintf(`
collectors:
  - name: drop
    type: filedrop
    schedule: "@every 1s"
    options: {dir: %q, min_age: 1s}
  - name: feed
    type: httpjson
    schedule: "@every 1s"
    options:
      url: %s/feed
      items: rows
      fields: {indicator: ind, region: area, period: year, value: v}
  - name: air
    type: aqi
    schedule: "@every 1s"
    options:
      files: [{path: %q, region: 海口}]
`, drop, feed.URL, aqiFile)), nil)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	var logs bytes.Buffer
	// The real clock: the file drop compares it with the files' times.
	deps := collectortest.Deps(t)
	deps.Now, deps.Validator.Now = time.Now, time.Now
	cols, err := collectors.Build(cfg.Collectors, all.Registry, deps)
	if err != nil {
		t.Fatal(err)
	}
	r, err := collectors.NewRunner(cols, deps, &store.Direct{Store: st}, reg,
		slog.New(slog.NewTextHandler(&logs, nil)), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	r.Start()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			<-r.Stop().Done()
		}
	}
	defer stop()

	want := map[string]bool{
		"food_sampling_pass_rate 110000 2024":       true, // NBS export CSV
		"food_sampling_pass_rate 620000 2024":       true,
		"provincial_brand_products_new 370000 2024": true, // XLSX
		"drug_sampling_pass_rate 370000 2023":       true,
		"drug_sampling_pass_rate 620000 2022":       true, // JSON feed
		"aqi_daily 460100 2026-01-02":               true, // AQI: daily values only (the yearly share is derived when read)
	}
	ctx := context.Background()
	deadline := time.Now().Add(90 * time.Second)
	var got map[string]float64
	for {
		cur, err := st.Current(ctx, store.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		got = map[string]float64{}
		for _, o := range cur {
			got[o.Indicator+" "+o.Region+" "+o.Period.String()] = o.Value
		}
		missing := 0
		for k := range want {
			if _, ok := got[k]; !ok {
				missing++
			}
		}
		if missing == 0 && notModified.Load() > 0 {
			break
		}
		if time.Now().After(deadline) {
			var keys []string
			for k := range got {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			t.Fatalf("after 90 s: %d of %d expected keys missing, %d feed requests (%d not modified); stored:\n%s\nlogs:\n%s",
				missing, len(want), requests.Load(), notModified.Load(), strings.Join(keys, "\n"), logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	stop()

	checks := map[string]float64{
		"food_sampling_pass_rate 110000 2024": 98.5,
		"drug_sampling_pass_rate 620000 2022": 99.4,
		"aqi_daily 460100 2026-01-02":         101,
	}
	for k, v := range checks {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	for _, k := range []string{"good_air_quality_days_share 460100 2026", "good_air_quality_days_missing 460100 2026"} {
		if _, ok := got[k]; ok {
			t.Errorf("%s stored: derived figures are computed when read, never stored", k)
		}
	}
	// The rejected file wrote nothing and went to failed/ with its report.
	// (bad.csv says 98.2 for 青岛 2023 on its valid row; the workbook 98.9.)
	if v := got["food_sampling_pass_rate 370200 2023"]; v != 98.9 {
		t.Errorf("青岛 2023 = %v: a row of the rejected file was stored", v)
	}
	if _, err := os.Stat(filepath.Join(drop, "failed", "bad.csv.errors.txt")); err != nil {
		t.Error(err)
	}
	for _, f := range []string{"nbs.csv", "upload.xlsx"} {
		if _, err := os.Stat(filepath.Join(drop, "done", f)); err != nil {
			t.Error(err)
		}
	}
	// Every collector ran on schedule and counted its samples; the drop also
	// counted the rejected file.
	for _, name := range []string{"drop", "feed", "air"} {
		n, err := testutil.GatherAndCount(reg, "qualitymon_collector_last_run_timestamp_seconds")
		if err != nil || n != 3 {
			t.Fatalf("last_run series: %d %v", n, err)
		}
		if v := counter(t, reg, "qualitymon_collector_samples_total", name); v == 0 {
			t.Errorf("%s: samples_total 0", name)
		}
	}
	if v := counter(t, reg, "qualitymon_collector_errors_total", "drop"); v != 1 {
		t.Errorf("drop errors_total %v, want 1 (bad.csv)", v)
	}
	if v := counter(t, reg, "qualitymon_collector_errors_total", "feed"); v != 0 {
		t.Errorf("feed errors_total %v\n%s", v, logs.String())
	}
}

func counter(t *testing.T, reg *prometheus.Registry, name, collector string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "collector" && l.GetValue() == collector {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no %s{collector=%q}", name, collector)
	return 0
}
