package upload

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/qualitymon/qualitymon/internal/durable"
)

// The upload archive keeps every uploaded original under
// uploads.archive_dir, one directory per day (the server's calendar):
//
//	<date>/uploads-<hhmmss>-<random>.archive
//
// an append-only file per serve process and day: each original is one
// record, a JSON header line (archiveHeader: the magic key, the SHA-256,
// the kind, the size, the time) followed by the file's bytes and a newline.
// Concurrent uploads append to it and share one fsync (durable.Log: group
// commit), instead of one file, one fsync and one directory fsync each.
// A record is acknowledged only once durable; a crash can leave a torn last
// record, which the reader reports and skips (its upload was not
// acknowledged), as it does a damaged record anywhere (the SHA-256 checks
// the bytes): it then finds the next header and reads on, so that damage
// loses nothing else. Nobody appends to another process's file.
//
// Before, each original was its own file <date>/<sha256>.<ext>; ReadArchive
// reads both.

// archiveMagic begins every record's header line.
const archiveMagic = `{"qualitymon_archive":1,`

// archiveHeader is the header line of a record.
type archiveHeader struct {
	Version int       `json:"qualitymon_archive"`
	SHA256  string    `json:"sha256"`
	Ext     string    `json:"ext"`
	Size    int64     `json:"size"`
	Time    time.Time `json:"time"`
}

// ArchiveRecord is the record of data in a day's archive file: header,
// bytes, newline (for the tools and tests that write one).
func ArchiveRecord(sum, ext string, at time.Time, data []byte) []byte {
	h, _ := json.Marshal(archiveHeader{Version: 1, SHA256: sum, Ext: ext, Size: int64(len(data)), Time: at.UTC()})
	b := make([]byte, 0, len(h)+len(data)+2)
	b = append(append(b, h...), '\n')
	return append(append(b, data...), '\n')
}

// archiver appends the originals to this process's archive file of the
// day. The same content uploaded twice on a day is kept once (per process,
// for the first maxSeen originals of the day).
type archiver struct {
	dir string
	// name is this process's file name in each day's directory.
	name string
	mu   sync.Mutex
	days map[string]*archiveDay // today's and yesterday's (uploads still being archived at midnight)
}

type archiveDay struct {
	once sync.Once
	log  *durable.Log
	err  error
	mu   sync.Mutex
	seen map[string]bool // SHA-256 and kind of the originals in log
}

func newArchiver(dir string, now time.Time) *archiver {
	var r [4]byte
	rand.Read(r[:])
	return &archiver{dir: dir, name: "uploads-" + now.Format("150405") + "-" + hex.EncodeToString(r[:]) + ".archive", days: map[string]*archiveDay{}}
}

// path is the archive file of the uploads of at's day.
func (a *archiver) path(at time.Time) string {
	return filepath.Join(a.dir, at.Format("2006-01-02"), a.name)
}

// day returns the open archive file of the day, opening it (and making its
// directory entries durable) the first time; the day before yesterday's is
// closed.
func (a *archiver) day(day string) (*archiveDay, error) {
	a.mu.Lock()
	d := a.days[day]
	if d == nil {
		d = &archiveDay{seen: map[string]bool{}}
		a.days[day] = d
		days := slices.Sorted(maps.Keys(a.days))
		for _, k := range days[:max(len(days)-2, 0)] { // all but the last two days
			old := a.days[k]
			delete(a.days, k)
			old.once.Do(func() {}) // opened (or failed) before it is read
			if old.err == nil {
				old.log.Close()
			}
		}
	}
	a.mu.Unlock()
	d.once.Do(func() {
		path := filepath.Join(a.dir, day)
		if d.err = os.MkdirAll(path, 0o750); d.err != nil {
			return
		}
		if d.log, d.err = durable.OpenLog(filepath.Join(path, a.name)); d.err != nil {
			return
		}
		// The file's name and the day's directory are made durable once.
		if d.err = durable.SyncDir(path); d.err == nil {
			d.err = durable.SyncDir(a.dir)
		}
		if d.err != nil {
			d.log.Close()
		}
	})
	if d.err != nil { // the next upload tries again (a full disk, ...)
		a.mu.Lock()
		if a.days[day] == d {
			delete(a.days, day)
		}
		a.mu.Unlock()
	}
	return d, d.err
}

