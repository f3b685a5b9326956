package upload

import (
	"crypto/sha256"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Submit (the web workspace's path) answers exactly as the API: dry run,
// accepted, 422 with the bad cell, 403 outside the scope, 401 for a token no
// longer configured; every step audited with the browser's address.
func TestSubmitIsTheAPI(t *testing.T) {
	sink := &memSink{}
	rows := func() int { // accepted so far
		n := 0
		for _, b := range sink.batches {
			n += len(b)
		}
		return n
	}
	cfg := testConfig(t.TempDir(), 1<<20)
	h, err := NewHandler(cfg, validator(t), sink, prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	h.Now = func() time.Time { return now }
	defer h.Close()
	qd := sha256.Sum256([]byte(qingdaoToken))
	r := httptest.NewRequest("POST", "/bureau/check", nil)
	r.RemoteAddr = "192.0.2.7:5555"
	good := []byte("指标,地区,时期,数值\n食品抽检合格率,青岛市,2024,97.6\n")

	resp := h.Submit(r, qd, "报送.csv", "text/csv", good, SubmitOptions{DryRun: true})
	if resp.Status != 200 || !resp.DryRun || resp.Accepted != 1 || rows() != 0 {
		t.Fatalf("dry run: %+v, sink %d", resp, rows())
	}
	resp = h.Submit(r, qd, "报送.csv", "", good, SubmitOptions{})
	if resp.Status != 200 || resp.DryRun || resp.New != 1 || rows() != 1 {
		t.Fatalf("submit: %+v, sink %d", resp, rows())
	}
	resp = h.Submit(r, qd, "bad.csv", "text/csv", []byte("指标,地区,时期,数值\n食品抽检合格率,青岛市,2024,985\n"), SubmitOptions{DryRun: true})
	if resp.Status != 422 || len(resp.Errors) != 1 || resp.Errors[0].Row != 2 || resp.Errors[0].Column == "" || resp.Errors[0].Value != "985" {
		t.Fatalf("bad cell: %+v %+v", resp, resp.Errors)
	}
	resp = h.Submit(r, qd, "jinan.csv", "text/csv", []byte("指标,地区,时期,数值\n食品抽检合格率,济南市,2024,97.6\n"), SubmitOptions{})
	if resp.Status != 403 || len(resp.Errors) != 1 || !strings.Contains(resp.Errors[0].Message, "370100") {
		t.Fatalf("scope: %+v %+v", resp, resp.Errors)
	}
	resp = h.Submit(r, sha256.Sum256([]byte("removed")), "x.csv", "text/csv", good, SubmitOptions{})
	if resp.Status != 401 {
		t.Fatalf("unknown token: %+v", resp)
	}
	resp = h.Submit(r, qd, "notes.txt", "text/plain", good, SubmitOptions{})
	if resp.Status != 415 {
		t.Fatalf("not csv/xlsx: %+v", resp)
	}
	b, _ := os.ReadFile(cfg.AuditLog)
	// Six uploads, and the accepting line of the one that reached the sink.
	if n := strings.Count(string(b), `"remote_addr":"192.0.2.7:5555"`); n != 7 {
		t.Errorf("audit lines with the browser's address: %d, want 7:\n%s", n, b)
	}
}
