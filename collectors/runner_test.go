package collectors

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"gopkg.in/yaml.v3"

	"github.com/qualitymon/qualitymon/internal/config"
	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

// The collectors: section of testdata/good.yml loads, is built from the
// registry and scheduled; its errors are cases of internal/config/testdata
// (checked by internal/cli, which builds every collector as serve does).
func TestGoodConfig(t *testing.T) {
	data, _ := os.ReadFile("testdata/good.yml")
	cfg, err := config.Load(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	stub := func(string, *yaml.Node, Deps) (Collector, error) { return CollectorFunc(nil), nil }
	cols, err := Build(cfg.Collectors, map[string]Factory{"filedrop": stub, "httpjson": stub, "aqi": stub}, testDeps(t))
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRunner(cols, testDeps(t), &memSink{}, prometheus.NewRegistry(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.Names(), ","); got != "stats-drop,feed,air" {
		t.Fatalf("names %s", got)
	}
	if r.jobs["stats-drop"].cfg.Timeout != config.Duration(2*time.Minute) || r.jobs["feed"].cfg.Timeout != config.Duration(DefaultTimeout) {
		t.Fatal("timeouts not applied")
	}
	// No section: no collectors.
	r, err = NewRunner(nil, testDeps(t), &memSink{}, nil, nil, nil)
	if err != nil || len(r.Names()) != 0 {
		t.Fatalf("%v %v", r, err)
	}
}

// testNow is collectortest.Now (collectortest imports this package, so its
// own tests cannot import collectortest).
var testNow = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

func testValidator(t *testing.T) *ingest.Validator {
	cat, regs := testenv.Targets(t)
	return &ingest.Validator{Catalog: cat, Regions: regs, Now: func() time.Time { return testNow }}
}

func testDeps(t *testing.T) Deps {
	return Deps{Validator: testValidator(t), Now: func() time.Time { return testNow }, Getenv: func(string) string { return "" }}
}

// newTestRunner loads a collectors: section and builds its runner.
func newTestRunner(t *testing.T, section string, registry map[string]Factory, s observation.Sink, reg prometheus.Registerer, log *slog.Logger, now func() time.Time) (*Runner, error) {
	t.Helper()
	cfg, err := config.Load([]byte("collectors:\n"+section), nil)
	if err != nil {
		t.Fatal(err)
	}
	cols, err := Build(cfg.Collectors, registry, testDeps(t))
	if err != nil {
		t.Fatal(err)
	}
	return NewRunner(cols, testDeps(t), s, reg, log, now)
}

type memSink struct {
	mu      sync.Mutex
	batches [][]observation.Observation
	metas   []observation.Meta
	fail    error
}

func (m *memSink) Accept(ctx context.Context, b []observation.Observation, meta observation.Meta) (observation.Result, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return observation.Result{}, m.fail
	}
	m.batches = append(m.batches, b)
	m.metas = append(m.metas, meta)
	return observation.Result{}, nil
}

func obsv(ind, reg string, year int, v float64) observation.Observation {
	return observation.Observation{Indicator: ind, Region: reg, Period: period.OfYear(year), Value: v}
}

// testRunner builds a runner over fake collectors.
func testRunner(t *testing.T, s observation.Sink, reg prometheus.Registerer, log *slog.Logger, cols map[string]Collector, extra string) *Runner {
	t.Helper()
	registry := map[string]Factory{}
	var section strings.Builder
	for name, c := range cols {
		registry[name] = func(string, *yaml.Node, Deps) (Collector, error) { return c, nil }
		section.WriteString("  - {name: " + name + ", type: " + name + ", schedule: '@every 1h'" + extra + "}\n")
	}
	clock := func() time.Time { return testNow }
	r, err := newTestRunner(t, section.String(), registry, s, reg, log, clock)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRunOnceDeliversDerivesAcksAndCounts(t *testing.T) {
	var acks []string
	good := CollectorFunc(func(ctx context.Context) ([]Batch, error) {
		return []Batch{
			{Name: "a.csv", Samples: []observation.Observation{
				obsv("good_air_quality_days_share", "460100", 2020, 90)},
				Ack: func(err error) error { acks = append(acks, "a.csv:"+errString(err)); return nil }},
			{Name: "b.csv", Err: ingest.Errors{{File: "b.csv", Row: 2, Column: "value", Message: "not a number"}},
				Ack: func(err error) error { acks = append(acks, "b.csv:"+errString(err)); return nil }},
		}, nil
	})
	s := &memSink{}
	reg := prometheus.NewRegistry()
	var logs bytes.Buffer
	r := testRunner(t, s, reg, slog.New(slog.NewTextHandler(&logs, nil)), map[string]Collector{"src": good}, "")
	err := r.RunOnce(context.Background(), "src")
	if err == nil || !strings.Contains(err.Error(), "b.csv:2:value: not a number") {
		t.Fatalf("err = %v", err)
	}
	if len(s.batches) != 1 || len(s.batches[0]) != 1 || s.metas[0].Origin != "collector:src" || s.metas[0].File != "a.csv" || !s.metas[0].ReportedAt.Equal(testNow) {
		t.Fatalf("sink got %+v %+v", s.batches, s.metas)
	}
	if strings.Join(acks, "|") != "a.csv:|b.csv:b.csv:2:value: not a number" {
		t.Fatalf("acks %q", acks)
	}
	if got := testutil.ToFloat64(r.metrics.samples.WithLabelValues("src")); got != 1 {
		t.Fatalf("samples_total %v", got)
	}
	if got := testutil.ToFloat64(r.metrics.errors.WithLabelValues("src")); got != 1 {
		t.Fatalf("errors_total %v", got)
	}
	if got := testutil.ToFloat64(r.metrics.lastRun.WithLabelValues("src")); got != float64(testNow.Unix()) {
		t.Fatalf("last_run %v", got)
	}
	if n := testutil.CollectAndCount(r.metrics.lastSuccess); n != 0 {
		t.Fatalf("a run with a rejected batch counted as success")
	}
	if c := strings.Count(logs.String(), "level=ERROR"); c != 1 || !strings.Contains(logs.String(), `msg="collector batch rejected" collector=src batch=b.csv`) {
		t.Fatalf("logs:\n%s", logs.String())
	}
	// The metric names of METRICS.md are registered.
	mfs, _ := reg.Gather()
	var names []string
	for _, mf := range mfs {
		names = append(names, mf.GetName())
	}
	for _, want := range []string{"qualitymon_collector_last_run_timestamp_seconds", "qualitymon_collector_last_duration_seconds", "qualitymon_collector_samples_total", "qualitymon_collector_errors_total"} {
		if !strings.Contains(strings.Join(names, " "), want) {
			t.Errorf("%s not registered (%v)", want, names)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestRunOnceStoresNoDerivedFigures(t *testing.T) {
	// The shipped catalogue averages good_air_quality_days_share over every
	// prefecture of a province: 海南's are all reported here, and the
	// average is not stored (it is computed when read, internal/derive).
	v := testValidator(t)
	var batch []observation.Observation
	kids := v.Regions.Children("460000")
	for i, k := range kids {
		batch = append(batch, obsv("good_air_quality_days_share", k.Code, 2020, float64(90+i%2)))
	}
	c := CollectorFunc(func(context.Context) ([]Batch, error) { return []Batch{{Name: "hn", Samples: batch}}, nil })
	s := &memSink{}
	r := testRunner(t, s, nil, nil, map[string]Collector{"src": c}, "")
	if err := r.RunOnce(context.Background(), "src"); err != nil {
		t.Fatal(err)
	}
	got := s.batches[0]
	if len(got) != len(kids) {
		t.Fatalf("%d prefectures, stored %d figures: %+v", len(kids), len(got), got[len(kids):])
	}
}

func TestCollectorErrorPanicAndSinkFailure(t *testing.T) {
	boom := CollectorFunc(func(context.Context) ([]Batch, error) { return nil, errors.New("source down") })
	panicky := CollectorFunc(func(context.Context) ([]Batch, error) { panic("bug") })
	var ackErr error
	okc := CollectorFunc(func(context.Context) ([]Batch, error) {
		return []Batch{{Name: "x", Samples: []observation.Observation{obsv("food_sampling_pass_rate", "370000", 2020, 97)},
			Ack: func(err error) error { ackErr = err; return nil }}}, nil
	})
	s := &memSink{fail: errors.New("spool full")}
	var logs bytes.Buffer
	r := testRunner(t, s, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(&logs, nil)), map[string]Collector{"boom": boom, "panicky": panicky, "ok": okc}, "")
	if err := r.RunOnce(context.Background(), "boom"); err == nil || err.Error() != "source down" {
		t.Fatalf("boom: %v", err)
	}
	if err := r.RunOnce(context.Background(), "panicky"); err == nil || !strings.Contains(err.Error(), "panic: bug") {
		t.Fatalf("panicky: %v", err)
	}
	if err := r.RunOnce(context.Background(), "ok"); err == nil || !strings.Contains(err.Error(), "spool full") || ackErr == nil {
		t.Fatalf("ok: %v, ack %v", err, ackErr)
	}
	for _, name := range []string{"boom", "panicky", "ok"} {
		if got := testutil.ToFloat64(r.metrics.errors.WithLabelValues(name)); got != 1 {
			t.Errorf("%s errors_total %v", name, got)
		}
	}
	for _, msg := range []string{`msg="collector run failed" collector=boom error="source down"`, `msg="collector panicked" collector=panicky`, `msg="collector batch rejected" collector=ok`} {
		if !strings.Contains(logs.String(), msg) {
			t.Errorf("no log %s in\n%s", msg, logs.String())
		}
	}
	if err := r.RunOnce(context.Background(), "nope"); err == nil {
		t.Fatal("unknown collector ran")
	}
}

// A run that outlives its timeout sees its context cancelled.
func TestTimeout(t *testing.T) {
	slow := CollectorFunc(func(ctx context.Context) ([]Batch, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	r := testRunner(t, &memSink{}, nil, slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)), map[string]Collector{"slow": slow}, ", timeout: 10ms")
	if err := r.RunOnce(context.Background(), "slow"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}

// Stop waits for running jobs; the scheduled job runs through the chain.
func TestScheduleAndStop(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	c := CollectorFunc(func(ctx context.Context) ([]Batch, error) {
		once.Do(func() { close(started) })
		<-release
		return nil, nil
	})
	registry := map[string]Factory{"t": func(string, *yaml.Node, Deps) (Collector, error) { return c, nil }}
	reg := prometheus.NewRegistry()
	r, err := newTestRunner(t, "  - {name: t, type: t, schedule: '@every 1s'}\n", registry, &memSink{}, reg, slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Start()
	if next := testutil.ToFloat64(r.metrics.nextRun.WithLabelValues("t")); next < float64(time.Now().Unix()) {
		t.Fatalf("next run %v", next)
	}
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("scheduled job did not start")
	}
	ctx := r.Stop()
	select {
	case <-ctx.Done():
		t.Fatal("Stop did not wait for the running job")
	default:
	}
	close(release)
	select {
	case <-ctx.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("Stop never finished")
	}
}
