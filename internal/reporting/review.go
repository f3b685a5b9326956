package reporting

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/qualitymon/qualitymon/internal/observation"
)

// Review is a state machine: held → approved → stored, or held → returned.
// Each step is made in the same order:
//
//  1. its line in audit.jsonl (hold, approve, store, return) is written
//     and fsynced: a step that cannot be audited is not made;
//  2. the upload's file is replaced durably with the new state: that is
//     the step made. When this write fails, a line <action>_failed says
//     the step was not made (best effort: if that too cannot be written,
//     OpenQueue writes it).
//
// Only an approved upload's rows go to the sink (the spool), and only
// after the approval is durable; the store step follows once the sink has
// taken them. After a crash OpenQueue finds each upload as its file says:
// an audit line without its file change (the process stopped between 1
// and 2) gets its <action>_failed line; Complete hands every approved
// upload not yet stored to the sink again, with the approval time as its
// reported_at — storing the same figures again changes nothing — and
// nothing held or returned ever goes there.

// Audit actions of the steps; a step audited but not made is followed by
// action+"_failed", a step refused (not allowed) is audited as
// action+"_refused".
const (
	ActionHold    = "hold"
	ActionApprove = "approve"
	ActionStore   = "store"
	ActionReturn  = "return"
)

// Points at which Queue.Step is called.
const (
	// StepApproveAudited: the approval is audited, its file not yet
	// written (the decision is not durable).
	StepApproveAudited = "approve/audited"
	// StepApproved: the approval is durable, nothing handed to the sink.
	StepApproved = "approve/recorded"
	// StepSpooled: the sink has taken the rows of an approved upload,
	// which is not yet marked stored.
	StepSpooled = "store/spooled"
)