// archive keeps data durably in the archive file path (from a.path): it
// returns once its record is on disk.
func (a *archiver) archive(path, sum, ext string, at time.Time, data []byte) error {
	d, err := a.day(filepath.Base(filepath.Dir(path)))
	if err != nil {
		return err
	}
	key := sum + ext
	d.mu.Lock()
	seen := d.seen[key]
	d.mu.Unlock()
	if seen {
		return nil
	}
	if err := d.log.AppendRecord(ArchiveRecord(sum, ext, at, data)); err != nil {
		return err
	}
	d.mu.Lock()
	if len(d.seen) < maxSeen {
		d.seen[key] = true
	}
	d.mu.Unlock()
	return nil
}

// maxSeen bounds the memory of a day's dedup (about 100 bytes an entry):
// past it, the same content uploaded again that day is archived again.
const maxSeen = 100_000

// close closes the open archive files.
func (a *archiver) close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	var errs []error
	for _, d := range a.days {
		d.once.Do(func() {})
		if d.err == nil {
			errs = append(errs, d.log.Close())
		}
	}
	a.days = map[string]*archiveDay{}
	return errors.Join(errs...)
}

// Archived is an original read back from the upload archive.
type Archived struct {
	Day    string // its day directory, 2006-01-02
	SHA256 string
	Ext    string // .csv or .xlsx
	// Time is when it was archived (zero in the old layout, which kept no
	// time but the day).
	Time time.Time
	Data []byte
	// From is where it was read: the archive file and, in the day's
	// append-only file, "@" and the record's offset.
	From string
}

// ArchiveDamage is a record (or an old-layout file) that could not be read
// whole: what follows it was still read.
type ArchiveDamage struct {
	File   string
	Offset int64
	Err    error
}

func (d ArchiveDamage) Error() string {
	return fmt.Sprintf("%s at byte %d: %v", d.File, d.Offset, d.Err)
}

var (
	dayDirRE  = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	oldFileRE = regexp.MustCompile(`^([0-9a-f]{64})(\.csv|\.xlsx)$`)
	maxHeader = 4096
)

// ReadArchive reads every original under the archive directory dir, in
// both layouts, day by day, and calls fn with each (its Data is fn's to
// keep). A record or file larger than maxSize, or damaged (torn, its bytes
// not matching its SHA-256), is listed in the damage returned, and reading
// goes on after it. An error of fn, or one reading a directory, stops it.
func ReadArchive(dir string, maxSize int64, fn func(*Archived) error) ([]ArchiveDamage, error) {
	days, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var damage []ArchiveDamage
	for _, day := range days {
		if !day.IsDir() || !dayDirRE.MatchString(day.Name()) {
			continue
		}
		files, err := os.ReadDir(filepath.Join(dir, day.Name()))
		if err != nil {
			return damage, err
		}
		sort.Slice(files, func(i, j int) bool { return files[i].Name() < files[j].Name() })
		for _, f := range files {
			path := filepath.Join(dir, day.Name(), f.Name())
			switch m := oldFileRE.FindStringSubmatch(f.Name()); {
			case !f.Type().IsRegular():
			case m != nil:
				data, err := readOld(path, m[1], maxSize)
				if err != nil {
					damage = append(damage, ArchiveDamage{File: path, Err: err})
					continue
				}
				if err := fn(&Archived{Day: day.Name(), SHA256: m[1], Ext: m[2], Data: data, From: path}); err != nil {
					return damage, err
				}
			case strings.HasSuffix(f.Name(), ".archive"):
				d, err := readArchiveFile(path, day.Name(), maxSize, fn)
				damage = append(damage, d...)
				if err != nil {
					return damage, err
				}
			}
		}
	}
	return damage, nil
}

// readOld reads an original of the old layout, checked against its name.
func readOld(path, sum string, maxSize int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSize+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > maxSize {
		return nil, fmt.Errorf("larger than %d bytes", maxSize)
	}
	if got := sha256.Sum256(data); hex.EncodeToString(got[:]) != sum {
		return nil, fmt.Errorf("content does not match the SHA-256 of its name (damaged)")
	}
	return data, nil
}

