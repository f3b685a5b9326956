package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/internal/spool"
	"github.com/qualitymon/qualitymon/internal/store"
	"github.com/qualitymon/qualitymon/internal/testenv"
	"github.com/qualitymon/qualitymon/internal/upload"
)

// TestPlausibilityFromEvaluation wires uploads as serve does (spool →
// Server.Ingested, the upload's History the engine) over the real InfluxDB
// and checks which previous value each upload's plausibility check
// compares with. The server's run loop is not started: the engine's data
// changes only by the runs the test makes and by Stored.
//   - Before the first run the engine asks the store: 2019=98.99 uploaded,
//     then 2020=50.1 warns against 98.99.
//   - After a run it answers from memory: a figure another replica writes
//     (straight to the store: 2021=97) is not compared with until the next
//     run (then 2022=50 warns against 97) — the documented bound.
//   - A figure this process stored moments before is compared with at once,
//     before any run: 2022=98.99 uploaded, then 2023=50.1 warns against
//     98.99 (not 97, not the 50 of the read).
//   - Daily figures of a rolled-up indicator (aqi_daily) are answered from
//     the run's data, exactly as reported: 2023-01-01=55.5 read by a run,
//     then 2023-01-02=200 warns against 55.5.
func TestPlausibilityFromEvaluation(t *testing.T) {
	srv := testenv.SharedInflux(t)
	st := store.Open(store.Config{URL: srv.URL, Org: srv.Org, Token: srv.Token, Bucket: srv.NewBucket(t), Timeout: 30 * time.Second})
	defer st.Close()
	cat, regs := testenv.Targets(t)
	eng, reg := newEngine(st, &plan.Set{Catalog: cat, Regions: regs})
	s := New(eng, reg, eng.Logger)
	sp, err := spool.Open(t.TempDir(), st, spool.Options{AcceptWait: time.Minute, OnStored: s.Ingested})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	const tok = "qd-plausible-token"
	dir := t.TempDir()
	now := time.Date(2026, 5, 20, 10, 30, 0, 0, time.UTC)
	val := &ingest.Validator{Catalog: cat, Regions: regs, Now: func() time.Time { return now }}
	h, err := upload.NewHandler(upload.Config{MaxBytes: upload.DefaultMaxBytes, ArchiveDir: filepath.Join(dir, "archive"), AuditLog: filepath.Join(dir, "audit.jsonl"),
		Tokens: []upload.Token{{Bureau: "青岛市统计局", TokenSHA256: upload.HashToken(tok), Regions: []string{"370200"}}}}, val, sp, prometheus.NewRegistry(), eng.Logger)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	h.History = eng
	h.Now = func() time.Time { return now }
	ts := httptest.NewServer(h)
	defer ts.Close()

	post := func(query, rows string) *upload.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, ts.URL+upload.Path+query, bytes.NewBufferString("indicator,region,period,value\n"+rows))
		req.Header.Set("Content-Type", "text/csv")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out upload.Response
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		out.Status = resp.StatusCode
		return &out
	}
	store1 := func(rows string) {
		t.Helper()
		if r := post("?confirm_warnings=1", rows); r.Status != 200 || r.Pending || r.New+r.Revised != 1 {
			t.Fatalf("upload %q: %+v", rows, r)
		}
	}
	// warns checks that a dry run of row warns against prev (none: no warning).
	warns := func(row string, prev ...float64) {
		t.Helper()
		r := post("?dry_run=1", row)
		if r.Status != 200 {
			t.Fatalf("dry run %q: %+v", row, r)
		}
		var got []float64
		for _, w := range r.Warnings {
			got = append(got, w.Previous)
		}
		if !slices.Equal(got, prev) {
			t.Errorf("dry run %q warns against %v, want %v (%+v)", row, got, prev, r.Warnings)
		}
	}
	run := func() {
		t.Helper()
		if err := eng.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
	}

	store1("food_sampling_pass_rate,370200,2019,98.99\n")
	warns("food_sampling_pass_rate,370200,2020,50.1\n", 98.99) // before the first run: the store
	run()
	warns("food_sampling_pass_rate,370200,2020,50.1\n", 98.99) // from the run's data
	other := observation.Observation{Indicator: "food_sampling_pass_rate", Region: "370200", Period: period.OfYear(2021), Value: 97}
	if _, err := st.Write(context.Background(), slices.Values([]store.Batch{{Obs: []observation.Observation{other}, ReportedAt: time.Now()}})); err != nil {
		t.Fatal(err)
	}
	warns("food_sampling_pass_rate,370200,2022,50\n") // another replica's 97: not until the next run
	run()
	warns("food_sampling_pass_rate,370200,2022,50\n", 97)
	store1("food_sampling_pass_rate,370200,2022,98.99\n")
	warns("food_sampling_pass_rate,370200,2023,50.1\n", 98.99) // stored moments before, no run since

	store1("aqi_daily,370200,2023-01-01,55.5\n")
	run()
	warns("aqi_daily,370200,2023-01-02,200\n", 55.5)
	warns("aqi_daily,370200,2023-01-02,60\n")
}
