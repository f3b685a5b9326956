package engine

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/exporter"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/store/storetest"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

// judgeLog keeps the judge_s of the last "applied" log line.
type judgeLog struct{ judge atomic.Int64 }

func (h *judgeLog) Enabled(context.Context, slog.Level) bool { return true }
func (h *judgeLog) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *judgeLog) WithGroup(string) slog.Handler            { return h }
func (h *judgeLog) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "judge_s" {
			h.judge.Store(int64(a.Value.Float64() * 1e9))
		}
		return true
	})
	return nil
}

// BenchmarkApplyScale (issue 20 item 2): Engine.Apply of one uploaded row
// at national scale, 300,000 targets (3,000 regions × 100 indicators, a
// plan per region as scripts/bench-scale.sh's PLANS=region), the last
// run's data and evaluation built in memory (ten years of figures each),
// the history written to a real InfluxDB. Each round uploads a new 2024
// figure of ind_0 for another region: 3,000 targets are judged again, one
// changes. Prints the judge phase and the allocation per Apply beside the
// load average; asserts no times. Run:
//
//	go test -run '^$' -bench ApplyScale -benchtime 20x ./internal/engine/
func BenchmarkApplyScale(b *testing.B) {
	const regions, indicators = 3000, 100
	set, codes := testenv.ScaleSet(b, regions, indicators, true)
	ev := &evaluate.Evaluator{Set: set}
	bld := ev.NewDataBuilder()
	testenv.ScaleFigures(codes, indicators, 10, func(o observation.Observation) {
		bld.Add(o.Indicator, o.Region, o.Period, o.Value)
	})
	data := bld.Data()
	srv := testenv.SharedInflux(b)
	st := storetest.On(b, srv, srv.NewBucket(b))
	now := time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)
	log := &judgeLog{}
	e := &Engine{Store: st, Evaluator: ev, Exporter: exporter.New(prometheus.NewRegistry(), set.Catalog, nil),
		Logger: slog.New(log), Now: func() time.Time { return now }}
	// A full evaluation's judge, first with nothing else live (as the
	// first run of serve), then with the last evaluation live (as a
	// scheduled run): the figures differ by the collector's work and the
	// page faults of memory the heap does not hold yet.
	full := func() ([]evaluate.Evaluation, time.Duration, int64) {
		var r0, r1 syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &r0)
		t0 := time.Now()
		evals := ev.Evaluate(data, "", now)
		took := time.Since(t0)
		syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
		return evals, took, r1.Minflt - r0.Minflt
	}
	runtime.GC()
	evals, first, firstFaults := full()
	_, second, secondFaults := full()
	fmt.Printf("full judge at %d targets: %.2f s (%d page faults) with nothing live, %.2f s (%d page faults) with the last evaluation live\n",
		len(evals), first.Seconds(), firstFaults, second.Seconds(), secondFaults)
	if len(evals) != regions*indicators {
		b.Fatalf("%d evaluations, want %d", len(evals), regions*indicators)
	}
	// As after a run whose history was written (not written here: 300,000
	// points).
	e.Exporter.UpdateChanged(evals, nil, data, now, 0)
	e.last, e.at, e.data, e.written = evals, now, data, true
	ctx := context.Background()
	runtime.GC()
	var judge time.Duration
	var before, after runtime.MemStats
	var ru0, ru1 syscall.Rusage
	runtime.ReadMemStats(&before)
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	round := 0
	for b.Loop() {
		round++
		row := []observation.Observation{{Indicator: "ind_0", Region: codes[round%len(codes)], Period: period.OfYear(2024), Value: float64(50 + round%50)}}
		if err := e.Apply(ctx, row); err != nil {
			b.Fatal(err)
		}
		judge += time.Duration(log.judge.Load())
	}
	runtime.ReadMemStats(&after)
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	faults := float64(ru1.Minflt-ru0.Minflt) / float64(round)
	perApply := float64(after.TotalAlloc-before.TotalAlloc) / float64(round) / 1e6
	ms := judge.Seconds() * 1e3 / float64(round)
	b.ReportMetric(ms, "judge_ms/apply")
	b.ReportMetric(perApply, "alloc_MB/apply")
	fmt.Printf("apply at %d targets: judge %.1f ms per Apply, %.1f MB allocated, %.0f page faults, %d GC cycles per %d Applies (load average %s)\n",
		len(evals), ms, perApply, faults, after.NumGC-before.NumGC, round, testenv.LoadAverage())
}
