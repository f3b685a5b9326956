package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/qualitymon/qualitymon/internal/reporting"
)

// Core is internal/reporting seen through the workspace's interfaces: the
// due grid and the template from Grid, the review from Queue.
type Core struct {
	Grid  *reporting.Grid
	Queue *reporting.Queue
	site  *Site
}

// NewCore adapts the reporting core (queue may be nil: no review).
func (s *Site) NewCore(g *reporting.Grid, q *reporting.Queue) *Core {
	return &Core{Grid: g, Queue: q, site: s}
}

var dueStates = map[string]string{
	reporting.StateReported: DueReported, reporting.StateHeld: DuePending,
	reporting.StateOpen: DueMissing, reporting.StateOverdue: DueOverdue,
}

// Due is the reporter's grid, one row per indicator × region.
func (c *Core) Due(ctx context.Context, rep *Reporter, now time.Time) (*DueGrid, error) {
	r, err := c.Grid.For(ctx, rep.B, "", now)
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
				Region: cell.Region, RegionName: c.site.regionName(cell.Region)})
		}
		d := DueCell{Period: cell.Period.String(), State: dueStates[cell.State], DueBy: cell.Due.Add(-time.Second)}
		if cell.Value != nil {
			d.Value = strconv.FormatFloat(*cell.Value, 'f', -1, 64) + unitSymbol(cell.Indicator.Unit)
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

// Template writes the reporter's template: what is still to report.
func (c *Core) Template(ctx context.Context, rep *Reporter, format string, now time.Time, w io.Writer) (string, error) {
	cells, err := c.Grid.Cells(ctx, reporting.Query{Scope: rep.B.Scope}, now)
	if err != nil {
		return "", err
	}
	name := fmt.Sprintf("报送模板-%s-%s.%s", rep.Bureau, now.Format("20060102"), format)
	regs := c.site.Evaluator.Set.Regions
	if format == "csv" {
		return name, reporting.WriteTemplateCSV(w, cells, regs)
	}
	return name, reporting.WriteTemplateXLSX(w, cells, regs, rep.Bureau)
}

// Pending lists the held uploads of the reviewer's regions with their
// difference from the current values.
func (c *Core) Pending(ctx context.Context, rev *Reporter) ([]Held, error) {
	if c.Queue == nil {
		return nil, nil
	}
	var out []Held
	for _, u := range c.Queue.List(rev.B.Scope.Regions) {
		diff, err := c.Queue.Diff(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		h := Held{ID: u.ID, Bureau: u.Bureau, File: u.File, At: u.SubmittedAt, Own: u.Bureau == rev.Bureau}
		for _, d := range diff {
			row := DiffRow{Indicator: d.Indicator, IndicatorName: d.Indicator, Region: d.Region, RegionName: c.site.regionName(d.Region),
				Period: d.Period.String(), Value: strconv.FormatFloat(d.Value, 'f', -1, 64), Change: d.Change}
			if ind, ok := c.site.Evaluator.Set.Catalog.Get(d.Indicator); ok {
				row.IndicatorName, row.Unit = ind.NameZh, ind.Unit
			}
			if d.Current != nil {
				row.Current = strconv.FormatFloat(*d.Current, 'f', -1, 64)
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

// PendingCount is how many uploads are held for the reviewer's regions
// (the number Pending lists, without their differences).
func (c *Core) PendingCount(rev *Reporter) int {
	if c.Queue == nil {
		return 0
	}
	return len(c.Queue.List(rev.B.Scope.Regions))
}

// Approve decides a held upload, audited by the queue; stored says
// whether its rows are in the spool yet (else the queue hands them over
// again, the approval stands).
func (c *Core) Approve(ctx context.Context, a Action) (stored bool, err error) {
	_, err = c.Queue.Approve(ctx, a.ID, a.Reviewer.B, a.Comment, a.Addr)
	if errors.Is(err, reporting.ErrNotStoredYet) {
		c.site.Logger.Error("approved upload not yet handed to the spool", "upload", a.ID, "err", err)
		return false, nil
	}
	c.logUnavailable(a, err)
	return err == nil, reviewError(err)
}

// logUnavailable logs why a decision could not be recorded (the page says
// only that it was not).
func (c *Core) logUnavailable(a Action, err error) {
	if errors.Is(err, reporting.ErrUnavailable) {
		c.site.Logger.Error("review decision not recorded", "upload", a.ID, "reviewer", a.Reviewer.Bureau, "err", err)
	}
}

// Return sends a held upload back with the reviewer's comment.
func (c *Core) Return(ctx context.Context, a Action) error {
	_, err := c.Queue.Return(ctx, a.ID, a.Reviewer.B, a.Comment, a.Addr)
	c.logUnavailable(a, err)
	return reviewError(err)
}

// errReviewUnavailable is a decision that could not be recorded (503).
var errReviewUnavailable = &httpError{http.StatusServiceUnavailable, "审核决定未能保存(服务器磁盘已满或无法写入),因此没有生效,数据未入库。请稍后重试。"}

func reviewError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, reporting.ErrNotFound):
		return notFound("没有这份提交(可能已被处理)。")
	case errors.Is(err, reporting.ErrDecided):
		return &httpError{409, "这份提交已被批准或退回,无需再次处理。"}
	case errors.Is(err, reporting.ErrNotReviewer), errors.Is(err, reporting.ErrOutOfScope):
		return &httpError{403, "这份提交包含本单位审核范围以外的地区,无权审核。"}
	case errors.Is(err, reporting.ErrOwnUpload):
		return &httpError{403, "这是本单位自己的提交,须由其他审核单位批准。"}
	case errors.Is(err, reporting.ErrCommentRequired):
		return badRequest("退回时请填写退回意见,报送单位会在报送工作台看到。")
	case errors.Is(err, reporting.ErrUnavailable):
		return errReviewUnavailable
	}
	return err
}

// Decisions are the bureau's uploads that went through review.
func (c *Core) Decisions(_ context.Context, rep *Reporter) ([]Decision, error) {
	if c.Queue == nil {
		return nil, nil
	}
	var out []Decision
	for _, u := range c.Queue.ForBureau(rep.Bureau) {
		d := Decision{ID: u.ID, Bureau: u.Bureau, File: u.File, Reviewer: u.Reviewer, Comment: u.Comment, State: u.State,
			Uploaded: u.SubmittedAt, Rows: len(u.Rows)}
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
	return out, nil
}
