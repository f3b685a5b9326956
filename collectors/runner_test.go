package collectors

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"gopkg.in/yaml.v3"

	"github.com/qualitymon/qualitymon/collectors/collectortest"
	"github.com/qualitymon/qualitymon/internal/config"
	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
)

// Every testdata/*.bad.yml is a qualitymon.yaml whose first line says
// "# error: <what the error must contain>".
func TestBadConfigs(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.bad.yml")
	if len(files) < 10 {
		t.Fatalf("only %d bad configs", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		first, _, _ := strings.Cut(string(data), "\n")
		want, ok := strings.CutPrefix(first, "# error: ")
		if !ok {
			t.Fatalf("%s: first line must be # error: …", f)
		}
		cfg, err := config.Load(data, nil)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		_, err = NewRunner(&cfg.Collectors, collectortest.Deps(t), &memSink{}, nil, nil, nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error\n  %v\nwant it to contain\n  %s", f, err, want)
		}
	}
}

func TestGoodConfig(t *testing.T) {
	data, _ := os.ReadFile("testdata/good.yml")
	cfg, err := config.Load(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRunner(&cfg.Collectors, collectortest.Deps(t), &memSink{}, prometheus.NewRegistry(), nil, nil)
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
	r, err = NewRunner(nil, collectortest.Deps(t), &memSink{}, nil, nil, nil)
	if err != nil || len(r.Names()) != 0 {
		t.Fatalf("%v %v", r, err)
	}
}

func TestRegistry(t *testing.T) {
	want := []string{"aqi", "filedrop", "httpjson"}
	if got := Types(Registry); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("registry types %v, want %v", got, want)
	}
	for typ, f := range Registry {
		if f == nil {
			t.Fatalf("%s: nil factory", typ)
		}
		// Every factory rejects empty options with a message naming a field.
		if _, err := f("x", &yaml.Node{}, collectortest.Deps(t)); err == nil || !strings.Contains(err.Error(), "options") {
			t.Errorf("%s: empty options: %v", typ, err)
		}
		if _, err := os.Stat(filepath.Join(typ, "README.md")); err != nil {
			t.Errorf("%s: %v", typ, err)
		}
		if _, err := os.Stat(filepath.Join(typ, "sample.yml")); err != nil {
			t.Errorf("%s: %v", typ, err)
		}
	}
}

// The sample configs of the collector packages load.
func TestSamples(t *testing.T) {
	for typ := range Registry {
		data, err := os.ReadFile(filepath.Join(typ, "sample.yml"))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(data, nil)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		cfgs, err := LoadConfig(&cfg.Collectors, Registry)
		if err != nil || len(cfgs) == 0 || cfgs[0].Type != typ {
			t.Fatalf("%s/sample.yml: %v %+v", typ, err, cfgs)
		}
	}
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
		section.WriteString("- {name: " + name + ", type: " + name + ", schedule: '@every 1h'" + extra + "}\n")
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(section.String()), &n); err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return collectortest.Now }
	r, err := newRunner(n.Content[0], registry, collectortest.Deps(t), s, reg, log, clock)
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
	if len(s.batches) != 1 || len(s.batches[0]) != 1 || s.metas[0].Origin != "collector:src" || s.metas[0].File != "a.csv" || !s.metas[0].ReportedAt.Equal(collectortest.Now) {
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
	if got := testutil.ToFloat64(r.metrics.lastRun.WithLabelValues("src")); got != float64(collectortest.Now.Unix()) {
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

func TestRunOnceDerivedIndicators(t *testing.T) {
	// The shipped catalogue averages good_air_quality_days_share over every
	// prefecture of a province: 海南's are all reported here.
	v := collectortest.Validator(t)
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
	if len(got) != len(kids)+1 || got[len(kids)].Indicator != "good_air_quality_days_share_prefecture_mean" || got[len(kids)].Region != "460000" {
		t.Fatalf("%d prefectures, got %+v", len(kids), got[len(kids):])
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
	var n yaml.Node
	yaml.Unmarshal([]byte("- {name: t, type: t, schedule: '@every 1s'}\n"), &n)
	reg := prometheus.NewRegistry()
	r, err := newRunner(n.Content[0], registry, collectortest.Deps(t), &memSink{}, reg, slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)), nil)
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
