package spool

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

// hundredRows is batch n of 100 rows, each key its own (indicator ind_n).
func hundredRows(n int) []observation.Observation {
	out := make([]observation.Observation, 100)
	for i := range out {
		out[i] = observation.Observation{Indicator: fmt.Sprintf("ind_%03d", n), Region: fmt.Sprintf("37%04d", i), Period: period.OfYear(2023),
			Value: float64(n*1000+i) + 0.5, Source: "damage-test"}
	}
	return out
}

// acceptedWhileDown accepts hundredRows(1..n) with InfluxDB down, closes the
// spool and returns its directory, the one segment's path and each
// record's span in it.
func acceptedWhileDown(t *testing.T, n int) (string, string, []span) {
	t.Helper()
	dir, spans, _ := acceptBatchesDown(t, n, 0, hundredRows)
	return dir, filepath.Join(dir, segName(1)), spans
}

// storedIndicators returns how many observation points InfluxDB holds per
// indicator of the bucket.
func storedIndicators(t *testing.T, srv *testenv.Influx, bucket string) map[string]int {
	t.Helper()
	db, _, _ := strings.Cut(bucket, "/")
	got := map[string]int{}
	for _, s := range srv.QueryDB(t, db, `SELECT count("value") FROM "observation" GROUP BY "indicator"`) {
		got[s.Tags["indicator"]] = int(num(s.Values[0][1]))
	}
	return got
}

// TestDamagedLastRecordIsQuarantinedNotTorn flips one byte of the LAST
// acknowledged record (100 rows) — in its payload, length, magic, payload
// checksum or header checksum — and opens the spool on the real InfluxDB.
// The record is whole (its length is all there), so it is damage, not a
// torn write: its bytes are kept in quarantine/*.bad byte for byte,
// qualitymon_spool_quarantined_records is 1, the segment is not truncated,
// the records before it are stored, and a batch accepted after it is stored
// and survives a restart.
func TestDamagedLastRecordIsQuarantinedNotTorn(t *testing.T) {
	srv := testenv.SharedInflux(t)
	for _, c := range []struct {
		name string
		at   func(sp span) int64
	}{
		{"payload", func(sp span) int64 { return sp.from + headerSize + 40 }},
		{"last payload byte", func(sp span) int64 { return sp.to - 1 }},
		{"length", func(sp span) int64 { return sp.from + 6 }},
		{"magic", func(sp span) int64 { return sp.from + 1 }},
		{"checksum", func(sp span) int64 { return sp.from + 9 }},
		{"header checksum", func(sp span) int64 { return sp.from + 13 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, path, spans := acceptedWhileDown(t, 5)
			b, _ := os.ReadFile(path)
			last := spans[len(spans)-1]
			if last.to != int64(len(b)) {
				t.Fatalf("the last record ends at %d of %d", last.to, len(b))
			}
			b[c.at(last)] ^= 0x20
			if err := os.WriteFile(path, b, 0o640); err != nil {
				t.Fatal(err)
			}

			bucket := srv.NewBucket(t)
			st := openStore(srv, bucket)
			defer st.Close()
			reg := prometheus.NewRegistry()
			s := open(t, dir, st, Options{Registerer: reg})
			waitIdle(t, s)
			if got := testutil.ToFloat64(s.quarGauge); got != 1 {
				t.Fatalf("qualitymon_spool_quarantined_records = %v, want 1", got)
			}
			q, err := os.ReadFile(filepath.Join(dir, quarantineDir, fmt.Sprintf("%020d-%012d.bad", 1, last.from)))
			if err != nil {
				t.Fatalf("the damaged record is not in quarantine as .bad: %v", err)
			}
			if !bytes.Equal(q, b[last.from:last.to]) {
				t.Fatalf("quarantined %d bytes, want the %d bytes of the damaged record", len(q), last.to-last.from)
			}
			if torn, _ := filepath.Glob(filepath.Join(dir, quarantineDir, "*.torn")); len(torn) != 0 {
				t.Fatalf("also kept as torn: %v", torn)
			}
			if fi, _ := os.Stat(path); fi == nil || fi.Size() != int64(len(b)) {
				t.Fatalf("segment truncated (was %d bytes)", len(b))
			}
			// After it: a new batch is appended, stored, and survives a
			// restart (which replays nothing and still counts the damage).
			if _, err := s.Accept(context.Background(), hundredRows(6), observation.Meta{}); err != nil {
				t.Fatal(err)
			}
			waitIdle(t, s)
			s.Close()
			s2 := open(t, dir, &fakeStore{}, Options{})
			waitIdle(t, s2)
			if s2.Quarantined() != 1 {
				t.Fatalf("after restart: %d quarantined", s2.Quarantined())
			}
			want := map[string]int{"ind_001": 100, "ind_002": 100, "ind_003": 100, "ind_004": 100, "ind_006": 100}
			if got := storedIndicators(t, srv, bucket); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("InfluxDB holds %v, want %v", got, want)
			}
		})
	}
}

