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

// TestReceiptsIndex: the index finds a figure's receipt by key and
// reported_at exactly: the same key at two moments gives each its own
// bureau, another moment or key nothing; a receipt written with its keys
// (escaped by json.Marshal) is found too; a partial last line is read only
// once it is complete, and lines appended later are read on the next
// lookup.
func TestReceiptsIndex(t *testing.T) {
	t1 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	t2 := t1.Add(time.Hour)
	k := observation.Key{Indicator: "food_sampling_pass_rate", Region: "370200", Period: period.OfYear(2025)}
	odd := observation.Key{Indicator: `a"<b>\&|x`, Region: "青岛", Period: period.Period{Kind: period.Month, Year: 2024, N: 7}}
	other := observation.Key{Indicator: "food_sampling_pass_rate", Region: "370000", Period: period.OfYear(2025)}
	path := filepath.Join(t.TempDir(), "receipts.jsonl")
	r, err := OpenReceipts(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	obs := func(k observation.Key) []observation.Observation {
		return []observation.Observation{{Indicator: k.Indicator, Region: k.Region, Period: k.Period, Value: 1}}
	}
	if err := r.Record(&Receipt{ReportedAt: t1, Bureau: "甲"}, obs(k)); err != nil {
		t.Fatal(err)
	}
	if err := r.Record(&Receipt{ReportedAt: t2, Bureau: "乙", Keys: []string{keyString(k), keyString(odd)}}, nil); err != nil {
		t.Fatal(err)
	}
	check := func(k observation.Key, at time.Time, want string) {
		t.Helper()
		r.Lookups(func(lookup func(observation.Key, time.Time) (*Receipt, bool)) {
			got, ok := lookup(k, at)
			switch {
			case want == "" && ok:
				t.Errorf("%v at %v: receipt of %q, want none", k, at, got.Bureau)
			case want != "" && (!ok || got.Bureau != want):
				t.Errorf("%v at %v: %v %v, want %q", k, at, got, ok, want)
			}
		})
	}
	check(k, t1, "甲")
	check(k, t2, "乙")
	check(odd, t2, "乙")
	check(odd, t1, "")
	check(k, t2.Add(time.Second), "")
	check(other, t1, "")

	// A partial line, then its end.
	line, err := appendReceipt(nil, &Receipt{ReportedAt: t2, Bureau: "丙"}, obs(other))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Write(line[:len(line)/2])
	check(other, t2, "")
	f.Write(line[len(line)/2:])
	check(other, t2, "丙")
	check(k, t2, "乙")
}
