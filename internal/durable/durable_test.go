package durable

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "commit")
	for _, s := range []string{"first", "second"} {
		if err := WriteFile(path, []byte(s), 0o640); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(path); err != nil || string(b) != s {
			t.Fatalf("%q, %v; want %q", b, err, s)
		}
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm()&^0o640 != 0 {
		t.Fatalf("mode %v, %v", fi.Mode(), err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("temporary files left: %v", ents)
	}
	if err := WriteFile(filepath.Join(dir, "missing", "x"), nil, 0o640); err == nil {
		t.Fatal("no error for a missing directory")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("temporary files left: %v", ents)
	}
}

// TestLogConcurrent: every line appended by concurrent callers is in the
// file, whole, once.
func TestLogConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "audit.jsonl")
	l, err := OpenLog(path)
	if err != nil {
		t.Fatal(err)
	}
	type line struct{ G, I int }
	var wg sync.WaitGroup
	for g := range 20 {
		wg.Go(func() {
			for i := range 25 {
				if err := l.Append(line{g, i}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[line]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var ln line
		if err := json.Unmarshal(sc.Bytes(), &ln); err != nil || seen[ln] {
			t.Fatalf("line %q: %v (seen %v)", sc.Text(), err, seen[ln])
		}
		seen[ln] = true
	}
	if len(seen) != 500 {
		t.Fatalf("%d lines, want 500", len(seen))
	}
	// Reopened, it appends after what is there.
	l, err = OpenLog(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Append(line{99, 99}); err != nil {
		t.Fatal(err)
	}
}

// TestGroup: a caller returns only after a run that began after its call
// ended; calls waiting while a run is going share the next one; a failure
// is sticky.
func TestGroup(t *testing.T) {
	var g Group
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	runs := 0
	fn := func() error {
		runs++
		select {
		case started <- struct{}{}:
		default:
		}
		<-release
		return nil
	}
	var wg sync.WaitGroup
	wg.Go(func() { g.Do(fn) })
	<-started // the first run is going: the next callers wait for it
	var waiting sync.WaitGroup
	for range 10 {
		waiting.Add(1)
		wg.Go(func() { waiting.Done(); g.Do(fn) })
	}
	waiting.Wait()
	close(release)
	wg.Wait()
	if runs < 2 || runs > 11 {
		t.Fatalf("%d runs for 11 calls", runs)
	}
	boom := errors.New("boom")
	if err := g.Do(func() error { return boom }); err != boom {
		t.Fatalf("err %v", err)
	}
	if err := g.Do(func() error { return nil }); err != boom {
		t.Fatalf("after a failure: %v, want it again", err)
	}
}

// TestLogAppendRecord: records of any bytes (newlines too), appended by
// concurrent callers, are in the file whole and once; AppendLine takes
// only one line.
func TestLogAppendRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "archive")
	l, err := OpenLog(path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 20 {
		wg.Go(func() {
			rec := bytes.Repeat([]byte{'<', byte('a' + g), '\n', byte('a' + g)}, 1000+g)
			rec = append(rec, '>')
			if err := l.AppendRecord(rec); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := l.AppendLine([]byte("two\nlines\n")); err == nil {
		t.Error("AppendLine took two lines")
	}
	l.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[byte]bool{}
	for len(b) > 0 {
		g := b[1]
		n := 4*(1000+int(g-'a')) + 1
		want := append(bytes.Repeat([]byte{'<', g, '\n', g}, 1000+int(g-'a')), '>')
		if len(b) < n || !bytes.Equal(b[:n], want) || seen[g] {
			t.Fatalf("record %c not whole or twice", g)
		}
		seen[g], b = true, b[n:]
	}
	if len(seen) != 20 {
		t.Fatalf("%d records, want 20", len(seen))
	}
}
