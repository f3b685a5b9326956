package ingest

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Table yields the cells of one row of a file at a time, with its 1-based
// row (line) number, until io.EOF. The layouts (canonical, the 国家统计局
// export) read tables; the formats (CSV, XLSX) make them.
type Table interface {
	Next() (row int, cells []string, err error)
	Close() error
}

// csvTable reads decoded CSV text with encoding/csv by the one quoting rule
// of qualitymon: RFC 4180 (a quote may only open and close a field, ""
// inside one), leading spaces of a field dropped, rows of any length. The
// fast reader (fastCSVTable) splits lines by the same rule and hands the
// lines it is not sure of to this reader.
type csvTable struct {
	file string
	r    *csv.Reader
}

// NewCSVTable reads CSV text that is already UTF-8 (see Decode), within
// the limits (records, rows, cells per row, bytes per cell): the fast
// reader, with encoding/csv for what it leaves (fastCSVTable), read through
// csvGuard, which applies the limits to quoted cells while they are read.
func NewCSVTable(file string, r io.Reader, l Limits) Table {
	l = l.WithDefaults()
	return &limitedTable{Table: newFastCSVTable(file, r, l), file: file, l: l}
}

func (c *csvTable) Next() (int, []string, error) {
	rec, err := c.r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return 0, nil, io.EOF
		}
		var le *Error
		if errors.As(err, &le) {
			return 0, nil, le // a limit of csvGuard
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
