package upload

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/testenv"
)

// Shandong's prefecture-level cities: each upload client reports for one.
var benchCities = []string{"370100", "370200", "370300", "370400", "370500", "370600", "370700", "370800",
	"370900", "371000", "371100", "371300", "371400", "371500", "371600", "371700"}

const (
	benchClients  = 50
	benchRows     = 5
	benchDuration = 10 * time.Second
	benchBlock    = 1500 // days of each client's own range of keys
)

// benchKeys is the rows of client c's i-th request: aqi_daily for its city
// on five days of its own range, so that every row of the run is a distinct
// key and "stored exactly once" can be counted.
func benchKeys(c, i int) (region string, days []time.Time, values []float64) {
	region = benchCities[c%len(benchCities)]
	start := time.Date(2005, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, (c/len(benchCities))*benchBlock+i*benchRows)
	for r := 0; r < benchRows; r++ {
		days = append(days, start.AddDate(0, 0, r))
		values = append(values, float64(20+(c*7+i*3+r)%300))
	}
	return region, days, values
}

type benchResult struct {
	requests, failed int
	elapsed          time.Duration
	lat              []time.Duration
}

func (r *benchResult) rate() float64 { return float64(r.requests) / r.elapsed.Seconds() }

func (r *benchResult) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	sort.Slice(r.lat, func(i, j int) bool { return r.lat[i] < r.lat[j] })
	return r.lat[min(len(r.lat)-1, int(p*float64(len(r.lat))))]
}

