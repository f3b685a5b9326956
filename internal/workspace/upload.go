package workspace

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/upload"
	"github.com/qualitymon/qualitymon/internal/web/shell"
)

// The columns shown for every row of a checked file, in the canonical order.
var shownColumns = []struct{ Key, Label string }{
	{ingest.ColIndicator, "指标"}, {ingest.ColRegion, "地区"}, {ingest.ColPeriod, "时期"}, {ingest.ColValue, "数值"},
	{ingest.ColUnit, "单位"}, {ingest.ColSource, "来源"}, {ingest.ColNote, "备注"},
}

// What the page after 校验 or 提交 shows of a file, however large: the
// first shownErrors errors (every error is in the errors CSV), the counts
// of at most shownKinds kinds, and at most shownRows rows — a small file
// whole, else the first rows of a clean file or the first rows with errors
// of one with errors — each cell an excerpt (ingest.Excerpt).
const (
	shownErrors = 50
	shownKinds  = 20
	shownRows   = 100
)

// Checked is the page after 校验 or 提交: the API's answer, the first
// errors with the counts by kind, some rows of the file with their bad
// cells marked, and what to do next.
type Checked struct {
	File    string
	DryRun  bool
	Resp    *upload.Response
	Columns []string
	Rows    []CheckedRow
	// TotalRows is how many rows the file has; BadRows how many have an
	// error (of those the pipeline reported).
	TotalRows, BadRows int
	// Errors are the first shownErrors of Resp.Errors, ErrorCount all of
	// them, Capped whether the pipeline stopped counting (ingest.MaxErrors).
	Errors     []*ingest.Error
	ErrorCount int
	Capped     bool
	Kinds      []KindCount
	// ErrorsID names the errors CSV (/bureau/errors/{id}).
	ErrorsID string
	// Outcome is ok, invalid, scope, held or failed.
	Outcome string
	// CheckedID, after a clean 校验, lets 提交 send the same file.
	CheckedID string
	Scope     string
	// OutOfScope: some of the errors are rows outside the 报送范围 (listed
	// with every other error).
	OutOfScope bool
	// Warnings are the figures to confirm (请核实) before 提交 (the first
	// ingest.MaxWarnings; WarningCount counts all); Via says whether a file
	// was sent or figures typed into the due grid.
	Warnings     []ingest.Warning
	WarningCount int
	Via          string
}

// CheckedRow is one row of the file as read, with its errors and its
// plausibility warning (请核实).
type CheckedRow struct {
	Row     int
	Cells   []CheckedCell
	Errors  []*ingest.Error
	Warning string
}

// CheckedCell is one cell (an excerpt), with its errors.
type CheckedCell struct {
	Value  string
	Errors []*ingest.Error
}

// Bad says whether the row has an error.
func (r CheckedRow) Bad() bool { return len(r.Errors) > 0 }

func (w *Workspace) check(rw http.ResponseWriter, r *http.Request) error {
	return w.send(rw, r, true)
}

func (w *Workspace) submit(rw http.ResponseWriter, r *http.Request) error {
	return w.send(rw, r, false)
}

// send runs the chosen file (or the one just checked, from disk) through
// the upload API's path and shows the answer (answer).
func (w *Workspace) send(rw http.ResponseWriter, r *http.Request, dryRun bool) error {
	ss, rep := from(r)
	in := sent{via: upload.ViaWeb}
	hasFile := r.MultipartForm != nil && len(r.MultipartForm.File["file"]) > 0
	if id := r.PostFormValue("checked"); id != "" && !hasFile {
		m, d, ok := w.checked.file(id, rep.Bureau, ss.id)
		if !ok {
			return shell.BadRequest("刚才校验的文件已不在服务器上(已提交,或已超时)。请重新选择文件。")
		}
		in.name, in.contentType, in.data, in.checkedID = m.Name, m.ContentType, d, id
		if m.Via != "" {
			in.via = m.Via
		}
	} else {
		var err error
		if in.fh, err = chosenFile(r); err != nil {
			return err
		}
		if in.data, err = readFile(in.fh); err != nil {
			return err
		}
		in.name, in.contentType = in.fh.Filename, in.fh.Header.Get("Content-Type")
	}
	return w.answer(rw, r, in, dryRun)
}

// sent is what a 校验 or 提交 sends: a file from the form (fh), one
// checked before (checkedID), or figures typed into the due grid (via
// upload.ViaEntry).
type sent struct {
	name, contentType string
	data              []byte
	fh                *multipart.FileHeader
	checkedID, via    string
}

