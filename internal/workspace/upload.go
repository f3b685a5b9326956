package workspace

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/upload"
	"github.com/qualitymon/qualitymon/internal/web/shell"
)

// The columns shown for every row of a checked file, in the canonical order.
var shownColumns = []struct{ Key, Label string }{
	{ingest.ColIndicator, "指标"}, {ingest.ColRegion, "地区"}, {ingest.ColPeriod, "时期"}, {ingest.ColValue, "数值"},
	{ingest.ColUnit, "单位"}, {ingest.ColSource, "来源"}, {ingest.ColNote, "备注"},
}

// Checked is the page after 校验 or 提交: the API's answer, every row of
// the file with its bad cells marked, and what to do next.
type Checked struct {
	File    string
	DryRun  bool
	Resp    *upload.Response
	Columns []string
	Rows    []CheckedRow
	// FileErrors are errors not tied to a row (the file as a whole).
	FileErrors []*ingest.Error
	// Outcome is ok, invalid, scope, held or failed.
	Outcome string
	// CheckedID, after a clean 校验, lets 提交 send the same file.
	CheckedID string
	Scope     string
}

// CheckedRow is one row of the file as read.
type CheckedRow struct {
	Row    int
	Cells  []CheckedCell
	Errors []*ingest.Error
}

// CheckedCell is one cell, with its errors.
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

// send runs the chosen file (or the one just checked) through the upload
// API's path and shows the answer.
func (w *Workspace) send(rw http.ResponseWriter, r *http.Request, dryRun bool) error {
	ss, rep := from(r)
	var f *checkedFile
	hasFile := r.MultipartForm != nil && len(r.MultipartForm.File["file"]) > 0
	if id := r.PostFormValue("checked"); id != "" && !hasFile {
		w.sessions.update(ss, func(s *session) {
			if s.checked != nil && s.checked.id == id {
				f = s.checked
			}
		})
		if f == nil {
			return shell.BadRequest("刚才校验的文件已不在服务器上(已提交,或已超时)。请重新选择文件。")
		}
	} else {
		var err error
		if f, err = chosenFile(r); err != nil {
			return err
		}
	}
	resp := w.uploads.Submit(r, rep.Hash, f.name, f.contentType, f.data, dryRun)
	c := &Checked{File: f.name, DryRun: dryRun, Resp: resp, Scope: scopeText(rep)}
	switch {
	case resp.Status == http.StatusOK && dryRun:
		c.Outcome = "ok"
		f.id = randomID()
		c.CheckedID = f.id
		w.sessions.update(ss, func(s *session) { s.checked = f })
	case resp.Status == http.StatusOK:
		c.Outcome = "stored"
		if resp.Held {
			c.Outcome = "held"
		}
		w.sessions.update(ss, func(s *session) {
			if s.checked != nil && bytes.Equal(s.checked.data, f.data) {
				s.checked = nil
			}
		})
	case resp.Status == http.StatusUnprocessableEntity && len(resp.Errors) > 0:
		c.Outcome = "invalid"
	case resp.Status == http.StatusForbidden:
		c.Outcome = "scope"
	default:
		c.Outcome = "failed"
	}
	if c.Outcome != "failed" {
		c.Columns, c.Rows, c.FileErrors = w.rows(f, resp.Errors)
	}
	title := "校验结果"
	if !dryRun {
		title = "提交结果"
	}
	code := http.StatusOK
	if c.Outcome == "failed" && resp.Status >= 400 {
		code = resp.Status
	}
	p := w.bpage(r, title+" · "+f.name)
	return w.tmpl.RenderStatus(rw, code, "bureau_checked.html", map[string]any{"Page": p, "C": c})
}

func scopeText(rep *Reporter) string {
	var names []string
	for _, g := range rep.Regions {
		names = append(names, g.Name+"("+g.Code+")")
	}
	return strings.Join(names, "、")
}

// chosenFile is the form's one file.
func chosenFile(r *http.Request) (*checkedFile, error) {
	if r.MultipartForm == nil || len(r.MultipartForm.File["file"]) == 0 {
		return nil, shell.BadRequest("请先选择要上传的文件(CSV 或 XLSX)。")
	}
	fh := r.MultipartForm.File["file"][0]
	if len(r.MultipartForm.File["file"]) > 1 {
		return nil, shell.BadRequest("一次只能上传一个文件。")
	}
	fr, err := fh.Open()
	if err != nil {
		return nil, fmt.Errorf("reading the uploaded file: %w", err)
	}
	defer fr.Close()
	data, err := io.ReadAll(fr)
	if err != nil {
		return nil, fmt.Errorf("reading the uploaded file: %w", err)
	}
	return &checkedFile{name: fh.Filename, contentType: fh.Header.Get("Content-Type"), data: data}, nil
}

// rows reads the file again, as the pipeline read it, to show every row
// with its errors marked on the cells.
func (w *Workspace) rows(f *checkedFile, errs []*ingest.Error) ([]string, []CheckedRow, []*ingest.Error) {
	ext := upload.FileExt(f.name, f.contentType)
	byRow := map[int][]*ingest.Error{}
	var fileErrs []*ingest.Error
	for _, e := range errs {
		if e.Row > 0 {
			byRow[e.Row] = append(byRow[e.Row], e)
		} else {
			fileErrs = append(fileErrs, e)
		}
	}
	src, err := ingest.OpenAs(f.name, ext, bytes.NewReader(f.data), w.validator.Catalog, w.validator.Limits)
	if err != nil {
		return nil, nil, errs // the file itself could not be read: the API's errors say why
	}
	defer src.Close()
	used := map[string]bool{}
	var raws []*ingest.Raw
	for {
		raw, err := src.Next()
		if errors.Is(err, io.EOF) || err != nil {
			break
		}
		raws = append(raws, raw)
		for k, v := range raw.Cells {
			if strings.TrimSpace(v) != "" {
				used[k] = true
			}
		}
	}
	var cols []string
	var keys []string
	for _, c := range shownColumns {
		if used[c.Key] || c.Key == ingest.ColIndicator || c.Key == ingest.ColRegion || c.Key == ingest.ColPeriod || c.Key == ingest.ColValue {
			cols = append(cols, c.Label)
			keys = append(keys, c.Key)
		}
	}
	seen := map[int]bool{}
	var rows []CheckedRow
	for _, raw := range raws {
		row := CheckedRow{Row: raw.Row, Errors: byRow[raw.Row]}
		seen[raw.Row] = true
		for _, k := range keys {
			cell := CheckedCell{Value: raw.Cells[k]}
			for _, e := range row.Errors {
				if e.Column == k || e.Column == raw.Columns[k] {
					cell.Errors = append(cell.Errors, e)
				}
			}
			row.Cells = append(row.Cells, cell)
		}
		rows = append(rows, row)
	}
	// Errors on rows the display could not tie to a row it read.
	for n, es := range byRow {
		if !seen[n] {
			fileErrs = append(fileErrs, es...)
		}
	}
	return cols, rows, fileErrs
}
