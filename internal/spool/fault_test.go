package spool

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/store"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// importPlan is an import of batches of rows each: the first fresh batches
// report new keys; the rest report the keys of the first batches again
// with other values (revisions), so that replaying out of order or twice
// would show.
type importPlan struct {
	fresh, revisions, rows int
}

func (p importPlan) batches() int { return p.fresh + p.revisions }

func (p importPlan) batch(b int) []observation.Observation {
	src := b
	if b >= p.fresh {
		src = b - p.fresh
	}
	out := make([]observation.Observation, p.rows)
	for r := range out {
		v := float64(src*1000+r) + 0.5
		if b >= p.fresh {
			v += 0.25
		}
		out[r] = observation.Observation{Indicator: fmt.Sprintf("ind_%03d", src), Region: fmt.Sprintf("37%02d00", r), Period: period.OfYear(2020), Value: v, Source: "fault-test"}
	}
	return out
}

// want is the final value and revision of every key.
func (p importPlan) want() map[string][2]float64 {
	m := map[string][2]float64{}
	for b := 0; b < p.batches(); b++ {
		for _, o := range p.batch(b) {
			k := o.Indicator + "/" + o.Region
			rev := 0.0
			if old, ok := m[k]; ok {
				rev = old[1] + 1
			}
			m[k] = [2]float64{o.Value, rev}
		}
	}
	return m
}

// checkExactlyOnce compares what InfluxDB holds with the plan: same number
// of points, same values, revisions counted once.
func checkExactlyOnce(t *testing.T, srv *testenv.Influx, bucket string, p importPlan) {
	t.Helper()
	db, _, _ := strings.Cut(bucket, "/")
	want := p.want()
	series := srv.QueryDB(t, db, `SELECT "value", "revision" FROM "observation" GROUP BY "indicator", "region"`)
	got := map[string][2]float64{}
	points := 0
	for _, s := range series {
		k := s.Tags["indicator"] + "/" + s.Tags["region"]
		for _, v := range s.Values {
			points++
			got[k] = [2]float64{num(v[1]), num(v[2])}
		}
	}
	if points != len(want) {
		t.Errorf("InfluxDB holds %d observation points, want %d (one per key)", points, len(want))
	}
	for k, w := range want {
		if g, ok := got[k]; !ok {
			t.Errorf("%s: missing", k)
		} else if g != w {
			t.Errorf("%s: value, revision = %v, want %v", k, g, w)
		}
	}
	revs := srv.QueryDB(t, db, `SELECT count("value") FROM "observation_revision"`)
	n := 0.0
	if len(revs) > 0 && len(revs[0].Values) > 0 {
		n = num(revs[0].Values[0][1])
	}
	if int(n) != p.revisions*p.rows {
		t.Errorf("observation_revision holds %v points, want %d", n, p.revisions*p.rows)
	}
}

func num(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case string:
		f, _ := strconv.ParseFloat(x, 64)
		return f
	}
	return math.NaN()
}

func openStore(srv *testenv.Influx, bucket string) *store.Store {
	return store.Open(store.Config{URL: srv.URL, Token: srv.Token, Org: srv.Org, Bucket: bucket, Timeout: 10 * time.Second})
}

// TestInfluxKilledMidImport kills the real InfluxDB while the spool is
// writing an import of many batches, accepts more while it is down, restarts
// it, and checks that every accepted row arrived exactly once.
func TestInfluxKilledMidImport(t *testing.T) {
	t0 := time.Now()
	srv := testenv.StartInflux(t)
	t.Logf("start took %v", time.Since(t0))
	st := openStore(srv, srv.Bucket)
	defer st.Close()
	plan := importPlan{fresh: 50, revisions: 30, rows: 50}
	var flushed atomic.Int64
	progress := make(chan struct{}, 1)
	sp := open(t, t.TempDir(), st, Options{
		AcceptWait: -1, MinBackoff: 20 * time.Millisecond, MaxBackoff: 500 * time.Millisecond,
		OnFlushed: func() {
			flushed.Add(1)
			select {
			case progress <- struct{}{}:
			default:
			}
		},
	})
	ctx := context.Background()
	accept := func(from, to int) {
		for b := from; b < to; b++ {
			if _, err := sp.Accept(ctx, plan.batch(b), observation.Meta{Origin: "import", ReportedAt: time.Unix(1700000000+int64(b), 0)}); err != nil {
				t.Fatalf("batch %d: %v", b, err)
			}
		}
	}
	accept(0, 40)
	deadline := time.After(2 * time.Minute)
	for flushed.Load() < 10 {
		select {
		case <-progress:
		case <-deadline:
			t.Fatalf("only %d batches flushed", flushed.Load())
		}
	}
	srv.Kill()
	atKill, _ := sp.Pending()
	t.Logf("killed InfluxDB with %d batches flushed and %d pending", flushed.Load(), atKill)
	accept(40, plan.batches())
	if b, _ := sp.Pending(); b == 0 {
		t.Fatal("nothing pending while InfluxDB is down")
	}
	t0 = time.Now()
	srv.Restart(t)
	t.Logf("restart took %v", time.Since(t0))
	t0 = time.Now()
	defer func() { t.Logf("drain took %v", time.Since(t0)) }()
	wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	if err := sp.WaitIdle(wctx); err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, srv, srv.Bucket, plan)
}

