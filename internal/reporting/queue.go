package reporting

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/qualitymon/qualitymon/internal/durable"
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

// Upload is a batch held for review, and what became of it.
type Upload struct {
	ID          string    `json:"id"`
	Bureau      string    `json:"bureau"`
	Origin      string    `json:"origin"`
	File        string    `json:"file,omitempty"`
	SubmittedAt time.Time `json:"submitted_at"`
	// Regions and Indicators the rows cover, sorted.
	Regions    []string `json:"regions"`
	Indicators []string `json:"indicators"`
	Rows       []Row    `json:"rows"`
	State      string   `json:"state"`
	// Reviewer, Comment, DecidedAt and Remote record the decision.
	Reviewer  string     `json:"reviewer,omitempty"`
	Comment   string     `json:"comment,omitempty"`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
	Remote    string     `json:"remote,omitempty"`
	// Result is what the sink did with an approved upload, StoredAt when.
	Result   *observation.Result `json:"result,omitempty"`
	StoredAt *time.Time          `json:"stored_at,omitempty"`
}

// Reader is what the reporting core reads from the store (*store.Store).
type Reader interface {
	Current(ctx context.Context, f store.Filter) ([]observation.Stored, error)
	FirstReports(ctx context.Context, f store.Filter) (map[observation.Key]time.Time, error)
}

// Queue holds the uploads of bureaus whose uploads need review until a
// reviewer approves or returns them. It is an observation.Sink. Uploads are
// JSON files under dir/uploads (written to a temporary file, fsynced,
// renamed, the directory fsynced); every step is a line of dir/audit.jsonl,
// written durably before the step is made (review.go).
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

	mu      sync.Mutex
	uploads map[string]*Upload
	// handMu serializes the hand-over of approved uploads to next, in the
	// order of their decisions.
	handMu sync.Mutex
}

// OpenQueue opens (creating) the queue in dir. Approved uploads go to next
// (the spool in serve) and get a receipt in receipts (may be nil); Diff
// reads current values from st (may be nil: no diff). A step that was
// audited but not made (the process stopped in between) is marked as not
// made in the audit log. Approved uploads not yet stored wait for
// Complete.
func OpenQueue(dir string, next observation.Sink, st Reader, receipts *Receipts) (*Queue, error) {
	if err := os.MkdirAll(filepath.Join(dir, "uploads"), 0o750); err != nil {
		return nil, err
	}
	a, err := durable.OpenLog(filepath.Join(dir, "audit.jsonl"))
	if err != nil {
		return nil, err
	}
	q := &Queue{dir: dir, next: next, store: st, receipts: receipts, audit: a, Now: time.Now, uploads: map[string]*Upload{}}
	files, err := filepath.Glob(filepath.Join(dir, "uploads", "*.json"))
	if err != nil {
		a.Close()
		return nil, err
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			a.Close()
			return nil, err
		}
		var u Upload
		if err := json.Unmarshal(data, &u); err != nil {
			a.Close()
			return nil, fmt.Errorf("review queue %s: %w", f, err)
		}
		if u.State == UploadApproved && u.Result != nil {
			u.State = UploadStored // written before approved and stored were two steps
		}
		q.uploads[u.ID] = &u
	}
	if err := q.reconcile(); err != nil {
		a.Close()
		return nil, fmt.Errorf("review queue %s: %w", dir, err)
	}
	return q, nil
}

// Close closes the audit log.
func (q *Queue) Close() error { return q.audit.Close() }

// Accept holds a batch (observation.Sink): audited and written durably,
// not stored. When either cannot be written the batch is refused.
func (q *Queue) Accept(ctx context.Context, batch []observation.Observation, meta observation.Meta) (observation.Result, error) {
	now := meta.ReportedAt
	if now.IsZero() {
		now = q.Now()
	}
	u := &Upload{ID: newID(now), Bureau: meta.Who, Origin: meta.Origin, File: meta.File, SubmittedAt: now.UTC(), State: UploadHeld,
		Rows: make([]Row, len(batch))}
	regs, inds := map[string]bool{}, map[string]bool{}
	for i, o := range batch {
		u.Rows[i] = o
		regs[o.Region], inds[o.Indicator] = true, true
	}
	u.Regions, u.Indicators = sortedKeys(regs), sortedKeys(inds)
	q.mu.Lock()
	defer q.mu.Unlock()
	entry := &auditEntry{Time: now.UTC(), Action: ActionHold, By: u.Bureau}
	entry.describe(u)
	if err := q.transition(entry, u); err != nil {
		return observation.Result{}, fmt.Errorf("holding the upload for review: %w", err)
	}
	return observation.Result{Summary: observation.Summary{Accepted: len(batch)}, Held: true, ReviewID: u.ID}, nil
}

// Get returns a copy of an upload.
func (q *Queue) Get(id string) (*Upload, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	u, ok := q.uploads[id]
	if !ok {
		return nil, false
	}
	c := *u
	return &c, true
}

// List returns the held uploads whose every region lies in regions (a
// reviewer's), oldest first; nil regions: every held upload.
func (q *Queue) List(regions map[string]bool) []*Upload {
	return q.filter(func(u *Upload) bool {
		if u.State != UploadHeld {
			return false
		}
		for _, r := range u.Regions {
			if regions != nil && !regions[r] {
				return false
			}
		}
		return true
	}, false)
}

// ForBureau returns a bureau's uploads that went through review, in every
// state (with the reviewer's comment), newest first.
func (q *Queue) ForBureau(bureau string) []*Upload {
	return q.filter(func(u *Upload) bool { return u.Bureau == bureau }, true)
}

func (q *Queue) filter(keep func(*Upload) bool, newestFirst bool) []*Upload {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []*Upload
	for _, u := range q.uploads {
		if keep(u) {
			c := *u
			out = append(out, &c)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].SubmittedAt.Equal(out[j].SubmittedAt) {
			return out[i].SubmittedAt.Before(out[j].SubmittedAt) != newestFirst
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Held maps the keys of every held upload's rows to the upload's id.
func (q *Queue) Held() map[observation.Key]string {
	out := map[observation.Key]string{}
	for _, u := range q.List(nil) {
		for _, r := range u.Rows {
			out[r.Key()] = u.ID
		}
	}
	return out
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
}

// Diff compares a held upload's rows with the values the store holds now.
func (q *Queue) Diff(ctx context.Context, id string) ([]DiffRow, error) {
	u, ok := q.Get(id)
	if !ok {
		return nil, ErrNotFound
	}
	obs := u.Rows
	cur := map[observation.Key]observation.Stored{}
	if q.store != nil && len(obs) > 0 {
		st, err := q.store.Current(ctx, store.SpanOf(obs).Filter())
		if err != nil {
			return nil, err
		}
		for _, s := range st {
			cur[s.Key()] = s
		}
	}
	out := make([]DiffRow, len(obs))
	for i, o := range obs {
		d := DiffRow{Row: u.Rows[i]}
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

// save writes an upload durably: temporary file, fsync, rename, fsync of
// the directory.
func (q *Queue) save(u *Upload) error {
	data, err := json.MarshalIndent(u, "", "  ")
	if err != nil {
		return err
	}
	return durable.WriteFile(filepath.Join(q.dir, "uploads", u.ID+".json"), data, 0o640)
}

// newID is a sortable, unguessable upload id: 20240315T101500-8c1f2e9a.
func newID(t time.Time) string {
	b := make([]byte, 4)
	rand.Read(b)
	return t.UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b)
}
