package spool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/influxdata/influxdb-client-go/v2/api/http"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/store"
)

// fakeStore records the batches it is given. fail, when set, decides the
// error of each call (nil: write).
type fakeStore struct {
	mu      sync.Mutex
	batches [][]observation.Observation
	reports []time.Time
	calls   int
	fail    func(call int, batch []observation.Observation) error
}

func (f *fakeStore) Upsert(ctx context.Context, batch []observation.Observation, at time.Time) (observation.Summary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.fail != nil {
		if err := f.fail(f.calls, batch); err != nil {
			return observation.Summary{}, err
		}
	}
	f.batches = append(f.batches, append([]observation.Observation(nil), batch...))
	f.reports = append(f.reports, at)
	return observation.Summary{Accepted: len(batch), New: len(batch)}, nil
}

func (f *fakeStore) setFail(fn func(int, []observation.Observation) error) {
	f.mu.Lock()
	f.fail = fn
	f.mu.Unlock()
}

func (f *fakeStore) written() [][]observation.Observation {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]observation.Observation(nil), f.batches...)
}

var errDown = &store.RetryableError{Err: errors.New("connection refused")}

// batchN is batch number n: two observations whose values encode n.
func batchN(n int) []observation.Observation {
	return []observation.Observation{
		{Indicator: "food_sampling_pass_rate", Region: "370200", Period: period.OfYear(2000 + n%20), Value: float64(n) + 0.25, Source: fmt.Sprintf("b%d", n)},
		{Indicator: "aqi", Region: "370000", Period: period.Period{Kind: period.Day, Year: 2024, N: 1 + n%12, D: 1 + n%28}, Value: float64(n), Note: "说明"},
	}
}

// instantSleep records the backoffs asked for and returns at once (or with
// ctx's error when the spool closes).
type instantSleep struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *instantSleep) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	// Yield so a spinning flusher does not starve the test.
	time.Sleep(time.Millisecond)
	return ctx.Err()
}

func (s *instantSleep) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.waits)
}

func open(t *testing.T, dir string, st Store, o Options) *Spool {
	t.Helper()
	s, err := Open(dir, st, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func waitIdle(t *testing.T, s *Spool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
}

func sameBatches(t *testing.T, got [][]observation.Observation, want ...int) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("store got %d batches, want %d", len(got), len(want))
	}
	for i, n := range want {
		exp := batchN(n)
		if len(got[i]) != len(exp) {
			t.Fatalf("batch %d: %d rows, want %d", i, len(got[i]), len(exp))
		}
		for j := range exp {
			if got[i][j] != exp[j] {
				t.Fatalf("batch %d row %d = %+v, want %+v", i, j, got[i][j], exp[j])
			}
		}
	}
}

