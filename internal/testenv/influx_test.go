package testenv

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) { Main(m) }

// fluxRows posts a Flux query to /api/v2/query and returns the data rows of
// the annotated CSV answer as maps keyed by column name.
func fluxRows(t *testing.T, srv *Influx, flux string) []map[string]string {
	t.Helper()
	return parseCSV(t, srv.Flux(t, flux))
}

// parseCSV reads Flux's CSV: tables separated by blank lines, each starting
// with a header row (annotations, when asked for, start with '#').
func parseCSV(t *testing.T, text string) []map[string]string {
	t.Helper()
	var rows []map[string]string
	for _, block := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n") {
		if strings.TrimSpace(block) == "" {
			continue
		}
		r := csv.NewReader(strings.NewReader(block))
		r.FieldsPerRecord = -1
		r.Comment = '#'
		records, err := r.ReadAll()
		if err != nil {
			t.Fatalf("csv: %v\n%s", err, block)
		}
		if len(records) == 0 {
			continue
		}
		header := records[0]
		if len(header) > 1 && header[1] == "error" && len(records) > 1 {
			t.Fatalf("flux error table: %v", records[1])
		}
		for _, rec := range records[1:] {
			row := map[string]string{}
			for i, v := range rec {
				if i < len(header) {
					row[header[i]] = v
				}
			}
			rows = append(rows, row)
		}
	}
	return rows
}

func TestWriteLineProtocolAndReadWithFlux(t *testing.T) {
	srv := SharedInflux(t)
	bucket := srv.NewBucket(t)

	// Write with net/http only: POST /api/v2/write, line protocol, seconds.
	u := srv.URL + "/api/v2/write?" + url.Values{"bucket": {bucket}, "org": {"-"}, "precision": {"s"}}.Encode()
	lp := "observation,indicator=food_safety_pass_rate,region=370000 value=98.5 1704067200\n" +
		"observation,indicator=food_safety_pass_rate,region=370200 value=97.25 1704067200\n"
	resp, err := http.Post(u, "text/plain; charset=utf-8", strings.NewReader(lp))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("write: %s: %s", resp.Status, body)
	}

	rows := fluxRows(t, srv, fmt.Sprintf(`from(bucket: %q)
  |> range(start: 2020-01-01T00:00:00Z)
  |> filter(fn: (r) => r._measurement == "observation" and r._field == "value" and r.region == "370000")`, bucket))
	if len(rows) != 1 {
		t.Fatalf("got %d rows, want 1: %v", len(rows), rows)
	}
	if got := rows[0]["_value"]; got != "98.5" {
		t.Errorf("_value = %q, want 98.5", got)
	}
	if got := rows[0]["_time"]; got != "2024-01-01T00:00:00Z" {
		t.Errorf("_time = %q, want 2024-01-01T00:00:00Z", got)
	}
	if got := rows[0]["indicator"]; got != "food_safety_pass_rate" {
		t.Errorf("indicator = %q", got)
	}

	// The same data through the helpers and InfluxQL.
	db := strings.TrimSuffix(bucket, "/autogen")
	series := srv.QueryDB(t, db, `SELECT value FROM observation WHERE region = '370200'`)
	if len(series) != 1 || len(series[0].Values) != 1 || series[0].Values[0][1] != 97.25 {
		t.Fatalf("InfluxQL: %+v", series)
	}
}

func TestSharedServerDefaults(t *testing.T) {
	srv := SharedInflux(t)
	if srv != SharedInflux(t) {
		t.Fatal("SharedInflux returned two servers")
	}
	if srv.Bucket != "qualitymon/autogen" || srv.Org != "-" || srv.Token != "" || srv.Database != "qualitymon" {
		t.Errorf("defaults: %+v", srv)
	}
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Errorf("URL = %q", srv.URL)
	}
	env := strings.Join(srv.Env(), " ")
	if !strings.Contains(env, "QUALITYMON_INFLUX_URL="+srv.URL) || !strings.Contains(env, "QUALITYMON_INFLUX_BUCKET=qualitymon/autogen") {
		t.Errorf("Env = %q", env)
	}
	dbs := srv.Query(t, "SHOW DATABASES")
	if len(dbs) != 1 || !strings.Contains(fmt.Sprint(dbs[0].Values), "qualitymon") {
		t.Errorf("SHOW DATABASES = %+v", dbs)
	}
	// /health answers like InfluxDB 2 (version is "unknown": go install sets no ldflags).
	resp, err := http.Get(srv.URL + "/health")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"status":"pass"`) {
		t.Errorf("/health: %s %s", resp.Status, body)
	}
}

// TestKillRestartKeepsData is the pattern for fault tests: a private server,
// SIGKILLed mid-flight and restarted on the same port and data directory.
func TestKillRestartKeepsData(t *testing.T) {
	t.Parallel()
	t0 := time.Now()
	srv := StartInflux(t)
	t.Logf("Start took %v", time.Since(t0))

	srv.Write(t, srv.Bucket, "s", "observation,indicator=gdp_quality,region=370000 value=91.5 1672531200")
	query := fmt.Sprintf(`from(bucket: %q) |> range(start: 0) |> filter(fn: (r) => r._measurement == "observation")`, srv.Bucket)
	if rows := parseCSV(t, srv.Flux(t, query)); len(rows) != 1 || rows[0]["_value"] != "91.5" {
		t.Fatalf("before kill: %v", rows)
	}

	srv.Kill()
	if resp, err := http.Get(srv.URL + "/ping"); err == nil {
		resp.Body.Close()
		t.Fatal("influxd still answers after Kill")
	}

	t1 := time.Now()
	srv.Restart(t)
	t.Logf("Restart took %v", time.Since(t1))

	rows := parseCSV(t, srv.Flux(t, query))
	if len(rows) != 1 || rows[0]["_value"] != "91.5" || rows[0]["_time"] != "2023-01-01T00:00:00Z" {
		t.Fatalf("after kill and restart: %v\n%s", rows, srv.LogTail(20))
	}
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatal(srv.URL)
	}
	// Writes work again after the restart.
	srv.Write(t, srv.Bucket, "s", "observation,indicator=gdp_quality,region=370000 value=92 1704067200")
	if rows := parseCSV(t, srv.Flux(t, query)); len(rows) != 2 {
		t.Fatalf("after second write: %v", rows)
	}
}