// auditEntry is one line of the review audit log.
type auditEntry struct {
	Time       time.Time           `json:"time"`
	Action     string              `json:"action"` // hold, approve, store, return; *_failed, *_refused
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

// describe fills in what the entry is about.
func (e *auditEntry) describe(u *Upload) {
	e.Upload, e.Bureau, e.File, e.Rows, e.Regions, e.Indicators = u.ID, u.Bureau, u.File, u.RowCount, u.Regions, u.Indicators
}

func (q *Queue) step(point string) {
	if q.Step != nil {
		q.Step(point)
	}
}

// transition makes one step: the audit line, then the upload's file — for
// a hold its rows first, then its header — (with dir/lock held). Both
// failures wrap ErrUnavailable; the step is then not made.
func (q *Queue) transition(entry *auditEntry, u *Upload, rows []Row) error {
	if err := q.audit.Append(entry); err != nil {
		return fmt.Errorf("%w: auditing %s of upload %s: %w", ErrUnavailable, entry.Action, u.ID, err)
	}
	if entry.Action == ActionApprove {
		q.step(StepApproveAudited)
	}
	err := error(nil)
	if rows != nil {
		err = q.saveRows(u.ID, rows)
	}
	if err == nil {
		err = q.save(u)
	}
	if err != nil {
		failed := *entry
		failed.Action, failed.Error, failed.Result = entry.Action+"_failed", "the step was not made: "+err.Error(), nil
		q.audit.Append(&failed) // best effort: OpenQueue writes it otherwise
		return fmt.Errorf("%w: recording %s of upload %s: %w", ErrUnavailable, entry.Action, u.ID, err)
	}
	return nil
}

// Approve decides a held upload (durably, audited) and then hands it, with
// any earlier approval not yet stored, to the sink, stored as of the
// approval (an evaluation as known at an earlier moment does not see it).
// The reviewer must have role reviewer and every region of the upload,
// and must not be its bureau. An error wrapping ErrUnavailable: nothing
// was decided or stored. An error wrapping ErrNotStoredYet comes with the
// approved upload: the decision stands and Complete hands it over again.
func (q *Queue) Approve(ctx context.Context, id string, reviewer *Bureau, comment, remote string) (*Upload, error) {
	approved, err := q.decide(id, reviewer, comment, remote, UploadApproved)
	if err != nil {
		return nil, err
	}
	q.step(StepApproved)
	// Decided: the hand-over finishes even if the reviewer goes away.
	_, err = q.Complete(context.WithoutCancel(ctx))
	u, ok := q.Get(id)
	if !ok {
		u = approved // its file could not be read again: as decided
	}
	if err != nil && u.State != UploadStored {
		return u, fmt.Errorf("%w: %w", ErrNotStoredYet, err)
	}
	return u, nil
}

// Return sends a held upload back to its bureau with a comment (required)
// saying what to correct; nothing is stored.
func (q *Queue) Return(ctx context.Context, id string, reviewer *Bureau, comment, remote string) (*Upload, error) {
	return q.decide(id, reviewer, comment, remote, UploadReturned)
}

func (q *Queue) decide(id string, reviewer *Bureau, comment, remote, state string) (*Upload, error) {
	comment = strings.TrimSpace(comment)
	var out *Upload
	err := q.locked(func() error {
		now := q.Now().UTC()
		action := map[string]string{UploadApproved: ActionApprove, UploadReturned: ActionReturn}[state]
		entry := &auditEntry{Time: now, Action: action, Upload: id, Remote: remote, Comment: comment}
		if reviewer != nil {
			entry.By = reviewer.Name
		}
		refuse := func(err error) error {
			entry.Action, entry.Error = action+"_refused", err.Error()
			q.audit.Append(entry) // a refusal changes nothing
			return err
		}
		u, err := q.load(id)
		if errors.Is(err, ErrNotFound) {
			return refuse(ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("%w: reading upload %s: %w", ErrUnavailable, id, err)
		}
		entry.describe(u)
		switch {
		case reviewer == nil || !reviewer.IsReviewer():
			return refuse(ErrNotReviewer)
		case !reviewer.Covers(u.Regions):
			return refuse(ErrOutOfScope)
		case u.State != UploadHeld:
			return refuse(ErrDecided)
		case state == UploadApproved && reviewer.Name == u.Bureau:
			return refuse(ErrOwnUpload)
		case state == UploadReturned && comment == "":
			return refuse(ErrCommentRequired)
		}
		u.State, u.Reviewer, u.Comment, u.DecidedAt, u.Remote = state, reviewer.Name, comment, &now, remote
		if err := q.transition(entry, u, nil); err != nil {
			return err
		}
		out = u
		return nil
	})
	return out, err
}

// Complete hands every approved upload not yet stored to the sink, oldest
// decision first, stopping at the first failure (so that a later decision
// never goes before an earlier one), and returns how many it stored. serve
// calls it at start (what a crash left approved) and while any wait.
func (q *Queue) Complete(ctx context.Context) (int, error) {
	q.handMu.Lock()
	defer q.handMu.Unlock()
	n := 0
	for _, u := range q.Approved() {
		if err := q.handOver(ctx, u.ID); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Approved lists the approved uploads not yet stored, oldest decision
// first.
func (q *Queue) Approved() []*Upload {
	ups, _ := q.open()
	var out []*Upload
	for _, u := range ups {
		if u.State == UploadApproved {
			out = append(out, u)
		}
	}
	sortUploads(out, false)
	sort.SliceStable(out, func(i, j int) bool { return out[i].DecidedAt.Before(*out[j].DecidedAt) })
	return out
}

// handOver gives an approved upload's rows, read from its file, to the
// sink, with its receipt, and makes the store step (with q.handMu held,
// and dir/lock, so that another process sharing dir does not hand it over
// too: an upload already stored meanwhile is left alone).
func (q *Queue) handOver(ctx context.Context, id string) error {
	if q.next == nil {
		return fmt.Errorf("upload %s: no store to hand approved uploads to", id)
	}
	return q.locked(func() error {
		u, err := q.load(id)
		if err != nil {
			return fmt.Errorf("handing approved upload %s to the store: %w", id, err)
		}
		if u.State != UploadApproved {
			return nil
		}
		obs, err := q.Rows(id)
		if err != nil {
			return fmt.Errorf("handing approved upload %s to the store: %w", id, err)
		}
		meta := observation.Meta{Origin: u.Origin, Who: u.Bureau, File: u.File, ReportedAt: *u.DecidedAt}
		entry := &auditEntry{Action: ActionStore, By: u.Reviewer}
		entry.describe(u)
		res, err := q.next.Accept(ctx, obs, meta)
		if err != nil {
			entry.Time, entry.Action, entry.Error = q.Now().UTC(), ActionStore+"_failed", err.Error()
			q.audit.Append(entry) // best effort: the upload stays approved either way
			return fmt.Errorf("handing approved upload %s to the store: %w", u.ID, err)
		}
		q.step(StepSpooled)
		if q.receipts != nil {
			rc := receiptOf(meta, u.SubmittedAt)
			rc.Upload, rc.ApprovedBy = u.ID, u.Reviewer
			if err := q.receipts.Record(rc, obs); err != nil {
				return fmt.Errorf("receipt of approved upload %s: %w", u.ID, err)
			}
		}
		obs = nil
		now := q.Now().UTC()
		u.State, u.Result, u.StoredAt = UploadStored, &res, &now
		entry.Time, entry.Result = now, &res
		return q.transition(entry, u, nil)
	})
}

// stateOf is the state of an upload as its file says, without reading an
// archived one: "decided" when it is in the archive (stored or returned:
// the last audited step, which the archive follows, was made), "" when
// there is no file.
func (q *Queue) stateOf(id, bureau string) (string, error) {
	if !validID(id) {
		return "", nil
	}
	if bureau != "" {
		if _, err := os.Stat(q.archivePath(&Upload{ID: id, Bureau: bureau})); err == nil {
			return "decided", nil
		}
	}
	u, err := q.loadOf(id, bureau)
	switch {
	case errors.Is(err, ErrNotFound):
		return "", nil
	case err != nil:
		return "", err
	}
	return u.State, nil
}

// exists says whether upload id has a file, open or archived.
func (q *Queue) exists(id, bureau string) bool {
	if !validID(id) {
		return false
	}
	if _, err := os.Stat(q.openPath(id)); err == nil {
		return true
	}
	state, _ := q.stateOf(id, bureau)
	return state != ""
}

// reconcile reads the audit log and marks every step whose line is there
// but whose upload file does not show it (the process stopped between the
// two writes, or the write and its _failed line both failed) as not made.
// An audited store of an upload still approved needs no mark: Complete
// stores it (again). A mark that cannot be written now is written at the
// next start.
func (q *Queue) reconcile() error {
	f, err := os.Open(q.audit.Path())
	if err != nil {
		return err
	}
	defer f.Close()
	// upload → its last step not known to have failed (only what the mark
	// needs: the map is freed once read)
	type step struct{ Upload, Action, Bureau, By, File string }
	last := map[string]*step{}
	br := bufio.NewReader(f)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			var e step
			if json.Unmarshal(bytes.TrimSpace(line), &e) == nil && e.Upload != "" {
				switch a := e.Action; {
				case a == ActionHold || a == ActionApprove || a == ActionStore || a == ActionReturn:
					last[e.Upload] = &e
				case strings.HasSuffix(a, "_failed") && last[e.Upload] != nil && last[e.Upload].Action+"_failed" == a:
					delete(last, e.Upload)
				}
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
	}
	for _, id := range slices.Sorted(maps.Keys(last)) {
		e := last[id]
		if e.Action == ActionHold && q.exists(id, e.Bureau) {
			continue // made; a held upload's header need not be read
		}
		state, err := q.stateOf(id, e.Bureau)
		if err != nil {
			return err
		}
		made := map[string]bool{
			ActionHold:    state != "",
			ActionApprove: state == UploadApproved || state == UploadStored || state == "decided",
			ActionReturn:  state == UploadReturned || state == "decided",
			ActionStore:   state == UploadApproved || state == UploadStored || state == "decided",
		}[e.Action]
		if made {
			continue
		}
		now := q.Now().UTC()
		m := &auditEntry{Time: now, Action: e.Action + "_failed", Upload: id, Bureau: e.Bureau, By: e.By, File: e.File,
			Error: "the step was not made: the process stopped after its audit line, before the upload's file was written"}
		if state != "" {
			m.Error += "; the upload stays " + state
		}
		q.audit.Append(m) // best effort: written at the next start otherwise
	}
	return nil
}
