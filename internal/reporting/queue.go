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
	"strings"
	"sync"
	"time"

	"github.com/qualitymon/qualitymon/internal/durable"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/store"
)

// States of a held upload.
const (
	UploadHeld     = "held"     // 待审核
	UploadApproved = "approved" // 已批准: handed to the store
	UploadReturned = "returned" // 已退回: the bureau must correct and upload again
)

// UploadStateLabel is an upload state in Chinese.
func UploadStateLabel(state string) string {
	return map[string]string{UploadHeld: "待审核", UploadApproved: "已批准", UploadReturned: "已退回"}[state]
}

// Errors of the review steps.
var (
	ErrNotFound        = errors.New("no such upload")
	ErrDecided         = errors.New("the upload has already been approved or returned")
	ErrNotReviewer     = errors.New("only a reviewer (role: reviewer) may approve or return uploads")
	ErrOutOfScope      = errors.New("the upload has figures for regions outside the reviewer's")
	ErrCommentRequired = errors.New("returning an upload needs a comment saying what to correct")
)

// Row is one figure of a held upload.
type Row struct {
	Indicator string  `json:"indicator"`
	Region    string  `json:"region"`
	Period    string  `json:"period"`
	Value     float64 `json:"value"`
	Source    string  `json:"source,omitempty"`
	Note      string  `json:"note,omitempty"`
}

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
	// Result is what the sink did with an approved upload.
	Result *observation.Result `json:"result,omitempty"`
}

// Observations returns the rows as observations.
func (u *Upload) Observations() ([]observation.Observation, error) {
	out := make([]observation.Observation, len(u.Rows))
	for i, r := range u.Rows {
		p, err := period.Parse(r.Period)
		if err != nil {
			return nil, fmt.Errorf("upload %s row %d: %w", u.ID, i+1, err)
		}
		out[i] = observation.Observation{Indicator: r.Indicator, Region: r.Region, Period: p, Value: r.Value, Source: r.Source, Note: r.Note}
	}
	return out, nil
}

// Reader is what the reporting core reads from the store (*store.Store).
type Reader interface {
	Current(ctx context.Context, f store.Filter) ([]observation.Stored, error)
	FirstReports(ctx context.Context, f store.Filter) (map[observation.Key]time.Time, error)
}

// Queue holds the uploads of bureaus with review: required until a
// reviewer approves or returns them. It is an observation.Sink. Uploads are
// JSON files under dir/uploads (written to a temporary file, fsynced,
// renamed, the directory fsynced); every step is a line of dir/audit.jsonl.
type Queue struct {
	dir      string
	next     observation.Sink
	store    Reader
	receipts *Receipts
	audit    *durable.Log // auditEntry lines
	// Now is the clock of holds and decisions.
	Now func() time.Time

	mu      sync.Mutex
	uploads map[string]*Upload
}

// OpenQueue opens (creating) the queue in dir. Approved uploads go to next
// (the spool in serve) and get a receipt in receipts (may be nil); Diff
// reads current values from st (may be nil: no diff).
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
		q.uploads[u.ID] = &u
	}
	return q, nil
}

// Close closes the audit log.
func (q *Queue) Close() error { return q.audit.Close() }

// Accept holds a batch (observation.Sink): written durably, not stored.
func (q *Queue) Accept(ctx context.Context, batch []observation.Observation, meta observation.Meta) (observation.Result, error) {
	now := meta.ReportedAt
	if now.IsZero() {
		now = q.Now()
	}
	u := &Upload{ID: newID(now), Bureau: meta.Who, Origin: meta.Origin, File: meta.File, SubmittedAt: now.UTC(), State: UploadHeld,
		Rows: make([]Row, len(batch))}
	regs, inds := map[string]bool{}, map[string]bool{}
	for i, o := range batch {
		u.Rows[i] = Row{Indicator: o.Indicator, Region: o.Region, Period: o.Period.String(), Value: o.Value, Source: o.Source, Note: o.Note}
		regs[o.Region], inds[o.Indicator] = true, true
	}
	u.Regions, u.Indicators = sortedKeys(regs), sortedKeys(inds)
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := q.save(u); err != nil {
		return observation.Result{}, fmt.Errorf("holding the upload for review: %w", err)
	}
	q.uploads[u.ID] = u
	q.audit.Append(&auditEntry{Time: now.UTC(), Action: "hold", Upload: u.ID, Bureau: u.Bureau, By: u.Bureau, File: u.File,
		Rows: len(u.Rows), Regions: u.Regions, Indicators: u.Indicators})
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
			if p, err := period.Parse(r.Period); err == nil {
				out[observation.Key{Indicator: r.Indicator, Region: r.Region, Period: p}] = u.ID
			}
		}
	}
	return out
}

// Changes of a row against the current value.
const (
	ChangeNew       = "new"       // no current value
	ChangeRevised   = "revised"   // a different value or source
	ChangeUnchanged = "unchanged" // the same
)

// DiffRow is a held row beside the value it would replace.
type DiffRow struct {
	Row
	Change            string     `json:"change"`
	Current           *float64   `json:"current,omitempty"`
	CurrentSource     string     `json:"current_source,omitempty"`
	CurrentReportedAt *time.Time `json:"current_reported_at,omitempty"`
}

