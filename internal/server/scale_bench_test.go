package server

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/internal/spool"
	"github.com/qualitymon/qualitymon/internal/store"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

const (
	scaleRegions    = 3000
	scaleIndicators = 10
	scaleYears      = 10
)

// scaleSet builds 3,000 prefecture-level regions, 10 indicators and one
// plan with a target per region and indicator: 30,000 targets.
func scaleSet(tb testing.TB) (*plan.Set, []string) {
	return testenv.ScaleSet(tb, scaleRegions, scaleIndicators, false)
}

// scaleStore starts a private InfluxDB for a scale benchmark and returns the
// store over it (closed when b ends), the 30,000 targets' plan set and their
// region codes.
func scaleStore(b *testing.B) (*store.Store, *plan.Set, []string) {
	srv := testenv.StartInflux(b)
	set, codes := scaleSet(b)
	st := store.Open(store.Config{URL: srv.URL, Bucket: srv.Bucket, Org: srv.Org})
	b.Cleanup(st.Close)
	return st, set, codes
}

// peakRSS reads the process's peak resident set (VmHWM) in bytes.
func peakRSS() uint64 {
	data, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb uint64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), &kb)
			return kb * 1024
		}
	}
	return 0
}

// resetPeakRSS restarts VmHWM from the current RSS (Linux clear_refs 5).
func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// BenchmarkScale: 30,000 targets (3,000 regions × 10 indicators) over 10
// years of yearly figures (300,000 observations) in a real InfluxDB; one full
// evaluation (query, judge, metrics, history write) and one /metrics scrape.
// Goals on the 2-core reference machine: evaluation < 5 s, scrape < 1 s,
// peak memory < 500 MB. Run:
//
//	go test -run '^$' -bench Scale -benchtime 1x ./internal/server/
func BenchmarkScale(b *testing.B) {
	st, set, codes := scaleStore(b)
	ctx := context.Background()
	loadStart := time.Now()
	n := loadScale(b, ctx, st, codes)
	load := time.Since(loadStart)
	runtime.GC()
	for b.Loop() {
		e, reg := newEngine(st, set)
		resetPeakRSS()
		t0 := time.Now()
		if err := e.Run(ctx); err != nil {
			b.Fatal(err)
		}
		total := time.Since(t0)
		evals, _ := e.Last()
		evalTook, histTook := e.Timings()
		s := New(e, reg, e.Logger)
		t1 := time.Now()
		rec := httptest.NewRecorder()
		s.Mux.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		scrapeTook := time.Since(t1)
		peak := peakRSS()
		body := rec.Body.Len()
		series := strings.Count(rec.Body.String(), "\n") - 2*strings.Count(rec.Body.String(), "\n# ")
		b.ReportMetric(evalTook.Seconds(), "eval_s")
		b.ReportMetric(scrapeTook.Seconds(), "scrape_s")
		b.ReportMetric(float64(peak)/1e6, "peak_MB")
		fmt.Printf("scale: %d targets, %d evaluations, %d observations (loaded in %.1fs)\n", len(set.Targets("")), len(evals), n, load.Seconds())
		fmt.Printf("scale: evaluation %.2fs: read from InfluxDB, judge, publish the metrics (goal 5s, ratio %.2f)\n", evalTook.Seconds(), evalTook.Seconds()/5)
		ph := e.LastPhases()
		fmt.Printf("scale: of which read from InfluxDB (query and parse, streamed) %.2fs, judge %.2fs, publish %.2fs (load average %s)\n", ph.Read.Seconds(), ph.Judge.Seconds(), ph.Publish.Seconds(), testenv.LoadAverage())
		fmt.Printf("scale: then evaluation history written to InfluxDB in %.2fs (run total %.2fs)\n", histTook.Seconds(), total.Seconds())
		fmt.Printf("scale: scrape %.2fs, %d bytes, ~%d series (goal 1s, ratio %.2f)\n", scrapeTook.Seconds(), body, series, scrapeTook.Seconds()/1)
		fmt.Printf("scale: peak RSS %.0f MB during evaluation and scrape (goal 500 MB, ratio %.2f)\n", float64(peak)/1e6, float64(peak)/500e6)
	}
}

