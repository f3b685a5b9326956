package spool

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

const (
	segSuffix  = ".seg"
	commitName = "commit"
	lockName   = "lock"
	failedDir  = "failed"
)

// cursor is a position in the spool: everything before it is done.
type cursor struct {
	Seg uint64 `json:"segment"`
	Off int64  `json:"offset"`
	// LastID is the id of the last record flushed (ids stay monotonic
	// across restarts even when every segment has been removed).
	LastID uint64 `json:"last_id"`
}

func (c cursor) before(o cursor) bool {
	return c.Seg < o.Seg || (c.Seg == o.Seg && c.Off < o.Off)
}

func segName(n uint64) string { return fmt.Sprintf("%020d%s", n, segSuffix) }

// listSegments returns the segment numbers in dir, ascending.
func listSegments(dir string) ([]uint64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []uint64
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), segSuffix)
		if !ok || e.IsDir() {
			continue
		}
		n, err := strconv.ParseUint(name, 10, 64)
		if err != nil {
			continue
		}
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// readCommit returns the commit cursor; a missing file is the zero cursor.
func readCommit(dir string) (cursor, error) {
	var c cursor
	b, err := os.ReadFile(filepath.Join(dir, commitName))
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("%s: %w", filepath.Join(dir, commitName), err)
	}
	return c, nil
}

// writeCommit replaces the commit file atomically and durably.
func writeCommit(dir string, c cursor) error {
	b, _ := json.Marshal(c)
	return writeFileSync(dir, commitName, append(b, '\n'))
}

// writeFileSync writes dir/name through a temporary file, fsyncs it, renames
// it into place and fsyncs the directory.
func writeFileSync(dir, name string, data []byte) error {
	tmp := filepath.Join(dir, "."+name+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a directory's entries (created, renamed, removed files) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}

// scanResult is what a scan of one segment found.
type scanResult struct {
	end     int64 // offset after the last intact record
	records int
	samples int
	lastID  uint64
	torn    error // non-nil when bytes after end are not an intact record
}

// scanSegment reads every record of f from off.
func scanSegment(f *os.File, off int64) (scanResult, error) {
	res := scanResult{end: off}
	br := bufio.NewReaderSize(io.NewSectionReader(f, off, 1<<62), 1<<20)
	for {
		p, n, err := readRecord(br)
		if errors.Is(err, io.EOF) {
			return res, nil
		}
		if errors.Is(err, errTorn) {
			res.torn = err
			return res, nil
		}
		if err != nil {
			return res, err
		}
		res.end += n
		res.records++
		res.samples += len(p.Rows)
		res.lastID = max(res.lastID, p.ID)
	}
}

// readAt reads the record at off of f.
func readAt(f *os.File, off int64) (*payload, int64, error) {
	return readRecord(bufio.NewReaderSize(io.NewSectionReader(f, off, 1<<62), 64<<10))
}
