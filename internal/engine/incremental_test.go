package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/engine"
	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/exporter"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/internal/store"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

// incrCase is a bucket with figures of two indicators in three regions
// (80, 81, 82 for 2021–2023 against targets of ≥ 90 by 2030), an engine
// reading it in full every hour, and the bucket's URL parts for a second
// store (a replica).
type incrCase struct {
	srv    *testenv.Influx
	bucket string
	st     *store.Store
	set    *plan.Set
	e      *engine.Engine
}

func newIncrCase(t *testing.T) *incrCase {
	t.Helper()
	srv := testenv.SharedInflux(t)
	c := &incrCase{srv: srv, bucket: srv.NewBucket(t)}
	c.st = c.open(t, srv.URL)
	lo, hi := 0.0, 100.0
	var inds []*catalog.Indicator
	for _, id := range []string{"ind_a", "ind_b"} {
		inds = append(inds, &catalog.Indicator{ID: id, NameZh: "指标" + id, NameEn: id, Unit: "percent", Min: &lo, Max: &hi, Better: "higher", Frequency: "yearly", Kind: "level"})
	}
	cat, err := catalog.New(inds...)
	if err != nil {
		t.Fatal(err)
	}
	codes := []string{"370000", "370200", "370300"}
	regs := testenv.Regions(t, codes...)
	var b strings.Builder
	b.WriteString("plan: {key: p-2021, name_zh: 测试, issuer: 测试, published: \"2021\", region: \"370000\", start: 2021, horizon: 2030, source: x}\ntargets:\n")
	var obs []observation.Observation
	for _, ind := range []string{"ind_a", "ind_b"} {
		for _, code := range codes {
			fmt.Fprintf(&b, "  - {id: %s-%s, indicator: %s, region: %q, comparator: \">=\", value: 90, deadline: 2030, modality: reach, clause: x, quote: x}\n", strings.ReplaceAll(ind, "_", "-"), code, ind, code)
			for y := 2021; y <= 2023; y++ {
				obs = append(obs, observation.Observation{Indicator: ind, Region: code, Period: period.OfYear(y), Value: 80 + float64(y-2021)})
			}
		}
	}
	pl, err := plan.Parse("p-2021.yaml", []byte(b.String()), cat, regs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.st.Upsert(context.Background(), obs, time.Now()); err != nil {
		t.Fatal(err)
	}
	set := &plan.Set{Plans: []*plan.Plan{pl}, Catalog: cat, Regions: regs}
	c.set = set
	c.e = c.engine(c.st, time.Hour, "")
	c.settle(t)
	return c
}

// engine is a new engine (a start) of the case's plan on st.
func (c *incrCase) engine(st *store.Store, fullRead time.Duration, snapshot string) *engine.Engine {
	now := time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC)
	return &engine.Engine{Store: st, Evaluator: &evaluate.Evaluator{Set: c.set}, Exporter: exporter.New(prometheus.NewRegistry(), c.set.Catalog, nil),
		Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }, FullRead: fullRead, SnapshotPath: snapshot}
}

// open is a store on the case's bucket through url (InfluxDB's, or a proxy's).
func (c *incrCase) open(t *testing.T, url string) *store.Store {
	st := store.Open(store.Config{URL: url, Org: c.srv.Org, Token: c.srv.Token, Bucket: c.bucket})
	t.Cleanup(st.Close)
	return st
}

