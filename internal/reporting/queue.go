package reporting

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qualitymon/qualitymon/internal/durable"
	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/store"
)

// States of an upload held for review: held → approved → stored, or
// held → returned (review.go).
const (
	UploadHeld     = "held"     // 待审核
	UploadApproved = "approved" // 已批准: decided, durably; its rows are being handed to the spool
	UploadStored   = "stored"   // 已批准,已入库: the spool has its rows
	UploadReturned = "returned" // 已退回: the bureau must correct and upload again
)

// UploadStateLabel is an upload state in Chinese.
func UploadStateLabel(state string) string {
	return map[string]string{UploadHeld: "待审核", UploadApproved: "已批准,待入库", UploadStored: "已批准,已入库", UploadReturned: "已退回"}[state]
}

// Errors of the review steps.
var (
	ErrNotFound        = errors.New("no such upload")
	ErrDecided         = errors.New("the upload has already been approved or returned")
	ErrNotReviewer     = errors.New("only a reviewer (role: reviewer) may approve or return uploads")
	ErrOutOfScope      = errors.New("the upload has figures for regions outside the reviewer's")
	ErrCommentRequired = errors.New("returning an upload needs a comment saying what to correct")
	// ErrOwnUpload: a reviewer's own upload is approved by another reviewer.
	ErrOwnUpload = errors.New("a reviewer may not approve an upload of its own bureau: another reviewer must")
	// ErrUnavailable wraps the failure to write a step durably (its audit
	// line or the upload's file, e.g. a full disk): the step was not made,
	// nothing was stored; try again later.
	ErrUnavailable = errors.New("the review step could not be recorded durably")
	// ErrNotStoredYet wraps the failure to hand an approved upload to the
	// sink: the approval stands, and Complete hands it over again.
	ErrNotStoredYet = errors.New("approved, but not yet handed to the store")
)

// Row is one figure of a held upload, stored as the observation encodes
// itself (the period as canonical text). Files of the previous version,
// whose rows held the same keys and the period as text, read the same.
type Row = observation.Observation

// Upload is a batch held for review, and what became of it: the header
// kept in its file; its rows are in a file of their own (Queue.Rows).
type Upload struct {
	ID          string    `json:"id"`
	Bureau      string    `json:"bureau"`
	Origin      string    `json:"origin"`
	File        string    `json:"file,omitempty"`
	SubmittedAt time.Time `json:"submitted_at"`
	// Regions and Indicators the rows cover, sorted.
	Regions    []string `json:"regions"`
	Indicators []string `json:"indicators"`
	// RowCount is how many rows it has.
	RowCount int    `json:"row_count"`
	State    string `json:"state"`
	// Reviewer, Comment, DecidedAt and Remote record the decision.
	Reviewer  string     `json:"reviewer,omitempty"`
	Comment   string     `json:"comment,omitempty"`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
	Remote    string     `json:"remote,omitempty"`
	// Result is what the sink did with an approved upload, StoredAt when.
	Result   *observation.Result `json:"result,omitempty"`
	StoredAt *time.Time          `json:"stored_at,omitempty"`
}

// Decided says whether the upload's review is over (stored or returned):
// its file is then in the archive.
func (u *Upload) Decided() bool { return u.State == UploadStored || u.State == UploadReturned }

// Reader is what the reporting core reads from the store (*store.Store).
type Reader interface {
	Current(ctx context.Context, f store.Filter) ([]observation.Stored, error)
	FirstReports(ctx context.Context, f store.Filter) (map[observation.Key]time.Time, error)
}

