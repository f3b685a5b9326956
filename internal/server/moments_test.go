package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/store/storetest"
)

// metric reads one sample line's value from /metrics ("" when absent).
func metric(t *testing.T, base, name string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	return ""
}

// Over HTTP: sixteen concurrent identical /api/v1/status?at= requests
// evaluate once (qualitymon_moment_evaluations_total), all answering 200;
// with web.moments.concurrent (here 4) evaluations of other moments
// running, a fifth moment is answered 503 with Retry-After and says why,
// while /readyz stays 200.
func TestMomentRequestsBounded(t *testing.T) {
	st := storetest.Open(t)
	s := newServer(st)
	s.evaluate(t.Context())
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()

	const n = 16
	joined := func() bool { return metric(t, hs.URL, "qualitymon_moment_cache_hits_total") == "15" }
	s.Moments.BeforeEvaluate = func() {
		for deadline := time.Now().Add(time.Minute); !joined(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Error("waited a minute for the other requests to join the evaluation")
				return
			}
		}
	}
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(hs.URL + "/api/v1/status?at=2025-06-30")
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			codes[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	for i, c := range codes {
		if c != 200 {
			t.Errorf("request %d: %d", i, c)
		}
	}
	if got := metric(t, hs.URL, "qualitymon_moment_evaluations_total"); got != "1" {
		t.Fatalf("%d concurrent identical ?at= requests: %s evaluations, want 1", n, got)
	}

	release := make(chan struct{})
	var started sync.WaitGroup
	started.Add(4)
	s.Moments.BeforeEvaluate = func() { started.Done(); <-release }
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(hs.URL + "/api/v1/status?known_at=2024-0" + string(rune('1'+i)) + "-01")
			if err == nil {
				resp.Body.Close()
			}
		}()
	}
	started.Wait()
	resp, err := http.Get(hs.URL + "/api/v1/status?at=2023-12-31")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(body), "服务器繁忙") {
		t.Errorf("a fifth moment while four evaluate: %d, Retry-After %q, %q; want 503 with Retry-After saying 服务器繁忙",
			resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	for range 3 {
		resp, err := http.Get(hs.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("/readyz while the moment evaluations are saturated: %d %q", resp.StatusCode, b)
		}
	}
	close(release)
	wg.Wait()
	if got := metric(t, hs.URL, "qualitymon_moment_refused_total"); got != "1" {
		t.Errorf("qualitymon_moment_refused_total %s, want 1", got)
	}
}
