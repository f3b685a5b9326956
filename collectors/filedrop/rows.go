package filedrop

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"

	"github.com/qualitymon/qualitymon/internal/ingest"
)

// rows yields the cells of one table row at a time, with its 1-based row
// (line) number, until io.EOF.
type rows interface {
	Next() (row int, cells []string, err error)
	Close() error
}

// csvRows reads decoded CSV text.
type csvRows struct {
	file string
	r    *csv.Reader
}

func newCSVRows(file string, r io.Reader) *csvRows {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	return &csvRows{file: file, r: cr}
}

func (c *csvRows) Next() (int, []string, error) {
	rec, err := c.r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return 0, nil, io.EOF
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return 0, nil, &ingest.Error{File: c.file, Row: pe.Line, Column: fmt.Sprintf("column %d", pe.Column), Message: pe.Err.Error()}
		}
		return 0, nil, fmt.Errorf("%s: %w", c.file, err)
	}
	line, _ := c.r.FieldPos(0)
	return line, rec, nil
}

func (c *csvRows) Close() error { return nil }

// xlsxRows streams the first worksheet of a workbook. Cells come formatted
// as Excel shows them (98.50%, 1,482).
type xlsxRows struct {
	file string
	f    *excelize.File
	rs   *excelize.Rows
	row  int
}

// Limits for a dropped workbook: a zip bomb must not exhaust memory.
const (
	maxUnzipped    = 1 << 30
	maxUnzippedXML = 64 << 20
)

func newXLSXRows(file string, r io.Reader) (*xlsxRows, error) {
	f, err := excelize.OpenReader(r, excelize.Options{UnzipSizeLimit: maxUnzipped, UnzipXMLSizeLimit: maxUnzippedXML})
	if err != nil {
		return nil, &ingest.Error{File: file, Column: "file", Message: "not a readable XLSX workbook: " + err.Error(), Expected: "an .xlsx file saved by Excel, WPS or LibreOffice"}
	}
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		f.Close()
		return nil, &ingest.Error{File: file, Column: "file", Message: "workbook has no worksheet"}
	}
	rs, err := f.Rows(sheets[0])
	if err != nil {
		f.Close()
		return nil, &ingest.Error{File: file, Column: "file", Message: fmt.Sprintf("reading worksheet %q: %v", sheets[0], err)}
	}
	return &xlsxRows{file: file, f: f, rs: rs}, nil
}

func (x *xlsxRows) Next() (int, []string, error) {
	if !x.rs.Next() {
		if err := x.rs.Error(); err != nil {
			return 0, nil, &ingest.Error{File: x.file, Row: x.row + 1, Column: "file", Message: err.Error()}
		}
		return 0, nil, io.EOF
	}
	x.row++
	cells, err := x.rs.Columns()
	if err != nil {
		return 0, nil, &ingest.Error{File: x.file, Row: x.row, Column: "file", Message: err.Error()}
	}
	return x.row, cells, nil
}

func (x *xlsxRows) Close() error {
	x.rs.Close()
	return x.f.Close()
}