// Queue holds the uploads of bureaus whose uploads need review until a
// reviewer approves or returns them. It is an observation.Sink. It keeps
// nothing in memory: everything is read from dir when asked, so that
// memory does not grow with the uploads held or decided, and several
// serve processes may share dir.
//
//	dir/uploads/<id>.json          the header (Upload) of a held or approved upload
//	dir/rows/<id>.jsonl            its rows, one JSON observation a line, written once
//	dir/archive/<bureau>/<id>.json the header of a stored or returned upload (<bureau>: bureauDir)
//	dir/archive/<bureau>/<id>.jsonl     and its rows
//	dir/audit.jsonl                every step (review.go)
//	dir/lock                       flock taken by every step, in every process
//
// Files are written to a temporary file, fsynced, renamed, the directory
// fsynced; every step is a line of dir/audit.jsonl, written durably before
// the step is made (review.go). A step takes dir/lock, so that steps of
// several processes over one dir never interleave.
type Queue struct {
	dir      string
	next     observation.Sink
	store    Reader
	receipts *Receipts
	audit    *durable.Log // auditEntry lines
	// Now is the clock of holds and decisions.
	Now func() time.Time
	// Step, when set, is called at the points between the writes of a
	// step (the Step* constants), for the fault tests that stop the
	// process there.
	Step func(point string)

	// handMu serializes the hand-over of approved uploads to next, in the
	// order of their decisions.
	handMu sync.Mutex
	// reads counts the upload files read (headers and rows), for the
	// tests that check what is read when.
	reads atomic.Int64
}

// OpenQueue opens (creating) the queue in dir. Approved uploads go to next
// (the spool in serve) and get a receipt in receipts (may be nil); Diff
// reads current values from st (may be nil: no diff). A step that was
// audited but not made (the process stopped in between) is marked as not
// made in the audit log. Approved uploads not yet stored wait for
// Complete. Files of the previous version (an upload with its rows in one
// file, decided ones beside held ones) are rewritten in this form once.
// Decided uploads are not read.
func OpenQueue(dir string, next observation.Sink, st Reader, receipts *Receipts) (*Queue, error) {
	for _, d := range []string{"uploads", "rows", "archive"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o750); err != nil {
			return nil, err
		}
	}
	a, err := durable.OpenLog(filepath.Join(dir, "audit.jsonl"))
	if err != nil {
		return nil, err
	}
	q := &Queue{dir: dir, next: next, store: st, receipts: receipts, audit: a, Now: time.Now}
	err = q.locked(func() error {
		if err := q.tidy(); err != nil {
			return err
		}
		return q.reconcile()
	})
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("review queue %s: %w", dir, err)
	}
	return q, nil
}

// Close closes the audit log.
func (q *Queue) Close() error { return q.audit.Close() }

// locked runs f with dir/lock held.
func (q *Queue) locked(f func() error) error {
	unlock, err := durable.Lock(filepath.Join(q.dir, "lock"))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer unlock()
	return f()
}

func (q *Queue) openPath(id string) string { return filepath.Join(q.dir, "uploads", id+".json") }
func (q *Queue) rowsPath(id string) string { return filepath.Join(q.dir, "rows", id+".jsonl") }
func (q *Queue) archivePath(u *Upload) string {
	return filepath.Join(q.dir, "archive", bureauDir(u.Bureau), u.ID+".json")
}

// bureauDir names a bureau's directory in the archive: the first 16 hex
// digits of the SHA-256 of its name.
func bureauDir(bureau string) string {
	h := sha256.Sum256([]byte(bureau))
	return hex.EncodeToString(h[:8])
}

// validID says whether id can be an upload's id (a file name of ours).
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
			return false
		}
	}
	return true
}

// readHeader reads an upload's header file.
func (q *Queue) readHeader(path string) (*Upload, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	q.reads.Add(1)
	var u Upload
	if err := json.Unmarshal(data, &u); err != nil {
		return nil, fmt.Errorf("review queue %s: %w", path, err)
	}
	return &u, nil
}

// load reads the header of upload id: the archive's when it is there (a
// process that stopped while archiving may have left the open file too).
func (q *Queue) load(id string) (*Upload, error) { return q.loadOf(id, "") }

