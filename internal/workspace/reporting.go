package workspace

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/reporting"
	"github.com/qualitymon/qualitymon/internal/web/shell"
)

var dueStates = map[string]string{
	reporting.StateReported: DueReported, reporting.StateHeld: DuePending,
	reporting.StateOpen: DueMissing, reporting.StateOverdue: DueOverdue,
}

// due is the reporter's grid, one row per indicator × region: what its
// scope owes up to now, every period due with its state.
func (w *Workspace) due(ctx context.Context, rep *Reporter, now time.Time) (*DueGrid, error) {
	r, err := w.grid.For(ctx, rep.B, "", now)
	if err != nil {
		return nil, err
	}
	s := r.Summary
	g := &DueGrid{Expected: s.Expected, Received: s.Reported, OnTime: s.OnTime, Overdue: s.Overdue, Missing: s.Open, Pending: s.Held,
		RatePct: 100 * s.Rate, TimelinessPct: 100 * s.Timeliness}
	for i := range r.Cells {
		cell := &r.Cells[i]
		if n := len(g.Rows); n == 0 || g.Rows[n-1].Indicator != cell.Indicator.ID || g.Rows[n-1].Region != cell.Region {
			g.Rows = append(g.Rows, DueRow{Indicator: cell.Indicator.ID, IndicatorName: cell.Indicator.NameZh, Unit: cell.Indicator.Unit,
				Region: cell.Region, RegionName: w.regionName(cell.Region)})
		}
		d := DueCell{Period: cell.Period.String(), State: dueStates[cell.State], DueBy: cell.Due.Add(-time.Second)}
		d.Key = entryKey(cell.Indicator.ID, cell.Region, d.Period)
		d.Owed = d.State == DueMissing || d.State == DueOverdue
		if cell.Value != nil {
			d.Value = strconv.FormatFloat(*cell.Value, 'f', -1, 64) + shell.UnitSymbol(cell.Indicator.Unit)
			d.At = *cell.ReportedAt
			d.By = cell.Reporter
			if d.By == "" {
				d.Source = cell.Source
			}
			d.Late = cell.OnTime != nil && !*cell.OnTime
		}
		row := &g.Rows[len(g.Rows)-1]
		row.Cells = append(row.Cells, d)
	}
	return g, nil
}

// templateFile writes the reporter's template to fill (format "xlsx" or
// "csv"), what is still to report, and returns its file name.
func (w *Workspace) templateFile(ctx context.Context, rep *Reporter, format string, now time.Time, out io.Writer) (string, error) {
	cells, err := w.grid.Cells(ctx, reporting.Query{Scope: rep.B.Scope}, now)
	if err != nil {
		return "", err
	}
	name := fmt.Sprintf("报送模板-%s-%s.%s", rep.Bureau, now.Format("20060102"), format)
	regs := w.validator.Regions
	if format == "csv" {
		return name, reporting.WriteTemplateCSV(out, cells, regs)
	}
	return name, reporting.WriteTemplateXLSX(out, cells, regs, rep.Bureau)
}

