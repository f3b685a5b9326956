package upload

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/spool"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

// TestPartialWriteRefused (fault suite, issue 9 item 4): the real InfluxDB
// refuses part of an upload — a field-type conflict in the shard of 2019
// only — and stores the rest. The upload answers 422 (not a retryable 503)
// naming the refused row and counting what was stored; InfluxDB holds
// exactly the other rows; the audit line records exactly that; the refused
// row is set aside under failed/; the same upload again answers the same
// way with the stored rows unchanged.
func TestPartialWriteRefused(t *testing.T) {
	srv := testenv.SharedInflux(t)
	bucket := srv.NewBucket(t)
	// Another series of the observation measurement with an integer value
	// in the 2019 shard: InfluxDB refuses float values there, and only there.
	srv.Write(t, bucket, "s", "observation,freq=year,indicator=conflict_probe,region=370200 value=1i 1546300800")
	spoolDir := t.TempDir()
	e := newEnvOn(t, srv, bucket, spoolDir, DefaultMaxBytes)
	sp := e.spool

	csv := "indicator,region,period,value\n" +
		"food_sampling_pass_rate,370200,2019,97.1\n" +
		"food_sampling_pass_rate,370200,2020,97.4\n" +
		"drug_sampling_pass_rate,370200,2020,99\n"
	for attempt := 1; attempt <= 2; attempt++ {
		resp, hdr := e.post(t, "", "text/csv", qingdaoToken, []byte(csv))
		if resp.Status != http.StatusUnprocessableEntity || hdr.Get("Retry-After") != "" {
			t.Fatalf("attempt %d: %d %+v, want 422 without Retry-After", attempt, resp.Status, resp)
		}
		t.Logf("attempt %d: %s; stored now %v", attempt, resp.Error, e.stored(t, "370200"))
		if len(resp.Refused) != 1 || resp.Refused[0] != (RefusedRow{Indicator: "food_sampling_pass_rate", Region: "370200", Period: "2019", Value: 97.1}) {
			t.Fatalf("attempt %d: refused %+v", attempt, resp.Refused)
		}
		wantNew, wantUnchanged := 2, 0
		if attempt == 2 {
			wantNew, wantUnchanged = 0, 2
		}
		if resp.Accepted != 2 || resp.New != wantNew || resp.Unchanged != wantUnchanged || resp.Revised != 0 {
			t.Fatalf("attempt %d: stored summary %+v, want 2 stored (%d new, %d unchanged)", attempt, resp.Summary, wantNew, wantUnchanged)
		}
		if !strings.Contains(resp.Error, "refused 1 of 3 rows") || !strings.Contains(resp.Error, "field type conflict") {
			t.Fatalf("attempt %d: error %q", attempt, resp.Error)
		}
		lines := auditLines(t, e.cfg.AuditLog)
		last := lines[len(lines)-1]
		if last.Result != ResultRefused || last.Status != 422 || last.Summary == nil || *last.Summary != resp.Summary ||
			len(last.Refused) != 1 || last.Refused[0] != resp.Refused[0] || last.SetAside == "" {
			t.Fatalf("attempt %d: audit line %+v", attempt, last)
		}
		setAside, err := os.ReadFile(last.SetAside)
		if err != nil || string(setAside) != "indicator,region,period,value,source,note\nfood_sampling_pass_rate,370200,2019,97.1,,\n" {
			t.Fatalf("attempt %d: set aside %q, %v", attempt, setAside, err)
		}
		if filepath.Dir(last.SetAside) != filepath.Join(spoolDir, "failed") {
			t.Fatalf("set aside in %s", last.SetAside)
		}
	}
	e.checkStored(t, "370200", map[string]float64{"food_sampling_pass_rate/2020": 97.4, "drug_sampling_pass_rate/2020": 99, "conflict_probe/2019": 1})
	if b, _ := sp.Pending(); b != 0 {
		t.Fatalf("%d batches still pending: a partial write must not be retried", b)
	}
}

// fullSink is a spool whose disk is full.
type fullSink struct{}

func (fullSink) Accept(context.Context, []observation.Observation, observation.Meta) (observation.Result, error) {
	return observation.Result{}, fmt.Errorf("%w: spool: appending: %w", spool.ErrNoSpace, syscall.ENOSPC)
}

// TestDiskFull503: while the spool's disk is full an upload answers 503
// with Retry-After, saying so, and the audit line records the error.
func TestDiskFull503(t *testing.T) {
	cfg := testConfig(t.TempDir(), DefaultMaxBytes)
	h, err := NewHandler(cfg, validator(t), fullSink{}, prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	h.Now = func() time.Time { return now }
	defer h.Close()
	ts := httptest.NewServer(h)
	defer ts.Close()
	req, _ := http.NewRequest(http.MethodPost, ts.URL, strings.NewReader(goodCSV))
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+qingdaoToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "30" {
		t.Fatalf("%s, Retry-After %q", resp.Status, resp.Header.Get("Retry-After"))
	}
	lines := auditLines(t, cfg.AuditLog)
	if last := lines[len(lines)-1]; last.Status != 503 || last.Result != ResultError || !strings.Contains(last.Error, "disk full") {
		t.Fatalf("audit %+v", last)
	}
}
