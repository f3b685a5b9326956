package ingest

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"
)

// Table yields the cells of one row of a file at a time, with its 1-based
// row (line) number, until io.EOF. The layouts (canonical, the 国家统计局
// export) read tables; the formats (CSV, XLSX) make them.
type Table interface {
	Next() (row int, cells []string, err error)
	Close() error
}

// csvTable reads decoded CSV text with the one quoting rule of qualitymon:
// RFC 4180 (a quote may only open and close a field, "" inside one), leading
// spaces of a field dropped, rows of any length. The fast import path in
// internal/bulk splits lines by the same rule and falls back to this reader
// for anything else.
type csvTable struct {
	file string
	r    *csv.Reader
}

// NewCSVTable reads CSV text that is already UTF-8 (see Decode), within
// the limits (lines, rows, cells per row, bytes per cell).
func NewCSVTable(file string, r io.Reader, l Limits) Table {
	l = l.WithDefaults()
	cr := csv.NewReader(&lineGuard{r: r, file: file, limit: l.LineBytes})
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	return &limitedTable{Table: &csvTable{file: file, r: cr}, file: file, l: l}
}

func (c *csvTable) Next() (int, []string, error) {
	rec, err := c.r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return 0, nil, io.EOF
		}
		var le *Error
		if errors.As(err, &le) {
			return 0, nil, le // a limit of lineGuard
		}
		return 0, nil, csvError(c.file, err)
	}
	// encoding/csv skips empty lines: the line comes from the reader.
	line, _ := c.r.FieldPos(0)
	return line, rec, nil
}

func (c *csvTable) Close() error { return nil }

func csvError(file string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &Error{File: file, Row: pe.Line, Column: fmt.Sprintf("column %d", pe.Column), Message: pe.Err.Error()}
	}
	return fmt.Errorf("%s: %w", file, err)
}

// xlsxTable streams the first worksheet of a workbook. Cells come formatted
// as Excel shows them (98.50%, 1,482).
type xlsxTable struct {
	file string
	f    *excelize.File
	rs   *excelize.Rows
	row  int
}

// xlsxInMemory is how much of a worksheet the XLSX reader keeps in memory;
// larger parts are read from a temporary file.
const xlsxInMemory = 16 << 20

// NewXLSXTable opens a workbook's first worksheet, within the limits: a
// workbook whose parts would inflate past them is refused before it is
// inflated.
func NewXLSXTable(file string, r io.Reader, l Limits) (Table, error) {
	l = l.WithDefaults()
	data, err := readAllLimited(r, l.XLSXUnzipped)
	if errors.Is(err, errTooLarge) {
		return nil, limitError(file, 0, "file", "a workbook", l.XLSXUnzipped+1, l.XLSXUnzipped, "xlsx_unzipped_bytes")
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if err := checkWorkbook(file, data, l); err != nil {
		return nil, err
	}
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: l.XLSXUnzipped, UnzipXMLSizeLimit: min(xlsxInMemory, l.SheetXML)})
	if err != nil {
		return nil, &Error{File: file, Column: "file", Message: "not a readable XLSX workbook: " + err.Error(), Expected: "an .xlsx file saved by Excel, WPS or LibreOffice"}
	}
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		f.Close()
		return nil, &Error{File: file, Column: "file", Message: "workbook has no worksheet"}
	}
	rs, err := f.Rows(sheets[0])
	if err != nil {
		f.Close()
		return nil, &Error{File: file, Column: "file", Message: fmt.Sprintf("reading worksheet %q: %v", sheets[0], err)}
	}
	return &limitedTable{Table: &xlsxTable{file: file, f: f, rs: rs}, file: file, l: l}, nil
}

func (x *xlsxTable) Next() (int, []string, error) {
	if !x.rs.Next() {
		if err := x.rs.Error(); err != nil {
			return 0, nil, &Error{File: x.file, Row: x.row + 1, Column: "file", Message: err.Error()}
		}
		return 0, nil, io.EOF
	}
	x.row++
	cells, err := x.rs.Columns()
	if err != nil {
		return 0, nil, &Error{File: x.file, Row: x.row, Column: "file", Message: err.Error()}
	}
	return x.row, cells, nil
}

func (x *xlsxTable) Close() error {
	x.rs.Close()
	return x.f.Close()
}

// tableRow is one row of a table, kept.
type tableRow struct {
	n     int
	cells []string
}

// peeked replays buffered rows before reading on.
type peeked struct {
	buf []tableRow
	t   Table
}

// peek reads up to the first non-blank row, keeping what it read.
func peek(t Table) (*peeked, error) {
	p := &peeked{t: t}
	for {
		n, cells, err := t.Next()
		if errors.Is(err, io.EOF) {
			return p, nil
		}
		if err != nil {
			return nil, err
		}
		p.buf = append(p.buf, tableRow{n, cells})
		if !blank(cells) {
			return p, nil
		}
	}
}

// first is the first cell of the first non-blank row ("" for none).
func (p *peeked) first() string {
	if len(p.buf) == 0 || len(p.buf[len(p.buf)-1].cells) == 0 {
		return ""
	}
	return strings.TrimSpace(p.buf[len(p.buf)-1].cells[0])
}

func (p *peeked) Next() (int, []string, error) {
	if len(p.buf) > 0 {
		r := p.buf[0]
		p.buf = p.buf[1:]
		return r.n, r.cells, nil
	}
	return p.t.Next()
}

func (p *peeked) Close() error { return p.t.Close() }

func blank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}
