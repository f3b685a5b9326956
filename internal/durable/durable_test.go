package durable

import (
	"bufio"
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

func TestDirWriteFileConcurrent(t *testing.T) {
	dir := t.TempDir()
	d := NewDir(dir)
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			if err := d.WriteFile(string(rune('a'+i%26))+string(rune('a'+i/26)), []byte{byte(i)}, 0o600); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ents, _ := os.ReadDir(dir); len(ents) != 40 {
		t.Fatalf("%d files, want 40", len(ents))
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

// TestDirCreate: a new file holds its content; an existing one is left as
// it is; concurrent callers of one name leave one whole file.
func TestDirCreate(t *testing.T) {
	dir := t.TempDir()
	d := NewDir(dir)
	if err := d.Create("a.csv", []byte("first"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := d.Create("a.csv", []byte("other"), 0o640); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "a.csv")); err != nil || string(b) != "first" {
		t.Fatalf("%q, %v", b, err)
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if err := d.Create("b.csv", []byte("same content"), 0o640); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if b, err := os.ReadFile(filepath.Join(dir, "b.csv")); err != nil || string(b) != "same content" {
		t.Fatalf("%q, %v", b, err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Fatalf("files left: %v", ents)
	}
	if err := NewDir(filepath.Join(dir, "missing")).Create("c", nil, 0o640); err == nil {
		t.Fatal("no error for a missing directory")
	}
}