// BenchmarkIngestToMetrics (issue 9 item 1; scripts/bench-uploads.sh runs
// it): 30,000 targets over 300,000 observations in a real InfluxDB, served
// as `qualitymon serve` wires it (spool → store with its index → OnStored →
// Server.Ingested → Engine.Apply). Each round accepts one new figure into
// the spool and times until GET /metrics (read every pollEvery) shows the
// target's new actual (goal ≤ 1 s); the last line gives the median and the
// worst round. Prints figures; asserts no times.
func BenchmarkIngestToMetrics(b *testing.B) {
	st, set, codes := scaleStore(b)
	ctx := context.Background()
	loadScale(b, ctx, st, codes)
	e, reg := newEngine(st, set)
	s := New(e, reg, e.Logger)
	sp, err := spool.Open(b.TempDir(), st, spool.Options{OnStored: s.Ingested, AcceptWait: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	defer sp.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(rctx, ln, "@every 1h") }()
	defer func() { cancel(); <-done }()
	base := "http://" + ln.Addr().String()
	for {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	round := 0
	var worst time.Duration
	var all []time.Duration
	for b.Loop() {
		round++
		code := codes[round%len(codes)]
		v := 10 + float64(round)/100
		// The compact metrics: the actual is a label of the status code.
		want := regexp.MustCompile(fmt.Sprintf(`(?m)^qualitymon_target_status_code\{actual="%s",.*,target="t-0-%s",`, regexp.QuoteMeta(strconv.FormatFloat(v, 'g', -1, 64)), code))
		t0 := time.Now()
		if _, err := sp.Accept(ctx, []observation.Observation{{Indicator: "ind_0", Region: code, Period: period.OfYear(2025), Value: v}}, observation.Meta{Origin: "upload"}); err != nil {
			b.Fatal(err)
		}
		accepted := time.Since(t0)
		for {
			// One look every pollEvery: a client fetching tens of
			// megabytes in a tight loop would take the CPU the server
			// needs (2 cores) and measure itself.
			time.Sleep(pollEvery)
			resp, err := http.Get(base + "/metrics")
			if err != nil {
				b.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if want.Match(body) {
				break
			}
			if time.Since(t0) > time.Minute {
				b.Fatalf("/metrics never showed %q", want)
			}
		}
		took := time.Since(t0)
		worst = max(worst, took)
		all = append(all, took)
		fmt.Printf("ingest-to-metrics: %d targets: upload accepted (written) in %s, new actual on /metrics %s after the upload began (goal 1s)\n",
			len(set.Targets("")), accepted.Round(time.Millisecond), took.Round(time.Millisecond))
	}
	slices.Sort(all)
	fmt.Printf("ingest-to-metrics: %d targets, %d rounds: median %s, worst %s (goal ≤ 1s; polled every %s)\n",
		len(set.Targets("")), len(all), all[len(all)/2].Round(time.Millisecond), worst.Round(time.Millisecond), pollEvery)
	b.ReportMetric(worst.Seconds(), "worst_s")
}

// pollEvery is how often BenchmarkIngestToMetrics reads /metrics.
const pollEvery = 10 * time.Millisecond

// loadScale stores the scale benchmarks' yearly figures for every region
// and indicator, and returns how many.
func loadScale(b *testing.B, ctx context.Context, st *store.Store, codes []string) int {
	batch := make([]observation.Observation, 0, 50000)
	n := 0
	testenv.ScaleFigures(codes, scaleIndicators, scaleYears, func(o observation.Observation) {
		batch = append(batch, o)
		n++
		if len(batch) >= 50000 {
			if _, err := st.Upsert(ctx, batch, time.Now()); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	})
	if _, err := st.Upsert(ctx, batch, time.Now()); err != nil {
		b.Fatal(err)
	}
	return n
}