// TestTornLastRecordIsCut truncates the last record (a crash during its
// append, before the fsync): it is a torn write, cut away, its bytes kept
// as .torn and not counted as damage; the records before it are stored on
// the real InfluxDB.
func TestTornLastRecordIsCut(t *testing.T) {
	srv := testenv.SharedInflux(t)
	for _, keep := range []int64{2, headerSize - 1, headerSize, headerSize + 100, -1} {
		t.Run(fmt.Sprint(keep), func(t *testing.T) {
			dir, path, spans := acceptedWhileDown(t, 5)
			last := spans[len(spans)-1]
			if keep < 0 {
				keep = last.to - last.from - 1
			}
			b, _ := os.ReadFile(path)
			if err := os.Truncate(path, last.from+keep); err != nil {
				t.Fatal(err)
			}
			bucket := srv.NewBucket(t)
			st := openStore(srv, bucket)
			defer st.Close()
			s := open(t, dir, st, Options{})
			waitIdle(t, s)
			if s.Quarantined() != 0 {
				t.Fatalf("a torn append counted as damage (%d)", s.Quarantined())
			}
			q, err := os.ReadFile(filepath.Join(dir, quarantineDir, fmt.Sprintf("%020d-%012d.torn", 1, last.from)))
			if err != nil || !bytes.Equal(q, b[last.from:last.from+keep]) {
				t.Fatalf("torn bytes kept: %d bytes, %v; want %d", len(q), err, keep)
			}
			if fi, _ := os.Stat(path); fi == nil || fi.Size() != last.from {
				t.Fatalf("segment not cut at %d", last.from)
			}
			want := map[string]int{"ind_001": 100, "ind_002": 100, "ind_003": 100, "ind_004": 100}
			if got := storedIndicators(t, srv, bucket); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("InfluxDB holds %v, want %v", got, want)
			}
		})
	}
}

// TestDamagedLastRecordThenTornAppend: the last acknowledged record is
// damaged and a later append was torn by a crash: the first is quarantined
// as damage, the second cut as torn.
func TestDamagedLastRecordThenTornAppend(t *testing.T) {
	dir, spans, _ := acceptDown(t, 3, 0)
	path := filepath.Join(dir, segName(1))
	b, _ := os.ReadFile(path)
	last := spans[2]
	b[last.from+headerSize+2] ^= 0x01
	rec, _ := encodeRecord(newPayload(99, batchN(4), observation.Meta{}))
	b = append(b, rec[:len(rec)-3]...)
	os.WriteFile(path, b, 0o640)

	st := &fakeStore{}
	s := open(t, dir, st, Options{})
	waitIdle(t, s)
	sameBatches(t, st.written(), 1, 2)
	if s.Quarantined() != 1 {
		t.Fatalf("%d quarantined, want 1", s.Quarantined())
	}
	if q, _ := os.ReadFile(filepath.Join(dir, quarantineDir, fmt.Sprintf("%020d-%012d.bad", 1, last.from))); !bytes.Equal(q, b[last.from:last.to]) {
		t.Fatal("the damaged record is not kept byte for byte")
	}
	if q, _ := os.ReadFile(filepath.Join(dir, quarantineDir, fmt.Sprintf("%020d-%012d.torn", 1, last.to))); !bytes.Equal(q, rec[:len(rec)-3]) {
		t.Fatal("the torn append is not kept")
	}
	if fi, _ := os.Stat(path); fi.Size() != last.to {
		t.Fatalf("segment is %d bytes, want %d (cut after the damaged record)", fi.Size(), last.to)
	}
}

