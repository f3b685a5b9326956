package server

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/spool"
	"github.com/qualitymon/qualitymon/internal/store/storetest"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

// TestNotReadyWhileSpoolDiskFull: the spool lives on a 1 MiB tmpfs that a
// ballast file all but fills. Uploads (Accepts of 200 rows) are refused
// with ErrNoSpace once it is full: /readyz then answers 503 naming the full
// spool disk, and 200 again once the ballast is removed and space returns —
// without an upload in between (a load balancer sends none to a replica
// that is not ready) — after which an upload is accepted.
func TestNotReadyWhileSpoolDiskFull(t *testing.T) {
	st := storetest.Open(t)
	disk := testenv.Tmpfs(t, 1<<20)
	ballast := filepath.Join(disk, "ballast")
	if err := os.WriteFile(ballast, make([]byte, 1<<20-96<<10), 0o640); err != nil {
		t.Fatal(err)
	}
	sp, err := spool.Open(filepath.Join(disk, "spool"), st, spool.Options{AcceptWait: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	s := newServer(st)
	s.ReadyChecks = append(s.ReadyChecks, sp.Writable)
	s.evaluate(context.Background())
	get := func() (int, string) {
		rec := httptest.NewRecorder()
		s.Mux.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		return rec.Code, rec.Body.String()
	}
	if code, body := get(); code != 200 {
		t.Fatalf("/readyz before the disk filled: %d %q", code, body)
	}
	batch := func(n int) []observation.Observation {
		out := make([]observation.Observation, 200)
		for i := range out {
			out[i] = observation.Observation{Indicator: fmt.Sprintf("ind_%d", n), Region: fmt.Sprintf("37%04d", i), Period: period.OfYear(2023),
				Value: float64(i) + 0.5, Source: "readyz-test", Note: "full-disk test"}
		}
		return out
	}
	ctx := context.Background()
	n := 0
	for ; n < 100; n++ {
		if _, err = sp.Accept(ctx, batch(n), observation.Meta{}); err != nil {
			break
		}
	}
	if !errors.Is(err, spool.ErrNoSpace) {
		t.Fatalf("after %d uploads: %v, want the spool's disk full", n, err)
	}
	t.Logf("disk full after %d uploads", n)
	for i := 0; i < 2; i++ { // and stays not ready while nothing changes
		if code, body := get(); code != 503 || !strings.Contains(body, "spool disk full") {
			t.Fatalf("/readyz with the spool's disk full: %d %q, want 503 naming the full spool disk", code, body)
		}
	}
	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	if code, body := get(); code != 200 {
		t.Fatalf("/readyz once space returned: %d %q", code, body)
	}
	if _, err := sp.Accept(ctx, batch(n), observation.Meta{}); err != nil {
		t.Fatalf("upload once ready again: %v", err)
	}
}
