package upload

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

func sumOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// readAll is every original under dir by SHA-256, and the damage found.
func readAll(t *testing.T, dir string) (map[string]*Archived, []ArchiveDamage) {
	t.Helper()
	got := map[string]*Archived{}
	damage, err := ReadArchive(dir, DefaultMaxBytes, func(a *Archived) error {
		if got[a.SHA256] != nil {
			t.Errorf("%s read twice (%s, %s)", a.SHA256, got[a.SHA256].From, a.From)
		}
		got[a.SHA256] = a
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got, damage
}

// TestArchiveConcurrent: concurrent uploads' originals, appended to one
// file of the day with shared fsyncs, are each read back whole, once (the
// same content twice on a day is kept once), with their time; the day
// after gets a file of its own.
func TestArchiveConcurrent(t *testing.T) {
	dir := t.TempDir()
	a := newArchiver(dir, now)
	defer a.close()
	day1, day2 := now, now.AddDate(0, 0, 1)
	var wg sync.WaitGroup
	files := map[string][]byte{}
	for i := range 40 {
		data := fmt.Appendf(nil, "indicator,region,period,value\naqi_daily,370200,2024-01-%02d,%d\n", i%28+1, i)
		files[sumOf(data)] = data
		at := day1
		if i%4 == 0 {
			at = day2
		}
		wg.Go(func() {
			if err := a.archive(a.path(at), sumOf(data), ".csv", at, data); err != nil {
				t.Error(err)
			}
			if err := a.archive(a.path(at), sumOf(data), ".csv", at, data); err != nil { // again: kept once
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, damage := readAll(t, dir)
	if len(damage) > 0 {
		t.Fatalf("damage %v", damage)
	}
	if len(got) != len(files) {
		t.Fatalf("%d originals read back, want %d", len(got), len(files))
	}
	for sum, data := range files {
		g := got[sum]
		if g == nil || string(g.Data) != string(data) || g.Ext != ".csv" || (g.Day != "2026-05-20" && g.Day != "2026-05-21") || !g.Time.Equal(now.AddDate(0, 0, map[string]int{"2026-05-20": 0, "2026-05-21": 1}[g.Day])) {
			t.Fatalf("%s: read back %+v", sum, g)
		}
	}
	for _, day := range []string{"2026-05-20", "2026-05-21"} {
		if ents, _ := os.ReadDir(filepath.Join(dir, day)); len(ents) != 1 || !strings.HasSuffix(ents[0].Name(), ".archive") {
			t.Fatalf("%s holds %v, want one archive file", day, ents)
		}
	}
	// A third day: the first day's file is closed, yesterday's stays open
	// for the uploads still being archived at midnight.
	day3 := now.AddDate(0, 0, 2)
	if err := a.archive(a.path(day3), sumOf([]byte("x")), ".csv", day3, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := a.archive(a.path(day2), sumOf([]byte("y")), ".csv", day2, []byte("y")); err != nil {
		t.Fatal(err)
	}
	if len(a.days) != 2 || a.days["2026-05-21"] == nil || a.days["2026-05-22"] == nil {
		t.Fatalf("open days %v, want yesterday's and today's", slices.Collect(maps.Keys(a.days)))
	}
}

// TestArchiveDamage: a damaged record (a byte changed, a header that lies
// about the size, a torn end) is reported with its file and offset, and
// every other record of the file is still read.
func TestArchiveDamage(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(b []byte, offs []int) []byte
		lost   []int // records lost
		want   string
	}{
		{"byte changed", func(b []byte, offs []int) []byte { b[offs[1]+len(b[offs[1]:offs[2]])-5]++; return b }, []int{1}, "SHA-256"},
		{"size lies", func(b []byte, offs []int) []byte {
			return []byte(strings.Replace(string(b), `"size":31`, `"size":99`, 1))
		}, []int{0}, "not followed by a newline"},
		{"header damaged", func(b []byte, offs []int) []byte { b[offs[1]+3] = 'x'; return b }, []int{1}, "no record header"},
		// The reader looks for the next header inside the damaged record
		// too: the line in its file that looks like one is reported, and
		// the record after it read.
		{"record with a header inside damaged", func(b []byte, offs []int) []byte { b[offs[2]+3] = 'x'; return b }, []int{2}, "no record header"},
		{"torn end", func(b []byte, offs []int) []byte { return b[:len(b)-7] }, []int{3}, "torn record"},
		{"torn header", func(b []byte, offs []int) []byte { return b[:offs[3]+20] }, []int{3}, "torn or overlong header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			a := newArchiver(dir, now)
			var sums []string
			var offs []int
			size := 0
			for i := range 4 {
				data := fmt.Appendf(nil, "indicator,region,period,value\n%d", i) // 31 bytes
				if i == 2 {
					data = append(data, "\n"+archiveMagic+"not a record\n"...) // a file that looks like a header inside
				}
				if err := a.archive(a.path(now), sumOf(data), ".csv", now, data); err != nil {
					t.Fatal(err)
				}
				sums, offs = append(sums, sumOf(data)), append(offs, size)
				size += len(ArchiveRecord(sumOf(data), ".csv", now, data))
			}
			a.close()
			path := a.path(now)
			b, err := os.ReadFile(path)
			if err != nil || len(b) != size {
				t.Fatalf("%d bytes, want %d: %v", len(b), size, err)
			}
			if err := os.WriteFile(path, tc.damage(b, offs), 0o640); err != nil {
				t.Fatal(err)
			}
			got, damage := readAll(t, dir)
			if len(damage) == 0 || damage[0].File != path || damage[0].Offset != int64(offs[tc.lost[0]]) || !strings.Contains(damage[0].Error(), tc.want) {
				t.Fatalf("damage %v, want one at byte %d saying %q", damage, offs[tc.lost[0]], tc.want)
			}
			for _, d := range damage[1:] { // only within the damaged record
				if end := tc.lost[0] + 1; d.Offset <= damage[0].Offset || (end < len(offs) && d.Offset >= int64(offs[end])) {
					t.Errorf("damage %v outside the damaged record", d)
				}
			}
			for i, sum := range sums {
				lost := false
				for _, l := range tc.lost {
					lost = lost || l == i
				}
				if (got[sum] == nil) != lost {
					t.Errorf("record %d: read %v, want lost %v", i, got[sum] != nil, lost)
				}
			}
		})
	}
}

// TestArchiveOldLayout (compat): the originals archived before, one file
// each as <date>/<sha256>.<ext>, are read beside the new records; one whose
// content no longer matches its name is reported as damaged.
func TestArchiveOldLayout(t *testing.T) {
	dir := t.TempDir()
	old := []byte("indicator,region,period,value\naqi_daily,370200,2024-01-01,51\n")
	bad := []byte("indicator,region,period,value\naqi_daily,370200,2024-01-02,52\n")
	if err := os.MkdirAll(filepath.Join(dir, "2026-05-19"), 0o750); err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{sumOf(old) + ".csv", old}, {sumOf(bad) + ".xlsx", append(bad, 'x')}} {
		if err := os.WriteFile(filepath.Join(dir, "2026-05-19", f.name), f.data, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	a := newArchiver(dir, now)
	data := []byte("indicator,region,period,value\naqi_daily,370200,2024-01-03,53\n")
	if err := a.archive(a.path(now), sumOf(data), ".csv", now, data); err != nil {
		t.Fatal(err)
	}
	a.close()
	got, damage := readAll(t, dir)
	if len(damage) != 1 || !strings.Contains(damage[0].Error(), sumOf(bad)+".xlsx") || !strings.Contains(damage[0].Error(), "does not match") {
		t.Fatalf("damage %v, want the altered old file", damage)
	}
	if g := got[sumOf(old)]; g == nil || string(g.Data) != string(old) || g.Day != "2026-05-19" || g.Ext != ".csv" || !g.Time.IsZero() {
		t.Fatalf("old layout: %+v", g)
	}
	if g := got[sumOf(data)]; g == nil || string(g.Data) != string(data) || !g.Time.Equal(now) || g.Day != "2026-05-20" {
		t.Fatalf("new layout: %+v", g)
	}
}

// TestArchiveOpenRetried: when the day's archive file cannot be opened
// (here its directory's name is taken by a file) the upload fails, and
// the next one tries again rather than failing all day.
func TestArchiveOpenRetried(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "2026-05-20")
	if err := os.WriteFile(blocker, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	a := newArchiver(dir, now)
	defer a.close()
	data := []byte("indicator,region,period,value\n")
	if err := a.archive(a.path(now), sumOf(data), ".csv", now, data); err == nil {
		t.Fatal("archived with the day's directory taken by a file")
	}
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	if err := a.archive(a.path(now), sumOf(data), ".csv", now, data); err != nil {
		t.Fatalf("once the directory can be made: %v", err)
	}
	if got, damage := readAll(t, dir); got[sumOf(data)] == nil || len(damage) > 0 {
		t.Fatalf("read back %v, damage %v", got, damage)
	}
}
