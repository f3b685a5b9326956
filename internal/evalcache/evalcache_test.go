package evalcache

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/qualitymon/qualitymon/internal/engine"
	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/sample"
	"github.com/qualitymon/qualitymon/internal/store/storetest"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// newCache is a cache over a fresh bucket of the shared InfluxDB holding
// the sample figures of the plans.
func newCache(tb testing.TB, opts Options) *Cache {
	tb.Helper()
	st := storetest.Open(tb)
	set := testenv.Plans(tb)
	obs := sample.Generate(set, 2025)
	for i := 0; i < len(obs); i += 1000 {
		if _, err := st.Upsert(context.Background(), obs[i:min(i+1000, len(obs))], time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)); err != nil {
			tb.Fatal(err)
		}
	}
	return New(st, &evaluate.Evaluator{Set: set}, opts)
}

// waitFor polls until cond holds (the other goroutines have got where the
// test needs them); a minute without is a failure, not a timing assertion.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatalf("waited a minute for %s", what)
		}
	}
}

// Eight concurrent requests for one moment evaluate it once, while all
// eight are waiting (the evaluation is held until the other seven have
// joined it), and get what engine.Load gives; the same instant spelled in
// another zone is the same key; Invalidate (serve: rows stored) makes the
// next request evaluate afresh.
func TestConcurrentIdenticalMomentsEvaluateOnce(t *testing.T) {
	c := newCache(t, Options{})
	const n = 8
	c.BeforeEvaluate = func() {
		waitFor(t, "the other requests to join the evaluation", func() bool { return testutil.ToFloat64(c.hits) == n-1 })
	}
	at := time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)
	res := make([][]evaluate.Evaluation, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i], _, errs[i] = c.Load(context.Background(), "", at, time.Time{})
		}()
	}
	wg.Wait()
	c.BeforeEvaluate = nil
	if got := testutil.ToFloat64(c.evaluations); got != 1 {
		t.Fatalf("%d concurrent requests for one moment: %v evaluations, want 1", n, got)
	}
	want, _, err := engine.Load(context.Background(), c.Store, c.Evaluator, "", at, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 {
		t.Fatal("the sample judged nothing")
	}
	for i := range n {
		if errs[i] != nil || !reflect.DeepEqual(res[i], want) {
			t.Fatalf("request %d: err %v, %d evaluations, want engine.Load's %d", i, errs[i], len(res[i]), len(want))
		}
	}
	if _, _, err := c.Load(context.Background(), "", at.In(time.FixedZone("CST", 8*3600)), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(c.evaluations); got != 1 {
		t.Errorf("the same instant in +08:00: %v evaluations, want still 1 (a cache hit)", got)
	}
	c.Invalidate()
	if _, _, err := c.Load(context.Background(), "", at, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(c.evaluations); got != 2 {
		t.Errorf("after Invalidate: %v evaluations, want 2", got)
	}
	// known_at and the plan are part of the key.
	if _, _, err := c.Load(context.Background(), "", at, at); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Load(context.Background(), "shandong-2018", at, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(c.evaluations); got != 4 {
		t.Errorf("another known_at and another plan: %v evaluations, want 4", got)
	}
}

// With Concurrent evaluations running, a request for another moment is
// refused at once with a *BusyError (and counted); once they end, it is
// evaluated. An entry older than the TTL is evaluated again.
func TestOverLimitRefused(t *testing.T) {
	c := newCache(t, Options{Concurrent: 2})
	release := make(chan struct{})
	var started sync.WaitGroup
	started.Add(2)
	c.BeforeEvaluate = func() { started.Done(); <-release }
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := c.Load(context.Background(), "", time.Date(2024+i, 12, 31, 0, 0, 0, 0, time.UTC), time.Time{}); err != nil {
				t.Error(err)
			}
		}()
	}
	started.Wait()
	third := time.Date(2023, 12, 31, 0, 0, 0, 0, time.UTC)
	_, _, err := c.Load(context.Background(), "", third, time.Time{})
	var busy *BusyError
	if !errors.As(err, &busy) || busy.RetryAfterSeconds() <= 0 {
		t.Fatalf("a third moment while two evaluate: %v, want a *BusyError with a Retry-After", err)
	}
	if got := testutil.ToFloat64(c.refused); got != 1 {
		t.Errorf("refused: %v, want 1", got)
	}
	close(release)
	wg.Wait()
	c.BeforeEvaluate = nil
	if _, _, err := c.Load(context.Background(), "", third, time.Time{}); err != nil {
		t.Fatalf("once the others ended: %v", err)
	}
	evals := testutil.ToFloat64(c.evaluations)
	c.now = func() time.Time { return time.Now().Add(DefaultTTL) }
	if _, _, err := c.Load(context.Background(), "", third, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(c.evaluations); got != evals+1 {
		t.Errorf("past the TTL: %v evaluations, want %v", got, evals+1)
	}
}
