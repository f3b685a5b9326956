package spool

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

// copyDir copies the files of a fixture directory into a new temporary one.
func copyDir(t *testing.T, from string) string {
	t.Helper()
	dir := t.TempDir()
	files, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(from, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f.Name()), b, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestRowsSpoolReplays: testdata/rows-spool is a spool as the previous
// version left it (QMS2 records whose payload holds string rows: "rows",
// short keys, the period as text), three batches accepted while InfluxDB
// was down. Opened by this version it replays them, in order and once, into
// the real InfluxDB (the periods, a year and a day, as written); the next
// batch is appended as typed observations in a "QMS3" record and replays
// after them.
func TestRowsSpoolReplays(t *testing.T) {
	fixture, err := os.ReadFile(filepath.Join("testdata", "rows-spool", segName(1)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(fixture, []byte(`"rows":[{"i":"food_sampling_pass_rate","r":"370200","p":"2001"`)) {
		t.Fatal("the fixture is not in the format of string rows")
	}
	dir := copyDir(t, filepath.Join("testdata", "rows-spool"))

	srv := testenv.SharedInflux(t)
	bucket := srv.NewBucket(t)
	st := openStore(srv, bucket)
	t.Cleanup(st.Close)
	rec := &recordingStore{Store: st}
	s := open(t, dir, rec, Options{})
	waitIdle(t, s)
	sameBatches(t, rec.written(), 1, 2, 3)
	for i, at := range rec.reports {
		if want := time.Unix(1700000001+int64(i), 0); !at.Equal(want) {
			t.Errorf("batch %d replayed with reported_at %v, want %v", i+1, at, want)
		}
	}
	if _, err := s.Accept(context.Background(), batchN(4), observation.Meta{Origin: "upload"}); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, s)
	sameBatches(t, rec.written(), 1, 2, 3, 4)

	// What InfluxDB holds: batch 3's rows are the last of their keys.
	db, _, _ := strings.Cut(bucket, "/")
	got := map[string]float64{}
	for _, ser := range srv.QueryDB(t, db, `SELECT "value" FROM "observation" GROUP BY "indicator", "region"`) {
		for _, v := range ser.Values {
			ts, _ := v[0].(string)
			got[ser.Tags["indicator"]+"/"+ser.Tags["region"]+"/"+ts] = num(v[1])
		}
	}
	for _, n := range []int{1, 2, 3, 4} {
		for _, o := range batchN(n) {
			k := o.Indicator + "/" + o.Region + "/" + o.Period.Start().Format(time.RFC3339)
			if got[k] != o.Value {
				t.Errorf("InfluxDB holds %s = %v, want %v (batch %d)", k, got[k], o.Value, n)
			}
		}
	}

	// The new record is typed observations, not rows.
	b, err := os.ReadFile(filepath.Join(dir, segName(1)))
	if err != nil {
		t.Fatal(err)
	}
	p, size, err := readAt(openFile(t, filepath.Join(dir, segName(1))), int64(len(fixture)))
	if err != nil || size != int64(len(b)-len(fixture)) {
		t.Fatalf("the appended record: %v (%d bytes of %d)", err, size, len(b)-len(fixture))
	}
	if !bytes.Equal(b[len(fixture):len(fixture)+4], []byte("QMS3")) {
		t.Fatalf("the appended record starts %q, want QMS3", b[len(fixture):len(fixture)+4])
	}
	if len(p.Rows) != 0 || len(p.Obs) != 2 {
		t.Fatalf("the appended record holds %d rows and %d observations", len(p.Rows), len(p.Obs))
	}
}

func openFile(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// recordingStore writes to a real store and records what it was given.
type recordingStore struct {
	Store
	fakeStore
}

func (r *recordingStore) Upsert(ctx context.Context, batch []observation.Observation, at time.Time) (observation.Summary, error) {
	sum, err := r.Store.Upsert(ctx, batch, at)
	if err == nil {
		r.fakeStore.Upsert(ctx, batch, at)
	}
	return sum, err
}

// TestPayloadJSON: a batch is stored as observations, each as
// observation.Observation encodes itself (the period as canonical text),
// and reads back equal.
func TestPayloadJSON(t *testing.T) {
	rec, err := encodeRecord(newPayload(5, batchN(5), observation.Meta{Who: "青岛市统计局", ReportedAt: time.Unix(1700000000, 0)}))
	if err != nil {
		t.Fatal(err)
	}
	body := rec[headerSize:]
	var raw struct {
		Obs []map[string]any `json:"observations"`
	}
	if err := json.Unmarshal(body, &raw); err != nil || len(raw.Obs) != 2 || raw.Obs[0]["period"] != "2005" || raw.Obs[1]["period"] != "2024-06-06" {
		t.Fatalf("payload %s", body)
	}
	p, err := decodePayload(body)
	if err != nil {
		t.Fatal(err)
	}
	obs, err := p.observations()
	if err != nil {
		t.Fatal(err)
	}
	sameBatches(t, [][]observation.Observation{obs}, 5)
}