// settle waits until InfluxDB's clock is two seconds past the writes so far,
// so that a read from now on is later than their marks by more than
// store.ChangeSlack and the Date header's second.
func (c *incrCase) settle(t *testing.T) {
	t.Helper()
	t0, err := c.st.ServerTime(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for now := t0; now.Sub(t0) < 3*time.Second; time.Sleep(250 * time.Millisecond) {
		if now, err = c.st.ServerTime(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// run runs the engine and returns what the run read and each target's status.
func (c *incrCase) run(t *testing.T) (engine.Phases, map[string]string) {
	t.Helper()
	if err := c.e.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	evals, _ := c.e.Last()
	status := map[string]string{}
	for _, ev := range evals {
		status[ev.Target] = string(ev.Status)
	}
	return c.e.LastPhases(), status
}

var fig2024 = []observation.Observation{{Indicator: "ind_a", Region: "370200", Period: period.OfYear(2024), Value: 99}}

// A figure another replica writes is seen by the next scheduled run, which
// re-reads only its indicator; a run after writes of nothing reads nothing.
func TestIncrementalReadSeesReplicaWrite(t *testing.T) {
	c := newIncrCase(t)
	ph, before := c.run(t)
	if !ph.Full {
		t.Fatalf("the first run read %v, want everything", ph.Indicators)
	}
	ph, _ = c.run(t)
	if ph.Full || len(ph.Indicators) != 0 {
		t.Errorf("a run after no write: full %v, read %v; want nothing read", ph.Full, ph.Indicators)
	}
	replica := c.open(t, c.srv.URL)
	if _, err := replica.Upsert(context.Background(), fig2024, time.Now()); err != nil {
		t.Fatal(err)
	}
	ph, after := c.run(t)
	if ph.Full || !slices.Equal(ph.Indicators, []string{"ind_a"}) {
		t.Errorf("the run after the replica's write: full %v, read %v; want only [ind_a]", ph.Full, ph.Indicators)
	}
	if before["ind-a-370200"] == "achieved" || after["ind-a-370200"] != "achieved" {
		t.Errorf("ind-a-370200: %s before the replica's figure, %s after; want achieved after only", before["ind-a-370200"], after["ind-a-370200"])
	}
	if after["ind-b-370200"] != before["ind-b-370200"] || after["ind-a-370300"] != before["ind-a-370300"] {
		t.Errorf("the others changed: %v → %v", before, after)
	}
	// And the incremental verdicts are those of a full read.
	c.e.FullRead = 0
	ph, full := c.run(t)
	if !ph.Full || fmt.Sprint(full) != fmt.Sprint(after) {
		t.Errorf("full read (%v): %v, incremental: %v", ph.Full, full, after)
	}
}

// A replica's write that began before a run's read and stored its figure
// after it (its write request held back by a proxy until the run is done)
// is seen by the next run: its done mark is after the first run's time.
func TestIncrementalReadSeesWriteAcrossRead(t *testing.T) {
	c := newIncrCase(t)
	c.run(t) // the first run reads everything
	held, release := make(chan struct{}), make(chan struct{})
	front := testenv.Front(t, c.srv.URL, func(w http.ResponseWriter, r *http.Request, influx http.Handler) {
		if strings.Contains(r.URL.Path, "write") {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			if bytes.HasPrefix(body, []byte("observation,")) {
				close(held)
				<-release
			}
		}
		influx.ServeHTTP(w, r)
	})
	replica := c.open(t, front)
	done := make(chan error, 1)
	go func() {
		_, err := replica.Upsert(context.Background(), fig2024, time.Now())
		done <- err
	}()
	<-held      // the replica's start mark is written, its figure not yet
	c.settle(t) // … and is older than the run's time: only its done mark tells
	ph, status := c.run(t)
	if ph.Full || !slices.Contains(ph.Indicators, "ind_a") {
		t.Errorf("the run during the write: full %v, read %v; want ind_a (its start mark) read", ph.Full, ph.Indicators)
	}
	if status["ind-a-370200"] == "achieved" {
		t.Fatalf("the run during the write saw its figure: the write did not cross the read")
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ph, status = c.run(t)
	if ph.Full || !slices.Equal(ph.Indicators, []string{"ind_a"}) || status["ind-a-370200"] != "achieved" {
		t.Errorf("the run after the write: full %v, read %v, ind-a-370200 %s; want [ind_a] re-read and achieved", ph.Full, ph.Indicators, status["ind-a-370200"])
	}
}

// full_read: with 0 every run reads everything; once the last full read is
// FullRead old the next run reads everything again.
func TestFullReadInterval(t *testing.T) {
	c := newIncrCase(t)
	c.e.FullRead = 0
	for i := range 2 {
		if ph, _ := c.run(t); !ph.Full {
			t.Errorf("run %d with full_read 0: read %v only", i, ph.Indicators)
		}
	}
	c.e.FullRead = time.Hour
	if ph, _ := c.run(t); ph.Full {
		t.Errorf("a run within full_read of the last full read read everything")
	}
	c.e.FullRead = time.Millisecond
	time.Sleep(5 * time.Millisecond)
	if ph, _ := c.run(t); !ph.Full {
		t.Errorf("a run full_read after the last full read read %v only", ph.Indicators)
	}
}

// A start from the snapshot of the last full read re-reads only the
// indicators written since and gives the verdicts of a full read; a
// damaged snapshot, or one of another bucket, is not used: the start
// reads everything.
func TestSnapshotStart(t *testing.T) {
	c := newIncrCase(t)
	path := filepath.Join(t.TempDir(), "figures.snapshot")
	c.e = c.engine(c.st, time.Hour, path)
	if ph, _ := c.run(t); !ph.Full || ph.Snapshot {
		t.Fatalf("the first run without a snapshot: %+v, want a full read", ph)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no snapshot after a full read: %v", err)
	}
	c.settle(t)
	replica := c.open(t, c.srv.URL)
	if _, err := replica.Upsert(context.Background(), fig2024, time.Now()); err != nil {
		t.Fatal(err)
	}
	c.e = c.engine(c.st, 0, "")
	_, want := c.run(t)
	if want["ind-a-370200"] != "achieved" {
		t.Fatalf("a full read: ind-a-370200 %s, want achieved", want["ind-a-370200"])
	}

	c.e = c.engine(c.st, time.Hour, path) // a start
	ph, got := c.run(t)
	if !ph.Snapshot || ph.Full || !slices.Equal(ph.Indicators, []string{"ind_a"}) {
		t.Errorf("a start with a snapshot: snapshot %v, full %v, read %v; want the snapshot and [ind_a] re-read", ph.Snapshot, ph.Full, ph.Indicators)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("from the snapshot: %v\nfrom a full read: %v", got, want)
	}

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	c.e = c.engine(c.st, time.Hour, path)
	ph, got = c.run(t)
	if ph.Snapshot || !ph.Full || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("a start with a damaged snapshot: snapshot %v, full %v, verdicts %v; want a full read and %v", ph.Snapshot, ph.Full, got, want)
	}

	// That full read wrote the snapshot again; another bucket does not use it.
	other := store.Open(store.Config{URL: c.srv.URL, Org: c.srv.Org, Token: c.srv.Token, Bucket: c.srv.NewBucket(t)})
	t.Cleanup(other.Close)
	c.e = c.engine(other, time.Hour, path)
	if ph, got = c.run(t); ph.Snapshot || !ph.Full || got["ind-a-370200"] != "no_data" {
		t.Errorf("a start on another bucket: snapshot %v, full %v, ind-a-370200 %s; want a full read of nothing", ph.Snapshot, ph.Full, got["ind-a-370200"])
	}
}