// encodeV1 is a record as spools wrote it before the header checksum.
func encodeV1(t *testing.T, p *payload) []byte {
	t.Helper()
	body, err := json.Marshal(p) // version 1 payloads were JSON
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, frameHeader+len(body))
	putFrame(buf, magicV1, body)
	return buf
}

// TestVersion1SpoolReplays: a spool of version 1 records (no header
// checksum) replays, new records are appended in version 2 after them, and
// a whole last version 1 record whose checksum fails is damage too.
func TestVersion1SpoolReplays(t *testing.T) {
	for _, damage := range []bool{false, true} {
		t.Run(fmt.Sprint("damaged=", damage), func(t *testing.T) {
			dir := t.TempDir()
			var seg []byte
			var lastFrom int
			for n := 1; n <= 3; n++ {
				lastFrom = len(seg)
				seg = append(seg, encodeV1(t, newPayload(uint64(n), batchN(n), observation.Meta{ReportedAt: time.Unix(1700000000, 0)}))...)
			}
			if damage {
				seg[lastFrom+frameHeader+4] ^= 0x04
			}
			os.WriteFile(filepath.Join(dir, segName(1)), seg, 0o640)
			st := &fakeStore{}
			s := open(t, dir, st, Options{})
			waitIdle(t, s)
			want := []int{1, 2, 3}
			if damage {
				want = []int{1, 2}
				if s.Quarantined() != 1 {
					t.Fatalf("%d quarantined", s.Quarantined())
				}
			}
			sameBatches(t, st.written(), want...)
			if _, err := s.Accept(context.Background(), batchN(4), observation.Meta{}); err != nil {
				t.Fatal(err)
			}
			waitIdle(t, s)
			sameBatches(t, st.written(), append(want, 4)...)
			b, _ := os.ReadFile(filepath.Join(dir, segName(1)))
			if !bytes.Equal(b[len(seg):len(seg)+4], magic[:]) {
				t.Fatalf("appended record starts %q, want %q", b[len(seg):len(seg)+4], magic[:])
			}
		})
	}
}

// TestSplitTail is splitTail on literal tails.
func TestSplitTail(t *testing.T) {
	rec, _ := encodeRecord(newPayload(7, batchN(7), observation.Meta{}))
	flip := func(b []byte, i int) []byte {
		c := bytes.Clone(b)
		c[i] ^= 0x10
		return c
	}
	v1 := encodeV1(t, newPayload(7, batchN(7), observation.Meta{}))
	n := len(rec)
	for _, c := range []struct {
		name   string
		tail   []byte
		wholes []int
		torn   int
	}{
		{"zeros", make([]byte, 40), nil, 0},
		{"header cut", rec[:headerSize-2], nil, 0},
		{"payload cut", rec[:n-1], nil, 0},
		{"payload flipped", flip(rec, n-5), []int{n}, n},
		{"length flipped", flip(rec, 7), []int{n}, n},
		{"length flipped, then torn", append(flip(rec, 7), rec[:5]...), []int{n + 5}, n + 5},
		{"checksum flipped", flip(rec, 9), []int{n}, n},
		{"header checksum flipped", flip(rec, 14), []int{n}, n},
		{"header then zeros", append(bytes.Clone(rec[:headerSize]), make([]byte, n-headerSize-10)...), nil, 0}, // short of the length it announces
		{"payload flipped, then torn", append(flip(rec, 30), rec[:20]...), []int{n}, n},
		{"two damaged", append(flip(rec, 30), flip(rec, 40)...), []int{n, n}, 2 * n},
		{"v1 payload flipped", flip(v1, len(v1)-3), []int{len(v1)}, len(v1)},
		{"v1 length flipped", flip(v1, 6), []int{len(v1)}, len(v1)},
		{"v1 payload cut", v1[:len(v1)-3], nil, 0},
		{"garbage", []byte("not a record at all, just bytes"), []int{31}, 31},
	} {
		t.Run(c.name, func(t *testing.T) {
			wholes, torn, why := splitTail(c.tail)
			if fmt.Sprint(wholes) != fmt.Sprint(c.wholes) || torn != c.torn {
				t.Fatalf("splitTail = %v, %d (%s); want %v, %d", wholes, torn, why, c.wholes, c.torn)
			}
			if torn < len(c.tail) && why == "" {
				t.Fatal("no reason for the torn part")
			}
		})
	}
}