// answer runs what was sent through the upload API's path and shows the
// answer. A clean 校验 leaves the file on disk for 提交 (checkedDir), one
// with errors the errors CSV; the session keeps only the id of its file.
// Plausibility warnings (请核实) need the form's 已核实 (confirm) to 提交.
func (w *Workspace) answer(rw http.ResponseWriter, r *http.Request, in sent, dryRun bool) error {
	ss, rep := from(r)
	name, contentType, data, checkedID := in.name, in.contentType, in.data, in.checkedID
	confirm := r.PostFormValue("confirm") == "1"
	resp := w.uploads.Submit(r, rep.Hash, name, contentType, data, upload.SubmitOptions{DryRun: dryRun, ConfirmWarnings: confirm, Via: in.via})
	c := &Checked{File: name, DryRun: dryRun, Resp: resp, Scope: scopeText(rep), Via: in.via, Warnings: resp.Warnings, WarningCount: resp.WarningCount}
	meta := checkedMeta{Bureau: rep.Bureau, TokenSHA256: hex.EncodeToString(rep.Hash[:]), Session: sessionKey(ss.id), Name: name,
		ContentType: contentType, Via: in.via}
	keepForSubmit := func() {
		id, err := w.keep(meta, in.fh, data)
		if err != nil {
			w.log.Error("keeping a checked file for 提交", "file", name, "err", err)
			return // 提交 then needs the file chosen again
		}
		c.CheckedID = id
		var old string
		w.sessions.update(ss, func(s *session) { old, s.checked = s.checked, id })
		if old != id {
			w.checked.remove(old)
		}
	}
	switch {
	case resp.Status == http.StatusOK && dryRun:
		c.Outcome = "ok"
		keepForSubmit()
	case resp.Status == http.StatusOK:
		c.Outcome = "stored"
		if resp.Held {
			c.Outcome = "held"
		}
		if checkedID != "" {
			w.checked.remove(checkedID)
			w.sessions.update(ss, func(s *session) {
				if s.checked == checkedID {
					s.checked = ""
				}
			})
		}
	case resp.Status == http.StatusConflict && len(resp.Warnings) > 0:
		// 提交 without 已核实: the file stays (or is kept) for 提交 again.
		c.Outcome = "confirm"
		if checkedID != "" {
			c.CheckedID = checkedID
		} else {
			keepForSubmit()
		}
	case resp.Status == http.StatusUnprocessableEntity && len(resp.Errors) > 0:
		c.Outcome = "invalid"
		c.OutOfScope = slices.ContainsFunc(resp.Errors, func(e *ingest.Error) bool { return scopeWhat.MatchString(e.Message) })
	case resp.Status == http.StatusForbidden:
		c.Outcome = "scope"
	default:
		c.Outcome = "failed"
	}
	c.ErrorCount, c.Capped = len(resp.Errors), len(resp.Errors) >= ingest.MaxErrors
	c.Errors = resp.Errors[:min(len(resp.Errors), shownErrors)]
	c.Kinds = countKinds(resp.Errors, shownKinds)
	if len(resp.Errors) > 0 {
		id, err := w.checked.saveErrors(meta, resp.Errors)
		if err != nil {
			w.log.Error("writing the errors CSV of a checked file", "file", name, "err", err)
		}
		c.ErrorsID = id
	}
	if c.Outcome != "failed" {
		w.rows(c, contentType, data, resp.Errors)
	}
	data = nil
	title := "校验结果"
	if !dryRun {
		title = "提交结果"
	}
	code := http.StatusOK
	if c.Outcome == "failed" && resp.Status >= 400 {
		code = resp.Status
	}
	p := w.bpage(r, title+" · "+name)
	return w.tmpl.RenderStatus(rw, code, "bureau_checked.html", map[string]any{"Page": p, "C": c})
}

// keep writes a cleanly checked file to disk for 提交: copied from the
// form's file, or data when it came from disk already.
func (w *Workspace) keep(meta checkedMeta, fh *multipart.FileHeader, data []byte) (string, error) {
	if fh != nil {
		return w.checked.saveFile(meta, fh)
	}
	meta.Size = int64(len(data))
	return w.checked.save(meta, ".file", func(out io.Writer) error {
		_, err := out.Write(data)
		return err
	})
}

