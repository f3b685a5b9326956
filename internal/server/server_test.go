package server

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/engine"
	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/exporter"
	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/internal/store"
	"github.com/qualitymon/qualitymon/internal/store/storetest"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

// newEngine is an engine over st judging set, with a registry of its own
// for its metrics and a logger that discards.
func newEngine(st *store.Store, set *plan.Set) (*engine.Engine, *prometheus.Registry) {
	reg := prometheus.NewRegistry()
	return &engine.Engine{Store: st, Evaluator: &evaluate.Evaluator{Set: set}, Exporter: exporter.New(reg, set.Catalog, nil),
		Logger: slog.New(slog.DiscardHandler), Now: time.Now}, reg
}

// newServer is a server over st whose engine judges no targets.
func newServer(st *store.Store) *Server {
	cat, _ := catalog.New()
	e, reg := newEngine(st, &plan.Set{Catalog: cat})
	return New(e, reg, e.Logger)
}

// With InfluxDB unreachable: /readyz is 503, /healthz 200, the evaluation
// fails and says so in its metrics, and qualitymon_store_up is 0.
func TestUnreachableStore(t *testing.T) {
	st := store.Open(store.Config{URL: "http://127.0.0.1:1", Bucket: "qualitymon/autogen", Org: "-", Timeout: 2 * time.Second})
	defer st.Close()
	s := newServer(st)
	s.evaluate(context.Background())
	for path, want := range map[string]int{"/readyz": 503, "/healthz": 200, "/metrics": 200} {
		rec := httptest.NewRecorder()
		s.Mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != want {
			t.Errorf("%s = %d, want %d", path, rec.Code, want)
		}
		if path == "/metrics" {
			body := rec.Body.String()
			for _, line := range []string{"qualitymon_store_up 0", "qualitymon_evaluation_errors_total 1", "qualitymon_evaluation_last_success_timestamp_seconds 0",
				`qualitymon_evaluation_runs_total{result="failure"} 1`, `qualitymon_evaluation_runs_total{result="success"} 0`} {
				if !strings.Contains(body, line+"\n") {
					t.Errorf("/metrics lacks %q", line)
				}
			}
		}
	}
}

// /readyz is 503 until the first evaluation has completed, then 200 while
// InfluxDB answers; every run counts in qualitymon_evaluation_runs_total.
func TestReadyAfterFirstEvaluation(t *testing.T) {
	st := storetest.Open(t)
	s := newServer(st)
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		s.Mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		return rec.Code, rec.Body.String()
	}
	if code, body := get("/readyz"); code != 503 || !strings.Contains(body, "first evaluation") {
		t.Fatalf("/readyz before the first evaluation: %d %q", code, body)
	}
	if _, m := get("/metrics"); !strings.Contains(m, `qualitymon_evaluation_runs_total{result="success"} 0`+"\n") {
		t.Errorf("/metrics lacks the runs counter at 0")
	}
	s.evaluate(context.Background())
	if code, body := get("/readyz"); code != 200 {
		t.Fatalf("/readyz after the first evaluation: %d %q", code, body)
	}
	s.evaluate(context.Background())
	_, m := get("/metrics")
	for _, want := range []string{`qualitymon_evaluation_runs_total{result="success"} 2`, `qualitymon_evaluation_runs_total{result="failure"} 0`} {
		if !strings.Contains(m, want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestMain(m *testing.M) { testenv.Main(m) }
