package ingest

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Limits bound what one input file may cost. Past a limit the file is
// refused with an error naming the limit (its config key under limits:).
// Zero fields take the defaults (DefaultLimits).
type Limits struct {
	// XLSXUnzipped bounds the decompressed size of a workbook, all parts
	// together (a zip bomb is refused before it is inflated).
	XLSXUnzipped int64 `yaml:"xlsx_unzipped_bytes"`
	// SheetXML bounds one part of a workbook (a worksheet, the shared
	// strings).
	SheetXML int64 `yaml:"sheet_xml_bytes"`
	// Rows bounds the rows of one file.
	Rows int `yaml:"rows"`
	// Cells bounds the cells of one row.
	Cells int `yaml:"cells_per_row"`
	// CellBytes bounds one cell; LineBytes one line of CSV text.
	CellBytes int `yaml:"cell_bytes"`
	LineBytes int `yaml:"line_bytes"`
	// TextBytes bounds the source and note of a figure.
	TextBytes int `yaml:"source_note_bytes"`
}

// DefaultLimits suit statistical tables: a few million rows of short cells.
var DefaultLimits = Limits{
	XLSXUnzipped: 64 << 20,
	SheetXML:     64 << 20,
	Rows:         5_000_000,
	Cells:        1_000,
	CellBytes:    4 << 10,
	LineBytes:    64 << 10,
	TextBytes:    512,
}

// WithDefaults fills zero fields from DefaultLimits.
func (l Limits) WithDefaults() Limits {
	d := DefaultLimits
	return Limits{
		XLSXUnzipped: orDefault(l.XLSXUnzipped, d.XLSXUnzipped), SheetXML: orDefault(l.SheetXML, d.SheetXML),
		Rows: orDefault(l.Rows, d.Rows), Cells: orDefault(l.Cells, d.Cells), CellBytes: orDefault(l.CellBytes, d.CellBytes),
		LineBytes: orDefault(l.LineBytes, d.LineBytes), TextBytes: orDefault(l.TextBytes, d.TextBytes),
	}
}

func orDefault[T int | int64](v, d T) T {
	if v > 0 {
		return v
	}
	return d
}

// limitError says which limit a file passed.
func limitError(file string, row int, column, what string, size, limit int64, key string) *Error {
	return &Error{File: file, Row: row, Column: column,
		Message:  fmt.Sprintf("%s of %s exceeds the limit of %s", what, bytesize(size), bytesize(limit)),
		Expected: "at most " + bytesize(limit) + " (limits." + key + " in qualitymon.yaml)"}
}

func bytesize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// checkWorkbook reads a workbook's zip directory and refuses it when its
// parts would inflate past the limits. archive/zip (which the XLSX reader
// uses) fails a part that inflates past its declared size, so the declared
// sizes bound what reading can cost.
func checkWorkbook(file string, data []byte, l Limits) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return &Error{File: file, Column: "file", Message: "not a readable XLSX workbook: " + err.Error(), Expected: "an .xlsx file saved by Excel, WPS or LibreOffice"}
	}
	var total uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
		if strings.HasSuffix(f.Name, ".xml") && f.UncompressedSize64 > uint64(l.SheetXML) {
			return limitError(file, 0, "file", "workbook part "+clip(f.Name), int64(f.UncompressedSize64), l.SheetXML, "sheet_xml_bytes")
		}
	}
	if total > uint64(l.XLSXUnzipped) {
		return limitError(file, 0, "file", "decompressed workbook", int64(total), l.XLSXUnzipped, "xlsx_unzipped_bytes")
	}
	return nil
}

// readAllLimited reads at most n bytes of r, failing past them.
func readAllLimited(r io.Reader, n int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, n+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > n {
		return nil, errTooLarge
	}
	return data, nil
}

var errTooLarge = errors.New("too large")

// lineGuard fails a CSV text whose lines grow past a limit, before
// encoding/csv holds them in memory.
type lineGuard struct {
	r     io.Reader
	file  string
	limit int
	run   int // bytes since the last newline
	line  int
}

func (g *lineGuard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	for i := 0; i < n; i++ {
		if p[i] == '\n' {
			g.run = 0
			g.line++
			continue
		}
		g.run++
		if g.run > g.limit {
			return i, limitError(g.file, g.line+1, "file", "a line", int64(g.run), int64(g.limit), "line_bytes")
		}
	}
	return n, err
}

// checkRow applies the per-row limits to one row of a table.
func checkRow(file string, row int, cells []string, l Limits) error {
	if row > l.Rows {
		return &Error{File: file, Row: row, Column: "file", Message: fmt.Sprintf("more rows than the limit of %d", l.Rows),
			Expected: fmt.Sprintf("at most %d rows (limits.rows in qualitymon.yaml)", l.Rows)}
	}
	if len(cells) > l.Cells {
		return &Error{File: file, Row: row, Column: "file", Message: fmt.Sprintf("%d cells in one row exceed the limit of %d", len(cells), l.Cells),
			Expected: fmt.Sprintf("at most %d cells (limits.cells_per_row in qualitymon.yaml)", l.Cells)}
	}
	for i, c := range cells {
		if len(c) > l.CellBytes {
			e := limitError(file, row, fmt.Sprintf("column %d", i+1), "a cell", int64(len(c)), int64(l.CellBytes), "cell_bytes")
			e.Value = c
			return e
		}
	}
	return nil
}

// excerptRunes is how much of a bad cell an error quotes.
const excerptRunes = 80

// Excerpt is what an error or a page quotes of a cell: at most its first
// excerptRunes characters, with the length of the whole.
func Excerpt(s string) string { return clip(s) }

// clip shortens s to an excerpt of at most excerptRunes characters.
func clip(s string) string {
	if len(s) <= excerptRunes {
		return s
	}
	n := 0
	for i := range s {
		if n == excerptRunes {
			return s[:i] + fmt.Sprintf("…(%d bytes)", len(s))
		}
		n++
	}
	return s
}

// limitedTable applies the per-row limits to a table.
type limitedTable struct {
	Table
	file string
	l    Limits
}

func (t *limitedTable) Next() (int, []string, error) {
	row, cells, err := t.Table.Next()
	if err == nil {
		err = checkRow(t.file, row, cells, t.l)
	}
	return row, cells, err
}