// errorsDownload serves the errors CSV of a file the bureau checked.
func (w *Workspace) errorsDownload(rw http.ResponseWriter, r *http.Request) error {
	_, rep := from(r)
	m, f, ok := w.checked.errorsCSV(r.PathValue("id"), rep.Bureau)
	if !ok {
		return shell.NotFound("错误清单已不在服务器上(超过 %s 后删除)。请重新校验文件。", durationText(CheckedExpiry))
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return fmt.Errorf("reading an errors CSV: %w", err)
	}
	return shell.Attach(rw, "text/csv; charset=utf-8", errorsFileName(m.Name), b)
}

// durationText is a duration in Chinese hours or minutes.
func durationText(d time.Duration) string {
	if d >= time.Hour && d%time.Hour == 0 {
		return fmt.Sprintf("%d 小时", d/time.Hour)
	}
	return fmt.Sprintf("%d 分钟", d/time.Minute)
}

func scopeText(rep *Reporter) string {
	var names []string
	for _, g := range rep.Regions {
		names = append(names, g.Name+"("+g.Code+")")
	}
	return strings.Join(names, "、")
}

// chosenFile is the form's one file.
func chosenFile(r *http.Request) (*multipart.FileHeader, error) {
	if r.MultipartForm == nil || len(r.MultipartForm.File["file"]) == 0 {
		return nil, shell.BadRequest("请先选择要上传的文件(CSV 或 XLSX)。")
	}
	if len(r.MultipartForm.File["file"]) > 1 {
		return nil, shell.BadRequest("一次只能上传一个文件。")
	}
	return r.MultipartForm.File["file"][0], nil
}

// readFile reads the form's file (for the upload API, for this request).
func readFile(fh *multipart.FileHeader) ([]byte, error) {
	fr, err := fh.Open()
	if err != nil {
		return nil, fmt.Errorf("reading the uploaded file: %w", err)
	}
	defer fr.Close()
	data, err := io.ReadAll(fr)
	if err != nil {
		return nil, fmt.Errorf("reading the uploaded file: %w", err)
	}
	return data, nil
}

// rows reads the file again, as the pipeline read it, one row at a time,
// and keeps for the page at most shownRows of them — a small file whole,
// else the first rows of a clean file or the first rows with errors — their
// cells marked with their errors.
func (w *Workspace) rows(c *Checked, contentType string, data []byte, errs []*ingest.Error) {
	ext := upload.FileExt(c.File, contentType)
	byRow := map[int][]*ingest.Error{}
	for _, e := range errs {
		if e.Row > 0 {
			byRow[e.Row] = append(byRow[e.Row], e)
		}
	}
	c.BadRows = len(byRow)
	warned := map[int]string{}
	for _, x := range c.Warnings {
		if x.Row > 0 {
			warned[x.Row] = x.Message
		}
	}
	src, err := ingest.OpenAs(c.File, ext, bytes.NewReader(data), w.validator.Catalog, w.validator.Limits)
	if err != nil {
		return // the file itself could not be read: the API's errors say why
	}
	defer src.Close()
	// The columns: the four always, the others when the shown rows use them.
	used := map[string]bool{ingest.ColIndicator: true, ingest.ColRegion: true, ingest.ColPeriod: true, ingest.ColValue: true}
	var first, bad []*ingest.Raw
	for {
		raw, err := src.Next()
		if err != nil {
			break // io.EOF, or what the API's errors say
		}
		c.TotalRows++
		if len(first) < shownRows {
			first = append(first, raw)
		}
		if len(bad) < shownRows && byRow[raw.Row] != nil {
			bad = append(bad, raw)
		}
	}
	raws := first // a small file whole, or the first rows of a clean one
	if c.TotalRows > shownRows && len(errs) > 0 {
		raws = bad
	}
	for _, raw := range raws {
		for k, v := range raw.Cells {
			if strings.TrimSpace(v) != "" {
				used[k] = true
			}
		}
	}
	var keys []string
	for _, col := range shownColumns {
		if used[col.Key] {
			c.Columns = append(c.Columns, col.Label)
			keys = append(keys, col.Key)
		}
	}
	for _, raw := range raws {
		row := CheckedRow{Row: raw.Row, Errors: byRow[raw.Row], Warning: warned[raw.Row]}
		for _, k := range keys {
			cell := CheckedCell{Value: ingest.Excerpt(raw.Cells[k])}
			for _, e := range row.Errors {
				if e.Column == k || e.Column == raw.Columns[k] {
					cell.Errors = append(cell.Errors, e)
				}
			}
			row.Cells = append(row.Cells, cell)
		}
		c.Rows = append(c.Rows, row)
	}
}
