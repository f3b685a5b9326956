package spool

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/qualitymon/qualitymon/internal/observation"
)

// TestBackupHoldsTheFlusher: Backup of a running spool (held through its
// socket) waits for the flusher to finish the write it is retrying and
// commit; while the InfluxDB part runs, the spool writes nothing to the
// store and answers an Accept pending at once; after it the flusher goes
// on. The copy's commit is after everything the store took before the
// hold, so a spool restored from it replays nothing of that; a second
// Restore into it is refused.
func TestBackupHoldsTheFlusher(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	st := &fakeStore{}
	s := open(t, dir, st, Options{BackupSocket: true, Sleep: (&instantSleep{}).sleep})
	ctx := context.Background()
	for n := 1; n <= 2; n++ {
		if _, err := s.Accept(ctx, batchN(n), observation.Meta{}); err != nil {
			t.Fatal(err)
		}
	}
	waitIdle(t, s)
	// Batch 3 waits in the spool: the store refuses it until the backup.
	st.setFail(func(int, []observation.Observation) error { return errDown })
	if _, err := s.Accept(ctx, batchN(3), observation.Meta{}); err != nil {
		t.Fatal(err)
	}
	st.setFail(nil)
	dst := filepath.Join(t.TempDir(), "copy")
	m, err := Backup(ctx, dir, dst, func() error {
		res, err := s.Accept(ctx, batchN(4), observation.Meta{})
		if err != nil || !res.Pending {
			t.Errorf("Accept while held: %+v %v, want pending", res, err)
		}
		if got := len(st.written()); got != 3 {
			t.Errorf("store has %d batches during the backup, want 3 (the flusher reached a commit, then held)", got)
		}
		return nil
	})
	if err != nil || !m.Online {
		t.Fatalf("Backup: %+v %v", m, err)
	}
	waitIdle(t, s)
	sameBatches(t, st.written(), 1, 2, 3, 4)

	// The copy: batches 1 to 3, committed; a restore replays nothing more.
	restored := filepath.Join(t.TempDir(), "restored")
	if err := Restore(dst, restored, func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	st2 := &fakeStore{}
	s2 := open(t, restored, st2, Options{})
	waitIdle(t, s2)
	if n := len(st2.written()); n != 0 {
		t.Fatalf("restored spool replayed %d batches that the store had before the hold", n)
	}
	if err := Restore(dst, restored, func() error { return nil }); err == nil {
		t.Fatal("Restore into a spool in use (or not empty) succeeded")
	}
}