// Environment of the helper process.
const (
	envHelper = "QUALITYMON_SPOOL_HELPER" // "accept" or "drain"
	envDir    = "QUALITYMON_SPOOL_DIR"
	envURL    = "QUALITYMON_SPOOL_INFLUX_URL"
	envBucket = "QUALITYMON_SPOOL_INFLUX_BUCKET"
	envBlock  = "QUALITYMON_SPOOL_BLOCK_AFTER" // accept: stop after this many writes
)

var helperPlan = importPlan{fresh: 40, revisions: 20, rows: 30}

// TestHelperProcess is qualitymon's spool in a process of its own, run by
// TestQualitymonKilledMidFlush (it does nothing in a normal test run).
//
// accept: accepts every batch of helperPlan (printing "accepted"), and lets
// the flusher write; after the BLOCK_AFTER-th write it prints "wrote" and,
// when BLOCK is "hold", stops there (written, not yet committed).
// drain: opens the spool, waits until everything is written, prints "drained".
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(envHelper)
	if mode == "" {
		return
	}
	srv := &testenv.Influx{URL: os.Getenv(envURL), Org: "-"}
	st := openStore(srv, os.Getenv(envBucket))
	var w Store = st
	if mode == "accept" {
		n, _ := strconv.Atoi(os.Getenv(envBlock))
		w = &afterN{Store: st, n: int64(n), hold: os.Getenv("QUALITYMON_SPOOL_HOLD") == "1"}
	}
	sp, err := Open(os.Getenv(envDir), w, Options{AcceptWait: -1, MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	switch mode {
	case "accept":
		for b := 0; b < helperPlan.batches(); b++ {
			if _, err := sp.Accept(context.Background(), helperPlan.batch(b), observation.Meta{Origin: "import"}); err != nil {
				fmt.Println("error", err)
				os.Exit(2)
			}
		}
		fmt.Println("accepted")
		select {} // until killed
	case "drain":
		b, _ := sp.Pending()
		fmt.Println("pending", b)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if err := sp.WaitIdle(ctx); err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		sp.Close()
		fmt.Println("drained")
	}
	os.Exit(0)
}

// afterN passes writes to the store and reports the n-th; with hold it then
// never returns, so the batch is in InfluxDB but not committed.
type afterN struct {
	Store
	n     int64
	hold  bool
	count atomic.Int64
}

func (a *afterN) Upsert(ctx context.Context, batch []observation.Observation, at time.Time) (observation.Summary, error) {
	sum, err := a.Store.Upsert(ctx, batch, at)
	if err == nil && a.count.Add(1) == a.n {
		fmt.Println("wrote")
		if a.hold {
			select {}
		}
	}
	return sum, err
}

// TestQualitymonKilledMidFlush SIGKILLs a process while its spool is
// flushing an import to the real InfluxDB, starts a new process over the
// same spool directory, and checks that every accepted row arrived exactly
// once. "hold" kills it right after a batch was written and before it was
// committed (the replay must be idempotent); "running" kills it while the
// flusher is busy with later batches.
func TestQualitymonKilledMidFlush(t *testing.T) {
	srv := testenv.SharedInflux(t)
	for _, hold := range []bool{true, false} {
		name := map[bool]string{true: "hold", false: "running"}[hold]
		t.Run(name, func(t *testing.T) {
			bucket := srv.NewBucket(t)
			dir := t.TempDir()
			env := []string{envDir + "=" + dir, envURL + "=" + srv.URL, envBucket + "=" + bucket, envBlock + "=15"}
			if hold {
				env = append(env, "QUALITYMON_SPOOL_HOLD=1")
			}
			first := helper(t, "accept", env)
			seen := map[string]bool{}
			for !seen["accepted"] || !seen["wrote"] {
				line := first.line(t)
				if strings.HasPrefix(line, "error") {
					t.Fatal(line)
				}
				seen[line] = true
			}
			first.kill(t)

			second := helper(t, "drain", env)
			var pending int
			if line := second.line(t); !strings.HasPrefix(line, "pending ") {
				t.Fatalf("drain: %s", line)
			} else if pending, _ = strconv.Atoi(strings.TrimPrefix(line, "pending ")); pending == 0 {
				t.Fatal("the killed process left nothing to replay")
			}
			t.Logf("new process replays %d batches", pending)
			if line := second.line(t); line != "drained" {
				t.Fatalf("drain: %s", line)
			}
			second.wait(t)
			checkExactlyOnce(t, srv, bucket, helperPlan)
		})
	}
}

type helperProc struct {
	cmd   *exec.Cmd
	lines chan string
	done  chan error
}

func helper(t *testing.T, mode string, env []string) *helperProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(append(os.Environ(), envHelper+"="+mode), env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &helperProc{cmd: cmd, lines: make(chan string, 100), done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			h.lines <- sc.Text()
		}
		close(h.lines)
		h.done <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	return h
}

func (h *helperProc) line(t *testing.T) string {
	t.Helper()
	select {
	case l, ok := <-h.lines:
		if !ok {
			t.Fatalf("helper exited: %v", <-h.done)
		}
		return l
	case <-time.After(3 * time.Minute):
		t.Fatal("helper said nothing for 3 minutes")
	}
	return ""
}

func (h *helperProc) kill(t *testing.T) {
	t.Helper()
	if err := h.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for range h.lines {
	}
	<-h.done
}

func (h *helperProc) wait(t *testing.T) {
	t.Helper()
	for range h.lines {
	}
	select {
	case err := <-h.done:
		if err != nil {
			t.Fatalf("helper: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("helper did not exit")
	}
}
