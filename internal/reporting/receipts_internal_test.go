package reporting

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
)

// TestReceiptLine: the receipt line Record builds itself, keys straight
// from the batch, is the line json.Marshal writes for the receipt with its
// keys as keyString gives them (a key needing escapes included), and the
// log reads it back: every key found at its reported_at.
func TestReceiptLine(t *testing.T) {
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	batch := []observation.Observation{
		{Indicator: "aqi", Region: "370200", Period: period.Period{Kind: period.Day, Year: 2025, N: 12, D: 31}, Value: 1},
		{Indicator: "food_sampling_pass_rate", Region: "370000", Period: period.OfYear(2025), Value: 2},
		{Indicator: `a"<b>\&`, Region: "青岛", Period: period.OfYear(2024), Value: 3},
	}
	rc := receiptOf(observation.Meta{Origin: "upload", Who: "青岛市统计局", File: "f.csv", ReportedAt: at}, at.Add(-time.Minute))
	line, err := appendReceipt(nil, rc, batch)
	if err != nil {
		t.Fatal(err)
	}
	want := *rc
	for i := range batch {
		want.Keys = append(want.Keys, keyString(batch[i].Key()))
	}
	wb, _ := json.Marshal(&want)
	if !bytes.Equal(line, append(wb, '\n')) {
		t.Fatalf("line\n%s\nwant\n%s", line, wb)
	}

	r, err := OpenReceipts(filepath.Join(t.TempDir(), "receipts.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Record(rc, batch); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(r.path); !bytes.Equal(b, line) {
		t.Fatalf("the log holds %q", b)
	}
	r.Lookups(func(lookup func(observation.Key, time.Time) (*Receipt, bool)) {
		for _, o := range batch {
			if got, ok := lookup(o.Key(), at); !ok || got.Bureau != "青岛市统计局" {
				t.Errorf("no receipt for %v", o.Key())
			}
		}
	})
}
