package faults

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/testenv"
)

// TestBackupUnderLoadRestoresEveryAcknowledgedRow (issue 17 item 7): six
// bureaus post uploads concurrently to a real `qualitymon serve` on a real
// InfluxDB; for a while InfluxDB refuses writes, so that acknowledged
// uploads wait in the spool; as it takes them again, `qualitymon backup
// DIR` (influxd backup -portable and the spool) runs while the bureaus keep
// posting. The backup is then restored with
// `qualitymon restore DIR` into fresh directories — a fresh influxd without
// the database, an empty spool_dir — and a fresh serve is started on them
// and replays the spool. Asserted: the backup was taken while serve ran
// (its flusher held); every upload acknowledged before the backup began is
// in the restored InfluxDB, each row once with the value sent; every other
// upload whole or not at all; the backup is of one moment (no acknowledged
// upload missing while one sent after its answer is restored); nothing
// that was not sent; no revision (a row replayed over itself would be
// one).
func TestBackupUnderLoadRestoresEveryAcknowledgedRow(t *testing.T) {
	t0 := time.Now()
	influx := testenv.StartInflux(t)
	// InfluxDB refuses writes (503) while overloaded is set: uploads are
	// then acknowledged pending and wait in the spool.
	var overloaded atomic.Bool
	front := testenv.Front(t, influx.URL, func(w http.ResponseWriter, r *http.Request, influx http.Handler) {
		if overloaded.Load() && r.Method == http.MethodPost && r.URL.Path == "/api/v2/write" {
			http.Error(w, "test: InfluxDB overloaded", http.StatusServiceUnavailable)
			return
		}
		influx.ServeHTTP(w, r)
	})
	bs := newBureaus(t)
	qm := newServe(t, influx, front, bs)
	qm.start(t)
	t.Logf("InfluxDB and qualitymon ready after %v", time.Since(t0).Round(time.Millisecond))
	ps := startPosters(t, qm.uploadURL(), bs, time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC))
	ps.waitCount(t, qm.proc, "uploads stored", 2*nBureaus, func(s *sent) bool { return s.acked() && !s.ans.Pending })
	// A backlog at the moment of the backup: acknowledged, not yet in
	// InfluxDB (what a backup of InfluxDB alone misses).
	overloaded.Store(true)
	ps.waitCount(t, qm.proc, "uploads acknowledged pending", 2*nBureaus, func(s *sent) bool { return s.acked() && s.ans.Pending })
	overloaded.Store(false)

	backup := filepath.Join(t.TempDir(), "backup")
	ps.phase.Store(1)
	t1 := time.Now()
	qualitymon(t, qm.bin, qm.env, "backup", backup, "--config", qm.cfg, "--influxd", influx.Binary, "--influxd-host", influx.RPCAddr)
	ps.phase.Store(2)
	during := len(ps.sent())
	t.Logf("backup took %v", time.Since(t1).Round(time.Millisecond))
	ps.waitCount(t, qm.proc, "uploads answered after the backup", during+nBureaus, func(*sent) bool { return true })
	all := ps.Stop()
	qm.proc.Stop()

	var rec struct {
		Spool struct {
			Online   bool `json:"online"`
			Segments []struct {
				Bytes int64 `json:"bytes"`
			} `json:"segments"`
		} `json:"spool"`
	}
	b, err := os.ReadFile(filepath.Join(backup, "qualitymon-backup.json"))
	if err != nil || json.Unmarshal(b, &rec) != nil {
		t.Fatalf("qualitymon-backup.json: %v %s", err, b)
	}
	if !rec.Spool.Online {
		t.Fatalf("the backup did not hold the running serve's flusher: %s", b)
	}

	// Restore into fresh directories and a fresh InfluxDB.
	fresh := testenv.StartInflux(t)
	fresh.Query(t, `DROP DATABASE "qualitymon"`) // restore -portable creates it
	qm2 := newServe(t, fresh, fresh.URL, bs)
	qualitymon(t, qm.bin, qm2.env, "restore", backup, "--config", qm2.cfg, "--influxd", fresh.Binary, "--influxd-host", fresh.RPCAddr)
	qm2.start(t)
	qm2.waitDrained(t)

	st := stored(t, fresh)
	want := map[string]float64{}
	acked, phases := 0, map[int32]int{}
	for _, s := range all {
		if s.acked() {
			checkAnswer(t, s)
			phases[s.phase]++
		}
		if s.acked() && s.phase == 0 {
			acked++
			for k, v := range s.rows {
				want[k] = v
			}
			continue
		}
		// Acknowledged during or after the backup, or not at all: in the
		// backup or not, but whole.
		st.wholeOrNone(t, s, want)
	}
	t.Logf("%d uploads answered (by phase, acknowledged: %v); %d acknowledged before the backup began; %d rows restored",
		len(all), phases, acked, len(st.values))
	// One moment: no acknowledged upload is missing while an upload sent
	// after its answer is restored (what flushed between two copies taken
	// one after the other would be).
	var missing *sent
	for _, s := range all {
		if _, ok := st.values[firstKey(s.rows)]; s.acked() && !ok && (missing == nil || s.end.Before(missing.end)) {
			missing = s
		}
	}
	for _, s := range all {
		if _, ok := st.values[firstKey(s.rows)]; ok && missing != nil && s.start.After(missing.end) {
			t.Errorf("restored %s, sent after %s was acknowledged, which is missing: the backup is not of one moment", s, missing)
		}
	}
	checkExactlyOnce(t, st, want, "after the backup was restored")
	t.Logf("total %v", time.Since(t0).Round(time.Millisecond))
}

// qualitymon runs the built binary with env and fails the test with its
// output when it fails.
func qualitymon(t *testing.T, bin string, env []string, args ...string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("qualitymon %v: %v\n%s", args, err, out)
	}
	t.Logf("qualitymon %s: %s", args[0], lastLine(out))
}

func lastLine(b []byte) string {
	s := strings.TrimRight(string(b), "\n")
	return s[strings.LastIndexByte(s, '\n')+1:]
}