// loadOf is load when the upload's bureau is known ("": not known).
func (q *Queue) loadOf(id, bureau string) (*Upload, error) {
	if !validID(id) {
		return nil, ErrNotFound
	}
	if bureau != "" {
		path := q.archivePath(&Upload{ID: id, Bureau: bureau})
		if _, err := os.Stat(path); err == nil {
			return q.readHeader(path)
		}
	} else if arch, _ := filepath.Glob(filepath.Join(q.dir, "archive", "*", id+".json")); len(arch) > 0 {
		return q.readHeader(arch[0])
	}
	u, err := q.readHeader(q.openPath(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	return u, err
}

// open reads the headers of the uploads not yet decided (held, approved).
func (q *Queue) open() ([]*Upload, error) {
	files, err := filepath.Glob(filepath.Join(q.dir, "uploads", "*.json"))
	if err != nil {
		return nil, err
	}
	var out []*Upload
	for _, f := range files {
		id := strings.TrimSuffix(filepath.Base(f), ".json")
		u, err := q.load(id)
		if errors.Is(err, ErrNotFound) {
			continue // decided meanwhile by another process
		}
		if err != nil {
			return nil, err
		}
		if !u.Decided() {
			out = append(out, u)
		}
	}
	return out, nil
}

// Accept holds a batch (observation.Sink): audited and written durably,
// not stored. When either cannot be written the batch is refused.
func (q *Queue) Accept(ctx context.Context, batch []observation.Observation, meta observation.Meta) (observation.Result, error) {
	now := meta.ReportedAt
	if now.IsZero() {
		now = q.Now()
	}
	u := &Upload{ID: newID(now), Bureau: meta.Who, Origin: meta.Origin, File: meta.File, SubmittedAt: now.UTC(), State: UploadHeld,
		RowCount: len(batch)}
	regs, inds := map[string]bool{}, map[string]bool{}
	for _, o := range batch {
		regs[o.Region], inds[o.Indicator] = true, true
	}
	u.Regions, u.Indicators = sortedKeys(regs), sortedKeys(inds)
	entry := &auditEntry{Time: now.UTC(), Action: ActionHold, By: u.Bureau}
	entry.describe(u)
	err := q.locked(func() error { return q.transition(entry, u, batch) })
	if err != nil {
		return observation.Result{}, fmt.Errorf("holding the upload for review: %w", err)
	}
	return observation.Result{Summary: observation.Summary{Accepted: len(batch)}, Held: true, ReviewID: u.ID}, nil
}

// Get returns an upload's header (its rows: Rows).
func (q *Queue) Get(id string) (*Upload, bool) {
	u, err := q.load(id)
	return u, err == nil
}

// Rows reads an upload's rows from its file.
func (q *Queue) Rows(id string) ([]Row, error) {
	var out []Row
	err := q.eachRow(id, func(r Row) error {
		out = append(out, r)
		return nil
	})
	return out, err
}

// eachRow calls f with each row of an upload, read one at a time.
func (q *Queue) eachRow(id string, f func(Row) error) error {
	if !validID(id) {
		return ErrNotFound
	}
	file, err := os.Open(q.rowsPath(id))
	if errors.Is(err, fs.ErrNotExist) {
		if arch, _ := filepath.Glob(filepath.Join(q.dir, "archive", "*", id+".jsonl")); len(arch) > 0 {
			file, err = os.Open(arch[0])
		}
	}
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	defer file.Close()
	q.reads.Add(1)
	dec := json.NewDecoder(bufio.NewReaderSize(file, 64<<10))
	for {
		var r Row
		if err := dec.Decode(&r); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("review queue %s: %w", file.Name(), err)
		}
		if err := f(r); err != nil {
			return err
		}
	}
}

// Reads is how many upload files (headers and rows) the queue has read.
func (q *Queue) Reads() int64 { return q.reads.Load() }

// List returns the held uploads whose every region lies in regions (a
// reviewer's), oldest first; nil regions: every held upload.
func (q *Queue) List(regions map[string]bool) []*Upload {
	ups, err := q.open()
	if err != nil {
		return nil
	}
	var out []*Upload
	for _, u := range ups {
		if u.State == UploadHeld && (regions == nil || coversAll(regions, u.Regions)) {
			out = append(out, u)
		}
	}
	sortUploads(out, false)
	return out
}

func coversAll(regions map[string]bool, codes []string) bool {
	for _, r := range codes {
		if !regions[r] {
			return false
		}
	}
	return true
}

// ForBureau returns a bureau's uploads that went through review, in every
// state (with the reviewer's comment), newest first: those still open and
// the newest max of its archive (max ≤ 0: all of it).
func (q *Queue) ForBureau(bureau string, max int) []*Upload {
	var out []*Upload
	if ups, err := q.open(); err == nil {
		for _, u := range ups {
			if u.Bureau == bureau {
				out = append(out, u)
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join(q.dir, "archive", bureauDir(bureau), "*.json"))
	sort.Sort(sort.Reverse(sort.StringSlice(files))) // ids begin with the time of submission
	if max > 0 && len(files) > max {
		files = files[:max]
	}
	for _, f := range files {
		if u, err := q.readHeader(f); err == nil && u.Bureau == bureau {
			out = append(out, u)
		}
	}
	sortUploads(out, true)
	return out
}

func sortUploads(out []*Upload, newestFirst bool) {
	sort.Slice(out, func(i, j int) bool {
		if !out[i].SubmittedAt.Equal(out[j].SubmittedAt) {
			return out[i].SubmittedAt.Before(out[j].SubmittedAt) != newestFirst
		}
		return out[i].ID < out[j].ID
	})
}

// Held maps the keys in want (nil: every key) of every held upload's rows
// to the upload's id. Rows are read from disk one at a time, and only of
// the uploads whose regions and indicators (their headers) meet want's.
func (q *Queue) Held(want map[observation.Key]bool) (map[observation.Key]string, error) {
	regs, inds := map[string]bool{}, map[string]bool{}
	for k := range want {
		regs[k.Region], inds[k.Indicator] = true, true
	}
	meets := func(u *Upload) bool {
		if want == nil {
			return true
		}
		r, i := false, false
		for _, c := range u.Regions {
			r = r || regs[c]
		}
		for _, c := range u.Indicators {
			i = i || inds[c]
		}
		return r && i
	}
	out := map[observation.Key]string{}
	for _, u := range q.List(nil) {
		if !meets(u) {
			continue
		}
		err := q.eachRow(u.ID, func(r Row) error {
			if k := r.Key(); want == nil || want[k] {
				out[k] = u.ID
			}
			return nil
		})
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
	}
	return out, nil
}

// Changes of a row against the current value.
const (
	ChangeNew       = string(store.New)       // no current value
	ChangeRevised   = string(store.Revised)   // a different value or source
	ChangeUnchanged = string(store.Unchanged) // the same
)

// DiffRow is a held row beside the value it would replace.
type DiffRow struct {
	Row
	Change            string     `json:"change"`
	Current           *float64   `json:"current,omitempty"`
	CurrentSource     string     `json:"current_source,omitempty"`
	CurrentNote       string     `json:"current_note,omitempty"`
	CurrentReportedAt *time.Time `json:"current_reported_at,omitempty"`
	// Previous is the value of the period before (the upload's own, else
	// the stored one): what the plausibility check (ingest.Implausible)
	// compares the row with, for reviewers.
	Previous       *float64 `json:"previous,omitempty"`
	PreviousPeriod string   `json:"previous_period,omitempty"`
}

// Diff compares a held upload's rows with the values the store holds now.
func (q *Queue) Diff(ctx context.Context, id string) ([]DiffRow, error) {
	obs, err := q.Rows(id)
	if err != nil {
		return nil, err
	}
	cur := map[observation.Key]observation.Stored{}
	own := make(map[observation.Key]float64, len(obs))
	for _, o := range obs {
		own[o.Key()] = o.Value
	}
	if q.store != nil && len(obs) > 0 {
		// One read for the rows' keys and their previous periods.
		span := store.SpanOf(obs)
		for _, k := range ingest.PreviousKeys(obs) {
			span.Add(k)
		}
		st, err := q.store.Current(ctx, span.Filter())
		if err != nil {
			return nil, err
		}
		for _, s := range st {
			cur[s.Key()] = s
		}
	}
	out := make([]DiffRow, len(obs))
	for i, o := range obs {
		d := DiffRow{Row: o}
		pk := o.Key()
		pk.Period = pk.Period.Prev()
		if v, ok := own[pk]; ok {
			d.Previous = &v
		} else if s, ok := cur[pk]; ok {
			v := s.Value
			d.Previous = &v
		}
		if d.Previous != nil {
			d.PreviousPeriod = pk.Period.String()
		}
		var held *observation.Stored
		if s, ok := cur[o.Key()]; ok {
			v, at := s.Value, s.ReportedAt
			d.Current, d.CurrentSource, d.CurrentNote, d.CurrentReportedAt = &v, s.Source, s.Note, &at
			held = &s
		}
		c, _ := store.Classify(held, o.Value, o.Source)
		d.Change = string(c)
		out[i] = d
	}
	return out, nil
}

// save writes an upload's header durably where its state keeps it: an
// open upload in uploads, a decided one in the archive (and then its open
// file is removed).
func (q *Queue) save(u *Upload) error {
	data, err := json.MarshalIndent(u, "", "  ")
	if err != nil {
		return err
	}
	if !u.Decided() {
		return durable.WriteFile(q.openPath(u.ID), data, 0o640)
	}
	path := q.archivePath(u)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	if err := durable.WriteFile(path, data, 0o640); err != nil {
		return err
	}
	q.archiveRest(u)
	return nil
}

// archiveRest moves the rows of an archived upload beside its header and
// removes its open file (best effort: load prefers the archive, eachRow
// looks in both places, and OpenQueue finishes what is left).
func (q *Queue) archiveRest(u *Upload) {
	dest := filepath.Join(filepath.Dir(q.archivePath(u)), u.ID+".jsonl")
	if err := os.Rename(q.rowsPath(u.ID), dest); err == nil {
		durable.SyncDir(filepath.Dir(dest))
		durable.SyncDir(filepath.Join(q.dir, "rows"))
	}
	if err := os.Remove(q.openPath(u.ID)); err == nil {
		durable.SyncDir(filepath.Join(q.dir, "uploads"))
	}
}

// saveRows writes an upload's rows durably, one JSON line each.
func (q *Queue) saveRows(id string, rows []Row) error {
	return durable.WriteFileFrom(q.rowsPath(id), 0o640, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	})
}

// tidy (with dir/lock held, at open) rewrites the files of the previous
// version — an upload's rows in its file, decided uploads beside open ones
// — in this form, removes the open file of an archived upload and rows
// that no upload has (a hold that stopped before its header).
func (q *Queue) tidy() error {
	files, err := filepath.Glob(filepath.Join(q.dir, "uploads", "*.json"))
	if err != nil {
		return err
	}
	for _, f := range files {
		id := strings.TrimSuffix(filepath.Base(f), ".json")
		if arch, _ := filepath.Glob(filepath.Join(q.dir, "archive", "*", id+".json")); len(arch) > 0 {
			u, err := q.readHeader(arch[0])
			if err != nil {
				return err
			}
			q.archiveRest(u)
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var old struct {
			Upload
			Rows []Row `json:"rows"`
		}
		if err := json.Unmarshal(data, &old); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		u := old.Upload
		if u.State == UploadApproved && u.Result != nil {
			u.State = UploadStored // written before approved and stored were two steps
		}
		if old.Rows == nil && u.State == old.Upload.State {
			continue // this version's
		}
		if old.Rows != nil {
			u.RowCount = len(old.Rows)
			if err := q.saveRows(u.ID, old.Rows); err != nil {
				return err
			}
		}
		if err := q.save(&u); err != nil {
			return err
		}
	}
	rows, err := filepath.Glob(filepath.Join(q.dir, "rows", "*.jsonl"))
	if err != nil {
		return err
	}
	for _, f := range rows {
		id := strings.TrimSuffix(filepath.Base(f), ".jsonl")
		if _, err := os.Stat(q.openPath(id)); err == nil {
			continue // an open upload's (an archived one's open file is gone by now)
		}
		u, err := q.load(id)
		switch {
		case errors.Is(err, ErrNotFound):
			os.Remove(f) // a hold that stopped before its header: not made
		case err != nil:
			return err
		case u.Decided():
			q.archiveRest(u)
		}
	}
	return nil
}

// newID is a sortable, unguessable upload id: 20240315T101500-8c1f2e9a.
func newID(t time.Time) string {
	b := make([]byte, 4)
	rand.Read(b)
	return t.UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b)
}