func TestAcceptWritesAndReportsSummary(t *testing.T) {
	st := &fakeStore{}
	reg := prometheus.NewRegistry()
	flushed := make(chan struct{}, 10)
	s := open(t, t.TempDir(), st, Options{Registerer: reg, OnFlushed: func() { flushed <- struct{}{} }})
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	res, err := s.Accept(context.Background(), batchN(1), observation.Meta{Origin: "upload", Who: "青岛市统计局", ReportedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	if res.Pending || res.Accepted != 2 || res.New != 2 {
		t.Fatalf("result = %+v", res)
	}
	sameBatches(t, st.written(), 1)
	if !st.reports[0].Equal(at) {
		t.Fatalf("reported at %v, want %v", st.reports[0], at)
	}
	<-flushed
	if v := testutil.ToFloat64(s.gauge); v != 0 {
		t.Fatalf("pending gauge = %v", v)
	}
	if n, err := testutil.GatherAndCount(reg, "qualitymon_spool_pending_samples"); err != nil || n != 1 {
		t.Fatalf("gauge registered %d times: %v", n, err)
	}
}

func TestEmptyBatchIsNoOp(t *testing.T) {
	st := &fakeStore{}
	s := open(t, t.TempDir(), st, Options{})
	if res, err := s.Accept(context.Background(), nil, observation.Meta{}); err != nil || res != (observation.Result{}) {
		t.Fatalf("%+v %v", res, err)
	}
	if b, _ := s.Pending(); b != 0 {
		t.Fatal("empty batch spooled")
	}
}

func TestInfluxDownPendingThenBackoffThenDelivered(t *testing.T) {
	st := &fakeStore{}
	up := make(chan struct{})
	st.setFail(func(int, []observation.Observation) error {
		select {
		case <-up:
			return nil
		default:
			return errDown
		}
	})
	sl := &instantSleep{}
	reg := prometheus.NewRegistry()
	s := open(t, t.TempDir(), st, Options{Registerer: reg, Sleep: sl.sleep, MinBackoff: time.Second, MaxBackoff: 8 * time.Second})
	for n := 1; n <= 3; n++ {
		res, err := s.Accept(context.Background(), batchN(n), observation.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Pending {
			t.Fatalf("batch %d: not pending while InfluxDB is down: %+v", n, res)
		}
	}
	if b, n := s.Pending(); b != 3 || n != 6 {
		t.Fatalf("pending = %d batches, %d samples", b, n)
	}
	if v := testutil.ToFloat64(s.gauge); v != 6 {
		t.Fatalf("gauge = %v, want 6", v)
	}
	// Let the flusher back off a few times, then bring InfluxDB up.
	deadline := time.Now().Add(30 * time.Second)
	for sl.count() < 6 {
		if time.Now().After(deadline) {
			t.Fatalf("flusher retried only %d times", sl.count())
		}
		time.Sleep(time.Millisecond)
	}
	close(up)
	waitIdle(t, s)
	sameBatches(t, st.written(), 1, 2, 3)
	sl.mu.Lock()
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second, 8 * time.Second}
	for i, w := range want {
		if sl.waits[i] != w {
			t.Fatalf("backoff %d = %v, want %v (all: %v)", i, sl.waits[i], w, sl.waits)
		}
	}
	sl.mu.Unlock()
	if v := testutil.ToFloat64(s.gauge); v != 0 {
		t.Fatalf("gauge = %v after flush", v)
	}
}

func TestReplayAfterRestartInOrderOnce(t *testing.T) {
	dir := t.TempDir()
	down := &fakeStore{fail: func(int, []observation.Observation) error { return errDown }}
	sl := &instantSleep{}
	s, err := Open(dir, down, Options{Sleep: sl.sleep, AcceptWait: -1})
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= 5; n++ {
		if _, err := s.Accept(context.Background(), batchN(n), observation.Meta{ReportedAt: time.Unix(int64(n), 0)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if len(down.written()) != 0 {
		t.Fatal("down store wrote")
	}

	st := &fakeStore{}
	s2 := open(t, dir, st, Options{})
	waitIdle(t, s2)
	sameBatches(t, st.written(), 1, 2, 3, 4, 5)
	for i, at := range st.reports {
		if at.Unix() != int64(i+1) {
			t.Fatalf("batch %d replayed with reported_at %v", i+1, at)
		}
	}
	s2.Close()

	// A third start replays nothing.
	st3 := &fakeStore{}
	s3 := open(t, dir, st3, Options{})
	waitIdle(t, s3)
	if n := len(st3.written()); n != 0 {
		t.Fatalf("replayed %d batches already committed", n)
	}
}

// TestTornTailDropped simulates a crash in the middle of an append: the last
// record is cut short. It was never acknowledged; the others replay.
func TestTornTailDropped(t *testing.T) {
	for _, cut := range []int{1, headerSize - 1, headerSize, headerSize + 5} {
		t.Run(fmt.Sprint(cut), func(t *testing.T) {
			dir := t.TempDir()
			down := &fakeStore{fail: func(int, []observation.Observation) error { return errDown }}
			s, err := Open(dir, down, Options{Sleep: (&instantSleep{}).sleep, AcceptWait: -1})
			if err != nil {
				t.Fatal(err)
			}
			for n := 1; n <= 3; n++ {
				if _, err := s.Accept(context.Background(), batchN(n), observation.Meta{}); err != nil {
					t.Fatal(err)
				}
			}
			s.Close()
			segs, _ := listSegments(dir)
			path := filepath.Join(dir, segName(segs[len(segs)-1]))
			good, _ := os.Stat(path)
			rec, _ := encodeRecord(newPayload(99, batchN(4), observation.Meta{}))
			f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			f.Write(rec[:cut])
			f.Close()

			st := &fakeStore{}
			s2 := open(t, dir, st, Options{})
			waitIdle(t, s2)
			sameBatches(t, st.written(), 1, 2, 3)
			// The torn bytes are kept in quarantine (not counted as damage).
			q, err := os.ReadFile(filepath.Join(dir, quarantineDir, fmt.Sprintf("%020d-%012d.torn", segs[len(segs)-1], good.Size())))
			if err != nil || !bytes.Equal(q, rec[:cut]) {
				t.Fatalf("quarantined torn tail %q, %v; want %q", q, err, rec[:cut])
			}
			if s2.Quarantined() != 0 {
				t.Fatal("a torn tail counted as damage")
			}
			// The tail is gone, and the next append lands after the good records.
			if fi, _ := os.Stat(path); fi != nil && fi.Size() != good.Size() {
				t.Fatalf("segment is %d bytes, want %d", fi.Size(), good.Size())
			}
			if _, err := s2.Accept(context.Background(), batchN(5), observation.Meta{}); err != nil {
				t.Fatal(err)
			}
			waitIdle(t, s2)
			sameBatches(t, st.written(), 1, 2, 3, 5)
		})
	}
}

// acceptDown accepts batches 1..n while the store is down, closes the
// spool and returns the directory and each record's [start, end) in its
// segment (one segment unless segBytes is small).
func acceptDown(t *testing.T, n int, segBytes int64) (string, []span, []uint64) {
	t.Helper()
	dir := t.TempDir()
	down := &fakeStore{fail: func(int, []observation.Observation) error { return errDown }}
	s, err := Open(dir, down, Options{Sleep: (&instantSleep{}).sleep, AcceptWait: -1, SegmentBytes: segBytes})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		if _, err := s.Accept(context.Background(), batchN(i), observation.Meta{}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	segs, _ := listSegments(dir)
	var spans []span
	var segOf []uint64
	for _, sg := range segs {
		f, _ := os.Open(filepath.Join(dir, segName(sg)))
		fi, _ := f.Stat()
		for off := int64(0); off < fi.Size(); {
			_, n, err := readAt(f, off)
			if err != nil {
				t.Fatal(err)
			}
			spans = append(spans, span{off, off + n})
			segOf = append(segOf, sg)
			off += n
		}
		f.Close()
	}
	return dir, spans, segOf
}

// TestDamagedRecordQuarantinedOthersReplay flips bytes inside acknowledged
// records of the newest segment (payload, length, magic): the damaged
// record is kept byte for byte in quarantine, the segment is not truncated,
// every other record replays in order, the gauge says 1, and appends go on.
func TestDamagedRecordQuarantinedOthersReplay(t *testing.T) {
	for _, c := range []struct {
		name string
		at   func(sp span) int64
	}{
		{"payload", func(sp span) int64 { return sp.from + headerSize + 3 }},
		{"length", func(sp span) int64 { return sp.from + 5 }},
		{"magic", func(sp span) int64 { return sp.from }},
		{"checksum", func(sp span) int64 { return sp.from + 9 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, spans, _ := acceptDown(t, 10, 0)
			path := filepath.Join(dir, segName(1))
			b, _ := os.ReadFile(path)
			bad := spans[3] // batch 4
			b[c.at(bad)] ^= 0x5a
			os.WriteFile(path, b, 0o640)

			st := &fakeStore{}
			reg := prometheus.NewRegistry()
			s2 := open(t, dir, st, Options{Registerer: reg})
			waitIdle(t, s2)
			sameBatches(t, st.written(), 1, 2, 3, 5, 6, 7, 8, 9, 10)
			if got := testutil.ToFloat64(s2.quarGauge); got != 1 {
				t.Fatalf("qualitymon_spool_quarantined_records = %v", got)
			}
			q, err := os.ReadFile(filepath.Join(dir, quarantineDir, fmt.Sprintf("%020d-%012d.bad", 1, bad.from)))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(q, b[bad.from:bad.to]) {
				t.Fatalf("quarantined %d bytes, want the %d bytes of the damaged record", len(q), bad.to-bad.from)
			}
			if fi, _ := os.Stat(path); fi != nil && fi.Size() != int64(len(b)) {
				t.Fatalf("segment truncated to %d bytes (was %d)", fi.Size(), len(b))
			}
			if _, err := s2.Accept(context.Background(), batchN(11), observation.Meta{}); err != nil {
				t.Fatal(err)
			}
			waitIdle(t, s2)
			sameBatches(t, st.written(), 1, 2, 3, 5, 6, 7, 8, 9, 10, 11)
			// A restart replays nothing more and still reports the quarantine.
			s2.Close()
			st3 := &fakeStore{}
			s3 := open(t, dir, st3, Options{})
			waitIdle(t, s3)
			if len(st3.written()) != 0 || s3.Quarantined() != 1 {
				t.Fatalf("after restart: %d replayed, %d quarantined", len(st3.written()), s3.Quarantined())
			}
		})
	}
}

// TestDamagedEndOfOlderSegment: the last record of a segment that later
// segments follow is damage, not a tear: quarantined, not truncated, the
// later segments replay.
func TestDamagedEndOfOlderSegment(t *testing.T) {
	dir, spans, segOf := acceptDown(t, 3, 1)
	if segOf[0] == segOf[2] {
		t.Fatalf("segments %v, want one per batch", segOf)
	}
	path := filepath.Join(dir, segName(segOf[0]))
	b, _ := os.ReadFile(path)
	b[spans[0].to-2] ^= 0xff
	os.WriteFile(path, b, 0o640)
	st := &fakeStore{}
	s := open(t, dir, st, Options{})
	waitIdle(t, s)
	sameBatches(t, st.written(), 2, 3)
	if s.Quarantined() != 1 {
		t.Fatalf("%d quarantined", s.Quarantined())
	}
	q, _ := os.ReadFile(filepath.Join(dir, quarantineDir, fmt.Sprintf("%020d-%012d.bad", segOf[0], 0)))
	if !bytes.Equal(q, b) {
		t.Fatal("quarantine does not hold the damaged record byte for byte")
	}
}

// TestCommitSlots: a commit file of an older version (one JSON object) is
// read and converted; a torn slot leaves the other one in force.
func TestCommitSlots(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, commitName), []byte(`{"segment":3,"offset":0,"last_id":7}`+"\n"), 0o640)
	cf, c, err := openCommit(dir)
	if err != nil || c != (cursor{Seg: 3, LastID: 7}) {
		t.Fatalf("legacy commit: %+v %v", c, err)
	}
	for i := 1; i <= 5; i++ {
		if err := cf.write(cursor{Seg: 3, Off: int64(i * 100), LastID: uint64(7 + i)}); err != nil {
			t.Fatal(err)
		}
	}
	cf.close()
	if c, _ := readCommit(dir); c.Off != 500 {
		t.Fatalf("commit %+v", c)
	}
	// Tear the newest slot (seq 5 lives in slot 1).
	b, _ := os.ReadFile(filepath.Join(dir, commitName))
	b[commitSlot+20] ^= 0xff
	os.WriteFile(filepath.Join(dir, commitName), b, 0o640)
	if c, err := readCommit(dir); err != nil || c.Off != 400 {
		t.Fatalf("after a torn slot: %+v %v", c, err)
	}
}

func TestRefusedBatchSetAsideOthersContinue(t *testing.T) {
	dir := t.TempDir()
	st := &fakeStore{fail: func(call int, b []observation.Observation) error {
		if b[0].Source == "b2" {
			return fmt.Errorf("writing: %w", &http.Error{StatusCode: 400, Code: "invalid", Message: "partial write: field type conflict"})
		}
		return nil
	}}
	s := open(t, dir, st, Options{})
	for n := 1; n <= 3; n++ {
		res, err := s.Accept(context.Background(), batchN(n), observation.Meta{Origin: "upload", Who: "x"})
		if n == 2 {
			if err == nil || !strings.Contains(err.Error(), "field type conflict") {
				t.Fatalf("refused batch: %+v, %v", res, err)
			}
			continue
		}
		if err != nil || res.Pending {
			t.Fatalf("batch %d: %+v %v", n, res, err)
		}
	}
	sameBatches(t, st.written(), 1, 3)
	csv, err := os.ReadFile(filepath.Join(dir, failedDir, fmt.Sprintf("%020d.csv", 2)))
	if err != nil {
		t.Fatal(err)
	}
	want := "indicator,region,period,value,source,note\nfood_sampling_pass_rate,370200,2002,2.25,b2,\naqi,370000,2024-03-03,2,,说明\n"
	if string(csv) != want {
		t.Fatalf("set-aside CSV:\n%s\nwant:\n%s", csv, want)
	}
	if b, _ := s.Pending(); b != 0 {
		t.Fatalf("%d pending", b)
	}
}

func TestSegmentsRotateAndFlushedOnesAreRemoved(t *testing.T) {
	dir := t.TempDir()
	st := &fakeStore{}
	s := open(t, dir, st, Options{SegmentBytes: 600})
	for n := 1; n <= 20; n++ {
		if _, err := s.Accept(context.Background(), batchN(n), observation.Meta{}); err != nil {
			t.Fatal(err)
		}
	}
	waitIdle(t, s)
	segs, _ := listSegments(dir)
	if len(segs) > 2 {
		t.Fatalf("%d segments left after everything was flushed: %v", len(segs), segs)
	}
	if len(st.written()) != 20 {
		t.Fatal("lost batches")
	}
	c, _ := readCommit(dir)
	if c.LastID != 20 {
		t.Fatalf("commit %+v", c)
	}
	// A restart continues ids and replays nothing.
	s.Close()
	st2 := &fakeStore{}
	s2 := open(t, dir, st2, Options{})
	s2.Accept(context.Background(), batchN(21), observation.Meta{})
	waitIdle(t, s2)
	sameBatches(t, st2.written(), 21)
	if c, _ := readCommit(dir); c.LastID != 21 {
		t.Fatalf("commit %+v", c)
	}
}

func TestSecondOpenRefused(t *testing.T) {
	dir := t.TempDir()
	open(t, dir, &fakeStore{}, Options{})
	if _, err := Open(dir, &fakeStore{}, Options{}); err == nil || !strings.Contains(err.Error(), "in use by another process") {
		t.Fatalf("err = %v", err)
	}
}

func TestAcceptAfterCloseFails(t *testing.T) {
	s, err := Open(t.TempDir(), &fakeStore{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := s.Accept(context.Background(), batchN(1), observation.Meta{}); err == nil {
		t.Fatal("accepted after close")
	}
}

func TestConcurrentAcceptsAllDelivered(t *testing.T) {
	st := &fakeStore{}
	s := open(t, t.TempDir(), st, Options{SegmentBytes: 2000})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				if _, err := s.Accept(context.Background(), batchN(g*100+i), observation.Meta{}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	waitIdle(t, s)
	seen := map[string]int{}
	for _, b := range st.written() {
		seen[b[0].Source]++
	}
	if len(seen) != 200 {
		t.Fatalf("%d distinct batches delivered, want 200", len(seen))
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("batch %s delivered %d times", k, n)
		}
	}
}

func FuzzTornTail(f *testing.F) {
	f.Add([]byte("QMS1\x00\x00\x00\x05abc"))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte("QMS1\x00\x00\x00\x02\x00\x00\x00\x00{}"))
	f.Fuzz(func(t *testing.T, tail []byte) {
		dir := t.TempDir()
		rec, _ := encodeRecord(newPayload(1, batchN(1), observation.Meta{}))
		os.WriteFile(filepath.Join(dir, segName(1)), append(rec, tail...), 0o640)
		st := &fakeStore{}
		s, err := Open(dir, st, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.WaitIdle(ctx); err != nil {
			t.Fatal(err)
		}
		got := st.written()
		if len(got) == 0 || got[0][0] != batchN(1)[0] {
			t.Fatalf("the intact record was not replayed first: %v", got)
		}
	})
}

// With MaxWaiting Accepts waiting for InfluxDB (the store blocked), one
// more Accept answers Pending as soon as its batch is durable (it is then
// written like any other); the waiting ones get the store's summary.
func TestAcceptBeyondMaxWaitingAnswersPending(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 10)
	st := &fakeStore{fail: func(int, []observation.Observation) error { entered <- struct{}{}; <-release; return nil }}
	s := open(t, t.TempDir(), st, Options{MaxWaiting: 2})
	ctx := context.Background()
	results := make(chan observation.Result, 2)
	go func() {
		res, err := s.Accept(ctx, batchN(1), observation.Meta{})
		if err != nil {
			t.Error(err)
		}
		results <- res
	}()
	<-entered // the flusher holds batch 1 in the store
	go func() {
		res, err := s.Accept(ctx, batchN(2), observation.Meta{})
		if err != nil {
			t.Error(err)
		}
		results <- res
	}()
	for { // until batch 2 waits too
		s.mu.Lock()
		n := len(s.waiters)
		s.mu.Unlock()
		if n == 2 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	res, err := s.Accept(ctx, batchN(3), observation.Meta{})
	if err != nil || !res.Pending || res.Accepted != 2 {
		t.Fatalf("a third Accept while two wait: %+v %v, want Pending with 2 accepted", res, err)
	}
	close(release)
	for range 2 {
		if r := <-results; r.Pending || r.New != 2 {
			t.Errorf("a waiting Accept: %+v, want the store's summary", r)
		}
	}
	for len(st.written()) < 3 {
		time.Sleep(time.Millisecond)
	}
	sameBatches(t, st.written(), 1, 2, 3)
}