// Diff compares a held upload's rows with the values the store holds now.
func (q *Queue) Diff(ctx context.Context, id string) ([]DiffRow, error) {
	u, ok := q.Get(id)
	if !ok {
		return nil, ErrNotFound
	}
	obs, err := u.Observations()
	if err != nil {
		return nil, err
	}
	cur := map[observation.Key]observation.Stored{}
	if q.store != nil && len(obs) > 0 {
		from, to := obs[0].Period.Start(), obs[0].Period.Start()
		for _, o := range obs {
			from = minTime(from, o.Period.Start())
			to = maxTime(to, o.Period.Start())
		}
		f := store.Filter{Indicators: limit(u.Indicators), Regions: limit(u.Regions), From: from, To: to.Add(time.Second)}
		st, err := q.store.Current(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, s := range st {
			cur[s.Key()] = s
		}
	}
	out := make([]DiffRow, len(obs))
	for i, o := range obs {
		d := DiffRow{Row: u.Rows[i], Change: ChangeNew}
		if s, ok := cur[o.Key()]; ok {
			v, at := s.Value, s.ReportedAt
			d.Current, d.CurrentSource, d.CurrentReportedAt = &v, s.Source, &at
			d.Change = ChangeRevised
			if s.Value == o.Value && s.Source == o.Source {
				d.Change = ChangeUnchanged
			}
		}
		out[i] = d
	}
	return out, nil
}

func limit(s []string) []string {
	if len(s) > store.FilterLimit {
		return nil
	}
	return s
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Approve hands a held upload to the sink (stored as of now, so that an
// evaluation as known at an earlier moment does not see it) and records the
// decision. The reviewer must have role reviewer and every region of the
// upload. When the sink fails the upload stays held and the error is
// returned.
func (q *Queue) Approve(ctx context.Context, id string, reviewer *Bureau, comment, remote string) (*Upload, error) {
	return q.decide(ctx, id, reviewer, comment, remote, UploadApproved)
}

// Return sends a held upload back to its bureau with a comment (required)
// saying what to correct; nothing is stored.
func (q *Queue) Return(ctx context.Context, id string, reviewer *Bureau, comment, remote string) (*Upload, error) {
	return q.decide(ctx, id, reviewer, comment, remote, UploadReturned)
}

func (q *Queue) decide(ctx context.Context, id string, reviewer *Bureau, comment, remote, state string) (*Upload, error) {
	comment = strings.TrimSpace(comment)
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.Now().UTC()
	action := map[string]string{UploadApproved: "approve", UploadReturned: "return"}[state]
	entry := &auditEntry{Time: now, Action: action, Upload: id, Remote: remote, Comment: comment}
	if reviewer != nil {
		entry.By = reviewer.Name
	}
	fail := func(err error) (*Upload, error) {
		entry.Action, entry.Error = action+"_refused", err.Error()
		q.audit.Append(entry)
		return nil, err
	}
	u, ok := q.uploads[id]
	if !ok {
		return fail(ErrNotFound)
	}
	entry.Bureau, entry.File, entry.Rows, entry.Regions, entry.Indicators = u.Bureau, u.File, len(u.Rows), u.Regions, u.Indicators
	switch {
	case reviewer == nil || !reviewer.IsReviewer():
		return fail(ErrNotReviewer)
	case !reviewer.Covers(u.Regions):
		return fail(ErrOutOfScope)
	case u.State != UploadHeld:
		return fail(ErrDecided)
	case state == UploadReturned && comment == "":
		return fail(ErrCommentRequired)
	}
	d := *u
	d.State, d.Reviewer, d.Comment, d.DecidedAt, d.Remote = state, reviewer.Name, comment, &now, remote
	if state == UploadApproved {
		obs, err := u.Observations()
		if err != nil {
			return fail(err)
		}
		meta := observation.Meta{Origin: u.Origin, Who: u.Bureau, File: u.File, ReportedAt: now}
		res, err := q.next.Accept(ctx, obs, meta)
		if err != nil {
			entry.Action, entry.Error = "approve_failed", err.Error()
			q.audit.Append(entry)
			return nil, fmt.Errorf("approving upload %s: %w", id, err)
		}
		d.Result = &res
		entry.Result = &res
		if q.receipts != nil {
			rc := receiptOf(obs, meta, u.SubmittedAt)
			rc.Upload, rc.ApprovedBy = u.ID, reviewer.Name
			q.receipts.Record(rc)
		}
	}
	// The batch is in the sink: the decision must not be lost, but if it
	// cannot be written the upload would be offered again and approving it
	// twice stores nothing new (writes are idempotent).
	if err := q.save(&d); err != nil {
		entry.Error = "saving the decision: " + err.Error()
		q.audit.Append(entry)
		return nil, fmt.Errorf("recording the decision on upload %s: %w", id, err)
	}
	q.uploads[id] = &d
	if err := q.audit.Append(entry); err != nil {
		return nil, err
	}
	c := d
	return &c, nil
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

// auditEntry is one line of the review audit log.
type auditEntry struct {
	Time       time.Time           `json:"time"`
	Action     string              `json:"action"` // hold, approve, return, approve_failed, approve_refused, return_refused
	Upload     string              `json:"upload"`
	Bureau     string              `json:"bureau,omitempty"`
	By         string              `json:"by,omitempty"`
	Remote     string              `json:"remote_addr,omitempty"`
	File       string              `json:"file,omitempty"`
	Rows       int                 `json:"rows,omitempty"`
	Regions    []string            `json:"regions,omitempty"`
	Indicators []string            `json:"indicators,omitempty"`
	Comment    string              `json:"comment,omitempty"`
	Result     *observation.Result `json:"result,omitempty"`
	Error      string              `json:"error,omitempty"`
}