// load runs benchClients clients for benchDuration; do sends client c's
// i-th request and says whether it succeeded.
func load(do func(cl *http.Client, c, i int) bool) (*benchResult, [][]int) {
	var mu sync.Mutex
	res := &benchResult{}
	okReqs := make([][]int, benchClients)
	var wg sync.WaitGroup
	t0 := time.Now()
	for c := 0; c < benchClients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2}, Timeout: time.Minute}
			for i := 0; time.Since(t0) < benchDuration && (i+1)*benchRows < benchBlock; i++ {
				s := time.Now()
				ok := do(cl, c, i)
				d := time.Since(s)
				mu.Lock()
				res.requests++
				res.lat = append(res.lat, d)
				if ok {
					okReqs[c] = append(okReqs[c], i)
				} else {
					res.failed++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(t0)
	return res, okReqs
}

// BenchmarkUploads (issue 9 item 1; scripts/bench-uploads.sh runs it):
// 50 concurrent clients post 5-row CSVs to a real `qualitymon serve` over a
// real InfluxDB for 10 s; then, for reference, 50 clients write the same
// rows, 5 a request, as raw line protocol to InfluxDB's /write (precision
// s). It prints uploads/s, raw requests/s and their ratio (goal ≥ 0.5),
// p50/p99 (goal p99 ≤ 250 ms), and counts that every acknowledged row is
// stored exactly once. No assertion on times.
//
// It measures the normal path of a bureau without review: the token says
// review: none and the uploads confirm the plausibility warnings that its
// arbitrary daily figures raise (confirm_warnings=1). An upload held for
// review or answered anything but 200 fails the benchmark: the figures
// would not be those of that path. "Pending" (durable in the spool, not
// yet in InfluxDB: the answer under a burst) is an acknowledgement; the
// exactly-once count includes those rows.
// writeBenchConfig writes the serve configuration of the upload
// benchmarks to cfg: InfluxDB, the address, extra (YAML lines), the spool,
// archive and audit log under dir, and tok's bureau for benchCities with
// review: none.
func writeBenchConfig(tb testing.TB, cfg string, influx *testenv.Influx, dir, addr, extra, tok string) {
	err := os.WriteFile(cfg, []byte(fmt.Sprintf(`influx: {url: %q, token: "", org: %q, bucket: %q}
listen: %s
%s
spool_dir: %s
uploads:
  archive_dir: %s
  audit_log: %s
  tokens:
    - {bureau: 山东省生态环境厅, token_sha256: %s, regions: ["%s"], review: none}
`, influx.URL, influx.Org, influx.Bucket, addr, extra, filepath.Join(dir, "spool"), filepath.Join(dir, "archive"), filepath.Join(dir, "audit.jsonl"), HashToken(tok), strings.Join(benchCities, `", "`))), 0o640)
	if err != nil {
		tb.Fatal(err)
	}
}

func BenchmarkUploads(b *testing.B) {
	influx := testenv.StartInflux(b)
	dir := b.TempDir()
	qm := testenv.BuildQualitymon(b, dir)
	addr := testenv.FreeAddr(b)
	const tok = "bench-token-0123456789"
	cfg := filepath.Join(dir, "qualitymon.yaml")
	// BENCH_PPROF=file: a CPU profile of serve during the uploads, for
	// `go tool pprof` (served on debug_listen).
	profPath, debugAddr := os.Getenv("BENCH_PPROF"), ""
	if profPath != "" {
		debugAddr = testenv.FreeAddr(b)
	}
	writeBenchConfig(b, cfg, influx, dir, addr, "debug_listen: \""+debugAddr+"\"\nevaluation: {schedule: \"@every 5m\"}", tok)
	serve := testenv.StartProcess(b, dir, "qualitymon-serve", influx.Env(), qm, "serve", "--config", cfg)
	testenv.WaitHTTP(b, serve, "http://"+addr+"/readyz", time.Minute)
	url := "http://" + addr + Path + "?confirm_warnings=1"

	for b.Loop() {
		profiled := make(chan struct{})
		if profPath != "" {
			go func() {
				defer close(profiled)
				resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", debugAddr, int(benchDuration/time.Second)-2))
				if err != nil {
					fmt.Println("bench: profile:", err)
					return
				}
				defer resp.Body.Close()
				prof, _ := io.ReadAll(resp.Body)
				if err := os.WriteFile(profPath, prof, 0o640); err != nil {
					fmt.Println("bench: profile:", err)
					return
				}
				fmt.Println("bench: CPU profile of serve under the uploads in", profPath)
			}()
			go func() { // and where its goroutines wait, halfway through
				time.Sleep(benchDuration / 2)
				resp, err := http.Get("http://" + debugAddr + "/debug/pprof/goroutine?debug=1")
				if err != nil {
					return
				}
				defer resp.Body.Close()
				g, _ := io.ReadAll(resp.Body)
				os.WriteFile(profPath+".goroutines", g, 0o640)
			}()
		} else {
			close(profiled)
		}
		var firstErr sync.Once
		var pendingAnswers, heldAnswers atomic.Int64
		up, okReqs := load(func(cl *http.Client, c, i int) bool {
			region, days, values := benchKeys(c, i)
			var body bytes.Buffer
			body.WriteString("indicator,region,period,value\n")
			for r := range days {
				fmt.Fprintf(&body, "aqi_daily,%s,%s,%s\n", region, days[r].Format("2006-01-02"), strconv.FormatFloat(values[r], 'f', -1, 64))
			}
			req, _ := http.NewRequest(http.MethodPost, url, &body)
			req.Header.Set("Content-Type", "text/csv")
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := cl.Do(req)
			if err != nil {
				firstErr.Do(func() { fmt.Println("bench: upload error:", err) })
				return false
			}
			msg, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				firstErr.Do(func() { fmt.Printf("bench: upload answered %s: %s\n", resp.Status, msg) })
				return false
			}
			var ans struct{ Pending, Held bool }
			if err := json.Unmarshal(msg, &ans); err != nil {
				firstErr.Do(func() { fmt.Printf("bench: upload answer not JSON: %v: %s\n", err, msg) })
				return false
			}
			if ans.Held {
				heldAnswers.Add(1)
				firstErr.Do(func() { fmt.Printf("bench: upload held for review: %s\n", msg) })
				return false
			}
			if ans.Pending {
				pendingAnswers.Add(1)
			}
			return true
		})
		<-profiled
		// Wait until the spool has written everything, then count.
		deadline := time.Now().Add(2 * time.Minute)
		for time.Now().Before(deadline) {
			resp, err := http.Get("http://" + addr + "/metrics")
			if err == nil {
				m, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if bytes.Contains(m, []byte("\nqualitymon_spool_pending_samples 0\n")) {
					break
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		want := map[string]float64{}
		for c, reqs := range okReqs {
			for _, i := range reqs {
				region, days, values := benchKeys(c, i)
				for r := range days {
					want[region+"/"+days[r].Format(time.RFC3339)] = values[r]
				}
			}
		}
		points, wrong := 0, 0
		for _, s := range influx.Query(b, `SELECT "value" FROM "observation" WHERE "indicator" = 'aqi_daily' GROUP BY "region"`) {
			for _, v := range s.Values {
				points++
				if w, ok := want[s.Tags["region"]+"/"+v[0].(string)]; !ok || w != v[1].(float64) {
					wrong++
				}
			}
		}
		revs := len(influx.Query(b, `SELECT "value" FROM "observation_revision" WHERE "indicator" = 'aqi_daily'`))

		// The same rows as raw line protocol straight to InfluxDB.
		rawDB := "bench_raw"
		if err := influx.CreateDatabase(rawDB); err != nil {
			b.Fatal(err)
		}
		// InfluxDB 1.8's own write endpoint, precision s, as a bureau's
		// software writing straight to it would.
		rawURL := influx.URL + "/write?db=" + rawDB + "&precision=s"
		raw, _ := load(func(cl *http.Client, c, i int) bool {
			region, days, values := benchKeys(c, i)
			var body bytes.Buffer
			for r := range days {
				fmt.Fprintf(&body, "observation,freq=day,indicator=aqi_daily,region=%s value=%s,revision=0i,reported_at=%di,source=\"\" %d\n",
					region, strconv.FormatFloat(values[r], 'f', -1, 64), time.Now().Unix(), days[r].Unix())
			}
			resp, err := cl.Post(rawURL, "text/plain; charset=utf-8", &body)
			if err != nil {
				return false
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp.StatusCode == http.StatusNoContent
		})

		fmt.Printf("bench: %d clients × %d-row CSV uploads to qualitymon serve (spool, InfluxDB 1.8.10) for %s\n", benchClients, benchRows, benchDuration)
		fmt.Printf("bench: qualitymon: %d uploads (%d failed, %d held for review, %d answered pending: durable, not yet in InfluxDB), %.0f uploads/s, p50 %s, p99 %s (goal p99 ≤ 250ms)\n",
			up.requests, up.failed, heldAnswers.Load(), pendingAnswers.Load(), up.rate(), up.pct(0.50).Round(time.Millisecond), up.pct(0.99).Round(time.Millisecond))
		fmt.Printf("bench: raw line protocol to InfluxDB's /write (precision s): %d requests (%d failed), %.0f requests/s, p50 %s, p99 %s\n",
			raw.requests, raw.failed, raw.rate(), raw.pct(0.50).Round(time.Millisecond), raw.pct(0.99).Round(time.Millisecond))
		fmt.Printf("bench: ratio qualitymon / raw = %.2f (goal ≥ 0.5)\n", up.rate()/raw.rate())
		fmt.Printf("bench: exactly once: %d rows acknowledged, %d points stored, %d missing, %d not acknowledged or wrong value, %d revision points (want 0)\n",
			len(want), points, len(want)-(points-wrong), wrong, revs)
		if up.failed > 0 {
			b.Fatalf("%d of %d uploads were not accepted on the plain path (%d held for review): the figures above are not those of accepted uploads", up.failed, up.requests, heldAnswers.Load())
		}
		if missing := len(want) - (points - wrong); missing != 0 || wrong != 0 || revs != 0 {
			b.Fatalf("not exactly once: %d missing, %d not acknowledged or wrong, %d revision points", missing, wrong, revs)
		}
		b.ReportMetric(up.rate(), "uploads/s")
		b.ReportMetric(raw.rate(), "raw_writes/s")
		b.ReportMetric(float64(up.pct(0.99).Milliseconds()), "p99_ms")
	}
}
