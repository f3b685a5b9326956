package ingest

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// headerNames maps the header spellings of the canonical layout (English and
// Chinese) to canonical columns.
var headerNames = map[string]string{
	"indicator": ColIndicator, "指标": ColIndicator, "指标名称": ColIndicator,
	"region": ColRegion, "地区": ColRegion, "区域": ColRegion, "地区代码": ColRegion,
	"period": ColPeriod, "时期": ColPeriod, "时间": ColPeriod, "期间": ColPeriod,
	"value": ColValue, "数值": ColValue, "值": ColValue,
	"unit": ColUnit, "单位": ColUnit,
	"source": ColSource, "来源": ColSource, "数据来源": ColSource,
	"note": ColNote, "备注": ColNote, "说明": ColNote,
}

var required = []string{ColIndicator, ColRegion, ColPeriod, ColValue}

// Canonical reads the canonical long layout from a table: a header row
// naming at least indicator, region, period and value (English or Chinese),
// then one observation per row. It streams: Next returns one raw row at a
// time.
type Canonical struct {
	file    string
	t       Table
	index   map[string]int
	columns map[string]string
	width   int // cells of the header row
}

// NewCSV reads canonical CSV (UTF-8 with or without BOM, or GBK/GB18030) up
// to its header. file names the input in errors.
func NewCSV(file string, r io.Reader) (*Canonical, error) {
	dec, _, err := Decode(r)
	if err != nil {
		return nil, InFile(file, err)
	}
	return NewCanonical(file, NewCSVTable(file, dec, DefaultLimits))
}

// NewCanonical reads a table in the canonical layout up to its header.
func NewCanonical(file string, t Table) (*Canonical, error) {
	c := &Canonical{file: file, t: t, index: map[string]int{}, columns: map[string]string{}}
	last := 0
	for {
		row, rec, err := t.Next()
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: file, Row: last + 1, Column: "header", Message: "no header row", Expected: "indicator,region,period,value"}
		}
		if err != nil {
			return nil, err
		}
		last = row
		if blank(rec) {
			continue
		}
		for i, h := range rec {
			key := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
			if col, ok := headerNames[key]; ok {
				if _, dup := c.index[col]; dup {
					return nil, &Error{File: file, Row: row, Column: h, Message: fmt.Sprintf("column %s given twice", col)}
				}
				c.index[col] = i
				c.columns[col] = strings.TrimSpace(h)
			}
		}
		c.width = len(rec)
		var missing []string
		for _, col := range required {
			if _, ok := c.index[col]; !ok {
				missing = append(missing, col)
			}
		}
		if len(missing) > 0 {
			return nil, &Error{File: file, Row: row, Column: "header", Value: strings.Join(rec, ","),
				Message: "missing column " + strings.Join(missing, ", "), Expected: "a header with indicator,region,period,value (or 指标,地区,时期,数值)"}
		}
		return c, nil
	}
}

// Close closes the table.
func (c *Canonical) Close() error { return c.t.Close() }

// Next returns the next non-blank row, or io.EOF.
func (c *Canonical) Next() (*Raw, error) {
	for {
		row, rec, err := c.t.Next()
		if err != nil {
			return nil, err
		}
		if blank(rec) {
			continue
		}
		for i := c.width; i < len(rec); i++ {
			if strings.TrimSpace(rec[i]) != "" {
				return nil, BeyondHeader(c.file, row, i, rec[i], c.width)
			}
		}
		raw := &Raw{File: c.file, Row: row, Cells: make(map[string]string, len(c.index)), Columns: c.columns}
		for col, i := range c.index {
			if i < len(rec) {
				raw.Cells[col] = rec[i]
			}
		}
		return raw, nil
	}
}

// Name is the file's name, for errors about the whole file.
func (c *Canonical) Name() string { return c.file }

// BeyondHeader is the error of a cell (column index i) beyond the width
// columns of the header: reading stops there.
func BeyondHeader(file string, row, i int, cell string, width int) *Error {
	return &Error{File: file, Row: row, Column: fmt.Sprintf("column %d", i+1), Value: cell,
		Message:  fmt.Sprintf("a cell beyond the %d columns the header names", width),
		Expected: "no more cells in a row than the header has columns"}
}