// pending lists the held uploads of the reviewer's regions with their
// difference from the current values.
func (w *Workspace) pending(ctx context.Context, rev *Reporter) ([]Held, error) {
	var out []Held
	for _, u := range w.queue.List(rev.B.Scope.Regions) {
		diff, err := w.queue.Diff(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		h := Held{ID: u.ID, Bureau: u.Bureau, File: u.File, At: u.SubmittedAt, Own: u.Bureau == rev.Bureau}
		for _, d := range diff {
			row := DiffRow{Indicator: d.Indicator, IndicatorName: d.Indicator, Region: d.Region, RegionName: w.regionName(d.Region),
				Period: d.Period.String(), Value: strconv.FormatFloat(d.Value, 'f', -1, 64), Source: d.Source, Note: d.Note, Change: d.Change}
			if ind, ok := w.validator.Catalog.Get(d.Indicator); ok {
				row.IndicatorName, row.Unit = ind.NameZh, ind.Unit
			}
			if d.Previous != nil {
				if row.Warning = ingest.Implausible(row.Unit, *d.Previous, d.Value); row.Warning != "" {
					row.Warning = d.PreviousPeriod + ":" + row.Warning
					h.Warnings++
				}
			}
			if d.Current != nil {
				row.Current = strconv.FormatFloat(*d.Current, 'f', -1, 64)
				row.CurrentSource, row.CurrentNote, row.CurrentAt = d.CurrentSource, d.CurrentNote, d.CurrentReportedAt
				row.Difference = shell.Signed(d.Value - *d.Current)
			}
			switch d.Change {
			case reporting.ChangeNew:
				h.New++
			case reporting.ChangeRevised:
				h.Revised++
			default:
				h.Unchanged++
			}
			h.Rows = append(h.Rows, row)
		}
		out = append(out, h)
	}
	return out, nil
}

// action is a reviewer's decision on one held upload, audited by the
// queue with who and from where.
type action struct {
	id       string
	reviewer *Reporter
	comment  string
	addr     string
}

// approve decides a held upload, audited by the queue; stored says
// whether its rows are in the spool yet (else the queue hands them over
// again, the approval stands).
func (w *Workspace) approve(ctx context.Context, a action) (stored bool, err error) {
	_, err = w.queue.Approve(ctx, a.id, a.reviewer.B, a.comment, a.addr)
	if errors.Is(err, reporting.ErrNotStoredYet) {
		w.log.Error("approved upload not yet handed to the spool", "upload", a.id, "err", err)
		return false, nil
	}
	w.logUnavailable(a, err)
	return err == nil, reviewError(err)
}

// logUnavailable logs why a decision could not be recorded (the page says
// only that it was not).
func (w *Workspace) logUnavailable(a action, err error) {
	if errors.Is(err, reporting.ErrUnavailable) {
		w.log.Error("review decision not recorded", "upload", a.id, "reviewer", a.reviewer.Bureau, "err", err)
	}
}

// giveBack returns a held upload to its bureau with the reviewer's comment.
func (w *Workspace) giveBack(ctx context.Context, a action) error {
	_, err := w.queue.Return(ctx, a.id, a.reviewer.B, a.comment, a.addr)
	w.logUnavailable(a, err)
	return reviewError(err)
}

// errReviewUnavailable is a decision that could not be recorded (503).
var errReviewUnavailable = &shell.Error{Code: http.StatusServiceUnavailable, Msg: "审核决定未能保存(服务器磁盘已满或无法写入),因此没有生效,数据未入库。请稍后重试。"}

func reviewError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, reporting.ErrNotFound):
		return shell.NotFound("没有这份提交(可能已被处理)。")
	case errors.Is(err, reporting.ErrDecided):
		return &shell.Error{Code: http.StatusConflict, Msg: "这份提交已被批准或退回,无需再次处理。"}
	case errors.Is(err, reporting.ErrNotReviewer), errors.Is(err, reporting.ErrOutOfScope):
		return &shell.Error{Code: http.StatusForbidden, Msg: "这份提交包含本单位审核范围以外的地区,无权审核。"}
	case errors.Is(err, reporting.ErrOwnUpload):
		return &shell.Error{Code: http.StatusForbidden, Msg: "这是本单位自己的提交,须由其他审核单位批准。"}
	case errors.Is(err, reporting.ErrCommentRequired):
		return shell.BadRequest("退回时请填写退回意见,报送单位会在报送工作台看到。")
	case errors.Is(err, reporting.ErrUnavailable):
		return errReviewUnavailable
	}
	return err
}

// shownDecisions is how many of a bureau's decided uploads its page lists
// (the newest), besides those still waiting.
const shownDecisions = 50

// decisions are the bureau's uploads that went through review (waiting,
// approved, returned with the reviewer's comment): those waiting and the
// newest shownDecisions decided.
func (w *Workspace) decisions(rep *Reporter) []Decision {
	var out []Decision
	for _, u := range w.queue.ForBureau(rep.Bureau, shownDecisions) {
		d := Decision{ID: u.ID, Bureau: u.Bureau, File: u.File, Reviewer: u.Reviewer, Comment: u.Comment, State: u.State,
			Uploaded: u.SubmittedAt, Rows: u.RowCount}
		switch d.State {
		case reporting.UploadHeld:
			d.State = "pending"
		case reporting.UploadStored:
			d.State = "approved"
		case reporting.UploadApproved:
			d.State = "storing"
		}
		if u.DecidedAt != nil {
			d.At = *u.DecidedAt
		}
		out = append(out, d)
	}
	return out
}

// regionName is the region's Chinese name (its code when unknown).
func (w *Workspace) regionName(code string) string {
	if reg, ok := w.validator.Regions.Get(code); ok {
		return reg.Name
	}
	return code
}
