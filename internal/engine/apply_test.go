package engine_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

// An Apply gives exactly the evaluations a full run over the same figures
// gives, in the same order: after a figure that changes a judgement, after
// the same figure again (nothing changes) and after figures of another
// indicator in two regions at once.
func TestApplyMatchesFullRun(t *testing.T) {
	c := newIncrCase(t)
	ctx := context.Background()
	c.run(t)
	year := func(y int) period.Period { return period.OfYear(y) }
	for _, rows := range [][]observation.Observation{
		fig2024,
		fig2024,
		{{Indicator: "ind_b", Region: "370000", Period: year(2024), Value: 95}, {Indicator: "ind_b", Region: "370300", Period: year(2023), Value: 60}},
	} {
		if _, err := c.st.Upsert(ctx, rows, c.e.Now()); err != nil {
			t.Fatal(err)
		}
		if err := c.e.Apply(ctx, rows); err != nil {
			t.Fatal(err)
		}
		applied, _ := c.e.Last()
		full := c.engine(c.st, 0, "")
		if err := full.Run(ctx); err != nil {
			t.Fatal(err)
		}
		want, _ := full.Last()
		if len(applied) != len(want) {
			t.Fatalf("after %v: Apply gives %d evaluations, a full run %d", rows, len(applied), len(want))
		}
		for i := range want {
			if !reflect.DeepEqual(applied[i], want[i]) {
				t.Errorf("after %v: evaluation %d is\n%+v\nafter Apply, want as a full run\n%+v", rows, i, applied[i], want[i])
			}
		}
	}
}

// An upload's Apply publishes while the history write of the run before is
// still under way (at 300,000 targets the first run's writes every target,
// for seconds), and its own write follows that one.
func TestApplyDoesNotWaitForHistoryWrite(t *testing.T) {
	c := newIncrCase(t)
	held, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	front := testenv.Front(t, c.srv.URL, func(w http.ResponseWriter, r *http.Request, influx http.Handler) {
		if strings.Contains(r.URL.Path, "write") {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			if bytes.HasPrefix(body, []byte("evaluation,")) {
				once.Do(func() {
					close(held)
					<-release
				})
			}
		}
		influx.ServeHTTP(w, r)
	})
	e := c.engine(c.open(t, front), time.Hour, "")
	ctx := context.Background()
	ran := make(chan error, 1)
	go func() { ran <- e.Run(ctx) }()
	<-held // the run is published, its history write held
	if _, err := c.st.Upsert(ctx, fig2024, time.Now()); err != nil {
		t.Fatal(err)
	}
	applied := make(chan error, 1)
	go func() { applied <- e.Apply(ctx, fig2024) }()
	status := func() string {
		evals, _ := e.Last()
		for _, ev := range evals {
			if ev.Target == "ind-a-370200" {
				return string(ev.Status)
			}
		}
		return ""
	}
	for deadline := time.Now().Add(time.Minute); status() != "achieved"; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("ind-a-370200 is %q while the run's history write is held: the Apply waits for it", status())
		}
	}
	select {
	case err := <-applied:
		t.Fatalf("Apply returned (%v) before the run's history write: its own write did not wait for it", err)
	default:
	}
	close(release)
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
	if err := <-applied; err != nil {
		t.Fatal(err)
	}
	h, err := c.st.StatusHistory(ctx, "p-2021", "ind-a-370200", "370200")
	if err != nil {
		t.Fatal(err)
	}
	// The run and the Apply are at the engine's one fixed moment: their
	// points are one, the later write's, which must be the Apply's.
	if len(h) != 1 || h[0].Status != "achieved" {
		t.Errorf("history of ind-a-370200 = %+v, want the Apply's achieved (written after the run's point)", h)
	}
}