// readArchiveFile reads the records of one day's append-only file.
func readArchiveFile(path, day string, maxSize int64, fn func(*Archived) error) ([]ArchiveDamage, error) {
	f, err := os.Open(path)
	if err != nil {
		return []ArchiveDamage{{File: path, Err: err}}, nil
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return []ArchiveDamage{{File: path, Err: err}}, nil
	}
	var damage []ArchiveDamage
	for off := int64(0); off < st.Size(); {
		a, n, err := readRecord(f, off, st.Size(), maxSize)
		if err != nil {
			damage = append(damage, ArchiveDamage{File: path, Offset: off, Err: err})
			// Read on from the next line that begins with the magic (its
			// checks decide whether it is a record).
			if off, err = nextMagic(f, off+1, st.Size()); err != nil {
				return damage, nil
			}
			continue
		}
		a.Day, a.From = day, fmt.Sprintf("%s@%d", path, off)
		if err := fn(a); err != nil {
			return damage, err
		}
		off += n
	}
	return damage, nil
}

// readRecord reads the record at off of a file of size bytes and returns
// its length.
func readRecord(f io.ReaderAt, off, size, maxSize int64) (*Archived, int64, error) {
	head := make([]byte, min(int64(maxHeader), size-off))
	if _, err := f.ReadAt(head, off); err != nil {
		return nil, 0, err
	}
	if !bytes.HasPrefix(head, []byte(archiveMagic)) && (len(head) >= len(archiveMagic) || !strings.HasPrefix(archiveMagic, string(head))) {
		return nil, 0, fmt.Errorf("no record header here (%.40q)", head)
	}
	nl := bytes.IndexByte(head, '\n')
	if nl < 0 {
		return nil, 0, fmt.Errorf("torn or overlong header line (no newline in %d bytes)", len(head))
	}
	var h archiveHeader
	if err := json.Unmarshal(head[:nl], &h); err != nil {
		return nil, 0, fmt.Errorf("header: %w", err)
	}
	if h.Version != 1 || len(h.SHA256) != 64 || (h.Ext != ".csv" && h.Ext != ".xlsx") || h.Size < 0 {
		return nil, 0, fmt.Errorf("header %.80q: want version 1, a SHA-256, .csv or .xlsx and a size", head[:nl])
	}
	if h.Size > maxSize {
		return nil, 0, fmt.Errorf("record of %d bytes, over the limit of %d", h.Size, maxSize)
	}
	body := off + int64(nl) + 1
	if left := size - body; h.Size+1 > left {
		return nil, 0, fmt.Errorf("torn record: %d bytes announced, %d left in the file", h.Size, max(left-1, 0))
	}
	data := make([]byte, h.Size+1)
	if _, err := f.ReadAt(data, body); err != nil {
		return nil, 0, err
	}
	if data[h.Size] != '\n' {
		return nil, 0, fmt.Errorf("record of %d bytes not followed by a newline (damaged)", h.Size)
	}
	if sum := sha256.Sum256(data[:h.Size]); hex.EncodeToString(sum[:]) != h.SHA256 {
		return nil, 0, fmt.Errorf("bytes do not match the record's SHA-256 (damaged)")
	}
	return &Archived{SHA256: h.SHA256, Ext: h.Ext, Time: h.Time, Data: data[:h.Size]}, int64(nl) + 1 + h.Size + 1, nil
}

// nextMagic returns the offset, from off on, of the next line that begins
// with the magic, or io.EOF.
func nextMagic(f io.ReaderAt, off, size int64) (int64, error) {
	pat := []byte("\n" + archiveMagic)
	buf := make([]byte, 64<<10)
	for pos := off - 1; pos < size; pos += int64(len(buf) - len(pat)) {
		n, err := f.ReadAt(buf, pos)
		if i := bytes.Index(buf[:n], pat); i >= 0 {
			return pos + int64(i) + 1, nil
		}
		if err != nil {
			return 0, io.EOF
		}
	}
	return 0, io.EOF
}
