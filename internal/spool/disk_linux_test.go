package spool

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

// bigBatch is batch n with 200 rows (about 15 KB on disk).
func bigBatch(n int) []observation.Observation {
	out := make([]observation.Observation, 200)
	for i := range out {
		out[i] = observation.Observation{Indicator: "food_sampling_pass_rate", Region: fmt.Sprintf("37%04d", i), Period: period.OfYear(2000 + n%20),
			Value: float64(n*1000 + i), Source: fmt.Sprintf("b%d", n), Note: "full-disk test"}
	}
	return out
}

// TestFullDiskRecovers runs the spool on a 2 MiB tmpfs with InfluxDB down
// until the disk is full: Accept fails with ErrNoSpace (nothing half
// written), the flusher still commits (the commit is rewritten in place)
// and removes flushed segments once InfluxDB is back, and Accept succeeds
// again by itself, without a restart. Every acknowledged batch is written
// exactly once, in order; no refused one is.
func TestFullDiskRecovers(t *testing.T) {
	dir := testenv.Tmpfs(t, 2<<20)
	var up = make(chan struct{})
	st := &fakeStore{fail: func(int, []observation.Observation) error {
		select {
		case <-up:
			return nil
		default:
			return errDown
		}
	}}
	s := open(t, dir, st, Options{AcceptWait: -1, SegmentBytes: 256 << 10, MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	ctx := context.Background()
	var acked []int
	n := 0
	for ; n < 1000; n++ {
		_, err := s.Accept(ctx, bigBatch(n), observation.Meta{})
		if err != nil {
			if !errors.Is(err, ErrNoSpace) {
				t.Fatalf("batch %d: %v, want ErrNoSpace", n, err)
			}
			break
		}
		acked = append(acked, n)
	}
	if n == 1000 {
		t.Fatal("the disk never filled")
	}
	t.Logf("disk full after %d batches", len(acked))
	// Still full: refused again, and the spool is not broken; Writable
	// (/readyz) says so.
	if _, err := s.Accept(ctx, bigBatch(n), observation.Meta{}); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("second attempt on a full disk: %v", err)
	}
	if err := s.Writable(); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("Writable on a full disk: %v, want ErrNoSpace", err)
	}
	close(up) // InfluxDB is back
	waitIdle(t, s)
	// Space returns as flushed segments are removed: Accept succeeds again
	// (a client retrying after Retry-After).
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := s.Accept(ctx, bigBatch(n), observation.Meta{})
		if err == nil {
			acked = append(acked, n)
			break
		}
		if !errors.Is(err, ErrNoSpace) || time.Now().After(deadline) {
			t.Fatalf("after the backlog drained: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := s.Writable(); err != nil {
		t.Fatalf("Writable once an append succeeded again: %v", err)
	}
	for m := n + 1; m < n+40; m++ { // and keeps succeeding: more than the disk holds at once
		if _, err := s.Accept(ctx, bigBatch(m), observation.Meta{}); err != nil {
			t.Fatalf("batch %d after recovery: %v", m, err)
		}
		acked = append(acked, m)
		if m%10 == 0 {
			waitIdle(t, s)
		}
	}
	waitIdle(t, s)
	got := st.written()
	if len(got) != len(acked) {
		t.Fatalf("store got %d batches, want the %d acknowledged", len(got), len(acked))
	}
	for i, b := range got {
		if want := fmt.Sprintf("b%d", acked[i]); b[0].Source != want || len(b) != 200 {
			t.Fatalf("batch %d is %s (%d rows), want %s", i, b[0].Source, len(b), want)
		}
	}
	segs, _ := listSegments(dir)
	if len(segs) > 2 {
		t.Fatalf("flushed segments left on disk: %v", segs)
	}
}
