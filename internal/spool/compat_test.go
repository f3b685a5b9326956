package spool

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/store"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

// TestRowsSpoolReplays: testdata/rows-spool is a spool as the previous
// version left it (QMS2 records whose payload holds string rows: "rows",
// short keys, the period as text), three batches accepted while InfluxDB
// was down. Opened by this version it replays them, in order and once, into
// the real InfluxDB (the periods, a year and a day, as written); the next
// batch is appended as a compact "QMS4" record and replays after them.
func TestRowsSpoolReplays(t *testing.T) {
	fixture, err := os.ReadFile(filepath.Join("testdata", "rows-spool", segName(1)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(fixture, []byte(`"rows":[{"i":"food_sampling_pass_rate","r":"370200","p":"2001"`)) {
		t.Fatal("the fixture is not in the format of string rows")
	}
	dir := testenv.CopyDir(t, filepath.Join("testdata", "rows-spool"))

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
	if !bytes.Equal(b[len(fixture):len(fixture)+4], []byte("QMS4")) {
		t.Fatalf("the appended record starts %q, want QMS4", b[len(fixture):len(fixture)+4])
	}
	if len(p.Rows) != 0 || len(p.Obs) != 0 || p.compact == nil || p.compact.Len() != 2 {
		t.Fatalf("the appended record holds %d rows and %d observations, compact %+v", len(p.Rows), len(p.Obs), p.compact)
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

// encodeV3 returns a "QMS3" record of p, as the previous version wrote it:
// a JSON payload of typed observations (the period as canonical text).
func encodeV3(t *testing.T, p *payload) []byte {
	t.Helper()
	body, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, headerSize+len(body))
	putFrame(buf, magicV3, body)
	binary.BigEndian.PutUint32(buf[frameHeader:], crc32.Checksum(buf[:frameHeader], crcTable))
	copy(buf[headerSize:], body)
	return buf
}

// TestPayloadV3Reads: a "QMS3" record (JSON observations, the period as
// canonical text) written by the previous version still reads, equal.
func TestPayloadV3Reads(t *testing.T) {
	rec := encodeV3(t, newPayload(5, batchN(5), observation.Meta{Who: "青岛市统计局", ReportedAt: time.Unix(1700000000, 0)}))
	var raw struct {
		Obs []map[string]any `json:"observations"`
	}
	if err := json.Unmarshal(rec[headerSize:], &raw); err != nil || len(raw.Obs) != 2 || raw.Obs[0]["period"] != "2005" || raw.Obs[1]["period"] != "2024-06-06" {
		t.Fatalf("payload %s", rec[headerSize:])
	}
	p, n, ok := recordAt(rec)
	if !ok || n != len(rec) || p.Who != "青岛市统计局" {
		t.Fatalf("the QMS3 record does not read: %v %d %+v", ok, n, p)
	}
	obs, err := p.observations()
	if err != nil {
		t.Fatal(err)
	}
	sameBatches(t, [][]observation.Observation{obs}, 5)
}

// TestPayloadCompact: a batch is stored compactly (well under the JSON's
// size: each indicator, region, source and note once) and reads back
// equal, whole or in chunks, with its metadata; a payload cut short or
// with a string index out of range does not read.
func TestPayloadCompact(t *testing.T) {
	var batch []observation.Observation
	for n := range 1000 {
		batch = append(batch, batchN(n%7)...)
	}
	at := time.Unix(1700000000, 123456789)
	meta := observation.Meta{Origin: "upload", Who: "青岛市统计局", File: "f.csv", ReportedAt: at}
	p := newPayload(9, batch, meta)
	rec, err := encodeRecord(p)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(p)
	if len(rec) > len(js)/4 {
		t.Errorf("compact record of %d rows is %d bytes, JSON %d: want under a quarter", len(batch), len(rec), len(js))
	}
	got, n, ok := recordAt(rec)
	if !ok || n != len(rec) {
		t.Fatalf("the record does not read (%v, %d of %d bytes)", ok, n, len(rec))
	}
	if got.ID != 9 || got.Origin != "upload" || got.Who != meta.Who || got.File != "f.csv" || !got.ReportedAt.Equal(at) || got.len() != len(batch) {
		t.Fatalf("metadata %+v, %d rows", got, got.len())
	}
	all, err := got.observations()
	if err != nil || len(all) != len(batch) {
		t.Fatalf("%d rows, %v", len(all), err)
	}
	chunks, err := got.chunks(300)
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	for c := range chunks {
		if len(c) > 300 {
			t.Fatalf("chunk of %d rows", len(c))
		}
		for _, o := range c {
			if o != batch[i] || all[i] != batch[i] {
				t.Fatalf("row %d = %+v / %+v, want %+v", i, o, all[i], batch[i])
			}
			i++
		}
	}
	if i != len(batch) {
		t.Fatalf("chunks gave %d rows of %d", i, len(batch))
	}
	body := rec[headerSize:]
	if _, err := decodePayload(body[:len(body)-3]); err == nil {
		t.Error("a payload cut short reads")
	}
	if _, err := decodePayload(append(slices.Clone(body), 0)); err == nil {
		t.Error("a payload with a byte after its rows reads")
	}
	zero, err := encodeRecord(newPayload(1, batchN(1), observation.Meta{}))
	if err != nil {
		t.Fatal(err)
	}
	if p, err := decodePayload(zero[headerSize:]); err != nil || !p.ReportedAt.IsZero() {
		t.Fatalf("zero reported_at: %v %v", p, err)
	}
}

// chunkingStore is a real store that records the size of each batch the
// spool writes.
type chunkingStore struct {
	*store.Store
	mu    sync.Mutex
	sizes []int
}

func (c *chunkingStore) Write(ctx context.Context, batches iter.Seq[store.Batch]) ([]store.BatchResult, error) {
	var all []store.Batch
	for b := range batches {
		c.mu.Lock()
		c.sizes = append(c.sizes, len(b.Obs))
		c.mu.Unlock()
		all = append(all, b)
	}
	return c.Store.Write(ctx, slices.Values(all))
}

// TestLargeRecordInChunks: a batch of more rows than a group holds is
// written to the real InfluxDB a chunk of at most maxGroupRows at a time
// (the flusher never decodes it whole), OnStored hears of every row once,
// Accept answers the summary of the whole batch, and every row is stored.
func TestLargeRecordInChunks(t *testing.T) {
	srv := testenv.SharedInflux(t)
	bucket := srv.NewBucket(t)
	st := &chunkingStore{Store: openStore(srv, bucket)}
	t.Cleanup(st.Close)
	var told atomic.Int64
	s := open(t, t.TempDir(), st, Options{AcceptWait: time.Minute, OnStored: func(obs []observation.Observation) { told.Add(int64(len(obs))) }})
	small := batchN(1)
	if _, err := s.Accept(context.Background(), small, observation.Meta{}); err != nil {
		t.Fatal(err)
	}
	rows := 2*maxGroupRows + 5
	var batch []observation.Observation
	for i := range rows {
		batch = append(batch, observation.Observation{Indicator: "aqi", Region: fmt.Sprintf("37%04d", i%5000), Period: period.Period{Kind: period.Day, Year: 2020 + i/5000, N: 1, D: 1}, Value: float64(i)})
	}
	res, err := s.Accept(context.Background(), batch, observation.Meta{ReportedAt: time.Unix(1700000000, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Pending || res.Accepted != rows || res.New != rows {
		t.Fatalf("Accept = %+v, want %d new", res, rows)
	}
	waitIdle(t, s)
	st.mu.Lock()
	sizes := slices.Clone(st.sizes)
	st.mu.Unlock()
	if !slices.Equal(sizes[len(sizes)-3:], []int{maxGroupRows, maxGroupRows, 5}) {
		t.Fatalf("the store was given batches of %v rows, want the large one as %d, %d, 5", sizes, maxGroupRows, maxGroupRows)
	}
	if got := told.Load(); got != int64(rows+len(small)) {
		t.Fatalf("OnStored heard of %d rows, want %d", got, rows+len(small))
	}
	// Region 370004 has a row in every chunk, the last one included.
	cur, err := st.Store.Current(context.Background(), store.Filter{Indicators: []string{"aqi"}, Regions: []string{"370004"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(cur) != rows/5000+1 {
		t.Fatalf("InfluxDB holds %d aqi rows of 370004, want %d", len(cur), rows/5000+1)
	}
	for _, o := range cur {
		if o.Period.Year != 2020+int(o.Value)/5000 || int(o.Value)%5000 != 4 {
			t.Fatalf("InfluxDB holds %+v", o)
		}
	}
}
