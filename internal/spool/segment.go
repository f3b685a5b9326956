package spool

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/qualitymon/qualitymon/internal/durable"
)

const (
	segSuffix     = ".seg"
	commitName    = "commit"
	lockName      = "lock"
	failedDir     = "failed"
	quarantineDir = "quarantine"
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

// The commit file holds two slots of commitSlot bytes, written in turn and
// in place (no new file, no new block: a full disk cannot stop it):
//
//	magic "QMC1" | length uint32 | CRC-32C uint32 | JSON {segment, offset, last_id, seq} | zero padding
//
// The valid slot with the higher seq is the commit; a write torn by a crash
// spoils only the slot it was writing. A commit file holding a single JSON
// object (older versions) is read as well and converted at Open.
const commitSlot = 256

var commitMagic = [4]byte{'Q', 'M', 'C', '1'}

type commitRec struct {
	cursor
	Seq uint64 `json:"seq"`
}

// readCommit returns the commit cursor and its seq; a missing file is the
// zero cursor.
func readCommit(dir string) (cursor, error) {
	c, _, _, err := readCommitFile(dir)
	return c, err
}

// readCommitFile also says whether the file is in the slot format.
func readCommitFile(dir string) (c cursor, seq uint64, slots bool, err error) {
	path := filepath.Join(dir, commitName)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return c, 0, false, nil
	}
	if err != nil {
		return c, 0, false, err
	}
	if len(b) > 0 && b[0] == '{' {
		if err := json.Unmarshal(b, &c); err != nil {
			return c, 0, false, fmt.Errorf("%s: %w", path, err)
		}
		return c, 0, false, nil
	}
	found := false
	for i := 0; i+commitSlot <= len(b); i += commitSlot {
		body, ok := frameBody(b[i:i+commitSlot], commitMagic, commitSlot-frameHeader)
		if !ok {
			continue
		}
		var r commitRec
		if json.Unmarshal(body, &r) != nil {
			continue
		}
		if !found || r.Seq > seq {
			c, seq, found = r.cursor, r.Seq, true
		}
	}
	if !found {
		return c, 0, true, fmt.Errorf("%s: no intact commit slot (%d bytes); restore it or remove it to replay the whole spool again (harmless: replays are idempotent)", path, len(b))
	}
	return c, seq, true, nil
}

func encodeCommitSlot(c cursor, seq uint64) []byte {
	body, _ := json.Marshal(commitRec{cursor: c, Seq: seq})
	buf := make([]byte, commitSlot)
	putFrame(buf, commitMagic, body)
	return buf
}

// commitFile writes commits in place.
type commitFile struct {
	f   *os.File
	seq uint64
}

// openCommit opens the commit file for in-place writes, first converting a
// missing or older file (atomically, through a temporary file).
func openCommit(dir string) (*commitFile, cursor, error) {
	c, seq, slots, err := readCommitFile(dir)
	if err != nil {
		return nil, c, err
	}
	if !slots {
		s := encodeCommitSlot(c, seq)
		if err := durable.WriteFile(filepath.Join(dir, commitName), append(s, s...), 0o640); err != nil {
			return nil, c, err
		}
	}
	f, err := os.OpenFile(filepath.Join(dir, commitName), os.O_RDWR, 0)
	if err != nil {
		return nil, c, err
	}
	return &commitFile{f: f, seq: seq}, c, nil
}

// write makes c the commit durably, overwriting the older slot.
func (cf *commitFile) write(c cursor) error {
	seq := cf.seq + 1
	if _, err := cf.f.WriteAt(encodeCommitSlot(c, seq), int64(seq%2)*commitSlot); err != nil {
		return err
	}
	if err := cf.f.Sync(); err != nil {
		return err
	}
	cf.seq = seq
	return nil
}

func (cf *commitFile) close() error { return cf.f.Close() }

// span is a byte range [from, to) of a segment.
type span struct{ from, to int64 }

// scanResult is what a scan of one segment found.
type scanResult struct {
	end     int64 // offset after the last intact record
	records int
	samples int
	lastID  uint64
	// damaged lists the ranges of bad bytes that are acknowledged data
	// damaged on disk: bad bytes followed by intact records, and each
	// whole record (see splitTail) after the last intact one. The
	// flusher skips them; they are never truncated.
	damaged []span
	// tail is the range of bad bytes after those (to the end of the
	// file), and torn why it is bad; empty when the segment ends
	// cleanly.
	tail span
	torn error
}

// scanSegment reads every record of f from off. A record whose magic,
// length or checksum is wrong does not end the scan: the bytes after it are
// searched for the next intact record (magic, valid length, matching
// checksum); when one is found the bad bytes are reported as damaged and
// the scan goes on from there. Bad bytes with no intact record after them
// are sorted by splitTail: its whole records are damaged, the rest is the
// tail.
func scanSegment(f *os.File, off int64) (scanResult, error) {
	res := scanResult{end: off}
	fi, err := f.Stat()
	if err != nil {
		return res, err
	}
	size := fi.Size()
	pos := off
	for pos < size {
		br := bufio.NewReaderSize(io.NewSectionReader(f, pos, size-pos), 1<<20)
		for {
			p, n, err := readRecord(br)
			if errors.Is(err, io.EOF) {
				return res, nil
			}
			if errors.Is(err, errTorn) {
				next, ok, rerr := resync(f, pos+1, size)
				if rerr != nil {
					return res, rerr
				}
				if ok {
					res.damaged = append(res.damaged, span{pos, next})
					pos = next
					break
				}
				return res, sortTail(f, pos, size, err, &res)
			}
			if err != nil {
				return res, err
			}
			pos += n
			res.end = pos
			res.records++
			res.samples += p.len()
			res.lastID = max(res.lastID, p.ID)
		}
	}
	return res, nil
}

// sortTail reads the bad bytes [from, size) of f, which no intact record
// follows, and reports them in res: whole records as damaged, the rest as
// the tail, torn for the reason first (the record at from) and splitTail
// gives.
func sortTail(f *os.File, from, size int64, first error, res *scanResult) error {
	b := make([]byte, size-from)
	if _, err := f.ReadAt(b, from); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	wholes, _, why := splitTail(b)
	pos := from
	for _, n := range wholes {
		res.damaged = append(res.damaged, span{pos, pos + int64(n)})
		pos += int64(n)
	}
	if pos < size {
		res.tail = span{pos, size}
		if pos == from {
			res.torn = fmt.Errorf("%w (%s)", first, why)
		} else {
			res.torn = fmt.Errorf("%w: %s", errTorn, why)
		}
	}
	return nil
}

// resync returns the offset of the first intact record of f at or after
// from (before size).
func resync(f *os.File, from, size int64) (int64, bool, error) {
	if from >= size {
		return 0, false, nil
	}
	buf := make([]byte, size-from)
	if _, err := f.ReadAt(buf, from); err != nil && !errors.Is(err, io.EOF) {
		return 0, false, err
	}
	for i := 0; ; {
		j := bytes.Index(buf[i:], magic[:3]) // "QMS": either version
		if j < 0 {
			return 0, false, nil
		}
		i += j
		if _, _, ok := recordAt(buf[i:]); ok {
			return from + int64(i), true, nil
		}
		i++
	}
}

// readAt reads the record at off of f.
func readAt(f *os.File, off int64) (*payload, int64, error) {
	return readRecord(bufio.NewReaderSize(io.NewSectionReader(f, off, 1<<62), 64<<10))
}
